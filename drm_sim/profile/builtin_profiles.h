// drm_sim/profile/builtin_profiles.h — the JSON texts of profiles/*.json,
// compiled into the library by cmake/EmbedProfiles.cmake. Internal.
// Owns: static, immutable data. Locking: none needed. Errors: none (a text
// that does not parse is reported by the profile loader, profile.h).
#pragma once

#include <string_view>
#include <vector>

namespace drm_sim {

struct BuiltinProfile {
  std::string_view name;  // file name without .json
  std::string_view json;
};

const std::vector<BuiltinProfile>& builtin_profiles();

}  // namespace drm_sim
