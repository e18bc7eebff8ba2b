// String forms of the UMD descriptions (for test failure messages and tools).
#include "umd/uapi/desc.h"

#include <cinttypes>
#include <cstdio>

namespace drm_sim::umd {

const char* to_string(AtomicAccess a) {
  switch (a) {
    case AtomicAccess::kNone:
      return "none";
    case AtomicAccess::kDevice:
      return "device";
    case AtomicAccess::kSystem:
      return "system";
    case AtomicAccess::kHost:
      return "host";
  }
  return "?";
}

std::string to_string(const MemRange& r) {
  const char* loc = "device";
  if (r.preferred.kind == PreferredLocation::Kind::kSystem) loc = "system";
  if (r.preferred.kind == PreferredLocation::Kind::kDeviceFd) loc = "fd";
  char buf[160];
  std::snprintf(buf, sizeof buf, "[0x%" PRIx64 ", 0x%" PRIx64 ") loc=%s%s atomic=%s pat=%u",
                r.range.start, r.range.end(), loc,
                r.preferred.migration == MigrationPolicy::kOnlySystemPages ? "/sys-pages" : "",
                to_string(r.atomic), static_cast<unsigned>(r.pat_index));
  return buf;
}

std::string to_string(const std::vector<MemRange>& rs) {
  std::string s;
  for (const auto& r : rs) s += to_string(r) + "\n";
  return s;
}

}  // namespace drm_sim::umd
