// drm_sim/core/uaccess.h — copy_from_user / copy_to_user for user pointers
// embedded in ioctl arguments (bind vectors, query vectors, retained_ptr,
// syncs, DRM_IOCTL_VERSION strings).
//
// As the kernel does, an unmapped or too-short user buffer gives EFAULT and
// never a crash: the copy goes through process_vm_readv/writev on our own
// process, which validates the address range. Owns the cached pid of this
// process (cleared in a fork child by an atfork handler; a raw clone() that
// skips the handlers is not supported). Locking: none (an atomic).
// Errors: EFAULT.
#pragma once

#include <cstddef>
#include <cstdint>

#include "drm_sim/core/status.h"

namespace drm_sim {

Status copy_from_user(void* dst, std::uint64_t user_src, std::size_t n);
Status copy_to_user(std::uint64_t user_dst, const void* src, std::size_t n);

}  // namespace drm_sim
