// drm_sim/core/log.h — debug logging by category, as DRM debug categories.
//
// Quiet by default. DRM_SIM_DEBUG selects categories: a comma-separated list
// of names (ioctl,vm,bind,madvise,query,fault,migrate,profile or "all"), or a
// number used as a bit mask (like drm.debug). Messages go to stderr through
// spdlog. Internal header (not installed): the library's public headers do not
// depend on spdlog.
//
// Owns: the spdlog logger. Locking: spdlog's own (thread-safe logger); the
// enabled mask is read atomically. Errors: none; a bad DRM_SIM_DEBUG value
// enables nothing and logs one warning.
#pragma once

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdint>

namespace drm_sim::log {

enum Category : std::uint32_t {
  kIoctl = 1u << 0,
  kVm = 1u << 1,
  kBind = 1u << 2,
  kMadvise = 1u << 3,
  kQuery = 1u << 4,
  kFault = 1u << 5,
  kMigrate = 1u << 6,
  kProfile = 1u << 7,
};

extern std::atomic<std::uint32_t> g_enabled;
std::uint32_t init_from_env();  // parses DRM_SIM_DEBUG once
spdlog::logger& logger();
// Overrides the mask (tests); returns the previous one.
std::uint32_t set_categories(std::uint32_t mask);

inline bool enabled(Category c) {
  return (g_enabled.load(std::memory_order_relaxed) & c) != 0;
}

}  // namespace drm_sim::log

#define DRM_SIM_LOG(cat, ...)                           \
  do {                                                  \
    if (::drm_sim::log::enabled(::drm_sim::log::cat)) { \
      ::drm_sim::log::logger().debug(__VA_ARGS__);      \
    }                                                   \
  } while (0)

// As XE_IOCTL_DBG: evaluates cond; when true, logs the failing condition
// text at debug level (category ioctl) and yields true.
namespace drm_sim::log {
void log_failed_check(const char* func, int line, const char* cond);  // out of line: cold
inline bool ioctl_dbg(bool failed, const char* func, int line, const char* cond) {
  if (__builtin_expect(failed, 0) && enabled(kIoctl)) log_failed_check(func, line, cond);
  return failed;
}
}  // namespace drm_sim::log
#define DRM_SIM_IOCTL_DBG(cond) \
  ::drm_sim::log::ioctl_dbg(static_cast<bool>(cond), __func__, __LINE__, #cond)
