/*
 * drm_sim/drm_sim.h — the C entry points of the drm_sim simulated xe device.
 *
 * drm_sim_open() returns a real file descriptor for a new DRM file on a new
 * simulated device. ioctl(2) and libdrm's drmIoctl() on that fd reach the
 * simulator in any program linked with libdrm_sim (libdrm_sim defines ioctl()
 * and close(), and passes every other fd to the kernel untouched); so does
 * drm_sim_ioctl(), which returns 0 or -errno like a kernel ioctl handler.
 * close(fd) releases the file and everything it owns.
 *
 * Thread safety: every function may be called from any thread.
 * Errors: negative errno values (-ENOENT unknown profile, -EINVAL bad profile
 * file or arguments, -EBADF not a drm_sim fd, -ENOTTY unknown ioctl).
 * Limits: fds passed through dup()/dup2() are not tracked as drm_sim fds.
 */
#ifndef DRM_SIM_DRM_SIM_H
#define DRM_SIM_DRM_SIM_H

#include "drm_sim/drm_sim_ext.h"
#include "drm_sim/xe_drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/* profile: NULL = the default profile ("b580"), a built-in profile name, or
 * the path of a JSON profile file. Returns an fd, or -errno. */
int drm_sim_open(const char *profile);

/* Opens another DRM file on the same simulated device as fd (as a second
 * open() of the same render node does). Returns an fd, or -errno. */
int drm_sim_open_file(int fd);

/* Returns 0 or -errno. request is a DRM_IOCTL_* code. */
int drm_sim_ioctl(int fd, unsigned long request, void *arg);

/* 1 when fd is a drm_sim fd, else 0. */
int drm_sim_is_sim_fd(int fd);

/* The profile name of fd's device, or NULL when fd is not a drm_sim fd. The
 * string lives as long as the device. */
const char *drm_sim_profile_name(int fd);

#if defined(__cplusplus)
}
#endif

#endif /* DRM_SIM_DRM_SIM_H */
