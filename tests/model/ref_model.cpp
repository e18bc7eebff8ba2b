// tests/model/ref_model.cpp — the reference model (see ref_model.h).
//
// Written from xe-vm-semantics.md; the numbered comments are the spec's
// steps. Nothing here is shared with drm_sim/vm/.
#include "ref_model.h"

#include <algorithm>
#include <cerrno>
#include <set>
#include <stdexcept>

#include "drm_sim/drm_sim.h"
#include "drm_sim/profile/profile.h"
#include "state_text.h"

namespace drm_sim_model {
namespace {

namespace icl = boost::icl;

icl::discrete_interval<std::uint64_t> pages_of(std::uint64_t start, std::uint64_t end) {
  return icl::interval<std::uint64_t>::right_open(start / kPage, end / kPage);
}

constexpr std::uint64_t kVram64K = 64 * 1024;

bool aligned(std::uint64_t v) {
  return v % kPage == 0;
}

// The piece [x, y) of v: same backing, flags and attributes. The offset of a
// BO or userptr piece advances with its start (it is where the piece's first
// page lives); a mirror's offset is a GPU-to-CPU delta and a NULL VMA has
// none, so theirs stay.
Vma piece(const Vma& v, std::uint64_t x, std::uint64_t y) {
  Vma p = v;
  p.start = x;
  p.end = y;
  if (v.kind == VmaKind::kBo || v.kind == VmaKind::kUserptr) p.offset = v.offset + (x - v.start);
  return p;
}

}  // namespace

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

std::uint32_t kept_bind_flags(std::uint32_t bind_flags) {
  return bind_flags & (DRM_XE_VM_BIND_FLAG_READONLY | DRM_XE_VM_BIND_FLAG_IMMEDIATE |
                       DRM_XE_VM_BIND_FLAG_DUMPABLE | DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET);
}

std::string to_string(const Vma& v) {
  return format_vma(v.start, v.end, to_string(v.kind), v.kind == VmaKind::kBo ? v.bo : 0, v.offset,
                    v.flags, v.default_pat, v.attrs.devmem_fd, v.attrs.region_instance,
                    v.attrs.migration_policy, v.attrs.atomic, v.attrs.pat, v.attrs.purgeable);
}

std::string to_string(const std::vector<Vma>& vs) {
  std::string s;
  for (const Vma& v : vs) s += to_string(v) + "\n";
  return s;
}

DeviceDesc DeviceDesc::from_profile(const std::string& name) {
  auto p = drm_sim::load_profile(name);
  if (!p) throw std::runtime_error("unknown profile: " + name);
  DeviceDesc d;
  d.profile = p->name;
  d.va_end = p->va_end();
  d.pat_coh = p->pat;
  d.uapi_7_1 = p->uapi_at_least(drm_sim::UapiRevision::k7_1);
  d.device_atomics_on_smem = p->features.device_atomics_on_smem;
  d.sys_mask = 0;
  d.vram_mask = 0;
  d.needs_64k_vram = p->features.needs_64k_vram;
  d.discrete = p->features.discrete;
  d.num_tiles = p->num_tiles;
  d.data_backed = p->backing == drm_sim::BackingMode::kData;
  for (const auto& r : p->regions) {
    (r.mem_class == drm_sim::MemClass::kSystem ? d.sys_mask : d.vram_mask) |= 1u << r.instance;
    if (d.min_page.size() <= r.instance) d.min_page.resize(r.instance + 1u, 0);
    d.min_page[r.instance] = r.min_page_size;
  }
  return d;
}

std::uint64_t DeviceDesc::min_page_of(std::uint32_t placement) const {
  std::uint64_t m = kPage;
  for (std::size_t i = 0; i < min_page.size(); ++i) {
    if ((placement & (1u << i)) != 0) m = std::max<std::uint64_t>(m, min_page[i]);
  }
  return m;
}

RefModel::RefModel(DeviceDesc dev) : dev_(std::move(dev)) {}

// ---------------------------------------------------------------------------
// VMA table primitives

std::uint32_t RefModel::insert(const Vma& v) {
  const std::uint32_t id = next_vma_id_++;
  vmas_[id] = v;
  pages_.set(std::make_pair(pages_of(v.start, v.end), id));
  return id;
}

void RefModel::erase(std::uint32_t id) {
  const Vma& v = vmas_.at(id);
  pages_.erase(pages_of(v.start, v.end));
  vmas_.erase(id);
}

std::uint32_t RefModel::id_at(std::uint64_t addr) const {
  const auto it = pages_.find(addr / kPage);
  return it == pages_.end() ? 0 : it->second;
}

std::vector<std::uint32_t> RefModel::overlapping(std::uint64_t start, std::uint64_t end) const {
  std::vector<std::uint32_t> ids;
  if (start >= end) return ids;
  const auto [lo, hi] = pages_.equal_range(pages_of(start, end));
  for (auto it = lo; it != hi; ++it) {
    if (ids.empty() || ids.back() != it->second) ids.push_back(it->second);
  }
  return ids;
}

void RefModel::carve(std::uint64_t start, std::uint64_t end) {
  for (const std::uint32_t id : overlapping(start, end)) {
    const Vma old = vmas_.at(id);
    erase(id);
    if (old.start < start) insert(piece(old, old.start, start));
    if (old.end > end) insert(piece(old, end, old.end));
  }
}

std::uint32_t RefModel::split_at(std::uint64_t addr) {
  const std::uint32_t id = id_at(addr);
  if (id == 0) return 0;
  const Vma old = vmas_.at(id);
  if (old.kind == VmaKind::kBo || old.start == addr) return 0;  // BO VMAs are never cut
  erase(id);
  insert(piece(old, old.start, addr));
  return insert(piece(old, addr, old.end));
}

BoState RefModel::state_of(std::uint32_t bo_id) const {
  BoState s;
  s.bo = bos_.at(bo_id);
  for (const auto& [h, b] : handles_) s.handle_refs += b == bo_id ? 1 : 0;
  for (const auto& [id, v] : vmas_) {
    if (v.kind != VmaKind::kBo || v.bo != bo_id) continue;
    ++s.vma_refs;
    s.dontneed_refs += v.attrs.purgeable == DRM_XE_VMA_PURGEABLE_STATE_DONTNEED ? 1 : 0;
  }
  return s;
}

// ---------------------------------------------------------------------------
// Inspection

std::vector<Vma> RefModel::vmas() const {
  std::vector<Vma> out;
  out.reserve(vmas_.size());
  std::uint32_t last = 0;
  for (const auto& seg : pages_) {
    if (seg.second == last) continue;
    last = seg.second;
    out.push_back(vmas_.at(seg.second));
  }
  return out;
}

std::vector<Vma> RefModel::query(std::uint64_t start, std::uint64_t range) const {
  std::vector<Vma> out;
  const std::uint64_t end =
      range > dev_.va_end - std::min(start, dev_.va_end) ? dev_.va_end : start + range;
  for (const std::uint32_t id : overlapping(start, end)) out.push_back(vmas_.at(id));
  return out;
}

std::optional<std::uint32_t> RefModel::bo_of_handle(std::uint32_t handle) const {
  const auto it = handles_.find(handle);
  if (it == handles_.end()) return std::nullopt;
  return it->second;
}

const Bo* RefModel::bo(std::uint32_t id) const {
  const auto it = bos_.find(id);
  return it == bos_.end() ? nullptr : &it->second;
}

std::vector<BoState> RefModel::live_bos() const {
  std::vector<BoState> out;
  for (const auto& [id, b] : bos_) {
    BoState s = state_of(id);
    if (s.handle_refs > 0 || s.vma_refs > 0) out.push_back(s);
  }
  return out;
}

std::string RefModel::state_text() const {
  std::string s = to_string(vmas());
  for (const BoState& b : live_bos()) {
    s += format_bo(b.bo.id, b.bo.size, b.handle_refs, b.vma_refs, b.dontneed_refs, b.bo.atomic);
    s += purged(b.bo.id) ? " PURGED\n" : "\n";
  }
  return s;
}

std::string RefModel::query_text(std::uint64_t start, std::uint64_t range, int slack) const {
  const std::vector<Vma> vs = query(start, range);
  const std::size_t count = vs.size();
  std::string s = "count=" + std::to_string(count) + " sizeof=64\n";
  if (count == 0) return s;
  const std::int64_t cap = static_cast<std::int64_t>(count) + (slack < 0 && count < 2 ? 0 : slack);
  if (cap < static_cast<std::int64_t>(count))
    return s + "fill rc=" + std::to_string(-ENOSPC) + "\n";
  s += "fill rc=0 num=" + std::to_string(count) + "\n";
  for (const Vma& v : vs) {
    s += format_attr(v.start, v.end, static_cast<std::uint32_t>(v.attrs.devmem_fd),
                     v.attrs.migration_policy, v.attrs.atomic, v.attrs.pat) +
         "\n";
  }
  return s;
}

// ---------------------------------------------------------------------------
// GEM

int RefModel::gem_create(std::uint64_t size, std::uint32_t placement, std::uint16_t cpu_caching,
                         std::uint32_t* handle) {
  const std::uint32_t all = dev_.sys_mask | dev_.vram_mask;
  if (size == 0 || !aligned(size)) return -EINVAL;
  if (placement == 0 || (placement & ~all) != 0) return -EINVAL;
  if (size % dev_.min_page_of(placement) != 0) return -EINVAL;
  if (cpu_caching != DRM_XE_GEM_CPU_CACHING_WB && cpu_caching != DRM_XE_GEM_CPU_CACHING_WC) {
    return -EINVAL;
  }
  // VRAM-capable BOs need WC.
  if ((placement & dev_.vram_mask) != 0 && cpu_caching == DRM_XE_GEM_CPU_CACHING_WB) {
    return -EINVAL;
  }
  std::uint32_t h = 1;  // the lowest free handle
  while (handles_.count(h) != 0) ++h;
  Bo b;
  b.id = next_bo_id_++;
  b.size = size;
  b.placement = placement;
  b.cpu_caching = cpu_caching;
  bos_[b.id] = b;
  handles_[h] = b.id;
  *handle = h;
  return 0;
}

int RefModel::gem_close(std::uint32_t handle) {
  if (handles_.erase(handle) == 0) return -EINVAL;
  return 0;
}

int RefModel::gem_mmap_offset(std::uint32_t handle) const {
  const auto b = bo_of_handle(handle);
  if (!b) return -ENOENT;
  if (state_of(*b).purgeable()) return -EBUSY;  // §8
  return 0;
}

// ---------------------------------------------------------------------------
// VM_BIND (spec §6)

int RefModel::check_bind_args(const BindArgs& op) const {
  if (op.op > DRM_XE_VM_BIND_OP_PREFETCH) return -EINVAL;
  if (op.region != 0 && op.op != DRM_XE_VM_BIND_OP_PREFETCH) return -EINVAL;
  if (op.pat >= dev_.pat_coh.size() || dev_.pat_coh[op.pat] == kCohReserved) return -EINVAL;
  const std::uint8_t coh = dev_.pat_coh[op.pat];
  const bool mirror = (op.flags & DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR) != 0;
  const bool null = (op.flags & DRM_XE_VM_BIND_FLAG_NULL) != 0;
  if ((op.flags & DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET) != 0 &&
      !(op.op == DRM_XE_VM_BIND_OP_MAP && mirror)) {
    return -EINVAL;
  }
  if (op.op == DRM_XE_VM_BIND_OP_UNMAP_ALL) {
    return op.addr == 0 && op.range == 0 && op.obj != 0 ? 0 : -EINVAL;
  }
  if (!aligned(op.addr) || !aligned(op.range) || op.range == 0) return -EINVAL;
  switch (op.op) {
    case DRM_XE_VM_BIND_OP_MAP:
      if (null && mirror) return -EINVAL;
      if ((null || mirror) && op.obj != 0) return -EINVAL;
      if (mirror && op.obj_offset != 0) return -EINVAL;
      if (!null && !mirror && op.obj == 0) return -EINVAL;
      if (!aligned(op.obj_offset)) return -EINVAL;
      return 0;
    case DRM_XE_VM_BIND_OP_MAP_USERPTR:
      if (op.obj != 0 || null || mirror || coh == kCohNone) return -EINVAL;
      return aligned(op.obj_offset) ? 0 : -EINVAL;
    case DRM_XE_VM_BIND_OP_UNMAP:
      return op.obj == 0 && !null && !mirror ? 0 : -EINVAL;
    case DRM_XE_VM_BIND_OP_PREFETCH: {
      // region: CONSULT (the VMA's preferred location) or a region of the device.
      const std::uint32_t regions = dev_.sys_mask | dev_.vram_mask;
      const bool region_ok =
          op.region == kConsultPrefLoc || (op.region < 32 && (regions & (1u << op.region)) != 0);
      return op.obj == 0 && !null && !mirror && region_ok && aligned(op.obj_offset) ? 0 : -EINVAL;
    }
    default:
      return -EINVAL;
  }
}

// The checks of every op that names a BO (MAP of a BO and UNMAP_ALL alike).
int RefModel::check_bind_bo(const BindArgs& op) const {
  const auto id = bo_of_handle(op.obj);
  if (!id) return -ENOENT;
  const Bo& b = bos_.at(*id);
  if (op.range > b.size || op.obj_offset > b.size - op.range) return -EINVAL;
  if (dev_.needs_64k_vram && (b.placement & dev_.vram_mask) != 0 &&
      op.op == DRM_XE_VM_BIND_OP_MAP &&
      ((op.addr | op.range | op.obj_offset) & (kVram64K - 1)) != 0) {
    return -EINVAL;  // 64 KiB VRAM pages
  }
  if (dev_.pat_coh[op.pat] == kCohNone && b.cpu_caching == DRM_XE_GEM_CPU_CACHING_WB) {
    return -EINVAL;
  }
  return 0;
}

int RefModel::bind_one(const BindArgs& op) {
  if (op.op == DRM_XE_VM_BIND_OP_UNMAP_ALL) {
    const std::uint32_t b = *bo_of_handle(op.obj);
    std::vector<std::uint32_t> ids;
    for (const auto& [id, v] : vmas_) {
      if (v.kind == VmaKind::kBo && v.bo == b) ids.push_back(id);
    }
    for (const std::uint32_t id : ids) erase(id);
    return 0;
  }
  if (op.range > dev_.va_end || op.addr > dev_.va_end - op.range) return -EINVAL;
  const std::uint64_t end = op.addr + op.range;
  if (op.op == DRM_XE_VM_BIND_OP_PREFETCH) return check_prefetch(op, sim_efault_);
  if (op.op == DRM_XE_VM_BIND_OP_UNMAP) {
    carve(op.addr, end);
    return 0;
  }
  Vma v;
  v.start = op.addr;
  v.end = end;
  v.offset = op.obj_offset;
  v.flags = kept_bind_flags(op.flags);
  v.default_pat = op.pat;
  v.attrs.pat = op.pat;
  if (op.op == DRM_XE_VM_BIND_OP_MAP_USERPTR) {
    v.kind = VmaKind::kUserptr;
  } else if ((op.flags & DRM_XE_VM_BIND_FLAG_NULL) != 0) {
    v.kind = VmaKind::kNull;
  } else if ((op.flags & DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR) != 0) {
    v.kind = VmaKind::kMirror;
  } else {
    v.kind = VmaKind::kBo;
    v.bo = *bo_of_handle(op.obj);
    if (state_of(v.bo).purgeable()) return -EBUSY;  // §8: a DONTNEED BO cannot be bound
  }
  if (v.kind == VmaKind::kMirror) widen_mirror(v);
  carve(v.start, v.end);
  insert(v);
  return 0;
}

void RefModel::widen_mirror(Vma& v) const {
  // Widen over the mirror VMAs with default attributes that cover the page
  // just below the request and the page just above it (xe's
  // find_cpu_addr_mirror_vma_range: drm_gpuva_find_prev/find_next).
  if (v.start >= kPage) {
    if (const std::uint32_t id = id_at(v.start - kPage); id != 0) {
      const Vma& n = vmas_.at(id);
      if (n.kind == VmaKind::kMirror && n.has_default_attrs()) v.start = n.start;
    }
  }
  if (v.end < dev_.va_end) {
    if (const std::uint32_t id = id_at(v.end); id != 0) {
      const Vma& n = vmas_.at(id);
      if (n.kind == VmaKind::kMirror && n.has_default_attrs()) v.end = n.end;
    }
  }
}

// PREFETCH (spec §6): VMAs do not change and contents do not move, so only
// the return code matters, decided VMA by VMA in address order. NULL and
// userptr VMAs never fail (a userptr prefetch only maps the process's
// pages). A BO moves only into a region of its placement (-EINVAL
// otherwise; CONSULT: the BO's own placement) and a purged BO has nothing
// to move (-EACCES, 7.1). The mirror part of the range must be CPU-mapped
// page by page (-EFAULT).
int RefModel::check_prefetch(const BindArgs& op, bool sim_efault) const {
  const std::uint64_t end = op.addr + op.range;
  for (const std::uint32_t id : overlapping(op.addr, end)) {
    const Vma& v = vmas_.at(id);
    if (v.kind == VmaKind::kNull || v.kind == VmaKind::kUserptr) continue;
    if (v.kind == VmaKind::kBo) {
      const Bo& b = bos_.at(v.bo);
      if (op.region != kConsultPrefLoc &&
          (op.region >= 32 || (b.placement & (1u << op.region)) == 0)) {
        return -EINVAL;
      }
      if (purged(v.bo)) return -EACCES;
      if (purged_now_ != nullptr && purged_now_->count(v.bo) != 0 &&
          purgeable_seen_.count(v.bo) != 0) {
        return -EACCES;  // purged by this call's pressure, before this PREFETCH met it
      }
      continue;
    }
    bool vram = false;
    if (op.region == kConsultPrefLoc) {
      vram = dev_.discrete && v.attrs.devmem_fd != DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM;
    } else {
      vram = (dev_.vram_mask & (1u << op.region)) != 0;
    }
    if (vram && dev_.needs_64k_vram && sim_efault) return -EFAULT;  // residency decides
    const std::uint64_t lo = std::max(v.start, op.addr);
    const std::uint64_t hi = std::min(v.end, end);
    for (std::uint64_t a = lo; a < hi; a += kPage) {
      if (cpu_.count(a / kPage) == 0) return -EFAULT;
    }
  }
  return 0;
}

void RefModel::note_purgeable() {
  for (const auto& [id, b] : bos_) {
    if (state_of(id).purgeable()) purgeable_seen_.insert(id);
  }
}

int RefModel::bind(std::span<const BindArgs> ops, bool sim_efault,
                   const std::set<std::uint32_t>* purged_now) {
  sim_efault_ = sim_efault;
  purged_now_ = purged_now;
  purgeable_seen_.clear();
  note_purgeable();
  for (const BindArgs& op : ops) {
    if (const int rc = check_bind_args(op); rc != 0) return rc;
  }
  for (const BindArgs& op : ops) {
    if (op.obj == 0) continue;
    if (const int rc = check_bind_bo(op); rc != 0) return rc;
  }
  // Under the VM lock: apply in order; any failure restores the VM.
  const PageMap saved_pages = pages_;
  const std::map<std::uint32_t, Vma> saved_vmas = vmas_;
  for (const BindArgs& op : ops) {
    const int rc = bind_one(op);
    note_purgeable();
    if (rc != 0) {
      pages_ = saved_pages;
      vmas_ = saved_vmas;
      purged_now_ = nullptr;
      return rc;
    }
  }
  purged_now_ = nullptr;
  return 0;
}

// ---------------------------------------------------------------------------
// MADVISE (spec §3, §4, §8)

int RefModel::madvise_precheck(const MadviseArgs& a) const {
  // 2. argument sanity
  if (!aligned(a.start) || !aligned(a.range) || a.range < kPage) return -EINVAL;
  switch (a.type) {
    case DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC:
      if (a.devmem_fd < -1 || a.devmem_fd > 0 || a.migration_policy > 1) return -EINVAL;
      return 0;
    case DRM_XE_MEM_RANGE_ATTR_ATOMIC:
      return a.val > DRM_XE_ATOMIC_CPU ? -EINVAL : 0;
    case DRM_XE_MEM_RANGE_ATTR_PAT:
      if (a.val >= dev_.pat_coh.size() || dev_.pat_coh[a.val] == kCohReserved) return -EINVAL;
      return 0;
    case DRM_XE_VMA_ATTR_PURGEABLE_STATE:
      if (!dev_.uapi_7_1) return -EINVAL;  // an unknown type before 7.1
      return a.val > DRM_XE_VMA_PURGEABLE_STATE_DONTNEED ? -EINVAL : 0;
    default:
      return -EINVAL;
  }
}

bool RefModel::atomic_allowed(const Bo& b, std::uint32_t val) const {
  const bool sys = (b.placement & dev_.sys_mask) != 0;
  const bool vram = (b.placement & dev_.vram_mask) != 0;
  switch (val) {
    case DRM_XE_ATOMIC_CPU:
      return sys;
    case DRM_XE_ATOMIC_DEVICE:
      return vram || (dev_.device_atomics_on_smem && sys);
    case DRM_XE_ATOMIC_GLOBAL:
      return sys && vram;
    default:
      return true;
  }
}

// Step 11 for one VMA, per the applicability table. True when it changed.
bool RefModel::apply_attr(Vma& v, const MadviseArgs& a) {
  const Attrs before = v.attrs;
  switch (a.type) {
    case DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC:
      if (v.kind == VmaKind::kMirror) {
        v.attrs.devmem_fd = a.devmem_fd;
        v.attrs.migration_policy = a.migration_policy;
        v.attrs.region_instance = 0;
      }
      break;
    case DRM_XE_MEM_RANGE_ATTR_ATOMIC:
      switch (v.kind) {
        case VmaKind::kBo:
          v.attrs.atomic = a.val;
          bos_.at(v.bo).atomic = a.val;  // BO-wide
          break;
        case VmaKind::kUserptr:
          if (a.val == DRM_XE_ATOMIC_DEVICE && dev_.device_atomics_on_smem) v.attrs.atomic = a.val;
          break;
        case VmaKind::kNull:
        case VmaKind::kMirror:
          v.attrs.atomic = a.val;
          break;
      }
      break;
    case DRM_XE_MEM_RANGE_ATTR_PAT:
      v.attrs.pat = static_cast<std::uint16_t>(a.val);
      break;
    case DRM_XE_VMA_ATTR_PURGEABLE_STATE:
      if (v.kind == VmaKind::kBo) v.attrs.purgeable = a.val;
      break;
    default:
      break;
  }
  return !(v.attrs == before);
}

void RefModel::madvise_split_only(const MadviseArgs& a) {
  if (madvise_precheck(a) != 0) return;
  if (a.range > dev_.va_end || a.start > dev_.va_end - a.range) return;
  // 7. mirror, userptr and NULL VMAs are cut at the range ends; a VMA cut at
  // both ends is one REMAP (prev and next).
  const std::uint32_t first = split_at(a.start);
  const std::uint32_t at_end = id_at(a.start + a.range);
  const bool same_vma = first != 0 && at_end == first;
  const std::uint32_t second = split_at(a.start + a.range);
  counters_.splits += (first != 0 ? 1 : 0) + (second != 0 && !same_vma ? 1 : 0);
}

bool RefModel::madvise_waits_after_split(const MadviseArgs& a) const {
  if (madvise_precheck(a) != 0) return false;
  if (a.range > dev_.va_end || a.start > dev_.va_end - a.range) return false;
  bool bo_locks = false;
  bool notifier = false;
  for (const std::uint32_t id : overlapping(a.start, a.start + a.range)) {
    const Vma& v = vmas_.at(id);
    if (v.kind == VmaKind::kBo) {
      bo_locks = true;
      // 9. a failing ATOMIC placement check returns before any lock.
      if (a.type == DRM_XE_MEM_RANGE_ATTR_ATOMIC && !atomic_allowed(bos_.at(v.bo), a.val)) {
        return false;
      }
    }
    if (v.kind == VmaKind::kMirror || v.kind == VmaKind::kUserptr) notifier = true;
  }
  return bo_locks || notifier;
}

int RefModel::madvise(const MadviseArgs& a, std::uint32_t* retained) {
  if (const int rc = madvise_precheck(a); rc != 0) return rc;  // steps 1–3
  // 4. VM lock (interruptions are the harness's business). 5. VM open.
  // 7. range inside the VA space, then the split.
  if (a.range > dev_.va_end || a.start > dev_.va_end - a.range) return -EINVAL;
  madvise_split_only(a);
  // Nothing is undone from here on.
  // 8. collect; a hole is not an error.
  const std::vector<std::uint32_t> ids = overlapping(a.start, a.start + a.range);
  // *retained_ptr: 1 unless a BO in the range was purged (§8).
  if (retained != nullptr && a.type == DRM_XE_VMA_ATTR_PURGEABLE_STATE && a.with_retained) {
    *retained = 1;
    for (const std::uint32_t id : ids) {
      const Vma& v = vmas_.at(id);
      if (v.kind == VmaKind::kBo && purged(v.bo)) *retained = 0;
    }
  }
  // 9. the ATOMIC placement check of the BOs in the range.
  if (a.type == DRM_XE_MEM_RANGE_ATTR_ATOMIC) {
    for (const std::uint32_t id : ids) {
      const Vma& v = vmas_.at(id);
      if (v.kind == VmaKind::kBo && !atomic_allowed(bos_.at(v.bo), a.val)) return -EINVAL;
    }
  }
  // 10. locks (the harness's business). 11. apply.
  for (const std::uint32_t id : ids) {
    ++(apply_attr(vmas_.at(id), a) ? counters_.advised : counters_.skipped);
  }
  return 0;
}

// ---------------------------------------------------------------------------
// Shared virtual memory (spec §7)

std::uint8_t write_byte(std::uint64_t value, std::uint32_t i) {
  return static_cast<std::uint8_t>((value >> ((i % 8) * 8)) ^ (i * 131u));
}

std::uint64_t digest(const std::uint8_t* p, std::size_t size) {
  return fnv1a(p, size);
}

int RefModel::cpu_map(std::uint64_t addr, std::uint64_t size) {
  if (size == 0 || !aligned(addr) || !aligned(size) || addr + size < addr) return -EINVAL;
  for (std::uint64_t a = addr; a < addr + size; a += kPage) {
    if (cpu_.count(a / kPage) != 0) return -EEXIST;
  }
  for (std::uint64_t a = addr; a < addr + size; a += kPage) cpu_[a / kPage] = Page{};
  cpu_maps_[addr] = addr + size;
  return 0;
}

int RefModel::cpu_unmap(std::uint64_t addr, std::uint64_t size) {
  if (size == 0 || !aligned(addr) || !aligned(size) || addr + size < addr) return -EINVAL;
  const std::uint64_t end = addr + size;
  // Each mapping met loses its part inside [addr, end); that extent is
  // invalidated (and autoreset) on its own, in address order.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> gone;
  for (auto it = cpu_maps_.begin(); it != cpu_maps_.end();) {
    const auto [ms, me] = *it;
    if (me <= addr || ms >= end) {
      ++it;
      continue;
    }
    const std::uint64_t lo = std::max(ms, addr);
    const std::uint64_t hi = std::min(me, end);
    gone.emplace_back(lo, hi);
    it = cpu_maps_.erase(it);
    if (ms < lo) cpu_maps_[ms] = lo;
    if (hi < me) cpu_maps_[hi] = me;
    for (std::uint64_t a = lo; a < hi; a += kPage) cpu_.erase(a / kPage);
    it = cpu_maps_.upper_bound(lo);
  }
  for (const auto& [lo, hi] : gone) autoreset(lo, hi);
  return 0;
}

void RefModel::autoreset(std::uint64_t start, std::uint64_t end) {
  const auto resettable = [](const Vma& v) {
    return v.kind == VmaKind::kMirror && (v.flags & DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET) != 0;
  };
  // 1. Autoreset mirror VMAs are cut at the ends of the unmapped range.
  for (const std::uint64_t at : {start, end}) {
    const std::uint32_t id = id_at(at);
    if (id != 0 && resettable(vmas_.at(id))) split_at(at);
  }
  // 2. Those inside return to the attributes they had right after the bind.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> reset;
  for (const std::uint32_t id : overlapping(start, end)) {
    Vma& v = vmas_.at(id);
    if (!resettable(v) || v.start < start || v.end > end) continue;
    v.attrs = Attrs{};
    v.attrs.pat = v.default_pat;
    reset.emplace_back(v.start, v.end);
  }
  // 3. Each reset piece merges with default-attribute mirror neighbours, as
  //    a mirror bind of it would.
  for (const auto& [lo, hi] : reset) {
    const std::uint32_t id = id_at(lo);
    if (id == 0) continue;
    Vma v = vmas_.at(id);
    if (v.start != lo || v.end != hi) continue;  // merged into an earlier piece
    widen_mirror(v);
    if (v.start == lo && v.end == hi) continue;
    carve(v.start, v.end);
    insert(v);
  }
}

int RefModel::apply_to_page(const Access& a, Page& pg, AccessOut* o) const {
  const std::uint64_t off = a.addr % kPage;
  if (!dev_.data_backed) {
    switch (a.op) {
      case DRM_SIM_ACCESS_READ:
        o->value = pg.tag;
        break;
      case DRM_SIM_ACCESS_WRITE:
        pg.tag = a.value;
        break;
      default:
        o->value = pg.tag;
        pg.tag += a.value;
        break;
    }
    return 0;
  }
  if (a.op == DRM_SIM_ACCESS_ATOMIC && (a.size != 8 || off % 8 != 0)) return -EINVAL;
  if (pg.bytes.empty()) {
    if (a.op == DRM_SIM_ACCESS_READ) {
      const std::vector<std::uint8_t> zero(a.size, 0);
      o->data_digest = digest(zero.data(), zero.size());
      return 0;
    }
    pg.bytes.assign(kPage, 0);
  }
  std::uint8_t* p = pg.bytes.data() + off;
  switch (a.op) {
    case DRM_SIM_ACCESS_READ:
      o->data_digest = digest(p, a.size);
      break;
    case DRM_SIM_ACCESS_WRITE:
      for (std::uint32_t i = 0; i < a.size; ++i) p[i] = write_byte(a.value, i);
      break;
    default: {
      std::uint64_t old = 0;
      for (int i = 7; i >= 0; --i) old = (old << 8) | p[i];  // little-endian word
      const std::uint64_t sum = old + a.value;
      for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(sum >> (8 * i));
      o->value = old;
      break;
    }
  }
  return 0;
}

// A GPU access through a BO VMA: the BO's page at the VMA's offset plus the
// distance from its start. Checks in this order: inside the VMA (-EFAULT),
// READONLY (-EPERM), inside one page (-EINVAL), purged (-EACCES, 7.1), the
// BO-wide atomic attribute on a discrete part (§7: CPU -> -EACCES; DEVICE
// needs VRAM in the placement unless the part has device atomics on system
// memory -> -EACCES).
int RefModel::bo_access(const Vma& v, const Access& a, AccessOut* o, int sim_result) {
  if (a.addr + a.size > v.end || a.addr + a.size < a.addr) return -EFAULT;
  if (a.op != DRM_SIM_ACCESS_READ && (v.flags & DRM_XE_VM_BIND_FLAG_READONLY) != 0) return -EPERM;
  const std::uint64_t offset = v.offset + (a.addr - v.start);
  if (a.size == 0 || offset % kPage + a.size > kPage) return -EINVAL;
  const Bo& b = bos_.at(v.bo);
  bool policy_refuses = false;
  if (a.op == DRM_SIM_ACCESS_ATOMIC && dev_.discrete) {
    policy_refuses = b.atomic == DRM_XE_ATOMIC_CPU ||
                     (b.atomic == DRM_XE_ATOMIC_DEVICE && (b.placement & dev_.vram_mask) == 0 &&
                      !dev_.device_atomics_on_smem);
  }
  // Purged earlier, or by the memory pressure of this very batch (residency
  // decides when: the simulator's -EACCES tells, where the atomic policy
  // would not refuse anyway, and the BO must have been purgeable).
  if (sim_result == -EACCES && !policy_refuses && !purged(v.bo) && state_of(v.bo).purgeable()) {
    bo_purged(v.bo);
  }
  if (purged(v.bo)) return -EACCES;
  if (policy_refuses) return -EACCES;
  Access at = a;
  at.addr = offset;  // the page offset is the same: VMA start and offset are page aligned
  return apply_to_page(at, bo_pages_[v.bo][offset / kPage], o);
}

// A GPU access through a userptr VMA: the process's page at the userptr
// address plus the distance from the VMA's start, wherever it lives (no
// migration, no atomic policy). READONLY (-EPERM), inside the VMA
// (-EFAULT), a CPU mapping behind it (-EFAULT), inside one page (-EINVAL).
int RefModel::userptr_access(const Vma& v, const Access& a, AccessOut* o) {
  if (a.op != DRM_SIM_ACCESS_READ && (v.flags & DRM_XE_VM_BIND_FLAG_READONLY) != 0) return -EPERM;
  if (a.addr + std::max<std::uint32_t>(a.size, 1) > v.end) return -EFAULT;
  const std::uint64_t cpu = v.offset + (a.addr - v.start);
  const auto it = cpu_.find(cpu / kPage);
  if (it == cpu_.end()) return -EFAULT;
  if (a.size == 0 || cpu % kPage + a.size > kPage) return -EINVAL;
  Access at = a;
  at.addr = cpu;
  return apply_to_page(at, it->second, o);
}

int RefModel::access_one(bool gpu, const Access& a, AccessOut* o, int sim_result) {
  o->value = a.value;
  if (gpu) {
    const std::uint32_t id = id_at(a.addr);
    if (id == 0) return -EFAULT;  // GPU page fault with no VMA
    const Vma& v = vmas_.at(id);
    const bool readonly = (v.flags & DRM_XE_VM_BIND_FLAG_READONLY) != 0;
    if (v.kind == VmaKind::kNull) {  // sparse: reads zero, writes dropped
      if (a.op != DRM_SIM_ACCESS_READ && readonly) return -EPERM;
      if (a.op != DRM_SIM_ACCESS_WRITE) o->value = 0;
      if (a.op == DRM_SIM_ACCESS_READ && dev_.data_backed) {
        const std::vector<std::uint8_t> zero(a.size, 0);
        o->data_digest = digest(zero.data(), zero.size());
      }
      return 0;
    }
    if (v.kind == VmaKind::kBo) return bo_access(v, a, o, sim_result);
    if (v.kind == VmaKind::kUserptr) return userptr_access(v, a, o);
    if (a.op != DRM_SIM_ACCESS_READ && readonly) return -EPERM;
    if (a.addr + std::max<std::uint32_t>(a.size, 1) > v.end) return -EFAULT;
    // Placement (§7): only whether it is VRAM matters here.
    bool vram = dev_.discrete && v.attrs.devmem_fd != DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM;
    if (a.op == DRM_SIM_ACCESS_ATOMIC && dev_.discrete) {
      if (v.attrs.atomic == DRM_XE_ATOMIC_CPU) return -EACCES;
      if (!(v.attrs.atomic == DRM_XE_ATOMIC_DEVICE && dev_.device_atomics_on_smem)) vram = true;
    }
    if (cpu_.count(a.addr / kPage) == 0) return -EFAULT;  // GPU segmentation fault
    if (vram && dev_.needs_64k_vram && sim_result == -EFAULT) return -EFAULT;  // residency decides
  } else if (cpu_.count(a.addr / kPage) == 0) {
    return -EFAULT;
  }
  const std::uint64_t off = a.addr % kPage;
  if (a.size == 0 || off + a.size > kPage) return -EINVAL;
  return apply_to_page(a, cpu_.at(a.addr / kPage), o);
}

int RefModel::access(bool gpu, std::span<const Access> in, std::vector<AccessOut>* out,
                     std::span<const int> sim_results, std::uint32_t tile) {
  out->assign(in.size(), AccessOut{});
  for (std::size_t i = 0; i < in.size(); ++i) (*out)[i].value = in[i].value;
  if (gpu && tile >= dev_.num_tiles) return -EINVAL;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const int hint = i < sim_results.size() ? sim_results[i] : 0;
    const int rc = access_one(gpu, in[i], &(*out)[i], hint);
    (*out)[i].result = rc;
    if (rc != 0) return rc;
  }
  return 0;
}

