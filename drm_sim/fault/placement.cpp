#include "drm_sim/fault/placement.h"

#include <algorithm>

namespace drm_sim {

namespace {

constexpr std::uint64_t kChunks[] = {kPage2M, kPage64K, kPage4K};

bool overlaps_any(VaRange r, std::span<const VaRange> populated) {
  // populated is sorted: the first range ending after r.lo() decides.
  auto it = std::lower_bound(populated.begin(), populated.end(), r.lo(),
                             [](const VaRange& p, std::uint64_t lo) { return p.hi() <= lo; });
  return it != populated.end() && it->lo() < r.hi();
}

}  // namespace

Result<VaRange> choose_chunk(std::uint64_t addr, VaRange vma, VaRange cpu,
                             std::span<const VaRange> populated, std::uint64_t min_chunk) {
  for (const std::uint64_t size : kChunks) {
    if (size < min_chunk) break;
    const std::uint64_t lo = addr & ~(size - 1);
    if (lo + size < lo) continue;  // wraps at the top of the address space
    const VaRange chunk = VaRange::from_bounds(lo, lo + size);
    if (vma.contains(chunk) && cpu.contains(chunk) && !overlaps_any(chunk, populated)) {
      return chunk;
    }
  }
  return Status::err(EFAULT);
}

Result<Placement> decide_placement(const MemAttrs& attrs, AccessKind access, const Profile& profile,
                                   std::uint16_t tile) {
  const bool discrete = profile.features.discrete;
  Placement vram_here;
  vram_here.vram = true;
  vram_here.tile = tile;
  if (access == AccessKind::kAtomic && discrete) {
    switch (attrs.atomic) {
      case 3:  // DRM_XE_ATOMIC_CPU: GPU atomics are not allowed
        return Status::err(EACCES);
      case 1:                                                // DRM_XE_ATOMIC_DEVICE
        if (profile.features.device_atomics_on_smem) break;  // wherever the pages are
        return vram_here;
      default:  // UNDEFINED, GLOBAL
        return vram_here;
    }
  }
  if (attrs.devmem_fd == -1 || !discrete) return Placement{};  // DEFAULT_SYSTEM / no VRAM
  if (attrs.devmem_fd > 0) {
    Placement p;
    p.vram = true;
    p.device_fd = attrs.devmem_fd;
    p.region = attrs.region_instance;
    return p;
  }
  return vram_here;  // DEFAULT_DEVICE
}

Result<Placement> decide_bo_placement(std::uint32_t bo_placement, std::uint8_t atomic,
                                      AccessKind access, const Profile& profile,
                                      std::uint16_t tile) {
  Placement where;  // system memory
  const std::uint32_t vram_mask = bo_placement & profile.vram_placement_mask();
  if (profile.features.discrete && vram_mask != 0) {
    where.vram = true;
    const MemRegionDesc* here = profile.vram_for_tile(tile);
    if (here != nullptr && (vram_mask & (1u << here->instance)) != 0) {
      where.tile = tile;
    } else {
      const auto first = static_cast<std::uint16_t>(__builtin_ctz(vram_mask));
      where.tile = profile.region_by_instance(first)->tile;
    }
  }
  if (access != AccessKind::kAtomic || !profile.features.discrete) return where;
  switch (atomic) {
    case 3:  // DRM_XE_ATOMIC_CPU: GPU atomics are not allowed
      return Status::err(EACCES);
    case 1:  // DRM_XE_ATOMIC_DEVICE: VRAM, or system memory if the device can
      if (!where.vram && !profile.features.device_atomics_on_smem) return Status::err(EACCES);
      return where;
    default:  // UNDEFINED, GLOBAL
      return where;
  }
}

}  // namespace drm_sim
