// tests/model/op_gen.cpp — the random op generator (see op_gen.h).
#include "op_gen.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "drm_sim/drm_sim.h"

namespace drm_sim_model {
namespace {

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

std::string span(std::uint64_t start, std::uint64_t range) {
  return "[" + hex(start) + "," + hex(start + range) + ")";
}

const char* madvise_type_name(std::uint32_t t) {
  switch (t) {
    case DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC:
      return "PREFERRED_LOC";
    case DRM_XE_MEM_RANGE_ATTR_ATOMIC:
      return "ATOMIC";
    case DRM_XE_MEM_RANGE_ATTR_PAT:
      return "PAT";
    case DRM_XE_VMA_ATTR_PURGEABLE_STATE:
      return "PURGEABLE_STATE";
    default:
      return "?";
  }
}

std::string bind_flags(std::uint32_t f) {
  std::string s;
  const auto add = [&](std::uint32_t bit, const char* name) {
    if ((f & bit) != 0) s += std::string(s.empty() ? "" : "|") + name;
  };
  add(DRM_XE_VM_BIND_FLAG_READONLY, "READONLY");
  add(DRM_XE_VM_BIND_FLAG_IMMEDIATE, "IMMEDIATE");
  add(DRM_XE_VM_BIND_FLAG_NULL, "NULL");
  add(DRM_XE_VM_BIND_FLAG_DUMPABLE, "DUMPABLE");
  add(DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR, "MIRROR");
  add(DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET, "AUTORESET");
  return s;
}

}  // namespace

std::string to_string(const BindArgs& b) {
  std::string s;
  switch (b.op) {
    case DRM_XE_VM_BIND_OP_MAP:
      s = "MAP";
      if (b.obj != 0) s += " bo=h" + std::to_string(b.obj);
      s += " " + span(b.addr, b.range);
      if (b.obj != 0) s += " @" + hex(b.obj_offset);
      break;
    case DRM_XE_VM_BIND_OP_MAP_USERPTR:
      s = "MAP_USERPTR " + span(b.addr, b.range) + " cpu=" + hex(b.obj_offset);
      break;
    case DRM_XE_VM_BIND_OP_UNMAP:
      s = "UNMAP " + span(b.addr, b.range);
      break;
    case DRM_XE_VM_BIND_OP_UNMAP_ALL:
      s = "UNMAP_ALL bo=h" + std::to_string(b.obj);
      break;
    case DRM_XE_VM_BIND_OP_PREFETCH:
      s = "PREFETCH " + span(b.addr, b.range) + " region=" +
          (b.region == kConsultPrefLoc ? std::string("CONSULT") : std::to_string(b.region));
      break;
    default:
      s = "op" + std::to_string(b.op) + " " + span(b.addr, b.range);
      break;
  }
  s += " pat=" + std::to_string(b.pat);
  if (b.flags != 0) s += " " + bind_flags(b.flags);
  return s;
}

std::string to_string(const MadviseArgs& m) {
  std::string s = "madvise " + span(m.start, m.range) + " " + madvise_type_name(m.type);
  switch (m.type) {
    case DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC:
      s += " devmem_fd=" + std::to_string(m.devmem_fd) +
           " policy=" + std::to_string(m.migration_policy);
      break;
    case DRM_XE_VMA_ATTR_PURGEABLE_STATE:
      s += std::string(m.val == DRM_XE_VMA_PURGEABLE_STATE_DONTNEED ? " DONTNEED" : " WILLNEED") +
           (m.with_retained ? " retained_ptr" : "");
      break;
    default:
      s += " val=" + std::to_string(m.val);
      break;
  }
  return s;
}

std::string to_string(const Op& op) {
  std::string s;
  switch (op.kind) {
    case OpKind::kGemCreate:
      s = "gem_create size=" + hex(op.size) + " placement=" + hex(op.placement) +
          (op.cpu_caching == DRM_XE_GEM_CPU_CACHING_WB ? " WB" : " WC");
      break;
    case OpKind::kGemClose:
      s = "gem_close h" + std::to_string(op.handle);
      break;
    case OpKind::kMmapOffset:
      s = "mmap_offset h" + std::to_string(op.handle);
      break;
    case OpKind::kBind:
      s = "bind";
      for (std::size_t i = 0; i < op.binds.size(); ++i) {
        s += (i == 0 ? " " : " ; ") + to_string(op.binds[i]);
      }
      break;
    case OpKind::kMadvise:
      s = to_string(op.madvise);
      break;
    case OpKind::kQuery:
      s = "query " + span(op.q_start, op.q_range) + " slack=" + std::to_string(op.q_slack);
      break;
    case OpKind::kCpuMap:
      s = "cpu_map " + span(op.cpu_addr, op.cpu_size);
      break;
    case OpKind::kCpuUnmap:
      s = "cpu_unmap " + span(op.cpu_addr, op.cpu_size);
      break;
    case OpKind::kGpuAccess:
    case OpKind::kCpuAccess:
      s = op.kind == OpKind::kGpuAccess ? "gpu_access" : "cpu_access";
      if (op.tile != 0) s += " tile=" + std::to_string(op.tile);
      for (std::size_t i = 0; i < op.accesses.size(); ++i) {
        const Access& a = op.accesses[i];
        static const char* const kNames[] = {"R", "W", "A"};
        s += std::string(i == 0 ? " " : " ; ") + (a.op < 3 ? kNames[a.op] : "?") + " " +
             hex(a.addr) + "+" + std::to_string(a.size) + " v=" + hex(a.value);
      }
      break;
  }
  switch (op.inject.kind) {
    case Injection::Kind::kNone:
      break;
    case Injection::Kind::kSignal:
      s += " | signal@" + std::to_string(op.inject.n) + (op.inject.fatal ? " fatal" : " nonfatal");
      break;
    case Injection::Kind::kFailAlloc:
      s += " | fail_alloc@" + std::to_string(op.inject.n);
      break;
  }
  return s;
}

// ---------------------------------------------------------------------------

OpGen::OpGen(std::uint64_t seed, GenConfig cfg) : rng_(seed), cfg_(cfg) {}

std::uint64_t OpGen::below(std::uint64_t n) {
  return n == 0 ? 0 : std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_);
}