std::optional<std::uint64_t> RefModel::page_digest(std::uint64_t addr) const {
  const auto it = cpu_.find(addr / kPage);
  if (it == cpu_.end()) return std::nullopt;
  if (!dev_.data_backed) return it->second.tag;
  if (it->second.bytes.empty()) {
    const std::vector<std::uint8_t> zero(kPage, 0);
    return digest(zero.data(), zero.size());
  }
  return digest(it->second.bytes.data(), kPage);
}

bool RefModel::bo_purged(std::uint32_t bo_id, bool purgeable_before) {
  if (purged(bo_id)) return true;
  if (bos_.count(bo_id) == 0 || !(purgeable_before || state_of(bo_id).purgeable())) return false;
  purged_.insert(bo_id);
  bo_pages_.erase(bo_id);  // the content is gone for good
  return true;
}

std::optional<std::uint64_t> RefModel::bo_page_digest(std::uint32_t bo_id,
                                                      std::uint64_t offset) const {
  if (bos_.count(bo_id) == 0 || purged(bo_id)) return std::nullopt;
  static const Page kZero{};
  const Page* pg = &kZero;
  if (const auto b = bo_pages_.find(bo_id); b != bo_pages_.end()) {
    if (const auto it = b->second.find(offset / kPage); it != b->second.end()) pg = &it->second;
  }
  if (!dev_.data_backed) return pg->tag;
  if (pg->bytes.empty()) {
    const std::vector<std::uint8_t> zero(kPage, 0);
    return digest(zero.data(), zero.size());
  }
  return digest(pg->bytes.data(), kPage);
}

}  // namespace drm_sim_model
