// drm_sim/vm/vma.h — one GPU VMA as a value, and its memory attributes.
//
// Owns: plain data. Locking: none; VMAs live in a VmaTree guarded by the
// owning Vm's lock. Errors: none.
#pragma once

#include <cstdint>
#include <string>

#include "drm_sim/core/types.h"

namespace drm_sim {

enum class VmaKind : std::uint8_t {
  kBo = 0,       // backed by a GEM buffer object
  kUserptr = 1,  // MAP_USERPTR
  kNull = 2,     // DRM_XE_VM_BIND_FLAG_NULL (sparse: reads 0, writes dropped)
  kMirror = 3,   // DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR (SVM)
};

// Creation flags kept from the bind (a subset of DRM_XE_VM_BIND_FLAG_*).
namespace vma_flag {
inline constexpr std::uint8_t kReadonly = 1u << 0;
inline constexpr std::uint8_t kImmediate = 1u << 1;
inline constexpr std::uint8_t kDumpable = 1u << 2;
inline constexpr std::uint8_t kAutoreset = 1u << 3;
}  // namespace vma_flag

// The madvise-able attributes (spec §3), stored exactly as user space set them.
struct MemAttrs {
  std::int32_t devmem_fd = 0;         // DEFAULT_DEVICE 0, DEFAULT_SYSTEM -1, or an fd (7.0)
  std::uint16_t region_instance = 0;  // 7.0, with devmem_fd > 0
  std::uint8_t migration_policy = 0;  // ALL_PAGES 0, ONLY_SYSTEM_PAGES 1
  std::uint8_t atomic = 0;            // UNDEFINED 0, DEVICE 1, GLOBAL 2, CPU 3
  std::uint16_t pat = 0;              // PAT index
  std::uint8_t purgeable = 0;         // WILLNEED 0, DONTNEED 1 (7.1)
  std::uint8_t purged = 0;            // 7.1: backing was discarded while DONTNEED
  constexpr bool operator==(const MemAttrs&) const = default;
};

struct Vma {
  std::uint64_t start = 0;
  std::uint64_t end = 0;     // exclusive
  std::uint64_t offset = 0;  // BO offset, userptr CPU address, or mirror offset
  std::uint32_t bo = 0;      // device-wide BO id (kBo only), 0 otherwise
  VmaKind kind = VmaKind::kNull;
  std::uint8_t flags = 0;         // vma_flag::*
  std::uint16_t default_pat = 0;  // pat_index of the bind; autoreset returns here
  std::uint8_t pte_tiles = 0;     // tiles whose GPU PTEs currently map this VMA
  MemAttrs attrs;

  VaRange range() const { return VaRange::from_bounds(start, end); }
  std::uint64_t size() const { return end - start; }
  bool has_bo() const { return kind == VmaKind::kBo; }
  // The attributes a VMA has right after its bind (spec §6).
  MemAttrs bind_attrs() const {
    MemAttrs a;
    a.pat = default_pat;
    return a;
  }
  // xe's "default memory attributes" test (mirror widening and merging).
  bool has_default_attrs() const {
    return attrs.devmem_fd == 0 && attrs.migration_policy == 0 && attrs.atomic == 0 &&
           attrs.pat == default_pat;
  }
  constexpr bool operator==(const Vma&) const = default;
};

const char* to_string(VmaKind k);
// Stable one-line text form, e.g. "[0x1000,0x3000) bo=2@0x0" or "[0x0,0x1000) mirror".
std::string to_string(const Vma& v);

}  // namespace drm_sim
