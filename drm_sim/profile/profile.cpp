// drm_sim/profile/profile.cpp — loading, parsing and checking device profiles.
//
// Owns: nothing (free functions over plain data). Locking: none; every
// function is reentrant. Errors: positive errno in a Status, never an
// exception (Boost.PropertyTree exceptions are caught here): ENOENT for an
// unknown profile name or a missing file, EINVAL for text that does not parse,
// has an unknown key or a value of the wrong kind, or breaks a validate() rule.
// Each refusal logs its reason (the key or rule, the offending value) at
// debug level in the `profile` category: DRM_SIM_DEBUG=profile.
//
// Profile JSON schema (every key optional; a missing key keeps the default of
// the matching field in profile.h; any other key is an error). See
// profiles/README.md for the meaning and unit of each field.
//
//   {
//     "name": "b580",                       string
//     "description": "...",                 string
//     "pci_device_id": "0xE20B",            integer or "0x..." hex string
//     "pci_revision": 0,                    integer
//     "va_bits": 48,                        integer, 32..57
//     "num_tiles": 1,                       integer, 1..4
//     "graphics_ip": "20.01",               "<major>.<minor>" (GT_LIST; default "0.0")
//     "reference_clock_hz": 19200000,       integer > 0 (GT_LIST)
//     "uapi": "6.18",                       "6.18" | "7.0" | "7.1"
//     "backing": "tag",                     "data" | "tag"
//     "interconnect_group": "",             string ("" = no fast link)
//     "max_vmas_per_vm": 4194304,           integer >= 1
//     "features": {
//       "discrete": true, "has_usm": true,  booleans
//       "device_atomics_on_smem": false, "needs_64k_vram": false, "needs_scratch": false
//     },
//     "regions": [                          regions[0] must be system memory
//       { "class": "system" | "vram",
//         "instance": 0,                    uapi instance, 0..31, unique
//         "tile": 0,                        owning tile (0 for system memory)
//         "size": "16GiB",                  bytes: integer or "<n>[B|KiB|MiB|GiB|TiB]"
//         "min_page_size": 4096 }           bytes, same syntax, power of two >= 4096
//     ],
//     "pat": [1, 2, 2, ...],                PAT index -> 0 reserved, 1 COH_NONE,
//                                           2 COH_AT_LEAST_1WAY
//     "timing": {                           all > 0 (spec §9)
//       "host_link_gbps": 12.0, "efficiency_k": 0.07292, "fault_latency_us": 45.0,
//       "dma_setup_us": 5.0, "tlb_inval_us": 5.0, "vram_gbps": 456.0,
//       "remote_access_ns": 1000.0
//     }
//   }
//
// Integers may be written as JSON numbers or as strings (decimal or 0x hex).
#include "drm_sim/profile/profile.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>

// Boost 1.74's JSON parser uses the global bind placeholders; asking for them
// explicitly silences a deprecation #pragma message in every build.
#ifndef BOOST_BIND_GLOBAL_PLACEHOLDERS
#define BOOST_BIND_GLOBAL_PLACEHOLDERS
#endif
#include <spdlog/fmt/ranges.h>  // fmt::join

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>

#include "drm_sim/core/log.h"
#include "drm_sim/profile/builtin_profiles.h"

