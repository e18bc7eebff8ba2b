// Vm: VM_BIND (plan, apply with an undo journal), madvise (spec §3 steps
// 4–12) and the attribute query, all under the VM lock.
#include "drm_sim/vm/vm.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <set>

#include "drm_sim/core/log.h"
#include "drm_sim/core/uaccess.h"
#include "drm_sim/device/file.h"
#include "drm_sim/ioctl/fd_table.h"

namespace drm_sim {

// The undo journal of a bind array: what was inserted and erased, in order.
struct Vm::Journal {
  struct Entry {
    bool inserted;
    Vma vma;
  };
  std::vector<Entry> entries;
  std::vector<std::uint32_t> pinned;  // BOs kept alive until the array commits or rolls back
};

namespace {

constexpr std::uint32_t kVmCreateFaultMode = 1u << 2;

std::uint8_t all_tiles(const Profile& p) {
  return static_cast<std::uint8_t>((1u << p.num_tiles) - 1u);
}

std::size_t new_vmas(const GpuvmOp& op) {
  if (const auto* r = std::get_if<RemapOp>(&op)) return (r->prev ? 1 : 0) + (r->next ? 1 : 0);
  return std::holds_alternative<MapOp>(op) ? 1 : 0;
}

// --- madvise attribute functions: each says whether the VMA changed ---

bool apply_preferred_loc(Vma& v, const MadviseRequest& r, Device&) {
  if (v.kind != VmaKind::kMirror) return false;  // BO, userptr, NULL: silently ignored
  const MemAttrs before = v.attrs;
  v.attrs.devmem_fd = r.devmem_fd;
  v.attrs.migration_policy = static_cast<std::uint8_t>(r.migration_policy);
  v.attrs.region_instance = r.region_instance;
  return !(before == v.attrs);
}

bool apply_atomic(Vma& v, const MadviseRequest& r, Device& dev) {
  const auto val = static_cast<std::uint8_t>(r.value);
  if (v.kind == VmaKind::kUserptr &&
      !(r.value == 1 && dev.profile().features.device_atomics_on_smem)) {
    return false;  // userptr: ignored unless DEVICE with device atomics on system memory
  }
  const bool changed = v.attrs.atomic != val;
  v.attrs.atomic = val;
  if (v.kind == VmaKind::kBo) {
    std::lock_guard<std::mutex> g(dev.bo_mutex());
    Bo* bo = dev.bo_locked(v.bo);
    bo->atomic = val;  // BO-wide
    const bool in_vram = (bo->placement & dev.profile().vram_placement_mask()) != 0;
    if (in_vram && (r.value == 3 || r.value == 2)) bo->cpu_mappings_zapped = true;
  }
  return changed;
}

bool apply_pat(Vma& v, const MadviseRequest& r, Device&) {
  const auto val = static_cast<std::uint16_t>(r.value);
  const bool changed = v.attrs.pat != val;
  v.attrs.pat = val;
  return changed;
}

bool apply_purgeable(Vma& v, const MadviseRequest& r, Device& dev) {
  if (v.kind != VmaKind::kBo) return false;  // others skipped
  const auto val = static_cast<std::uint8_t>(r.value);
  if (v.attrs.purgeable == val) return false;
  std::lock_guard<std::mutex> g(dev.bo_mutex());
  dev.change_dontneed_locked(v.bo, val != 0 ? 1 : -1);
  v.attrs.purgeable = val;
  return true;
}

using AttrFn = bool (*)(Vma&, const MadviseRequest&, Device&);
constexpr AttrFn kAttrFns[] = {apply_preferred_loc, apply_atomic, apply_pat, apply_purgeable};

// Spec §3 step 9: may this BO's placement hold the atomic value?
bool atomic_allowed(const Bo& bo, std::uint32_t val, const Profile& p) {
  const bool smem = (bo.placement & 1u) != 0;  // instance 0 is system memory
  const bool vram = (bo.placement & p.vram_placement_mask()) != 0;
  switch (val) {
    case 0:
      return true;  // UNDEFINED
    case 1:
      return vram || (smem && p.features.device_atomics_on_smem);  // DEVICE
    case 2:
      return smem && vram;  // GLOBAL
    case 3:
      return smem;  // CPU
    default:
      return false;
  }
}

}  // namespace

Vm::Vm(std::shared_ptr<Device> dev, std::shared_ptr<SvmSpace> svm, std::uint32_t id,
       std::uint32_t create_flags)
    : dev_(std::move(dev)), svm_(std::move(svm)), id_(id), flags_(create_flags) {}

Vm::~Vm() {
  close();
}

bool Vm::fault_mode() const {
  return (flags_ & kVmCreateFaultMode) != 0;
}

bool Vm::closed() const {
  auto& self = const_cast<Vm&>(*this);
  std::shared_lock<std::shared_mutex> g(self.lock_.native());
  return closed_;
}

void Vm::insert_vma(const Vma& v, Journal* j) {
  tree_.insert(v);
  note_inserted(v, j);
}

void Vm::note_inserted(const Vma& v, Journal* j) {
  if (v.has_bo()) {
    std::lock_guard<std::mutex> g(dev_->bo_mutex());
    dev_->get_vma_ref_locked(v.bo, v.attrs.purgeable != 0);
  }
  if (j != nullptr) j->entries.push_back({true, v});
}

void Vm::erase_vma(const Vma& v, Journal* j) {
  tree_.erase(v.start);
  if (v.kind == VmaKind::kMirror && svm_ != nullptr && svm_->ever_populated()) {
    svm_->invalidate(id_, v.range());
  }
  drop_mappings(v);
  if (v.has_bo()) {
    std::lock_guard<std::mutex> g(dev_->bo_mutex());
    if (j != nullptr) {  // a rollback may map it again: the last VMA must not free it
      dev_->pin_locked(v.bo);
      j->pinned.push_back(v.bo);
    }
    dev_->put_vma_ref_locked(v.bo, v.attrs.purgeable != 0);
  }
  if (j != nullptr) j->entries.push_back({false, v});
}

std::uint32_t Vm::drop_mappings(const Vma& v) {
  // The GPU mappings the residency side keeps for this VMA (faulted BO
  // chunks, userptr pages) go with it; a remaining piece faults them again.
  if (v.has_bo()) return dev_->bos().unmap_vm(v.bo, id_);
  if (v.kind == VmaKind::kUserptr && svm_ != nullptr) return svm_->userptr_unbound(id_, v.start);
  return 0;
}

void Vm::replace_vma(const Vma& old, const Vma& v, Journal* j) {
  tree_.replace(v);
  note_replaced(old, v, j);
}

void Vm::split_vma(const Vma& old, const Vma* pieces, int n, Journal* j) {
  tree_.replace_split(pieces, n);
  note_replaced(old, pieces[0], j);
  for (int k = 1; k < n; ++k) note_inserted(pieces[k], j);
}

void Vm::note_replaced(const Vma& old, const Vma& v, Journal* j) {
  drop_mappings(old);
  if (old.has_bo() || v.has_bo()) {
    std::lock_guard<std::mutex> g(dev_->bo_mutex());
    if (old.has_bo() && j != nullptr) {
      dev_->pin_locked(old.bo);
      j->pinned.push_back(old.bo);
    }
    if (v.has_bo()) dev_->get_vma_ref_locked(v.bo, v.attrs.purgeable != 0);
    if (old.has_bo()) dev_->put_vma_ref_locked(old.bo, old.attrs.purgeable != 0);
  }
  if (j != nullptr) {
    j->entries.push_back({false, old});
    j->entries.push_back({true, v});
  }
}

void Vm::rollback(Journal& j) {
  for (auto it = j.entries.rbegin(); it != j.entries.rend(); ++it) {
    if (it->inserted) {
      // Erase by the current record: attributes may have changed since.
      const auto cur = tree_.at(it->vma.start);
      erase_vma(*cur, nullptr);
    } else {
      insert_vma(it->vma, nullptr);
    }
  }
  j.entries.clear();
  release_pins(j);
}

void Vm::release_pins(Journal& j) {
  if (j.pinned.empty()) return;
  std::lock_guard<std::mutex> g(dev_->bo_mutex());
  for (const std::uint32_t bo : j.pinned) dev_->unpin_locked(bo);
  j.pinned.clear();
}

Status Vm::apply_ops(const GpuvmOps& ops, Journal* j) {
  // Allocate (ask the fault plan) for every new VMA before changing anything.
  // Growing past the VMA limit fails as an allocation failure would upstream
  // (xe has no count limit; its VMA allocation fails ENOMEM). Ops that do not
  // add VMAs on balance (unmaps, replacing a VMA in place) always pass, so a
  // VM at its limit can still be shrunk.
  std::size_t added = 0;
  std::size_t removed = 0;
  FaultPlan& plan = dev_->plan();
  for (const auto& op : ops) {
    added += new_vmas(op);
    removed += std::holds_alternative<MapOp>(op) ? 0 : 1;  // UNMAP and REMAP drop the old VMA
  }
  DRM_SIM_TRY(plan.on_allocs(added));
  if (added > removed && tree_.size() + (added - removed) > dev_->profile().max_vmas_per_vm) {
    return Status::err(ENOMEM);
  }
  // A REMAP keeps the old record for its prev piece (same start), or leaves
  // the old start vacant for the MAP that follows it: both become an in-place
  // replace instead of a B-tree erase + insert.
  std::optional<Vma> vacant;
  auto flush_vacant = [&] {
    if (vacant) erase_vma(*vacant, j);
    vacant.reset();
  };
  for (auto it = ops.begin(); it != ops.end(); ++it) {
    const GpuvmOp& op = *it;
    // A REMAP followed by the MAP of the part it cut out (every madvise cut,
    // and a bind inside one VMA): the pieces tile the old VMA and replace it
    // in one tree visit.
    if (const auto* r = std::get_if<RemapOp>(&op); r != nullptr && it + 1 != ops.end()) {
      const auto* m = std::get_if<MapOp>(&*(it + 1));
      if (m != nullptr && m->vma.start >= r->old.start && m->vma.end <= r->old.end) {
        flush_vacant();
        // Uninitialised storage: each used slot is assigned (Vma is
        // trivially copyable), so zeroing three records first is waste.
        union Pieces {
          Pieces() {}
          Vma v[3];
        } pieces;
        int n = 0;
        if (r->prev) pieces.v[n++] = *r->prev;
        pieces.v[n++] = m->vma;
        if (r->next) pieces.v[n++] = *r->next;
        split_vma(r->old, pieces.v, n, j);
        ++it;
        continue;
      }
    }
    if (const auto* m = std::get_if<MapOp>(&op)) {
      if (vacant && vacant->start == m->vma.start) {
        replace_vma(*vacant, m->vma, j);
        vacant.reset();
      } else {
        flush_vacant();
        insert_vma(m->vma, j);
      }
    } else if (const auto* u = std::get_if<UnmapOp>(&op)) {
      flush_vacant();
      erase_vma(u->old, j);
    } else {
      flush_vacant();
      const auto& r = std::get<RemapOp>(op);
      if (r.prev) {
        replace_vma(r.old, *r.prev, j);
      } else {
        vacant = r.old;
      }
      if (r.next) insert_vma(*r.next, j);
    }
  }
  flush_vacant();
  return Status::ok();
}

MapRequest Vm::widen_mirror(const MapRequest& req) const {
  // xe: a CPU_ADDR_MIRROR MAP absorbs the default-attribute mirror VMAs
  // containing the page below its start and the page at its end.
  MapRequest w = req;
  std::uint64_t s = req.range.lo();
  std::uint64_t t = req.range.hi();
  if (s > 0) {
    if (auto p = tree_.find(s - 1); p && p->kind == VmaKind::kMirror && p->has_default_attrs()) {
      s = p->start;
    }
  }
  if (auto n = tree_.find(t); n && n->kind == VmaKind::kMirror && n->has_default_attrs()) {
    t = n->end;
  }
  w.range = VaRange::from_bounds(s, t);
  return w;
}

Status Vm::apply_bind_op(const BindOp& op, Journal& j) {
  GpuvmOps ops;
  switch (op.op) {
    case BindOpKind::kMap:
    case BindOpKind::kMapUserptr: {
      MapRequest req = op.map;
      if (req.kind == VmaKind::kBo) {
        std::lock_guard<std::mutex> g(dev_->bo_mutex());
        const Bo* bo = dev_->bo_locked(req.bo);
        if (bo == nullptr) return Status::err(ENOENT);
        if (DRM_SIM_IOCTL_DBG(bo->purgeable())) return Status::err(EBUSY);
      }
      if (req.kind == VmaKind::kMirror) req = widen_mirror(req);
      tree_.seek(req.range.lo());
      ops = plan_map(tree_, req);
      DRM_SIM_TRY(apply_ops(ops, &j));
      // The new VMA gets PTEs now unless the VM faults them in: BO pages are
      // populated (spec §7), userptr pages mapped.
      const bool immediate = (req.flags & vma_flag::kImmediate) != 0;
      if (req.kind != VmaKind::kMirror && (!fault_mode() || immediate)) {
        const std::uint8_t tiles = all_tiles(dev_->profile());
        if (req.kind == VmaKind::kBo) {
          DRM_SIM_TRY(dev_->bos().populate(id_, req.bo, req.offset, req.range.size().v, tiles));
        } else if (req.kind == VmaKind::kUserptr && svm_ != nullptr) {
          svm_->userptr_bound(id_, SvmSpace::UserptrVma{req.range, req.offset, false, false},
                              tiles);
        }
        tree_.visit_mut(VaRange::from_bounds(req.range.lo(), req.range.lo() + 1), [&](Vma& v) {
          v.pte_tiles = tiles;
          return false;
        });
      }
      break;
    }
    case BindOpKind::kUnmap:
      tree_.seek(op.map.range.lo());
      ops = plan_unmap(tree_, op.map.range);
      DRM_SIM_TRY(apply_ops(ops, &j));
      break;
    case BindOpKind::kUnmapAll:
      tree_.visit_all([&](const Vma& v) {
        if (v.has_bo() && v.bo == op.map.bo) ops.push_back(UnmapOp{v, false});
        return true;
      });
      DRM_SIM_TRY(apply_ops(ops, &j));
      break;
    case BindOpKind::kPrefetch:
      return prefetch(op);
  }
  if (log::enabled(log::kBind)) {
    for (const auto& o : ops) DRM_SIM_LOG(kBind, "vm {}: {}", id_, to_string(o));
  }
  return Status::ok();
}

namespace {

// uapi 7.0: the device a preferred-location fd names, resolved when pages
// are placed (upstream resolves it at madvise time; they differ only once the
// fd is closed, and then drm_sim places in the faulting tile's VRAM). `hold`
// keeps the peer's file, and so its device and memory, alive meanwhile.
FaultVma fault_vma(const Vma& v, const Device& self, std::shared_ptr<DrmFile>& hold) {
  FaultVma fv{v.range(), v.attrs, (v.flags & vma_flag::kReadonly) != 0};
  if (v.attrs.devmem_fd <= 0) return fv;
  auto f = file_from_fd(v.attrs.devmem_fd);
  if (f == nullptr || f->device().gone()) return fv;
  Device& dev = f->device();
  const MemRegionDesc* r = dev.profile().region_by_instance(v.attrs.region_instance);
  if (r == nullptr || r->mem_class != MemClass::kVram) return fv;
  fv.peer_tile = r->tile;
  if (&dev == &self) {
    fv.fd_is_self = true;
  } else if (!self.profile().interconnect_group.empty() &&
             self.profile().interconnect_group == dev.profile().interconnect_group) {
    fv.peer = &dev.memory();
    hold = std::move(f);
  }
  return fv;
}

}  // namespace

Status Vm::prefetch(const BindOp& op) {
  // Populate the VMAs of the range where the region says; the VMAs
  // themselves do not change. Mirror pages go through the SVM fault path,
  // BO chunks through the BoStore; userptr pages are only mapped.
  const Profile& p = dev_->profile();
  std::vector<Vma> vmas;
  tree_.visit(op.map.range, [&](const Vma& v) {
    vmas.push_back(v);
    return true;
  });
  for (const Vma& v : vmas) {
    if (v.kind == VmaKind::kNull) continue;
    const std::uint64_t lo = std::max(v.start, op.map.range.lo());
    const std::uint64_t hi = std::min(v.end, op.map.range.hi());
    if (v.kind == VmaKind::kUserptr) {
      // The process's pages stay in system memory: a prefetch only maps them.
      if (svm_ != nullptr) {
        svm_->userptr_bound(id_, SvmSpace::UserptrVma{v.range(), v.offset, false, false},
                            all_tiles(p));
      }
      continue;
    }
    if (v.kind == VmaKind::kBo) {
      DRM_SIM_TRY(prefetch_bo(v, VaRange::from_bounds(lo, hi), op.prefetch_region));
      continue;
    }
    Placement where;
    if (op.prefetch_region == 0xffffffffu) {  // DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC
      auto d = decide_placement(v.attrs, AccessKind::kRead, p, 0);
      if (!d) return d.status();
      where = *d;
    } else if (op.prefetch_region != 0) {
      const MemRegionDesc* r = p.region_by_instance(static_cast<std::uint16_t>(op.prefetch_region));
      where.vram = true;
      where.tile = r->tile;
    }
    std::shared_ptr<DrmFile> hold;
    const FaultVma fv = fault_vma(v, *dev_, hold);
    DRM_SIM_TRY(svm_->prefetch(id_, fv, VaRange::from_bounds(lo, hi), where.tile, where));
  }
  return Status::ok();
}

Status Vm::prefetch_bo(const Vma& v, VaRange r, std::uint32_t region) {
  // A BO moves only into a region of its placement (xe_bo_migrate: else
  // -EINVAL); CONSULT follows the BO's own placement (BOs have no preferred
  // location, spec §3).
  const Profile& p = dev_->profile();
  std::uint32_t placement = 0;
  {
    std::lock_guard<std::mutex> g(dev_->bo_mutex());
    const Bo* bo = dev_->bo_locked(v.bo);
    if (bo == nullptr) return Status::err(ENOENT);
    placement = bo->placement;
  }
  bool want_vram = (placement & p.vram_placement_mask()) != 0 && p.features.discrete;
  std::uint16_t tile = 0;
  if (region != 0xffffffffu) {  // not DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC
    if (DRM_SIM_IOCTL_DBG(region >= 32 || (placement & (1u << region)) == 0)) {
      return Status::err(EINVAL);
    }
    const MemRegionDesc* d = p.region_by_instance(static_cast<std::uint16_t>(region));
    want_vram = d != nullptr && d->mem_class == MemClass::kVram;
    tile = want_vram ? d->tile : 0;
  }
  return dev_->bos().prefetch(id_, v.bo, v.offset + (r.lo() - v.start), r.size().v, tile,
                              want_vram);
}

Status Vm::bind(std::span<const BindOp> ops) {
  FaultPlan& plan = dev_->plan();
  DRM_SIM_TRY(lock_.lock_write(WaitKind::kKillable, plan));
  WriteHeld held(lock_);
  if (DRM_SIM_IOCTL_DBG(closed_)) return Status::err(ENOENT);
  DRM_SIM_TRY(collect_garbage_locked());  // deferred autoreset first
  // drm_exec locks every BO of the array, interruptibly, before any op runs.
  std::set<std::uint32_t> bos;
  for (const auto& op : ops) {
    if (op.map.kind == VmaKind::kBo || op.op == BindOpKind::kUnmapAll) bos.insert(op.map.bo);
  }
  for (std::size_t i = 0; i < bos.size(); ++i) DRM_SIM_TRY(plan.on_wait(WaitKind::kInterruptible));

  // The journal is reused across binds (no allocation, no page faults for
  // large arrays) unless one left it very large.
  if (scratch_journal_ == nullptr) scratch_journal_ = std::make_unique<Journal>();
  Journal& j = *scratch_journal_;
  j.entries.clear();
  j.pinned.clear();
  struct Shrink {
    Journal& j;
    ~Shrink() {
      constexpr std::size_t kKeepEntries = 1u << 16;
      if (j.entries.capacity() > kKeepEntries) std::vector<Journal::Entry>().swap(j.entries);
    }
  } shrink{j};
  for (const auto& op : ops) {
    if (Status s = apply_bind_op(op, j); !s.is_ok()) {
      rollback(j);
      ++counters_.bind_rollbacks;
      DRM_SIM_LOG(kBind, "vm {}: bind array of {} rolled back: errno {}", id_, ops.size(),
                  s.error());
      debug_check_invariants();
      return s;
    }
  }
  counters_.binds += ops.size();
  release_pins(j);
  if (dev_->event_sink() != nullptr) {
    for (const auto& e : j.entries) {
      dev_->emit(Event{e.inserted ? EventType::kOpMap : EventType::kOpUnmap, id_, e.vma.start,
                       e.vma.end, 0, 0});
    }
  }
  debug_check_invariants();
  return Status::ok();
}

Status Vm::madvise(const MadviseRequest& req, FunctionRef<Status()> resolve_devmem) {
  FaultPlan& plan = dev_->plan();
  // Step 4: the VM lock, killable.
  DRM_SIM_TRY(lock_.lock_write(WaitKind::kKillable, plan));
  WriteHeld held(lock_);
  // Step 5.
  if (DRM_SIM_IOCTL_DBG(closed_)) return Status::err(ENOENT);
  DRM_SIM_TRY(collect_garbage_locked());  // deferred autoreset first
  ++counters_.madvise_calls;
  // Step 6 (uapi 7.0): resolve another device's fd.
  if (req.type == MadviseType::kPreferredLoc && req.devmem_fd > 0) DRM_SIM_TRY(resolve_devmem());
  // Step 7: the range, then the split. Nothing after this is undone.
  const std::uint64_t end = req.start + req.range;
  if (DRM_SIM_IOCTL_DBG(end < req.start || end > dev_->profile().va_end())) {
    return Status::err(EINVAL);
  }
  const VaRange range = VaRange::from_bounds(req.start, end);
  GpuvmOps& ops = scratch_ops_;  // reused under the write lock: no allocation
  ops.clear();
  MapRequest walk_req;
  walk_req.range = range;
  tree_.seek(range.lo());
  gpuvm_walk(tree_, walk_req, kMadviseRules, ops);
  if (!ops.empty()) {
    DRM_SIM_TRY(apply_ops(ops, nullptr));
    for (const auto& op : ops) {
      const auto* r = std::get_if<RemapOp>(&op);
      if (r == nullptr) continue;
      ++counters_.madvise_splits;
      // GPU ranges straddling a new boundary are evicted and unmapped (§4).
      if (r->old.kind == VmaKind::kMirror && svm_->ever_populated()) {
        if (r->prev) svm_->split_at(id_, r->prev->end);
        if (r->next) svm_->split_at(id_, r->next->start);
      }
    }
    if (log::enabled(log::kMadvise)) {
      for (const auto& o : ops) DRM_SIM_LOG(kMadvise, "vm {}: {}", id_, to_string(o));
    }
  }
  // Step 8: collect the VMAs (record pointers stay valid: no insert or erase
  // happens from here on).
  std::vector<Vma*>& vmas = scratch_vmas_;
  vmas.clear();
  tree_.collect_mut(range, vmas);
  if (vmas.empty()) {  // a hole is never an error; nothing in it was purged
    if (req.type == MadviseType::kPurgeableState && req.retained_ptr != 0) {
      const std::uint32_t retained = 1;
      DRM_SIM_TRY(copy_to_user(req.retained_ptr, &retained, sizeof retained));
    }
    return Status::ok();
  }
  bool svm_or_userptr = false;
  std::vector<std::uint32_t>& bos = scratch_bos_;
  bos.clear();
  for (const Vma* v : vmas) {
    if (v->has_bo()) {
      bos.push_back(v->bo);
    } else if (v->kind == VmaKind::kMirror || v->kind == VmaKind::kUserptr) {
      svm_or_userptr = true;
    }
  }
  if (!bos.empty()) {  // drm_exec locks each BO once (duplicates ignored)
    std::sort(bos.begin(), bos.end());
    bos.erase(std::unique(bos.begin(), bos.end()), bos.end());
  }
  const auto distinct_bos = static_cast<std::uint32_t>(bos.size());
  // Step 9: atomic placement rules for BOs.
  if (req.type == MadviseType::kAtomic && distinct_bos != 0) {
    std::lock_guard<std::mutex> g(dev_->bo_mutex());
    bool atomic_ok = true;
    for (const Vma* v : vmas) {
      if (v->has_bo()) {
        atomic_ok =
            atomic_ok && atomic_allowed(*dev_->bo_locked(v->bo), req.value, dev_->profile());
      }
    }
    if (DRM_SIM_IOCTL_DBG(!atomic_ok)) return Status::err(EINVAL);
  }
  // Step 10: BO locks and the notifier lock, interruptible.
  for (std::uint32_t i = 0; i < distinct_bos; ++i) {
    DRM_SIM_TRY(plan.on_wait(WaitKind::kInterruptible));
  }
  if (svm_or_userptr) DRM_SIM_TRY(plan.on_wait(WaitKind::kInterruptible));
  // Step 11: apply; step 12: zap changed VMAs, then one TLB invalidation per tile.
  const AttrFn fn = kAttrFns[static_cast<std::uint32_t>(req.type)];
  std::uint32_t tile_mask = 0;
  bool any_purged = false;
  for (Vma* vp : vmas) {
    Vma& v = *vp;
    if (req.type == MadviseType::kPurgeableState && v.has_bo()) {
      std::lock_guard<std::mutex> g(dev_->bo_mutex());
      any_purged = any_purged || dev_->bos().purged(v.bo);
    }
    if (!fn(v, req, *dev_)) {
      ++counters_.vmas_skipped;
      dev_->emit(Event{EventType::kAttrSkipped, id_, v.start, v.end, 0, 0});
      continue;
    }
    ++counters_.vmas_advised;
    dev_->emit(Event{EventType::kAttrChanged, id_, v.start, v.end, 0, 0});
    if (v.kind == VmaKind::kMirror) {
      // A mirror VMA's PTEs are its populated GPU ranges.
      if (!svm_->ever_populated()) continue;
      if (const std::uint32_t tiles = svm_->invalidate(id_, v.range()); tiles != 0) {
        ++counters_.pte_zaps;
        dev_->emit(Event{EventType::kPteZap, id_, v.start, v.end, 0, tiles});
        tile_mask |= tiles;
      }
    } else if (const std::uint32_t tiles = v.pte_tiles | drop_mappings(v); tiles != 0) {
      // Bind-time PTEs, and the mappings faults made (BO chunks, userptr pages).
      ++counters_.pte_zaps;
      dev_->emit(Event{EventType::kPteZap, id_, v.start, v.end, 0, tiles});
      tile_mask |= tiles;
      v.pte_tiles = 0;
    }
  }
  for (std::uint32_t m = tile_mask; m != 0; m &= m - 1) {
    const auto t = static_cast<std::uint32_t>(__builtin_ctz(m));
    ++counters_.tlb_invalidations;
    dev_->emit(Event{EventType::kTlbInval, id_, range.lo(), range.hi(), t, 0});
  }
  if (req.type == MadviseType::kPurgeableState && req.retained_ptr != 0) {
    const std::uint32_t retained = any_purged ? 0u : 1u;
    DRM_SIM_TRY(copy_to_user(req.retained_ptr, &retained, sizeof retained));
  }
  debug_check_invariants();
  return Status::ok();
}

Status Vm::query(std::uint64_t start, std::uint64_t range, std::size_t max, std::size_t* count,
                 std::vector<Vma>* out) {
  (void)collect_garbage();  // deferred autoreset; if it cannot finish, report what is there
  DRM_SIM_TRY(lock_.lock_read(WaitKind::kInterruptible, dev_->plan()));
  ReadHeld held(lock_);
  queries_.fetch_add(1, std::memory_order_relaxed);  // read lock: concurrent queries
  const std::uint64_t end = start + range;
  if (DRM_SIM_IOCTL_DBG(end < start || end > dev_->profile().va_end())) {
    return Status::err(EINVAL);
  }
  if (range == 0) {  // nothing can overlap an empty range
    *count = 0;
    if (out != nullptr) out->clear();
    return Status::ok();
  }
  const VaRange r = VaRange::from_bounds(start, end);
  if (max == 0) {
    *count = tree_.count_overlaps(r);
    return Status::ok();
  }
  out->clear();
  bool overflow = false;
  tree_.visit(r, [&](const Vma& v) {
    if (out->size() == max) {
      overflow = true;
      return false;
    }
    out->push_back(v);
    return true;
  });
  if (overflow) return Status::err(ENOSPC);
  *count = out->size();
  return Status::ok();
}

void Vm::close() {
  std::unique_lock<std::shared_mutex> g(lock_.native());
  if (closed_) return;
  closed_ = true;
  gc_queue_.clear();  // nothing left to reset
  gc_queued_.store(false, std::memory_order_release);
  std::vector<Vma> all;
  all.reserve(tree_.size());
  tree_.visit_all([&](const Vma& v) {
    all.push_back(v);
    return true;
  });
  for (const auto& v : all) erase_vma(v, nullptr);
  tree_.clear();
  if (svm_ != nullptr) svm_->forget_vm(id_);
}

Status Vm::gpu_access(std::span<MemAccess> accesses, std::uint16_t tile, std::span<int> results) {
  if (DRM_SIM_IOCTL_DBG(tile >= dev_->profile().num_tiles)) return Status::err(EINVAL);
  // xe's fault handler runs the garbage collector first.
  DRM_SIM_TRY(collect_garbage());
  // Faults read VMAs and their attributes; residency has its own lock.
  DRM_SIM_TRY(lock_.lock_read(WaitKind::kInterruptible, dev_->plan()));
  ReadHeld held(lock_);
  if (DRM_SIM_IOCTL_DBG(closed_)) return Status::err(ENOENT);
  for (std::size_t i = 0; i < accesses.size(); ++i) {
    MemAccess& a = accesses[i];
    const auto v = tree_.find(a.addr);
    Status s;
    if (!v) {
      s = Status::err(EFAULT);  // GPU page fault with no VMA
    } else if (v->kind == VmaKind::kMirror) {
      std::shared_ptr<DrmFile> hold;
      const FaultVma fv = fault_vma(*v, *dev_, hold);
      s = svm_->gpu_access(id_, fv, tile, a);
    } else if (v->kind == VmaKind::kNull) {
      // NULL (sparse) binding: reads return zero (read-only or not), writes
      // and atomics are dropped, or fail with EPERM on a read-only binding.
      if (a.kind != AccessKind::kRead && (v->flags & vma_flag::kReadonly) != 0) {
        s = Status::err(EPERM);
      } else {
        if (a.kind != AccessKind::kWrite) a.value = 0;
        if (a.kind == AccessKind::kRead && a.data != nullptr) std::memset(a.data, 0, a.size);
      }
    } else if (v->kind == VmaKind::kUserptr) {
      const SvmSpace::UserptrVma uv{v->range(), v->offset, (v->flags & vma_flag::kReadonly) != 0,
                                    fault_mode()};
      s = svm_ != nullptr ? svm_->userptr_access(id_, uv, tile, a) : Status::err(EFAULT);
    } else {
      s = bo_access(*v, tile, a);
    }
    if (i < results.size()) results[i] = s.to_ret();
    if (!s.is_ok()) return s;
  }
  return Status::ok();
}

Status Vm::bo_access(const Vma& v, std::uint16_t tile, MemAccess& a) {
  if (a.addr + a.size > v.end || a.addr + a.size < a.addr) return Status::err(EFAULT);
  BoGpuRef ref;
  ref.vm_id = id_;
  ref.bo = v.bo;
  ref.offset = v.offset + (a.addr - v.start);
  ref.readonly = (v.flags & vma_flag::kReadonly) != 0;
  ref.fault_mode = fault_mode();
  ref.atomic = v.attrs.atomic;
  if (a.kind == AccessKind::kAtomic) {  // the BO-wide value (madvise through any VMA)
    std::lock_guard<std::mutex> g(dev_->bo_mutex());
    if (const Bo* bo = dev_->bo_locked(v.bo)) ref.atomic = bo->atomic;
  }
  return dev_->bos().gpu_access(ref, tile, a);
}

void Vm::cpu_unmapped(VaRange r) {
  std::unique_lock<std::shared_mutex> g(lock_.native());
  if (closed_) return;
  gc_queue_.push_back(r);
  gc_queued_.store(true, std::memory_order_release);
  (void)collect_garbage_locked();  // on failure the work stays queued
}

std::size_t Vm::gc_pending() {
  std::shared_lock<std::shared_mutex> g(lock_.native());
  return gc_queue_.size();
}

Status Vm::collect_garbage() {
  if (!gc_queued_.load(std::memory_order_acquire)) return Status::ok();
  std::unique_lock<std::shared_mutex> g(lock_.native());
  if (closed_) return Status::ok();
  return collect_garbage_locked();
}

Status Vm::collect_garbage_locked() {
  if (gc_queue_.empty()) return Status::ok();
  std::size_t done = 0;
  Status s;
  for (; done < gc_queue_.size(); ++done) {
    Journal j;
    s = autoreset_locked(gc_queue_[done], j);
    if (!s.is_ok()) {
      rollback(j);  // this range is redone from scratch next time
      DRM_SIM_LOG(kBind, "vm {}: autoreset of [{:#x},{:#x}) deferred: errno {}", id_,
                  gc_queue_[done].lo(), gc_queue_[done].hi(), s.error());
      break;
    }
    release_pins(j);
  }
  gc_queue_.erase(gc_queue_.begin(), gc_queue_.begin() + static_cast<std::ptrdiff_t>(done));
  gc_queued_.store(!gc_queue_.empty(), std::memory_order_release);
  debug_check_invariants();
  return s;
}

Status Vm::autoreset_locked(VaRange r, Journal& j) {
  const auto autoreset = [](const Vma& v) {
    return v.kind == VmaKind::kMirror && (v.flags & vma_flag::kAutoreset) != 0;
  };
  // 1. Cut the autoreset mirror VMAs at r's ends (each REMAP is followed by
  //    the MAP of its piece inside r; other VMAs are left alone).
  const GpuvmOps all = plan_madvise(tree_, r);
  GpuvmOps cuts;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto* rm = std::get_if<RemapOp>(&all[i]);
    if (rm != nullptr && autoreset(rm->old) && i + 1 < all.size()) {
      cuts.push_back(all[i]);
      cuts.push_back(all[i + 1]);
      ++i;
    }
  }
  if (!cuts.empty()) DRM_SIM_TRY(apply_ops(cuts, &j));
  // 2. The parts inside r return to their post-bind attributes (journalled,
  //    so that a failure below undoes them too).
  std::vector<Vma> inside;
  tree_.visit(r, [&](const Vma& v) {
    if (autoreset(v) && r.contains(v.range())) inside.push_back(v);
    return true;
  });
  for (const Vma& old : inside) {
    Vma v = old;
    v.attrs = old.bind_attrs();
    replace_vma(old, v, &j);
  }
  // 3. Default-attribute mirror neighbours merge: rebind each reset piece as
  //    a mirror MAP, which widens over them.
  for (const Vma& piece : inside) {
    const auto cur = tree_.at(piece.start);
    if (!cur || cur->end != piece.end) continue;  // merged into an earlier piece already
    MapRequest req;
    req.range = piece.range();
    req.kind = VmaKind::kMirror;
    req.flags = piece.flags;
    req.pat = piece.default_pat;
    const MapRequest wide = widen_mirror(req);
    if (wide.range == req.range) continue;
    DRM_SIM_TRY(apply_ops(plan_map(tree_, wide), &j));
  }
  return Status::ok();
}

