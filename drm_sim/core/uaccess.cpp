#include "drm_sim/core/uaccess.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

namespace drm_sim {

Status copy_from_user(void* dst, std::uint64_t user_src, std::size_t n) {
  if (n == 0) return Status::ok();
  if (user_src == 0) return Status::err(EFAULT);
  iovec local{dst, n};
  iovec remote{reinterpret_cast<void*>(user_src), n};  // NOLINT(performance-no-int-to-ptr)
  const ssize_t got = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
  if (got == static_cast<ssize_t>(n)) return Status::ok();
  return Status::err(EFAULT);
}

Status copy_to_user(std::uint64_t user_dst, const void* src, std::size_t n) {
  if (n == 0) return Status::ok();
  if (user_dst == 0) return Status::err(EFAULT);
  iovec local{const_cast<void*>(src), n};
  iovec remote{reinterpret_cast<void*>(user_dst), n};  // NOLINT(performance-no-int-to-ptr)
  const ssize_t put = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);
  if (put == static_cast<ssize_t>(n)) return Status::ok();
  return Status::err(EFAULT);
}

}  // namespace drm_sim
