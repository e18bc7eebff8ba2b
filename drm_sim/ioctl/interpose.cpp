// ioctl() and close() as seen by every program linked with libdrm_sim.
//
// The dynamic linker binds a program's (and libdrm's) calls to the first
// definition in load order; libdrm_sim comes before libc, so these run. A
// drm_sim fd goes to the simulator; every other fd goes to the kernel via
// syscall(2), untouched. Under ASan/TSan the sanitizer's interceptor runs
// first and forwards here (RTLD_NEXT). Deliberately includes no libc header
// that declares ioctl() or close().
#include <sys/syscall.h>

#include <cerrno>
#include <cstdarg>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"

extern "C" long syscall(long number, ...) noexcept;  // NOLINT

extern "C" __attribute__((visibility("default"))) int ioctl(int fd, unsigned long request,
                                                            ...) noexcept {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  if (drm_sim::maybe_sim_fd(fd) && drm_sim_is_sim_fd(fd)) {
    const int r = drm_sim_ioctl(fd, request, arg);
    if (r < 0) {
      errno = -r;
      return -1;
    }
    return r;
  }
  return static_cast<int>(syscall(SYS_ioctl, fd, request, arg));
}

extern "C" __attribute__((visibility("default"))) int close(int fd) {
  if (drm_sim::maybe_sim_fd(fd)) drm_sim::forget_fd(fd);
  return static_cast<int>(syscall(SYS_close, fd));
}
