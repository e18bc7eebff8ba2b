// umd/kmd/libdrm_backend.h — KmdBackend over a DRM file descriptor.
//
// ioctl() calls ioctl(2) once on the fd — deliberately not libdrm's
// drmIoctl(), which restarts EINTR/EAGAIN by itself and would hide them from
// RestartingKmd — and turns -1/errno into -errno. The fd can be a render node
// or a drm_sim fd (libdrm_sim interposes ioctl(2) for its own fds).
// Owns: nothing; the fd is borrowed and must outlive the backend.
// Locking: none needed; concurrent calls are as safe as concurrent ioctl(2).
// Errors: whatever the driver returns, as -errno.
#pragma once

#include "umd/kmd/kmd_backend.h"

namespace drm_sim::umd {

class LibdrmBackend final : public KmdBackend {
 public:
  explicit LibdrmBackend(int fd) : fd_(fd) {}
  int ioctl(unsigned long request, void* arg) override;
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace drm_sim::umd
