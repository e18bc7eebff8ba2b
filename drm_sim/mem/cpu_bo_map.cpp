// CpuBoMappings: the BO pieces of a process address space, cut like munmap.
#include "drm_sim/mem/cpu_bo_map.h"

#include <algorithm>
#include <iterator>

namespace drm_sim {

std::optional<CpuBoMapping> CpuBoMappings::find_locked(std::uint64_t addr) const {
  auto it = maps_.upper_bound(addr);
  if (it == maps_.begin()) {
    return std::nullopt;
  }
  --it;
  if (it->second.end <= addr) {
    return std::nullopt;
  }
  return CpuBoMapping{VaRange::from_bounds(it->first, it->second.end), it->second.bo,
                      it->second.bo_offset};
}

bool CpuBoMappings::overlaps_locked(VaRange r) const {
  auto it = maps_.lower_bound(r.hi());
  return it != maps_.begin() && std::prev(it)->second.end > r.lo();
}

void CpuBoMappings::insert_locked(const CpuBoMapping& m) {
  maps_.emplace(m.range.lo(), Piece{m.range.hi(), m.bo, m.bo_offset});
}

std::vector<CpuBoMappings::RefChange> CpuBoMappings::remove_locked(VaRange r) {
  std::vector<RefChange> out;
  auto it = maps_.upper_bound(r.lo());
  if (it != maps_.begin() && std::prev(it)->second.end > r.lo()) {
    --it;
  }
  while (it != maps_.end() && it->first < r.hi()) {
    const std::uint64_t start = it->first;
    const Piece p = it->second;
    it = maps_.erase(it);
    const bool keep_prev = start < r.lo();
    const bool keep_next = p.end > r.hi();
    if (keep_prev) {
      maps_.emplace(start, Piece{r.lo(), p.bo, p.bo_offset});
    }
    if (keep_next) {
      it = maps_.emplace(r.hi(), Piece{p.end, p.bo, p.bo_offset + (r.hi() - start)}).first;
      ++it;
    }
    const int pieces = (keep_prev ? 1 : 0) + (keep_next ? 1 : 0);
    if (pieces != 1) {
      out.push_back(RefChange{p.bo, pieces - 1});
    }
  }
  return out;
}

std::vector<CpuBoMappings::RefChange> CpuBoMappings::clear_locked() {
  std::vector<RefChange> out;
  out.reserve(maps_.size());
  for (const auto& [start, p] : maps_) {
    out.push_back(RefChange{p.bo, -1});
  }
  maps_.clear();
  return out;
}

}  // namespace drm_sim
