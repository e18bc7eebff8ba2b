// One ioctl(2), -1/errno folded into -errno.
#include "umd/kmd/libdrm_backend.h"

#include <sys/ioctl.h>

#include <cerrno>

namespace drm_sim::umd {

int LibdrmBackend::ioctl(unsigned long request, void* arg) {
  const int r = ::ioctl(fd_, request, arg);
  if (r == -1) return -errno;
  return r;
}

}  // namespace drm_sim::umd