GpuvmOps Vm::plan(const BindOp& op) {
  std::shared_lock<std::shared_mutex> g(lock_.native());
  switch (op.op) {
    case BindOpKind::kMap:
    case BindOpKind::kMapUserptr:
      return plan_map(tree_, op.map.kind == VmaKind::kMirror ? widen_mirror(op.map) : op.map);
    case BindOpKind::kUnmap:
      return plan_unmap(tree_, op.map.range);
    default:
      return {};
  }
}

std::vector<Vma> Vm::vmas() {
  std::shared_lock<std::shared_mutex> g(lock_.native());
  std::vector<Vma> out;
  out.reserve(tree_.size());
  tree_.visit_all([&](const Vma& v) {
    out.push_back(v);
    return true;
  });
  return out;
}

std::size_t Vm::vma_count() {
  std::shared_lock<std::shared_mutex> g(lock_.native());
  return tree_.size();
}

std::size_t Vm::memory_bytes() {
  std::shared_lock<std::shared_mutex> g(lock_.native());
  return tree_.memory_bytes();
}

VmCounters Vm::counters() {
  std::unique_lock<std::shared_mutex> g(lock_.native());
  VmCounters c = counters_;
  c.queries = queries_.load(std::memory_order_relaxed);
  return c;
}

std::string Vm::check_invariants() {
  std::shared_lock<std::shared_mutex> g(lock_.native());
  return tree_.check_invariants(dev_->profile().va_end());
}

void Vm::debug_check_invariants() {
#if defined(DRM_SIM_CHECK_INVARIANTS)
  const std::string err = tree_.check_invariants(dev_->profile().va_end());
  if (!err.empty()) {
    std::fprintf(stderr, "drm_sim: VM %u invariant violated: %s\n", id_, err.c_str());
    std::abort();
  }
#endif
}

}  // namespace drm_sim
