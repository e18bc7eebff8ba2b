// tests/unit/vma_test_util.h — builders and checkers shared by the planner tests.
//
// Owns: nothing (inline helpers only). Geometry is written in 4 KiB pages:
// page n is GPU address n * 0x1000, and BO offsets, userptr CPU addresses and
// mirror deltas are given in pages too, so bo(0, 2, kBoA, 0x10) is
// "[0x0,0x2000) bo=1@0x10000".
//
// The ops a planner returns are applied to a VmaTree the way the VM applies
// them (UNMAP erases the old VMA; REMAP erases it and inserts prev/next; MAP
// inserts the new VMA), so a test can compare the layout that results.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "drm_sim/vm/gpuvm_plan.h"
#include "drm_sim/vm/vma.h"
#include "drm_sim/vm/vma_tree.h"

namespace drm_sim {

// GoogleTest printers, so a failing value comparison shows the stable text
// form plus the fields that text leaves out (flags, PAT, attributes).
inline void PrintTo(const Vma& v, std::ostream* os) {
  *os << to_string(v) << " flags=" << unsigned{v.flags} << " default_pat=" << v.default_pat
      << " pte_tiles=" << unsigned{v.pte_tiles} << " attrs={devmem_fd=" << v.attrs.devmem_fd
      << " region=" << v.attrs.region_instance
      << " migration=" << unsigned{v.attrs.migration_policy}
      << " atomic=" << unsigned{v.attrs.atomic} << " pat=" << v.attrs.pat
      << " purgeable=" << unsigned{v.attrs.purgeable} << " purged=" << unsigned{v.attrs.purged}
      << "}";
}
inline void PrintTo(const MapOp& op, std::ostream* os) {
  *os << to_string(GpuvmOp{op});
}
inline void PrintTo(const RemapOp& op, std::ostream* os) {
  *os << to_string(GpuvmOp{op});
}
inline void PrintTo(const UnmapOp& op, std::ostream* os) {
  *os << to_string(GpuvmOp{op});
}

namespace test {

inline constexpr std::uint64_t kPageSize = kPage4K;
inline constexpr std::uint32_t kBoA = 1;
inline constexpr std::uint32_t kBoB = 2;
// Any VA end comfortably above every layout the tests build (48-bit VA).
inline constexpr std::uint64_t kVaEnd = std::uint64_t{1} << 48;

constexpr std::uint64_t page(std::uint64_t n) {
  return n * kPageSize;
}
inline VaRange pages(std::uint64_t lo, std::uint64_t hi) {
  return VaRange::from_bounds(page(lo), page(hi));
}

// ---- VMA builders -----------------------------------------------------------

inline Vma vma_of(VmaKind kind, std::uint64_t lo, std::uint64_t hi, std::uint64_t offset_bytes) {
  Vma v;
  v.start = page(lo);
  v.end = page(hi);
  v.kind = kind;
  v.offset = offset_bytes;
  return v;
}
// [lo, hi) backed by BO bo_id starting offset_pages into it.
inline Vma bo(std::uint64_t lo, std::uint64_t hi, std::uint32_t bo_id, std::uint64_t offset_pages) {
  Vma v = vma_of(VmaKind::kBo, lo, hi, page(offset_pages));
  v.bo = bo_id;
  return v;
}
// [lo, hi) mapping the CPU pages starting at cpu_page (MAP_USERPTR).
inline Vma userptr(std::uint64_t lo, std::uint64_t hi, std::uint64_t cpu_page) {
  return vma_of(VmaKind::kUserptr, lo, hi, page(cpu_page));
}
// [lo, hi) CPU_ADDR_MIRROR; delta_pages is the GPU-to-CPU delta kept in offset.
inline Vma mirror(std::uint64_t lo, std::uint64_t hi, std::uint64_t delta_pages = 0) {
  return vma_of(VmaKind::kMirror, lo, hi, page(delta_pages));
}
// [lo, hi) NULL (sparse) binding.
inline Vma null(std::uint64_t lo, std::uint64_t hi) {
  return vma_of(VmaKind::kNull, lo, hi, 0);
}

// The same VMA with non-default attributes and creation flags, so a test can
// see whether the pieces of a cut inherit them.
inline Vma with_custom_attrs(Vma v) {
  v.flags = vma_flag::kReadonly | vma_flag::kDumpable;
  v.default_pat = 3;
  v.pte_tiles = 0x1;
  v.attrs.devmem_fd = -1;  // DEFAULT_SYSTEM
  v.attrs.migration_policy = 1;
  v.attrs.atomic = 2;
  v.attrs.pat = 4;
  return v;
}

// The bind request whose new VMA is v (kind, backing, flags and PAT of v).
inline MapRequest map_request(const Vma& v) {
  MapRequest r;
  r.range = v.range();
  r.kind = v.kind;
  r.bo = v.bo;
  r.offset = v.offset;
  r.flags = v.flags;
  r.pat = v.default_pat;
  return r;
}

// ---- op builders --------------------------------------------------------------

enum class Keep : bool { kNo = false, kYes = true };

inline GpuvmOp map_op(const Vma& v) {
  return MapOp{v};
}
inline GpuvmOp unmap_op(const Vma& old, Keep keep = Keep::kNo) {
  return UnmapOp{old, keep == Keep::kYes};
}
inline GpuvmOp remap_op(const Vma& old, std::optional<Vma> prev, std::optional<Vma> next,
                        Keep keep = Keep::kNo) {
  return RemapOp{old, prev, next, keep == Keep::kYes};
}

// ---- trees ----------------------------------------------------------------------

inline VmaTree tree_of(const std::vector<Vma>& vmas) {
  VmaTree t;
  for (const Vma& v : vmas) {
    t.insert(v);
  }
  return t;
}

// Every VMA of the tree in address order.
inline std::vector<Vma> layout(const VmaTree& t) {
  std::vector<Vma> out;
  t.visit_all([&](const Vma& v) {
    out.push_back(v);
    return true;
  });
  return out;
}

// One to_string line per VMA, trailing newline.
inline std::string dump(const std::vector<Vma>& vmas) {
  std::string s;
  for (const Vma& v : vmas) {
    s += to_string(v) + "\n";
  }
  return s;
}
inline std::string dump(const VmaTree& t) {
  return dump(layout(t));
}

namespace detail {
inline ::testing::AssertionResult take_out(VmaTree& t, const Vma& old, const char* what) {
  const std::optional<Vma> found = t.at(old.start);
  if (!found || !(*found == old)) {
    return ::testing::AssertionFailure()
           << what << " names " << to_string(old) << " but the tree holds "
           << (found ? to_string(*found) : std::string("nothing")) << " there";
  }
  t.erase(old.start);
  return ::testing::AssertionSuccess();
}
inline ::testing::AssertionResult put_in(VmaTree& t, const Vma& v, const char* what) {
  if (v.start >= v.end || t.count_overlaps(v.range()) != 0) {
    return ::testing::AssertionFailure()
           << what << " " << to_string(v) << " is empty or overlaps an existing VMA";
  }
  t.insert(v);
  return ::testing::AssertionSuccess();
}
}  // namespace detail

// Applies ops in order. Fails (instead of tripping the tree's asserts) when an
// op names a VMA the tree does not hold or would insert an overlapping one.
inline ::testing::AssertionResult apply_ops(VmaTree& t, const GpuvmOps& ops) {
  for (const GpuvmOp& op : ops) {
    ::testing::AssertionResult r = ::testing::AssertionSuccess();
    if (const auto* u = std::get_if<UnmapOp>(&op)) {
      r = detail::take_out(t, u->old, "UNMAP");
    } else if (const auto* rm = std::get_if<RemapOp>(&op)) {
      r = detail::take_out(t, rm->old, "REMAP");
      if (r && rm->prev) {
        r = detail::put_in(t, *rm->prev, "REMAP prev");
      }
      if (r && rm->next) {
        r = detail::put_in(t, *rm->next, "REMAP next");
      }
    } else {
      r = detail::put_in(t, std::get<MapOp>(op).vma, "MAP");
    }
    if (!r) {
      return r;
    }
  }
  return ::testing::AssertionSuccess();
}

// Names a parameterised test after its table row's `name` field.
struct RowName {
  template <typename Row>
  std::string operator()(const ::testing::TestParamInfo<Row>& row) const {
    return row.param.name;
  }
};

// ---- cardinality (gpuvm_plan.h) ---------------------------------------------

namespace detail {
// A REMAP's prev starts where old starts and ends before old ends; its next
// ends where old ends; at least one of them exists.
inline ::testing::AssertionResult remap_is_well_formed(const RemapOp& r) {
  if (!r.prev && !r.next) {
    return ::testing::AssertionFailure() << "REMAP without prev or next";
  }
  if (r.prev && (r.prev->start != r.old.start || r.prev->end >= r.old.end)) {
    return ::testing::AssertionFailure() << "REMAP prev is not a head of old";
  }
  if (r.next && (r.next->end != r.old.end || r.next->start <= r.old.start)) {
    return ::testing::AssertionFailure() << "REMAP next is not a tail of old";
  }
  return ::testing::AssertionSuccess();
}
struct OpCounts {
  int maps = 0, remaps = 0, unmaps = 0;
};
inline OpCounts count_ops(const GpuvmOps& ops) {
  OpCounts c;
  for (const GpuvmOp& op : ops) {
    if (std::holds_alternative<MapOp>(op)) {
      ++c.maps;
    }
    if (std::holds_alternative<RemapOp>(op)) {
      ++c.remaps;
    }
    if (std::holds_alternative<UnmapOp>(op)) {
      ++c.unmaps;
    }
  }
  return c;
}
inline ::testing::AssertionResult remaps_well_formed(const GpuvmOps& ops) {
  for (const GpuvmOp& op : ops) {
    if (const auto* r = std::get_if<RemapOp>(&op)) {
      if (auto ok = remap_is_well_formed(*r); !ok) {
        return ok;
      }
    }
  }
  return ::testing::AssertionSuccess();
}
}  // namespace detail

// plan_map: any number of UNMAPs, at most two REMAPs, exactly one MAP, last.
inline ::testing::AssertionResult has_map_cardinality(const GpuvmOps& ops) {
  const detail::OpCounts c = detail::count_ops(ops);
  if (c.remaps > 2) {
    return ::testing::AssertionFailure() << c.remaps << " REMAPs (max 2)";
  }
  if (c.maps != 1) {
    return ::testing::AssertionFailure() << c.maps << " MAPs (want exactly 1)";
  }
  if (!std::holds_alternative<MapOp>(ops.back())) {
    return ::testing::AssertionFailure() << "the MAP is not the last op";
  }
  return detail::remaps_well_formed(ops);
}

// plan_unmap: any number of UNMAPs, at most two REMAPs, no MAP, never keep.
inline ::testing::AssertionResult has_unmap_cardinality(const GpuvmOps& ops) {
  const detail::OpCounts c = detail::count_ops(ops);
  if (c.remaps > 2) {
    return ::testing::AssertionFailure() << c.remaps << " REMAPs (max 2)";
  }
  if (c.maps != 0) {
    return ::testing::AssertionFailure() << c.maps << " MAPs (want none)";
  }
  return detail::remaps_well_formed(ops);
}

// plan_madvise: no UNMAP, at most two REMAPs, each immediately followed by
// the MAP of the cut piece inside the request, and no other MAP. The MAP
// piece is what the REMAP leaves of old between prev and next.
inline ::testing::AssertionResult has_madvise_cardinality(const GpuvmOps& ops) {
  const detail::OpCounts c = detail::count_ops(ops);
  if (c.unmaps != 0) {
    return ::testing::AssertionFailure() << c.unmaps << " UNMAPs (want none)";
  }
  if (c.remaps > 2) {
    return ::testing::AssertionFailure() << c.remaps << " REMAPs (max 2)";
  }
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const auto* r = std::get_if<RemapOp>(&ops[i]);
    if (r == nullptr) {
      if (i == 0 || !std::holds_alternative<RemapOp>(ops[i - 1])) {
        return ::testing::AssertionFailure() << "op " << i << " is a MAP not preceded by a REMAP";
      }
      continue;
    }
    if (i + 1 == ops.size() || !std::holds_alternative<MapOp>(ops[i + 1])) {
      return ::testing::AssertionFailure() << "REMAP " << i << " is not followed by a MAP";
    }
    const Vma& m = std::get<MapOp>(ops[i + 1]).vma;
    const std::uint64_t lo = r->prev ? r->prev->end : r->old.start;
    const std::uint64_t hi = r->next ? r->next->start : r->old.end;
    if (m.start != lo || m.end != hi) {
      return ::testing::AssertionFailure() << "MAP " << to_string(m) << " is not the piece of "
                                           << to_string(r->old) << " between prev and next";
    }
  }
  return detail::remaps_well_formed(ops);
}

}  // namespace test
}  // namespace drm_sim
