// umd/objects/platform.h — per-platform facts the uapi does not report.
//
// The PAT table is not queryable: a UMD knows, per graphics IP, which PAT
// index gives write-combined (non-coherent) and which CPU-cached coherent
// (1-way) mappings — as Mesa's intel_device_info and the compute runtime's
// product helpers do. Indices follow the kernel's xe_pat.c tables.
// Owns: nothing. Locking: none (pure). Errors: none; an unknown PCI id gets
// the Xe2 indices.
#pragma once

#include <cstdint>

namespace drm_sim::umd {

struct PatConfig {
  std::uint16_t write_combining = 0;  // XE_COH_NONE, for WC BOs
  std::uint16_t cached_coherent = 0;  // XE_COH_AT_LEAST_1WAY, for WB BOs, userptr and SVM
  friend bool operator==(const PatConfig&, const PatConfig&) = default;
};

enum class GraphicsFamily : std::uint8_t { kXe2, kXeHpc };

GraphicsFamily family_of(std::uint16_t pci_device_id);
PatConfig pat_config_for(std::uint16_t pci_device_id);

}  // namespace drm_sim::umd