bool OpGen::chance(unsigned percent) {
  return below(100) < percent;
}

std::uint64_t OpGen::boundary_or_random(const std::vector<Vma>& vs) {
  if (!vs.empty() && chance(45)) {
    const Vma& v = vs[below(vs.size())];
    return chance(50) ? v.start : v.end;
  }
  return below(cfg_.window_pages) * kPage;
}

void OpGen::pick_range(const std::vector<Vma>& vs, std::uint64_t* start, std::uint64_t* range) {
  const std::uint64_t window = cfg_.window_pages * kPage;
  std::uint64_t s = std::min(boundary_or_random(vs), window - kPage);
  std::uint64_t pages = 0;
  const std::uint64_t r = below(100);
  if (r < 50) {
    pages = 1 + below(4);
  } else if (r < 80) {
    pages = 5 + below(28);
  } else {
    pages = 33 + below(96);
  }
  std::uint64_t e = s + pages * kPage;
  if (!vs.empty() && chance(30)) {  // end on a boundary after start
    const Vma& v = vs[below(vs.size())];
    const std::uint64_t b = chance(50) ? v.start : v.end;
    if (b > s) e = b;
  }
  e = std::min(e, window);
  *start = s;
  *range = e - s;
}

std::uint16_t OpGen::pick_pat(const RefModel& m, bool coherent_only) {
  const auto& coh = m.device().pat_coh;
  for (;;) {
    const auto i = static_cast<std::uint16_t>(below(coh.size()));
    if (coh[i] == kCohReserved) continue;
    if (coherent_only && coh[i] == kCohNone) continue;
    return i;
  }
}

std::uint32_t OpGen::pick_handle(const RefModel& m) {
  const auto& hs = m.handles();
  if (hs.empty() || chance(8)) return static_cast<std::uint32_t>(1 + below(cfg_.max_handles + 2));
  auto it = hs.begin();
  std::advance(it, static_cast<std::ptrdiff_t>(below(hs.size())));
  return it->first;
}

