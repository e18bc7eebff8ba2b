// drm_sim/profile/profile.h — a simulated device's description (a "profile").
//
// Owns: plain data. Profiles are JSON data files under profiles/ in the
// repository, built into the library and selectable by name, or loaded from a
// file path. Locking: none (a Profile is an immutable value once loaded).
// Errors: load_profile() returns ENOENT for an unknown name or missing file,
// EINVAL for a file that does not parse or breaks a rule (see validate()).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "drm_sim/core/status.h"

namespace drm_sim {

// uapi revision a profile exposes. 6.18 is upstream's first madvise uapi.
enum class UapiRevision : std::uint8_t { k6_18 = 0, k7_0 = 1, k7_1 = 2 };

enum class MemClass : std::uint16_t { kSystem = 0, kVram = 1 };  // DRM_XE_MEM_REGION_CLASS_*

// How the simulator stores page contents (issue 4): real bytes, or a per-page
// content tag that moves with the page (big profiles in little host memory).
enum class BackingMode : std::uint8_t { kData = 0, kTag = 1 };

struct MemRegionDesc {
  MemClass mem_class = MemClass::kSystem;
  std::uint16_t instance = 0;  // uapi region instance; bit `instance` of a placement mask
  std::uint16_t tile = 0;      // owning tile (VRAM); 0 for system memory
  std::uint64_t size = 0;      // bytes
  std::uint32_t min_page_size = 4096;
};

// PAT coherency modes as xe uses them; 0 marks a reserved (invalid) entry.
inline constexpr std::uint8_t kCohReserved = 0;
inline constexpr std::uint8_t kCohNone = 1;
inline constexpr std::uint8_t kCohAtLeast1Way = 2;

struct TimingModel {                 // spec §9; every figure overridable per profile
  double host_link_gbps = 24.0;      // effective host link bandwidth, GB/s (1e9 B/s)
  double efficiency_k = 0.07292;     // eff(KB) = (2/pi) * atan(k * KB)
  double fault_latency_us = 45.0;    // GPU far-fault service latency
  double dma_setup_us = 5.0;         // per migration batch
  double tlb_inval_us = 5.0;         // per range per tile
  double vram_gbps = 456.0;          // local VRAM bandwidth
  double remote_access_ns = 1000.0;  // one remote (over-the-link) access
};

struct Features {
  bool discrete = true;                 // has VRAM
  bool has_usm = true;                  // FAULT_MODE VMs allowed
  bool device_atomics_on_smem = false;  // integrated parts
  bool needs_64k_vram = false;          // VRAM pages are at least 64 KiB (PVC-class)
  bool needs_scratch = false;           // xe needs_scratch: SCRATCH_PAGE allowed with FAULT_MODE
};

struct Profile {
  std::string name;
  std::string description;
  std::uint32_t pci_device_id = 0;
  std::uint32_t pci_revision = 0;
  std::uint32_t va_bits = 48;
  std::uint32_t num_tiles = 1;
  // DEVICE_QUERY GT_LIST: the graphics IP version of each GT (0.0 = not
  // reported, as upstream on parts without GMD_ID) and its reference clock.
  std::uint16_t graphics_ip_major = 0;
  std::uint16_t graphics_ip_minor = 0;
  std::uint32_t reference_clock_hz = 19'200'000;
  std::vector<MemRegionDesc> regions;  // regions[0] is system memory
  std::vector<std::uint8_t> pat;       // PAT index -> coherency mode
  UapiRevision uapi = UapiRevision::k6_18;
  Features features;
  TimingModel timing;
  BackingMode backing = BackingMode::kTag;
  // Devices of the same non-empty interconnect group share a fast link
  // (uapi 7.0 multi-device placement); otherwise madvise gives ENOLINK.
  std::string interconnect_group;
  std::uint32_t max_vmas_per_vm = 1u << 22;  // ENOMEM past this (simulator limit)

  std::uint64_t va_end() const { return va_bits >= 64 ? ~0ull : (1ull << va_bits); }
  // The device's minimum alignment for binds and BO sizes: 4 KiB, or 64 KiB
  // for VRAM on needs_64k_vram devices (see vram_alignment()).
  std::uint32_t vram_alignment() const { return features.needs_64k_vram ? 65536u : 4096u; }
  const MemRegionDesc* region_by_instance(std::uint16_t instance) const;
  std::uint32_t valid_placement_mask() const;  // bit per region instance
  std::uint32_t vram_placement_mask() const;
  // The VRAM region owned by `tile`, or nullptr (integrated part, no such tile).
  const MemRegionDesc* vram_for_tile(std::uint16_t tile) const;
  bool uapi_at_least(UapiRevision r) const { return uapi >= r; }
};

// "6.18", "7.0" or "7.1" (the spelling used in profile files).
std::string_view uapi_revision_name(UapiRevision r);

// Checks a profile's internal rules (regions[0] is system memory, instances
// unique and < 32, VRAM only when discrete, PAT non-empty with <= 64 entries,
// va_bits in [32, 57], positive timing figures). EINVAL on the first broken rule.
// The full list is in profiles/README.md.
Status validate(const Profile& p);

// name_or_path: a built-in profile name (see builtin_profile_names()), or the
// path of a JSON profile file. Empty = the default profile ("b580").
Result<Profile> load_profile(std::string_view name_or_path);
Result<Profile> parse_profile_json(std::string_view json_text);
std::vector<std::string> builtin_profile_names();
inline constexpr std::string_view kDefaultProfileName = "b580";

}  // namespace drm_sim
