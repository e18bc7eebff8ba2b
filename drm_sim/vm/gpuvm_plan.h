// drm_sim/vm/gpuvm_plan.h — drm_gpuvm's split/merge planner, as value ops.
//
// A VM_BIND MAP/UNMAP or a madvise is first planned into a list of ops, which
// a caller can inspect, print (one stable line per op) and compare with a
// golden list, and only then applied to the VM. Ops hold addresses and ids,
// never pointers into the tree.
//
// Cardinality (asserted by the tests):
//   plan_map:     any number of UNMAPs, at most two REMAPs, exactly one MAP (last).
//   plan_unmap:   any number of UNMAPs, at most two REMAPs, no MAP.
//   plan_madvise: no UNMAP, at most two REMAPs, each immediately followed by the
//                 MAP of the cut piece inside the request; BO VMAs are never cut.
//
// Owns: nothing. Locking: the caller holds the VM lock (read suffices for
// planning). Errors: none; the walk is total over valid ranges.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "drm_sim/vm/vma.h"
#include "drm_sim/vm/vma_tree.h"

namespace drm_sim {

struct MapOp {
  Vma vma;  // the VMA to create
  bool operator==(const MapOp&) const = default;
};
struct RemapOp {
  Vma old;                  // removed
  std::optional<Vma> prev;  // surviving piece below the request
  std::optional<Vma> next;  // surviving piece above the request
  bool keep = false;        // same BO at a contiguous offset: PTEs may be kept
  bool operator==(const RemapOp&) const = default;
};
struct UnmapOp {
  Vma old;
  bool keep = false;
  bool operator==(const UnmapOp&) const = default;
};
using GpuvmOp = std::variant<MapOp, RemapOp, UnmapOp>;
using GpuvmOps = std::vector<GpuvmOp>;

// What a MAP request creates: kind, backing and creation flags of the new VMA.
struct MapRequest {
  VaRange range;
  VmaKind kind = VmaKind::kNull;
  std::uint32_t bo = 0;      // kBo only
  std::uint64_t offset = 0;  // BO offset / userptr address / mirror offset
  std::uint8_t flags = 0;    // vma_flag::*
  std::uint16_t pat = 0;
  Vma to_vma() const;
};

// The one walker, driven by the rules of each mode.
struct WalkRules {
  bool skip_bo_vmas;    // madvise: BO VMAs are never cut
  bool emit_unmaps;     // bind: VMAs inside the request are unmapped
  bool map_cut_pieces;  // madvise: MAP the inside part of each cut VMA
  bool map_request;     // bind MAP: one MAP of the request at the end
};
inline constexpr WalkRules kSmMapRules{false, true, false, true};
inline constexpr WalkRules kSmUnmapRules{false, true, false, false};
inline constexpr WalkRules kMadviseRules{true, false, true, false};

// Walks the VMAs overlapping req.range under `rules`, appending the ops to
// out in walk order (each built in place). For modes without map_request,
// only req.range is read.
void gpuvm_walk(const VmaTree& tree, const MapRequest& req, const WalkRules& rules, GpuvmOps& out);

GpuvmOps plan_map(const VmaTree& tree, const MapRequest& req);
GpuvmOps plan_unmap(const VmaTree& tree, VaRange range);
GpuvmOps plan_madvise(const VmaTree& tree, VaRange range);

// One line per op, e.g.
//   "REMAP keep old=[0x0,0x3000) bo=1@0x0 prev=[0x0,0x1000) bo=1@0x0 next=-"
// Stable across releases: golden files compare against it.
std::string to_string(const GpuvmOp& op);
std::string to_string(const GpuvmOps& ops);  // joined with '\n', trailing newline

}  // namespace drm_sim