BindArgs OpGen::gen_bind_op(const RefModel& m, const std::vector<Vma>& vs) {
  BindArgs b;
  std::uint64_t start = 0;
  std::uint64_t range = 0;
  pick_range(vs, &start, &range);
  b.addr = start;
  b.range = range;
  const std::uint64_t r = below(100);
  const auto common_flags = [&] {
    std::uint32_t f = 0;
    if (chance(10)) f |= DRM_XE_VM_BIND_FLAG_READONLY;
    if (chance(20)) f |= DRM_XE_VM_BIND_FLAG_IMMEDIATE;
    if (chance(10)) f |= DRM_XE_VM_BIND_FLAG_DUMPABLE;
    return f;
  };
  if (r < 35 && !m.handles().empty()) {  // MAP of a BO
    b.op = DRM_XE_VM_BIND_OP_MAP;
    b.obj = pick_handle(m);
    b.pat = chance(75) ? pick_pat(m, true) : pick_pat(m, false);
    b.flags = common_flags();
    const auto id = m.bo_of_handle(b.obj);
    const std::uint64_t bo_pages = id ? m.bo(*id)->size / kPage : 1 + below(cfg_.max_bo_pages);
    std::uint64_t pages = std::min(b.range / kPage, bo_pages);
    std::uint64_t off = below(bo_pages - pages + 1);
    // 64 KiB VRAM pages: mostly aligned binds of VRAM BOs.
    const std::uint64_t unit = id ? m.device().min_page_of(m.bo(*id)->placement) / kPage : 1;
    if (unit > 1 && chance(85)) {
      pages = std::max<std::uint64_t>(pages / unit, 1) * unit;
      off = off / unit * unit;
      b.addr = b.addr / (unit * kPage) * (unit * kPage);
    }
    if (chance(5)) {  // past the BO: -EINVAL
      if (chance(50)) {
        pages = bo_pages + 1;
      } else {
        off = bo_pages - pages + 1;
      }
    }
    b.range = pages * kPage;
    b.obj_offset = off * kPage;
    if (b.addr + b.range > cfg_.window_pages * kPage) b.addr = cfg_.window_pages * kPage - b.range;
  } else if (r < 45) {
    b.op = DRM_XE_VM_BIND_OP_MAP_USERPTR;
    // Mostly process memory inside the window, where CPU mappings come and
    // go (the GPU then sees the CPU's pages, or -EFAULT); sometimes far away.
    const std::uint64_t pages = b.range / kPage;
    b.obj_offset = chance(85) && pages < cfg_.window_pages
                       ? below(cfg_.window_pages - pages + 1) * kPage
                       : 0x7f0000000000ull + below(1024) * kPage;
    b.pat = chance(95) ? pick_pat(m, true) : pick_pat(m, false);  // COH_NONE: -EINVAL
    b.flags = common_flags();
  } else if (r < 60) {
    b.op = DRM_XE_VM_BIND_OP_MAP;
    b.pat = pick_pat(m, false);
    b.flags = common_flags() | DRM_XE_VM_BIND_FLAG_NULL;
  } else if (r < 77) {
    b.op = DRM_XE_VM_BIND_OP_MAP;
    b.pat = pick_pat(m, true);
    b.flags = common_flags() | DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
    if (chance(30)) b.flags |= DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET;
  } else if (r < 90) {
    b.op = DRM_XE_VM_BIND_OP_PREFETCH;
    b.pat = pick_pat(m, false);
    const std::uint64_t k = below(100);
    if (k < 30) {
      b.region = kConsultPrefLoc;
    } else if (k < 60 || m.device().vram_mask == 0) {
      b.region = k < 97 ? 0 : 5;  // 5: no such region, -EINVAL
    } else {
      std::vector<std::uint32_t> vram;  // any VRAM region (one per tile)
      for (std::uint32_t i = 0; i < 32; ++i) {
        if ((m.device().vram_mask & (1u << i)) != 0) vram.push_back(i);
      }
      b.region = vram[below(vram.size())];
    }
    if (chance(10)) b.flags = common_flags();
  } else if (r < 98 || m.handles().empty()) {
    b.op = DRM_XE_VM_BIND_OP_UNMAP;
    b.pat = pick_pat(m, false);
  } else {
    b = BindArgs{};
    b.op = DRM_XE_VM_BIND_OP_UNMAP_ALL;
    b.obj = pick_handle(m);
    b.pat = chance(80) ? pick_pat(m, true) : pick_pat(m, false);
  }
  return b;
}

