#include "drm_sim/core/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace drm_sim::log {

namespace {

struct Name {
  std::string_view name;
  std::uint32_t bit;
};
constexpr Name kNames[] = {{"ioctl", kIoctl},     {"vm", kVm},          {"bind", kBind},
                           {"madvise", kMadvise}, {"query", kQuery},    {"fault", kFault},
                           {"migrate", kMigrate}, {"profile", kProfile}};

std::uint32_t parse(std::string_view s, bool& ok) {
  ok = true;
  if (s.empty()) return 0;
  char* end = nullptr;
  const std::string str(s);
  const unsigned long v = std::strtoul(str.c_str(), &end, 0);
  if (end != nullptr && *end == '\0') return static_cast<std::uint32_t>(v);
  std::uint32_t mask = 0;
  while (!s.empty()) {
    const auto comma = s.find(',');
    const std::string_view tok = s.substr(0, comma);
    if (tok == "all") {
      mask = ~0u;
    } else {
      bool found = false;
      for (const auto& n : kNames) {
        if (n.name == tok) {
          mask |= n.bit;
          found = true;
        }
      }
      ok = ok && found;
    }
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return mask;
}

}  // namespace

std::atomic<std::uint32_t> g_enabled{init_from_env()};

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> l = [] {
    auto lg = std::make_shared<spdlog::logger>("drm_sim",
                                               std::make_shared<spdlog::sinks::stderr_sink_mt>());
    lg->set_level(spdlog::level::debug);
    lg->set_pattern("[drm_sim] %v");
    return lg;
  }();
  return *l;
}

std::uint32_t init_from_env() {
  const char* env = std::getenv("DRM_SIM_DEBUG");
  if (env == nullptr) return 0;
  bool ok = false;
  const std::uint32_t mask = parse(env, ok);
  if (!ok) {
    logger().warn(
        "DRM_SIM_DEBUG='{}': unknown category (known: "
        "ioctl,vm,bind,madvise,query,fault,migrate,profile,all)",
        env);
  }
  return mask;
}

void log_failed_check(const char* func, int line, const char* cond) {
  logger().debug("{}:{}: check failed: {}", func, line, cond);
}

std::uint32_t set_categories(std::uint32_t mask) {
  return g_enabled.exchange(mask);
}

}  // namespace drm_sim::log
