// drm_sim/mem/cpu_bo_map.h — the buffer-object mappings of one simulated
// process (what mmap() of a GEM_MMAP_OFFSET fake offset gives a UMD), and
// the process's mmap lock.
//
//   process VA  [anon (SvmSpace)]   [BO 7 @0 ..........)   [BO 7 @+3 MiB ..)
//   this table                      start,end -> bo, bo_offset (one per piece)
//
// Owns: the table of BO mappings (start -> {end, BO id, BO offset}); pieces
// never overlap. It does not own the BO references the pieces stand for: the
// caller (DrmFile) takes one device reference per piece and applies the
// RefChange list that remove_locked() returns.
// Locking: lock() is the process's mmap lock. Hold it exclusively to change
// the table (and to keep anonymous and BO mappings disjoint while creating
// either), shared to look up and use a mapping (a CPU access holds it for
// its duration, so the BO cannot go away under it). Lock order: mmap lock ->
// DrmFile mutex -> Device::bo_mutex -> memory mutex; never taken under a VM
// lock.
// Errors: none here (the caller validates; insert_locked() requires a free
// range).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <shared_mutex>
#include <vector>

#include "drm_sim/core/types.h"

namespace drm_sim {

struct CpuBoMapping {
  VaRange range;                // process VA, page aligned
  std::uint32_t bo = 0;         // device-wide BO id
  std::uint64_t bo_offset = 0;  // BO offset shown at range.lo()
};

class CpuBoMappings {
 public:
  std::shared_mutex& lock() { return mu_; }

  // A BO reference to take (+1: a mapping was cut in two) or drop (-1: a
  // piece went away).
  struct RefChange {
    std::uint32_t bo;
    int delta;
  };

  // --- caller holds lock(), shared or exclusive ---
  std::optional<CpuBoMapping> find_locked(std::uint64_t addr) const;
  bool overlaps_locked(VaRange r) const;
  std::size_t size_locked() const { return maps_.size(); }

  // --- caller holds lock() exclusively ---
  void insert_locked(const CpuBoMapping& m);  // r free (overlaps_locked false)
  // munmap semantics: every piece overlapping r loses its part inside r;
  // a piece cut in the middle becomes two. Returns one RefChange per piece
  // removed (-1) or added (+1).
  std::vector<RefChange> remove_locked(VaRange r);
  // Empties the table; one -1 per piece.
  std::vector<RefChange> clear_locked();

 private:
  struct Piece {
    std::uint64_t end;
    std::uint32_t bo;
    std::uint64_t bo_offset;
  };
  std::shared_mutex mu_;
  std::map<std::uint64_t, Piece> maps_;  // by start
};

}  // namespace drm_sim
