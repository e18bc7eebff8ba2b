// libdrm_sim_preload.so — gives unmodified programs a simulated xe device.
//
// With this library in LD_PRELOAD, open(2) of one render-node path (default
// /dev/dri/renderD128, or $DRM_SIM_PRELOAD_PATH) returns a drm_sim fd
// instead: the first open creates a device with drm_sim_open(profile), where
// profile is $DRM_SIM_PRELOAD_PROFILE (empty or unset: the default profile);
// later opens of the same path, while one of its fds is open, get another
// DRM file on that same device (drm_sim_open_file), as a second open() of a
// real render node does. Every other path goes to the next open() (libc's),
// untouched. Only absolute paths are compared, byte for byte.
//
// Intercepted: open, open64, openat, openat64 (the mode argument is read only
// when O_CREAT or O_TMPFILE asks for it, as libc does) and the fortified
// __open_2/__open64_2/__openat_2/__openat64_2. ioctl() and close() are
// defined here too and forward to libdrm_sim's definitions: a preloaded
// library's own dependencies come after libc in the global lookup order, so
// without these the program's ioctl() would reach libc, not the simulator.
//
// Owns: the list of simulated fds opened per path. Locking: one mutex around
// that list. Errors: open() returns -1 with errno from drm_sim_open
// (ENOENT: unknown profile, EINVAL: bad profile file, EMFILE ...).
// Limits: fds made by dup() are not simulated fds (libdrm_sim's limit).
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <fcntl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "drm_sim/drm_sim.h"

namespace {

constexpr const char* kDefaultPath = "/dev/dri/renderD128";

using OpenFn = int (*)(const char*, int, ...);
using OpenatFn = int (*)(int, const char*, int, ...);
using IoctlFn = int (*)(int, unsigned long, ...);
using CloseFn = int (*)(int);

struct PathFds {
  std::string path;
  std::vector<int> fds;  // open simulated fds of this path; fds[0] names the device
};

std::mutex g_mu;
std::vector<PathFds>* g_paths = nullptr;  // under g_mu; leaked on purpose (used until exit)

// The next definition of `name` after this library, looked up once per Slot.
template <int Slot, class Fn>
Fn next_symbol(const char* name) {
  static std::atomic<Fn> cached{nullptr};
  Fn fn = cached.load(std::memory_order_acquire);
  if (fn == nullptr) {
    fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
    cached.store(fn, std::memory_order_release);
  }
  return fn;
}

// libdrm_sim's own definition of `name` (ioctl or close), looked up once per
// Slot in the library that defines drm_sim_ioctl.
template <int Slot, class Fn>
Fn libdrm_sim_symbol(const char* name) {
  static std::atomic<Fn> cached{nullptr};
  Fn fn = cached.load(std::memory_order_acquire);
  if (fn != nullptr) return fn;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&drm_sim_ioctl), &info) == 0 || info.dli_fname == nullptr) {
    return nullptr;
  }
  void* h = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
  if (h == nullptr) return nullptr;
  fn = reinterpret_cast<Fn>(dlsym(h, name));
  dlclose(h);
  cached.store(fn, std::memory_order_release);
  return fn;
}

const char* target_path() {
  const char* p = std::getenv("DRM_SIM_PRELOAD_PATH");
  return (p != nullptr && *p != '\0') ? p : kDefaultPath;
}

bool is_target(const char* path) {
  return path != nullptr && path[0] == '/' && std::strcmp(path, target_path()) == 0;
}