Op OpGen::gen_madvise(const RefModel& m, const std::vector<Vma>& vs) {
  Op op;
  op.kind = OpKind::kMadvise;
  MadviseArgs& a = op.madvise;
  pick_range(vs, &a.start, &a.range);
  const bool v71 = m.device().uapi_7_1;
  const std::uint64_t r = below(100);
  if (r < (v71 ? 25u : 33u)) {
    a.type = DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC;
    a.devmem_fd =
        chance(50) ? DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE : DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM;
    a.migration_policy = static_cast<std::uint16_t>(below(2));
  } else if (r < (v71 ? 50u : 66u)) {
    a.type = DRM_XE_MEM_RANGE_ATTR_ATOMIC;
    a.val = static_cast<std::uint32_t>(below(4));
  } else if (r < (v71 ? 75u : 98u)) {
    a.type = DRM_XE_MEM_RANGE_ATTR_PAT;
    a.val = pick_pat(m, false);
  } else {  // 7.1 purgeable state; before 7.1 an unknown type (-EINVAL)
    a.type = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
    a.val = chance(60) ? DRM_XE_VMA_PURGEABLE_STATE_DONTNEED : DRM_XE_VMA_PURGEABLE_STATE_WILLNEED;
    a.with_retained = chance(50);
  }
  return op;
}

Op OpGen::gen_cpu_map(const RefModel& m, const std::vector<Vma>& vs) {
  Op op;
  op.kind = OpKind::kCpuMap;
  pick_range(vs, &op.cpu_addr, &op.cpu_size);
  // Mostly a hole (trimmed to the first mapped page), sometimes an overlap (-EEXIST).
  if (chance(85)) {
    for (int tries = 0; tries < 8 && m.page_digest(op.cpu_addr); ++tries) {
      pick_range(vs, &op.cpu_addr, &op.cpu_size);
    }
    for (std::uint64_t a = op.cpu_addr; a < op.cpu_addr + op.cpu_size; a += kPage) {
      if (m.page_digest(a)) {
        op.cpu_size = std::max<std::uint64_t>(a - op.cpu_addr, kPage);
        break;
      }
    }
  }
  return op;
}

Op OpGen::gen_access(const RefModel& m, const std::vector<Vma>& vs, bool gpu) {
  Op op;
  op.kind = gpu ? OpKind::kGpuAccess : OpKind::kCpuAccess;
  // Pages a GPU access can reach memory through (a mirror VMA over a
  // CPU-mapped page, a BO VMA, a userptr VMA over a CPU-mapped page), and
  // CPU-mapped pages in general.
  std::vector<std::uint64_t> reachable;
  std::vector<std::uint64_t> mapped;
  for (std::uint64_t p = 0; p < cfg_.window_pages; ++p) {
    if (m.page_digest(p * kPage)) mapped.push_back(p);
  }
  for (const Vma& v : vs) {
    for (std::uint64_t a = v.start; a < v.end; a += kPage) {
      switch (v.kind) {
        case VmaKind::kMirror:
          if (m.page_digest(a)) reachable.push_back(a / kPage);
          break;
        case VmaKind::kBo:
          reachable.push_back(a / kPage);
          break;
        case VmaKind::kUserptr:
          if (m.page_digest(v.offset + (a - v.start))) reachable.push_back(a / kPage);
          break;
        case VmaKind::kNull:
          break;
      }
    }
  }
  const bool data = m.device().data_backed;
  const std::size_t n = 1 + below(chance(70) ? 3 : kMaxAccesses);
  for (std::size_t i = 0; i < n; ++i) {
    Access a;
    std::uint64_t page = below(cfg_.window_pages);
    const std::vector<std::uint64_t>& good = gpu ? reachable : mapped;
    if (!good.empty() && chance(75)) {
      page = good[below(good.size())];
    } else if (!vs.empty() && gpu && chance(50)) {
      const Vma& v = vs[below(vs.size())];
      page = v.start / kPage + below((v.end - v.start) / kPage);
    }
    const std::uint64_t k = below(100);
    a.op = k < 40 ? DRM_SIM_ACCESS_READ : (k < 75 ? DRM_SIM_ACCESS_WRITE : DRM_SIM_ACCESS_ATOMIC);
    std::uint64_t off = below(kPage / 8) * 8;
    a.size = 8;
    if (a.op != DRM_SIM_ACCESS_ATOMIC && chance(40)) {
      off = below(kPage);
      a.size = static_cast<std::uint32_t>(1 + below(std::min<std::uint64_t>(kPage - off, 512)));
    }
    if (chance(3)) a.size = static_cast<std::uint32_t>(kPage - off + 8);  // crosses: -EINVAL
    if (data && a.op == DRM_SIM_ACCESS_ATOMIC && chance(3)) ++off;        // misaligned: -EINVAL
    a.addr = page * kPage + std::min<std::uint64_t>(off, kPage - 1);
    a.value = rng_();
    if (a.op == DRM_SIM_ACCESS_ATOMIC) a.value %= 1000;
    a.size = std::min<std::uint32_t>(a.size, static_cast<std::uint32_t>(kPage));
    op.accesses.push_back(a);
  }
  if (gpu) {
    const std::uint32_t tiles = m.device().num_tiles;
    op.tile = static_cast<std::uint16_t>(chance(2) ? tiles : below(tiles));  // == tiles: -EINVAL
    op.inject = gen_injection(true);
  }
  return op;
}

