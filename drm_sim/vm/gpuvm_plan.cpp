// The drm_gpuvm walk. For each existing VMA [a,e) overlapping the request
// [s,t), in address order:
//
//        a          s                    t          e
//        [----prev--)[======inside=======)[---next--)
//
// prev exists when a < s, next when e > t. A cut VMA (prev or next) becomes a
// REMAP; an uncut one an UNMAP (bind modes only). keep is true when the old
// VMA maps the request's BO at the same BO offset for the same address.
#include "drm_sim/vm/gpuvm_plan.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

namespace drm_sim {

Vma MapRequest::to_vma() const {
  Vma v;
  v.start = range.lo();
  v.end = range.hi();
  v.kind = kind;
  v.bo = kind == VmaKind::kBo ? bo : 0;
  v.offset = offset;
  v.flags = flags;
  v.default_pat = pat;
  v.attrs.pat = pat;
  return v;
}

namespace {

// A piece [lo, hi) of `old`, keeping its kind, flags and attributes. The
// backing offset advances with the cut for BO and userptr VMAs; a mirror's
// offset is a GPU-to-CPU delta and a NULL VMA has none, so theirs stays.
Vma piece(const Vma& old, std::uint64_t lo, std::uint64_t hi) {
  Vma p = old;
  p.start = lo;
  p.end = hi;
  if (old.kind == VmaKind::kBo || old.kind == VmaKind::kUserptr) {
    p.offset = old.offset + (lo - old.start);
  }
  return p;
}

}  // namespace

void gpuvm_walk(const VmaTree& tree, const MapRequest& req, const WalkRules& rules, GpuvmOps& out) {
  const std::uint64_t s = req.range.lo();
  const std::uint64_t t = req.range.hi();
  tree.visit(req.range, [&](const Vma& v) {
    if (rules.skip_bo_vmas && v.has_bo()) return true;
    const bool cut_below = v.start < s;
    const bool cut_above = v.end > t;
    // drm_gpuvm: only VMAs with a GEM object can be kept.
    const bool keep = v.has_bo() && req.kind == VmaKind::kBo && v.bo == req.bo &&
                      v.offset + s - v.start == req.offset;
    if (cut_below || cut_above) {
      auto& r = std::get<RemapOp>(out.emplace_back(std::in_place_type<RemapOp>));
      r.old = v;
      r.keep = keep;
      if (cut_below) r.prev = piece(v, v.start, s);
      if (cut_above) r.next = piece(v, t, v.end);
      if (rules.map_cut_pieces) {
        out.emplace_back(std::in_place_type<MapOp>,
                         MapOp{piece(v, std::max(v.start, s), std::min(v.end, t))});
      }
    } else if (rules.emit_unmaps) {
      out.emplace_back(std::in_place_type<UnmapOp>, UnmapOp{v, keep});
    }
    return true;
  });
  if (rules.map_request) out.emplace_back(std::in_place_type<MapOp>, MapOp{req.to_vma()});
}

namespace {

GpuvmOps collect(const VmaTree& tree, const MapRequest& req, const WalkRules& rules) {
  GpuvmOps ops;
  gpuvm_walk(tree, req, rules, ops);
  return ops;
}

MapRequest range_only(VaRange range) {
  MapRequest req;
  req.range = range;
  return req;
}

}  // namespace

GpuvmOps plan_map(const VmaTree& tree, const MapRequest& req) {
  return collect(tree, req, kSmMapRules);
}

GpuvmOps plan_unmap(const VmaTree& tree, VaRange range) {
  return collect(tree, range_only(range), kSmUnmapRules);
}

GpuvmOps plan_madvise(const VmaTree& tree, VaRange range) {
  return collect(tree, range_only(range), kMadviseRules);
}

const char* to_string(VmaKind k) {
  switch (k) {
    case VmaKind::kBo:
      return "bo";
    case VmaKind::kUserptr:
      return "userptr";
    case VmaKind::kNull:
      return "null";
    case VmaKind::kMirror:
      return "mirror";
  }
  return "?";
}

std::string to_string(const Vma& v) {
  char buf[128];
  const auto lo = static_cast<unsigned long long>(v.start);
  const auto hi = static_cast<unsigned long long>(v.end);
  const auto off = static_cast<unsigned long long>(v.offset);
  switch (v.kind) {
    case VmaKind::kBo:
      std::snprintf(buf, sizeof buf, "[0x%llx,0x%llx) bo=%u@0x%llx", lo, hi, v.bo, off);
      break;
    case VmaKind::kUserptr:
      std::snprintf(buf, sizeof buf, "[0x%llx,0x%llx) userptr@0x%llx", lo, hi, off);
      break;
    default:
      std::snprintf(buf, sizeof buf, "[0x%llx,0x%llx) %s", lo, hi, to_string(v.kind));
      break;
  }
  return buf;
}

std::string to_string(const GpuvmOp& op) {
  struct Printer {
    std::string operator()(const MapOp& m) const { return "MAP " + to_string(m.vma); }
    std::string operator()(const UnmapOp& u) const {
      return std::string("UNMAP ") + (u.keep ? "keep " : "") + to_string(u.old);
    }
    std::string operator()(const RemapOp& r) const {
      std::string s = "REMAP ";
      if (r.keep) s += "keep ";
      s += "old=" + to_string(r.old);
      s += " prev=" + (r.prev ? to_string(*r.prev) : std::string("-"));
      s += " next=" + (r.next ? to_string(*r.next) : std::string("-"));
      return s;
    }
  };
  return std::visit(Printer{}, op);
}

std::string to_string(const GpuvmOps& ops) {
  std::string s;
  for (const auto& op : ops) {
    s += to_string(op);
    s += '\n';
  }
  return s;
}

}  // namespace drm_sim