bool wants_mode(int flags) {
  return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

// A simulated fd for `path`, or -1 with errno.
int open_simulated(const char* path) {
  std::lock_guard<std::mutex> g(g_mu);
  if (g_paths == nullptr) g_paths = new std::vector<PathFds>();
  auto it = std::find_if(g_paths->begin(), g_paths->end(),
                         [&](const PathFds& p) { return p.path == path; });
  if (it == g_paths->end()) it = g_paths->insert(g_paths->end(), PathFds{path, {}});
  int fd = -1;
  if (!it->fds.empty()) {
    fd = drm_sim_open_file(it->fds.front());
  } else {
    const char* profile = std::getenv("DRM_SIM_PRELOAD_PROFILE");
    fd = drm_sim_open(profile != nullptr && *profile != '\0' ? profile : nullptr);
  }
  if (fd < 0) {
    errno = -fd;
    return -1;
  }
  it->fds.push_back(fd);
  return fd;
}

void forget_simulated(int fd) {
  std::lock_guard<std::mutex> g(g_mu);
  if (g_paths == nullptr) return;
  for (auto& p : *g_paths) std::erase(p.fds, fd);
}

template <int Slot>
int do_open(const char* path, int flags, mode_t mode, const char* next_name) {
  if (is_target(path)) return open_simulated(path);
  const OpenFn fn = next_symbol<Slot, OpenFn>(next_name);
  if (fn == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return fn(path, flags, mode);
}

template <int Slot>
int do_openat(int dirfd, const char* path, int flags, mode_t mode, const char* next_name) {
  if (is_target(path)) return open_simulated(path);
  const OpenatFn fn = next_symbol<Slot, OpenatFn>(next_name);
  if (fn == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return fn(dirfd, path, flags, mode);
}

}  // namespace

#define DRM_SIM_PRELOAD_MODE(flags, last, mode)  \
  mode_t mode = 0;                               \
  if (wants_mode(flags)) {                       \
    va_list ap;                                  \
    va_start(ap, last);                          \
    mode = static_cast<mode_t>(va_arg(ap, int)); \
    va_end(ap);                                  \
  }

extern "C" {

__attribute__((visibility("default"))) int open(const char* path, int flags, ...) {
  DRM_SIM_PRELOAD_MODE(flags, flags, mode)
  return do_open<0>(path, flags, mode, "open");
}

__attribute__((visibility("default"))) int open64(const char* path, int flags, ...) {
  DRM_SIM_PRELOAD_MODE(flags, flags, mode)
  return do_open<1>(path, flags, mode, "open64");
}

__attribute__((visibility("default"))) int openat(int dirfd, const char* path, int flags, ...) {
  DRM_SIM_PRELOAD_MODE(flags, flags, mode)
  return do_openat<2>(dirfd, path, flags, mode, "openat");
}

__attribute__((visibility("default"))) int openat64(int dirfd, const char* path, int flags, ...) {
  DRM_SIM_PRELOAD_MODE(flags, flags, mode)
  return do_openat<3>(dirfd, path, flags, mode, "openat64");
}

// _FORTIFY_SOURCE entry points (no mode: they are used only without O_CREAT).
// Their names are glibc's own (reserved) symbols, which is the point here.
// NOLINTBEGIN(bugprone-reserved-identifier)
__attribute__((visibility("default"))) int __open_2(const char* path, int flags) {
  return do_open<0>(path, flags, 0, "open");
}
__attribute__((visibility("default"))) int __open64_2(const char* path, int flags) {
  return do_open<1>(path, flags, 0, "open64");
}
__attribute__((visibility("default"))) int __openat_2(int dirfd, const char* path, int flags) {
  return do_openat<2>(dirfd, path, flags, 0, "openat");
}
__attribute__((visibility("default"))) int __openat64_2(int dirfd, const char* path, int flags) {
  return do_openat<3>(dirfd, path, flags, 0, "openat64");
}
// NOLINTEND(bugprone-reserved-identifier)

__attribute__((visibility("default"))) int ioctl(int fd, unsigned long request, ...) noexcept {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  const IoctlFn sim_ioctl = libdrm_sim_symbol<0, IoctlFn>("ioctl");
  if (sim_ioctl == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return sim_ioctl(fd, request, arg);
}

__attribute__((visibility("default"))) int close(int fd) {
  const CloseFn sim_close = libdrm_sim_symbol<1, CloseFn>("close");
  if (drm_sim_is_sim_fd(fd) != 0) forget_simulated(fd);
  if (sim_close == nullptr) {
    errno = ENOSYS;
    return -1;
  }
  return sim_close(fd);
}

}  // extern "C"
