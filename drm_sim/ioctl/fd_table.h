// drm_sim/ioctl/fd_table.h — which file descriptors are drm_sim DRM files.
//
// Each drm_sim file is a real fd (a memfd), so it can be polled, passed to
// libdrm and closed like a device node's fd. The table maps fd -> DrmFile.
//
// Owns: a reference on every open DrmFile. Locking: a shared mutex for the
// map plus a lock-free bitmap for fds < 65536, so ioctl()/close() on other
// fds cost one atomic load. Errors: install() returns -errno (EMFILE...).
#pragma once

#include <memory>

#include "drm_sim/device/file.h"

namespace drm_sim {

// The DrmFile behind fd, or nullptr when fd is not a drm_sim fd.
std::shared_ptr<DrmFile> file_from_fd(int fd);
// The same, for the ioctl path: a per-thread cache of the last fd's file
// (checked against a table generation that every install and close bumps)
// skips the table lock. Holds no reference between calls.
std::shared_ptr<DrmFile> file_for_ioctl(int fd);
// Creates the fd for a new file. Returns the fd or -errno.
int install_file(std::shared_ptr<DrmFile> file);
// Forgets fd (without closing it); true when it was a drm_sim fd. The file is
// released when its last reference goes.
bool forget_fd(int fd);
// Cheap pre-check used by the interposed ioctl()/close().
bool maybe_sim_fd(int fd);

}  // namespace drm_sim