Injection OpGen::gen_injection(bool waits) {
  Injection in;
  const std::uint64_t r = below(100);
  if (waits && r < cfg_.signal_percent) {
    in.kind = Injection::Kind::kSignal;
    in.n = 1 + below(3);
    in.fatal = chance(50);
  } else if (r >= 100 - cfg_.alloc_percent) {
    in.kind = Injection::Kind::kFailAlloc;
    in.n = 1 + below(3);
  }
  return in;
}

Op OpGen::next(const RefModel& m) {
  const std::vector<Vma> vs = m.vmas();
  const std::size_t nh = m.handles().size();
  Op op;
  std::uint64_t r = below(100);
  if (nh == 0 && r < 60) r = 0;  // start with some BOs
  if (r < (nh < cfg_.max_handles ? 8u : 2u)) {
    op.kind = OpKind::kGemCreate;
    op.size = (1 + below(cfg_.max_bo_pages)) * kPage;
    switch (below(4)) {
      case 0:
        op.placement = m.device().sys_mask;
        op.cpu_caching = DRM_XE_GEM_CPU_CACHING_WB;
        break;
      case 1:
        op.placement = m.device().sys_mask;
        op.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
        break;
      case 2:
        op.placement = m.device().vram_mask != 0 ? m.device().vram_mask : m.device().sys_mask;
        op.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
        break;
      default:
        op.placement = m.device().sys_mask | m.device().vram_mask;
        op.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
        break;
    }
    const std::uint64_t unit = m.device().min_page_of(op.placement);
    if (chance(90)) op.size = (op.size + unit - 1) / unit * unit;  // else maybe -EINVAL
    op.inject = gen_injection(false);
  } else if (r < 11) {
    op.kind = OpKind::kGemClose;
    op.handle = pick_handle(m);
    if (!cfg_.close_mapped) {
      for (const BoState& b : m.live_bos()) {
        if (b.vma_refs > 0 && m.bo_of_handle(op.handle) == b.bo.id) op.kind = OpKind::kQuery;
      }
      if (op.kind == OpKind::kQuery) {
        op.q_start = 0;
        op.q_range = cfg_.window_pages * kPage;
      }
    }
  } else if (r < 13) {
    op.kind = OpKind::kMmapOffset;
    op.handle = pick_handle(m);
  } else if (r < 45) {
    op.kind = OpKind::kBind;
    const std::size_t n = chance(75) ? 1 : 2 + below(4);
    for (std::size_t i = 0; i < n; ++i) op.binds.push_back(gen_bind_op(m, vs));
    op.inject = gen_injection(true);
  } else if (r < 68) {
    op = gen_madvise(m, vs);
    op.inject = gen_injection(true);
  } else if (r < 75) {
    op = gen_cpu_map(m, vs);
  } else if (r < 79) {
    op.kind = OpKind::kCpuUnmap;
    pick_range(vs, &op.cpu_addr, &op.cpu_size);
    op.inject = gen_injection(false);  // allocation failures in the garbage collector
  } else if (r < 90) {
    op = gen_access(m, vs, true);
  } else if (r < 94) {
    op = gen_access(m, vs, false);
  } else {
    op.kind = OpKind::kQuery;
    pick_range(vs, &op.q_start, &op.q_range);
    if (chance(10)) {  // the whole VA space
      op.q_start = 0;
      op.q_range = m.device().va_end;
    }
    const std::uint64_t s = below(100);
    op.q_slack = s < 60 ? 0 : (s < 80 ? 2 : -1);
    op.inject = gen_injection(true);
  }
  return op;
}

}  // namespace drm_sim_model