namespace drm_sim {

// ---------------------------------------------------------------------------
// Profile helpers

const MemRegionDesc* Profile::region_by_instance(std::uint16_t instance) const {
  for (const MemRegionDesc& r : regions) {
    if (r.instance == instance) return &r;
  }
  return nullptr;
}

std::uint32_t Profile::valid_placement_mask() const {
  std::uint32_t mask = 0;
  for (const MemRegionDesc& r : regions) {
    if (r.instance < 32) mask |= 1u << r.instance;
  }
  return mask;
}

std::uint32_t Profile::vram_placement_mask() const {
  std::uint32_t mask = 0;
  for (const MemRegionDesc& r : regions) {
    if (r.mem_class == MemClass::kVram && r.instance < 32) mask |= 1u << r.instance;
  }
  return mask;
}

const MemRegionDesc* Profile::vram_for_tile(std::uint16_t tile) const {
  for (const MemRegionDesc& r : regions) {
    if (r.mem_class == MemClass::kVram && r.tile == tile) return &r;
  }
  return nullptr;
}

std::string_view uapi_revision_name(UapiRevision r) {
  switch (r) {
    case UapiRevision::k6_18:
      return "6.18";
    case UapiRevision::k7_0:
      return "7.0";
    case UapiRevision::k7_1:
      return "7.1";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// validate()

namespace {

constexpr std::uint32_t kMinVaBits = 32;
constexpr std::uint32_t kMaxVaBits = 57;
constexpr std::uint32_t kMaxTiles = 4;  // simulator limit
constexpr std::size_t kMaxPatEntries = 64;
constexpr std::uint16_t kMaxRegionInstances = 32;  // placement masks are 32 bits

bool is_pow2(std::uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}
bool positive_finite(double v) {
  return std::isfinite(v) && v > 0.0;
}

// A refused profile: the reason goes to the debug log (category profile) and
// the caller gets EINVAL.
template <typename... Args>
Status refuse(spdlog::format_string_t<Args...> fmt, Args&&... args) {
  if (log::enabled(log::kProfile)) log::logger().debug(fmt, std::forward<Args>(args)...);
  return Status::err(EINVAL);
}

}  // namespace

Status validate(const Profile& p) {
  if (p.va_bits < kMinVaBits || p.va_bits > kMaxVaBits) {
    return refuse("profile: va_bits {} is outside [{}, {}]", p.va_bits, kMinVaBits, kMaxVaBits);
  }
  if (p.num_tiles < 1 || p.num_tiles > kMaxTiles) {
    return refuse("profile: num_tiles {} is outside [1, {}]", p.num_tiles, kMaxTiles);
  }
  if (p.max_vmas_per_vm == 0) return refuse("profile: max_vmas_per_vm is 0");
  if (p.reference_clock_hz == 0) return refuse("profile: reference_clock_hz is 0");
  if (p.uapi > UapiRevision::k7_1) return refuse("profile: unknown uapi revision");
  if (p.backing != BackingMode::kData && p.backing != BackingMode::kTag) {
    return refuse("profile: unknown backing mode");
  }

  // Memory regions.
  if (p.regions.empty()) return refuse("profile: no memory regions");
  if (p.regions[0].mem_class != MemClass::kSystem) {
    return refuse("profile: regions[0] is not system memory");
  }
  std::array<unsigned, kMaxTiles> vram_per_tile{};
  std::uint32_t seen_instances = 0;
  for (std::size_t i = 0; i < p.regions.size(); ++i) {
    const MemRegionDesc& r = p.regions[i];
    if (r.mem_class != MemClass::kSystem && r.mem_class != MemClass::kVram) {
      return refuse("profile: regions[{}]: unknown class", i);
    }
    if (r.instance >= kMaxRegionInstances) {
      return refuse("profile: regions[{}]: instance {} is not below {}", i, r.instance,
                    kMaxRegionInstances);
    }
    if (seen_instances & (1u << r.instance)) {
      return refuse("profile: regions[{}]: instance {} is used twice", i, r.instance);
    }
    seen_instances |= 1u << r.instance;
    if (r.size == 0) return refuse("profile: regions[{}]: size is 0", i);
    if (r.min_page_size < 4096 || !is_pow2(r.min_page_size)) {
      return refuse("profile: regions[{}]: min_page_size {} is not a power of two >= 4096", i,
                    r.min_page_size);
    }
    if (r.size % r.min_page_size != 0) {
      return refuse("profile: regions[{}]: size {} is not a multiple of min_page_size {}", i,
                    r.size, r.min_page_size);
    }
    if (r.mem_class == MemClass::kSystem) {
      if (i != 0) return refuse("profile: regions[{}]: a second system-memory region", i);
      if (r.tile != 0) return refuse("profile: regions[{}]: system memory on tile {}", i, r.tile);
    } else {
      if (!p.features.discrete) {
        return refuse("profile: regions[{}]: VRAM on a device that is not discrete", i);
      }
      if (r.tile >= p.num_tiles) {
        return refuse("profile: regions[{}]: tile {} but num_tiles is {}", i, r.tile, p.num_tiles);
      }
      if (++vram_per_tile[r.tile] > 1) {
        return refuse("profile: regions[{}]: a second VRAM region on tile {}", i, r.tile);
      }
      if (p.features.needs_64k_vram && r.min_page_size < 65536) {
        return refuse("profile: regions[{}]: needs_64k_vram but min_page_size is {}", i,
                      r.min_page_size);
      }
    }
  }
  if (p.features.discrete) {
    for (std::uint32_t t = 0; t < p.num_tiles; ++t) {
      if (vram_per_tile[t] != 1) return refuse("profile: discrete, but tile {} has no VRAM", t);
    }
  } else if (p.features.needs_64k_vram) {
    return refuse("profile: needs_64k_vram on a device without VRAM");
  }

  // PAT table.
  if (p.pat.empty() || p.pat.size() > kMaxPatEntries) {
    return refuse("profile: pat has {} entries, not 1 to {}", p.pat.size(), kMaxPatEntries);
  }
  bool any_usable = false;
  for (std::size_t i = 0; i < p.pat.size(); ++i) {
    if (p.pat[i] > kCohAtLeast1Way) {
      return refuse("profile: pat[{}] = {} is not a coherency mode (0, 1 or 2)", i, p.pat[i]);
    }
    any_usable = any_usable || p.pat[i] != kCohReserved;
  }
  if (!any_usable) return refuse("profile: every pat entry is reserved (0)");

  // Timing model.
  const TimingModel& t = p.timing;
  const std::pair<const char*, double> figures[] = {
      {"host_link_gbps", t.host_link_gbps},     {"efficiency_k", t.efficiency_k},
      {"fault_latency_us", t.fault_latency_us}, {"dma_setup_us", t.dma_setup_us},
      {"tlb_inval_us", t.tlb_inval_us},         {"vram_gbps", t.vram_gbps},
      {"remote_access_ns", t.remote_access_ns}};
  for (const auto& [name, v] : figures) {
    if (!positive_finite(v)) return refuse("profile: timing.{} = {} is not > 0", name, v);
  }
  return Status::ok();
}

// ---------------------------------------------------------------------------
// JSON parsing

namespace {

using boost::property_tree::ptree;

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Decimal or 0x-prefixed hex, no sign, no trailing characters.
bool parse_u64(std::string_view s, std::uint64_t& out) {
  s = trim(s);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return false;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (ec != std::errc() || end != s.data() + s.size()) return false;
  out = v;
  return true;
}

// A byte count: an integer, optionally followed by B, KiB, MiB, GiB or TiB
// (case-insensitive, spaces allowed before the unit). Decimal units (GB) are
// refused as ambiguous.
bool parse_size(std::string_view s, std::uint64_t& out) {
  s = trim(s);
  std::size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  if (hex || digits == s.size()) return parse_u64(s, out);
  if (digits == 0) return false;
  std::uint64_t n = 0;
  if (!parse_u64(s.substr(0, digits), n)) return false;
  const std::string_view unit = trim(s.substr(digits));
  unsigned shift = 0;
  if (iequals(unit, "B")) {
    shift = 0;
  } else if (iequals(unit, "KiB")) {
    shift = 10;
  } else if (iequals(unit, "MiB")) {
    shift = 20;
  } else if (iequals(unit, "GiB")) {
    shift = 30;
  } else if (iequals(unit, "TiB")) {
    shift = 40;
  } else {
    return false;
  }
  if (n > (std::numeric_limits<std::uint64_t>::max() >> shift)) return false;
  out = n << shift;
  return true;
}

bool parse_double(std::string_view s, double& out) {
  s = trim(s);
  if (s.empty()) return false;
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return false;
  out = v;
  return true;
}

// ptree has no types: an object's children have non-empty keys, an array's
// children have empty keys, a scalar has data and no children. `{}`, `[]` and
// `""` all read as an empty node.
bool is_scalar(const ptree& n) {
  return n.empty();
}
bool is_object(const ptree& n) {
  if (!n.data().empty()) return false;
  return std::none_of(n.begin(), n.end(), [](const auto& kv) { return kv.first.empty(); });
}
bool is_array(const ptree& n) {
  if (!n.data().empty()) return false;
  return std::all_of(n.begin(), n.end(), [](const auto& kv) { return kv.first.empty(); });
}

// Every key of `obj` (named `where` in messages) is one of `allowed`, and
// none appears twice.
Status check_keys(const ptree& obj, std::string_view where,
                  std::initializer_list<std::string_view> allowed) {
  if (!is_object(obj)) return refuse("profile: {} is not a JSON object", where);
  std::vector<std::string_view> seen;
  for (const auto& [key, child] : obj) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return refuse("profile: {}: unknown key '{}' (known: {})", where, key,
                    fmt::join(allowed, ", "));
    }
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return refuse("profile: {}: key '{}' given twice", where, key);
    }
    seen.emplace_back(key);
  }
  return Status::ok();
}

// The child `key` of `obj`, or nullptr when absent (keys are matched whole;
// ptree's get_child() would split on '.').
const ptree* child(const ptree& obj, std::string_view key) {
  auto it = obj.find(std::string(key));
  return it == obj.not_found() ? nullptr : &it->second;
}

// The name of obj's child `key` in messages: "va_bits", "regions[1].size".
std::string qualified(std::string_view where, std::string_view key) {
  return where.empty() ? std::string(key) : std::string(where) + "." + std::string(key);
}

Status get_string(const ptree& obj, std::string_view key, std::string& out,
                  std::string_view where = {}) {
  const ptree* n = child(obj, key);
  if (n == nullptr) return Status::ok();
  if (!is_scalar(*n)) return refuse("profile: '{}' is not a string", qualified(where, key));
  out = n->data();
  return Status::ok();
}

template <typename T>
Status get_uint(const ptree& obj, std::string_view key, T& out, std::string_view where = {}) {
  const ptree* n = child(obj, key);
  if (n == nullptr) return Status::ok();
  std::uint64_t v = 0;
  if (!is_scalar(*n) || !parse_u64(n->data(), v)) {
    return refuse("profile: '{}' = '{}' is not an unsigned integer", qualified(where, key),
                  n->data());
  }
  if (v > std::numeric_limits<T>::max()) {
    return refuse("profile: '{}' = {} is above {}", qualified(where, key), v,
                  std::numeric_limits<T>::max());
  }
  out = static_cast<T>(v);
  return Status::ok();
}

template <typename T>
Status get_size(const ptree& obj, std::string_view key, T& out, std::string_view where = {}) {
  const ptree* n = child(obj, key);
  if (n == nullptr) return Status::ok();
  std::uint64_t v = 0;
  if (!is_scalar(*n) || !parse_size(n->data(), v)) {
    return refuse("profile: '{}' = '{}' is not a byte count (e.g. 4096 or \"16GiB\")",
                  qualified(where, key), n->data());
  }
  if (v > std::numeric_limits<T>::max()) {
    return refuse("profile: '{}' = {} is above {}", qualified(where, key), v,
                  std::numeric_limits<T>::max());
  }
  out = static_cast<T>(v);
  return Status::ok();
}

Status get_double(const ptree& obj, std::string_view key, double& out,
                  std::string_view where = {}) {
  const ptree* n = child(obj, key);
  if (n == nullptr) return Status::ok();
  if (!is_scalar(*n) || !parse_double(n->data(), out)) {
    return refuse("profile: '{}' = '{}' is not a finite number", qualified(where, key), n->data());
  }
  return Status::ok();
}

Status get_bool(const ptree& obj, std::string_view key, bool& out, std::string_view where = {}) {
  const ptree* n = child(obj, key);
  if (n == nullptr) return Status::ok();
  if (is_scalar(*n) && n->data() == "true") {
    out = true;
  } else if (is_scalar(*n) && n->data() == "false") {
    out = false;
  } else {
    return refuse("profile: '{}' = '{}' is not true or false", qualified(where, key), n->data());
  }
  return Status::ok();
}

Status get_uapi(const ptree& obj, UapiRevision& out) {
  const ptree* n = child(obj, "uapi");
  if (n == nullptr) return Status::ok();
  const std::string_view s = is_scalar(*n) ? trim(n->data()) : std::string_view{};
  if (s == "6.18") {
    out = UapiRevision::k6_18;
  } else if (s == "7.0") {
    out = UapiRevision::k7_0;
  } else if (s == "7.1") {
    out = UapiRevision::k7_1;
  } else {
    return refuse("profile: 'uapi' = '{}' is not \"6.18\", \"7.0\" or \"7.1\"", n->data());
  }
  return Status::ok();
}

Status get_backing(const ptree& obj, BackingMode& out) {
  const ptree* n = child(obj, "backing");
  if (n == nullptr) return Status::ok();
  const std::string& s = n->data();
  if (is_scalar(*n) && s == "data") {
    out = BackingMode::kData;
  } else if (is_scalar(*n) && s == "tag") {
    out = BackingMode::kTag;
  } else {
    return refuse("profile: 'backing' = '{}' is not \"data\" or \"tag\"", s);
  }
  return Status::ok();
}

Status parse_features(const ptree& n, Features& f) {
  DRM_SIM_TRY(check_keys(
      n, "features",
      {"discrete", "has_usm", "device_atomics_on_smem", "needs_64k_vram", "needs_scratch"}));
  DRM_SIM_TRY(get_bool(n, "discrete", f.discrete, "features"));
  DRM_SIM_TRY(get_bool(n, "has_usm", f.has_usm, "features"));
  DRM_SIM_TRY(get_bool(n, "device_atomics_on_smem", f.device_atomics_on_smem, "features"));
  DRM_SIM_TRY(get_bool(n, "needs_64k_vram", f.needs_64k_vram, "features"));
  DRM_SIM_TRY(get_bool(n, "needs_scratch", f.needs_scratch, "features"));
  return Status::ok();
}

Status parse_region(const ptree& n, std::string_view where, MemRegionDesc& r) {
  DRM_SIM_TRY(check_keys(n, where, {"class", "instance", "tile", "size", "min_page_size"}));
  if (const ptree* c = child(n, "class")) {
    if (is_scalar(*c) && c->data() == "system") {
      r.mem_class = MemClass::kSystem;
    } else if (is_scalar(*c) && c->data() == "vram") {
      r.mem_class = MemClass::kVram;
    } else {
      return refuse("profile: {}: 'class' = '{}' is not \"system\" or \"vram\"", where, c->data());
    }
  }
  DRM_SIM_TRY(get_uint(n, "instance", r.instance, where));
  DRM_SIM_TRY(get_uint(n, "tile", r.tile, where));
  DRM_SIM_TRY(get_size(n, "size", r.size, where));
  DRM_SIM_TRY(get_size(n, "min_page_size", r.min_page_size, where));
  return Status::ok();
}

Status parse_regions(const ptree& n, std::vector<MemRegionDesc>& out) {
  if (!is_array(n)) return refuse("profile: 'regions' is not an array");
  out.clear();
  for (const auto& [key, elem] : n) {
    MemRegionDesc r;
    DRM_SIM_TRY(parse_region(elem, "regions[" + std::to_string(out.size()) + "]", r));
    out.push_back(r);
  }
  return Status::ok();
}

Status parse_pat(const ptree& n, std::vector<std::uint8_t>& out) {
  if (!is_array(n)) return refuse("profile: 'pat' is not an array");
  out.clear();
  for (const auto& [key, elem] : n) {
    std::uint64_t v = 0;
    if (!is_scalar(elem) || !parse_u64(elem.data(), v) ||
        v > std::numeric_limits<std::uint8_t>::max()) {
      return refuse("profile: pat[{}] = '{}' is not a coherency mode (0, 1 or 2)", out.size(),
                    elem.data());
    }
    out.push_back(static_cast<std::uint8_t>(v));
  }
  return Status::ok();
}

Status parse_timing(const ptree& n, TimingModel& t) {
  DRM_SIM_TRY(check_keys(n, "timing",
                         {"host_link_gbps", "efficiency_k", "fault_latency_us", "dma_setup_us",
                          "tlb_inval_us", "vram_gbps", "remote_access_ns"}));
  DRM_SIM_TRY(get_double(n, "host_link_gbps", t.host_link_gbps, "timing"));
  DRM_SIM_TRY(get_double(n, "efficiency_k", t.efficiency_k, "timing"));
  DRM_SIM_TRY(get_double(n, "fault_latency_us", t.fault_latency_us, "timing"));
  DRM_SIM_TRY(get_double(n, "dma_setup_us", t.dma_setup_us, "timing"));
  DRM_SIM_TRY(get_double(n, "tlb_inval_us", t.tlb_inval_us, "timing"));
  DRM_SIM_TRY(get_double(n, "vram_gbps", t.vram_gbps, "timing"));
  DRM_SIM_TRY(get_double(n, "remote_access_ns", t.remote_access_ns, "timing"));
  return Status::ok();
}

// "graphics_ip": "<major>.<minor>", each part a decimal below 65536.
Status get_graphics_ip(const ptree& root, Profile& p) {
  std::string text;
  DRM_SIM_TRY(get_string(root, "graphics_ip", text));
  if (text.empty()) return Status::ok();
  const std::size_t dot = text.find('.');
  if (dot == std::string::npos) {
    return refuse("profile: 'graphics_ip' = '{}' is not \"<major>.<minor>\"", text);
  }
  std::uint16_t major = 0;
  std::uint16_t minor = 0;
  const char* b = text.data();
  const char* e = b + text.size();
  auto r1 = std::from_chars(b, b + dot, major);
  auto r2 = std::from_chars(b + dot + 1, e, minor);
  if (r1.ec != std::errc{} || r1.ptr != b + dot || dot == 0 || r2.ec != std::errc{} ||
      r2.ptr != e || dot + 1 == text.size()) {
    return refuse("profile: 'graphics_ip' = '{}' is not \"<major>.<minor>\"", text);
  }
  p.graphics_ip_major = major;
  p.graphics_ip_minor = minor;
  return Status::ok();
}

Status parse_root(const ptree& root, Profile& p) {
  DRM_SIM_TRY(
      check_keys(root, "the top level",
                 {"name", "description", "pci_device_id", "pci_revision", "va_bits", "num_tiles",
                  "graphics_ip", "reference_clock_hz", "uapi", "backing", "interconnect_group",
                  "max_vmas_per_vm", "features", "regions", "pat", "timing"}));
  DRM_SIM_TRY(get_string(root, "name", p.name));
  DRM_SIM_TRY(get_string(root, "description", p.description));
  DRM_SIM_TRY(get_uint(root, "pci_device_id", p.pci_device_id));
  DRM_SIM_TRY(get_uint(root, "pci_revision", p.pci_revision));
  DRM_SIM_TRY(get_uint(root, "va_bits", p.va_bits));
  DRM_SIM_TRY(get_uint(root, "num_tiles", p.num_tiles));
  DRM_SIM_TRY(get_graphics_ip(root, p));
  DRM_SIM_TRY(get_uint(root, "reference_clock_hz", p.reference_clock_hz));
  DRM_SIM_TRY(get_uapi(root, p.uapi));
  DRM_SIM_TRY(get_backing(root, p.backing));
  DRM_SIM_TRY(get_string(root, "interconnect_group", p.interconnect_group));
  DRM_SIM_TRY(get_uint(root, "max_vmas_per_vm", p.max_vmas_per_vm));
  if (const ptree* n = child(root, "features")) DRM_SIM_TRY(parse_features(*n, p.features));
  if (const ptree* n = child(root, "regions")) DRM_SIM_TRY(parse_regions(*n, p.regions));
  if (const ptree* n = child(root, "pat")) DRM_SIM_TRY(parse_pat(*n, p.pat));
  if (const ptree* n = child(root, "timing")) DRM_SIM_TRY(parse_timing(*n, p.timing));
  return Status::ok();
}

// Parses without validating, so that load_profile() can fill in a missing
// name first.
Result<Profile> parse_unvalidated(std::string_view json_text) {
  ptree root;
  try {
    std::istringstream in{std::string(json_text)};
    boost::property_tree::read_json(in, root);
  } catch (const boost::property_tree::json_parser_error& e) {
    return refuse("profile: not valid JSON: line {}: {}", e.line(), e.message());
  } catch (const std::bad_alloc&) {
    return Status::err(ENOMEM);
  } catch (const std::exception& e) {
    return refuse("profile: not valid JSON: {}", e.what());
  }
  Profile p;
  DRM_SIM_TRY(parse_root(root, p));
  return p;
}

Result<Profile> finish(Result<Profile> r, std::string_view fallback_name) {
  if (!r) return r;
  Profile p = std::move(r).value();
  if (p.name.empty()) p.name = std::string(fallback_name);
  DRM_SIM_TRY(validate(p));
  return p;
}

Result<std::string> read_file(const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) {
    DRM_SIM_LOG(kProfile, "profile: no file '{}'", path);
    return Status::err(ENOENT);
  }
  if (!std::filesystem::is_regular_file(st)) {
    return refuse("profile: '{}' is not a regular file", path);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno != 0 ? errno : EIO;
    DRM_SIM_LOG(kProfile, "profile: cannot read '{}': {}", path, std::strerror(err));
    return Status::err(err);
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    DRM_SIM_LOG(kProfile, "profile: read error in '{}'", path);
    return Status::err(EIO);
  }
  return buf.str();
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Result<Profile> parse_profile_json(std::string_view json_text) {
  return finish(parse_unvalidated(json_text), "");
}

Result<Profile> load_profile(std::string_view name_or_path) {
  if (name_or_path.empty()) name_or_path = kDefaultProfileName;
  for (const BuiltinProfile& b : builtin_profiles()) {
    if (b.name == name_or_path) return finish(parse_unvalidated(b.json), b.name);
  }
  if (name_or_path.find('/') == std::string_view::npos && !ends_with(name_or_path, ".json")) {
    // Neither a built-in name nor a path.
    DRM_SIM_LOG(kProfile,
                "profile: '{}' is not a built-in profile ({}) nor a file path (a path contains "
                "'/' or ends in .json)",
                name_or_path, fmt::join(builtin_profile_names(), ", "));
    return Status::err(ENOENT);
  }
  const std::string path(name_or_path);
  Result<std::string> text = read_file(path);
  if (!text) return text.status();
  Result<Profile> p = finish(parse_unvalidated(*text), std::filesystem::path(path).stem().string());
  if (!p) DRM_SIM_LOG(kProfile, "profile: '{}' refused", path);
  return p;
}

std::vector<std::string> builtin_profile_names() {
  std::vector<std::string> names;
  for (const BuiltinProfile& b : builtin_profiles()) names.emplace_back(b.name);
  return names;
}

}  // namespace drm_sim
