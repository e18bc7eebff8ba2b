// drm_sim/fault/placement.h — the GPU fault path's two decisions, as pure
// functions (spec §7): which chunk a fault populates, and where its pages go.
//
//   fault at x:   VMA  [--------------------------------------)
//                 CPU  [----------------------------)
//                 populated        [====)
//   2 MiB chunk around x: does it fit VMA ∩ CPU and miss [====)? else 64 KiB,
//   else 4 KiB (devices that need 64 KiB VRAM pages never go below 64 KiB).
//
// Owns nothing. Locking: none (pure). Errors: choose_chunk() returns EFAULT
// when even the smallest chunk does not fit (the address is outside the VMA
// or the CPU mapping: a GPU segmentation fault); decide_placement() returns
// EACCES for a GPU atomic on memory whose policy forbids it (CPU atomics on a
// discrete part).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "drm_sim/core/status.h"
#include "drm_sim/core/types.h"
#include "drm_sim/profile/profile.h"
#include "drm_sim/vm/vma.h"

namespace drm_sim {

class DeviceMemory;

enum class AccessKind : std::uint8_t { kRead = 0, kWrite = 1, kAtomic = 2 };

// Largest aligned chunk in {2 MiB, 64 KiB, 4 KiB} (not below min_chunk) that
// contains addr, lies inside vma ∩ cpu, and overlaps none of `populated`
// (sorted, non-overlapping ranges already mapped on the GPU).
Result<VaRange> choose_chunk(std::uint64_t addr, VaRange vma, VaRange cpu,
                             std::span<const VaRange> populated, std::uint64_t min_chunk);

// Where a faulting access places its pages.
struct Placement {
  bool vram = false;           // false: system memory
  std::uint16_t tile = 0;      // VRAM tile (vram only)
  std::int32_t device_fd = 0;  // > 0: another device's VRAM (uapi 7.0), region in `region`
  std::uint16_t region = 0;
  DeviceMemory* peer = nullptr;  // set by the fault path: the peer device's memory
  bool operator==(const Placement&) const = default;
};

// attrs: the VMA's memory attributes; tile: the faulting tile.
// Atomic accesses first apply the atomic policy (discrete parts: CPU ->
// EACCES; DEVICE -> VRAM unless the device has device atomics on system
// memory; UNDEFINED/GLOBAL -> VRAM); other accesses follow the preferred
// location (DEFAULT_DEVICE -> the faulting tile's VRAM on discrete parts,
// system memory otherwise; DEFAULT_SYSTEM -> system memory; an fd -> that
// device's region).
Result<Placement> decide_placement(const MemAttrs& attrs, AccessKind access, const Profile& profile,
                                   std::uint16_t tile);

// Where a GPU access through a BO VMA needs the BO's pages (spec §3, §7).
// bo_placement is the BO's placement mask (bit per region instance). VRAM
// means the faulting tile's VRAM when the mask has it, else the mask's
// lowest VRAM region. Non-atomic accesses: VRAM when the mask has any (on a
// discrete part), else system memory. Atomics on a discrete part by the BO's
// atomic attribute: CPU -> EACCES; DEVICE -> VRAM, or system memory with
// device atomics on system memory, else EACCES; UNDEFINED and GLOBAL -> VRAM
// when the mask allows, else system memory.
Result<Placement> decide_bo_placement(std::uint32_t bo_placement, std::uint8_t atomic,
                                      AccessKind access, const Profile& profile,
                                      std::uint16_t tile);

}  // namespace drm_sim
