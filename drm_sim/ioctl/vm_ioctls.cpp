// VM_CREATE, VM_DESTROY and VM_BIND: the upstream argument checks in upstream
// order, then Vm::bind() for the whole array (all-or-nothing).
#include <vector>

#include "drm_sim/core/log.h"
#include "drm_sim/core/uaccess.h"
#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/handlers.h"

namespace drm_sim::ioctl {

namespace {

constexpr std::uint32_t kVmCreateFlags = DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE |
                                         DRM_XE_VM_CREATE_FLAG_LR_MODE |
                                         DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
constexpr std::uint32_t kBindFlags =
    DRM_XE_VM_BIND_FLAG_READONLY | DRM_XE_VM_BIND_FLAG_IMMEDIATE | DRM_XE_VM_BIND_FLAG_NULL |
    DRM_XE_VM_BIND_FLAG_DUMPABLE | DRM_XE_VM_BIND_FLAG_CHECK_PXP |
    DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR | DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET;
constexpr std::uint32_t kMaxBinds = 1u << 16;
constexpr std::uint32_t kMaxSyncs = 1u << 10;

static_assert(static_cast<int>(BindOpKind::kPrefetch) == DRM_XE_VM_BIND_OP_PREFETCH);
static_assert(static_cast<int>(BindOpKind::kUnmapAll) == DRM_XE_VM_BIND_OP_UNMAP_ALL);

// Per-op argument checks (xe's vm_bind_ioctl_check_args, one op).
Status check_op(const drm_xe_vm_bind_op& o, const Vm& vm, const Profile& p) {
  const std::uint32_t op = o.op;
  const std::uint32_t flags = o.flags;
  const bool is_null = flags & DRM_XE_VM_BIND_FLAG_NULL;
  const bool is_mirror = flags & DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
  const std::uint32_t region = o.prefetch_mem_region_instance;
  // As upstream, the op's extensions, pad and reserved words are not read.
  if (DRM_SIM_IOCTL_DBG(o.pat_index >= p.pat.size()) ||
      DRM_SIM_IOCTL_DBG(p.pat[o.pat_index] == kCohReserved) ||
      DRM_SIM_IOCTL_DBG(op > DRM_XE_VM_BIND_OP_PREFETCH) ||
      DRM_SIM_IOCTL_DBG(flags & ~kBindFlags) ||
      DRM_SIM_IOCTL_DBG(o.obj && (is_null || is_mirror)) ||
      DRM_SIM_IOCTL_DBG(o.obj_offset && (is_null || is_mirror)) ||
      DRM_SIM_IOCTL_DBG((is_null || is_mirror) && op != DRM_XE_VM_BIND_OP_MAP) ||
      DRM_SIM_IOCTL_DBG(is_null && is_mirror) ||  // drm_sim: a VMA has one kind
      DRM_SIM_IOCTL_DBG(is_mirror && !vm.fault_mode()) ||
      DRM_SIM_IOCTL_DBG(!o.obj && op == DRM_XE_VM_BIND_OP_MAP && !is_null && !is_mirror) ||
      DRM_SIM_IOCTL_DBG(!o.obj && op == DRM_XE_VM_BIND_OP_UNMAP_ALL) ||
      DRM_SIM_IOCTL_DBG(o.addr && op == DRM_XE_VM_BIND_OP_UNMAP_ALL) ||
      DRM_SIM_IOCTL_DBG(o.range && op == DRM_XE_VM_BIND_OP_UNMAP_ALL) ||
      DRM_SIM_IOCTL_DBG(o.obj && op == DRM_XE_VM_BIND_OP_MAP_USERPTR) ||
      DRM_SIM_IOCTL_DBG(p.pat[o.pat_index] == kCohNone && op == DRM_XE_VM_BIND_OP_MAP_USERPTR) ||
      DRM_SIM_IOCTL_DBG(o.obj && op == DRM_XE_VM_BIND_OP_PREFETCH) ||
      DRM_SIM_IOCTL_DBG(o.obj && op == DRM_XE_VM_BIND_OP_UNMAP) ||
      DRM_SIM_IOCTL_DBG(region && op != DRM_XE_VM_BIND_OP_PREFETCH) ||
      DRM_SIM_IOCTL_DBG(op == DRM_XE_VM_BIND_OP_PREFETCH &&
                        region != static_cast<std::uint32_t>(DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC) &&
                        (region >= 32 || !(p.valid_placement_mask() & (1u << region)))) ||
      DRM_SIM_IOCTL_DBG((flags & DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET) &&
                        (op != DRM_XE_VM_BIND_OP_MAP || !is_mirror)) ||
      DRM_SIM_IOCTL_DBG(!is_aligned(o.obj_offset, kPage4K) || !is_aligned(o.addr, kPage4K) ||
                        !is_aligned(o.range, kPage4K)) ||
      DRM_SIM_IOCTL_DBG(!o.range && op != DRM_XE_VM_BIND_OP_UNMAP_ALL)) {
    return Status::err(EINVAL);
  }
  return Status::ok();
}

// The VA-range check, which upstream makes under the VM lock (after the exec
// queue lookup).
Status check_range(const drm_xe_vm_bind_op& o, const Profile& p) {
  if (o.op != DRM_XE_VM_BIND_OP_UNMAP_ALL &&
      DRM_SIM_IOCTL_DBG(o.range > p.va_end() || o.addr > p.va_end() - o.range)) {
    return Status::err(EINVAL);
  }
  return Status::ok();
}

// BO checks (xe_vm_bind_ioctl_validate_bo) for MAP of a BO.
Status check_bo(const Bo& bo, const drm_xe_vm_bind_op& o, const Vm& vm, const DrmFile& f,
                const Profile& p) {
  const std::uint8_t coh = p.pat[o.pat_index];
  const bool vram = (bo.placement & p.vram_placement_mask()) != 0;
  if (DRM_SIM_IOCTL_DBG(o.range > bo.size) || DRM_SIM_IOCTL_DBG(o.obj_offset > bo.size - o.range) ||
      DRM_SIM_IOCTL_DBG(vram && p.features.needs_64k_vram &&
                        (!is_aligned(o.obj_offset, kPage64K) || !is_aligned(o.addr, kPage64K) ||
                         !is_aligned(o.range, kPage64K))) ||
      DRM_SIM_IOCTL_DBG(bo.cpu_caching == DRM_XE_GEM_CPU_CACHING_WB && coh == kCohNone) ||
      DRM_SIM_IOCTL_DBG(bo.imported && coh == kCohNone) ||
      DRM_SIM_IOCTL_DBG(bo.vm_id != 0 && (bo.vm_id != vm.id() || bo.owner_file != &f))) {
    return Status::err(EINVAL);
  }
  return Status::ok();
}

Result<BindOp> to_bind_op(const drm_xe_vm_bind_op& o, DrmFile& f) {
  BindOp b;
  b.op = static_cast<BindOpKind>(o.op);
  b.prefetch_region = o.prefetch_mem_region_instance;
  MapRequest& m = b.map;
  m.pat = o.pat_index;
  m.offset = o.obj_offset;
  m.flags = static_cast<std::uint8_t>(
      ((o.flags & DRM_XE_VM_BIND_FLAG_READONLY) ? vma_flag::kReadonly : 0) |
      ((o.flags & DRM_XE_VM_BIND_FLAG_IMMEDIATE) ? vma_flag::kImmediate : 0) |
      ((o.flags & DRM_XE_VM_BIND_FLAG_DUMPABLE) ? vma_flag::kDumpable : 0) |
      ((o.flags & DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET) ? vma_flag::kAutoreset : 0));
  if (o.range != 0) m.range = VaRange::from_bounds(o.addr, o.addr + o.range);
  if (o.obj != 0) {
    auto id = f.bo_of(o.obj);
    if (DRM_SIM_IOCTL_DBG(!id)) return Status::err(ENOENT);
    m.bo = *id;
    m.kind = VmaKind::kBo;
  } else if (o.op == DRM_XE_VM_BIND_OP_MAP_USERPTR) {
    m.kind = VmaKind::kUserptr;
  } else if (o.flags & DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR) {
    m.kind = VmaKind::kMirror;
  } else {
    m.kind = VmaKind::kNull;
  }
  return b;
}

}  // namespace

Status vm_create(DrmFile& f, void* arg) {
  auto* c = static_cast<drm_xe_vm_create*>(arg);
  const Features& feat = f.device().profile().features;
  if (DRM_SIM_IOCTL_DBG(c->extensions != 0) ||
      DRM_SIM_IOCTL_DBG(c->reserved[0] != 0 || c->reserved[1] != 0) ||
      DRM_SIM_IOCTL_DBG(c->flags & ~kVmCreateFlags) ||
      DRM_SIM_IOCTL_DBG((c->flags & DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE) &&
                        (c->flags & DRM_XE_VM_CREATE_FLAG_FAULT_MODE) && !feat.needs_scratch) ||
      DRM_SIM_IOCTL_DBG(!(c->flags & DRM_XE_VM_CREATE_FLAG_LR_MODE) &&
                        (c->flags & DRM_XE_VM_CREATE_FLAG_FAULT_MODE)) ||
      DRM_SIM_IOCTL_DBG((c->flags & DRM_XE_VM_CREATE_FLAG_FAULT_MODE) && !feat.has_usm)) {
    return Status::err(EINVAL);
  }
  auto id = f.create_vm(c->flags);
  if (!id) return id.status();
  c->vm_id = *id;
  return Status::ok();
}

Status vm_destroy(DrmFile& f, void* arg) {
  const auto* d = static_cast<drm_xe_vm_destroy*>(arg);
  if (DRM_SIM_IOCTL_DBG(d->pad != 0) ||
      DRM_SIM_IOCTL_DBG(d->reserved[0] != 0 || d->reserved[1] != 0)) {
    return Status::err(EINVAL);
  }
  if (DRM_SIM_IOCTL_DBG(!f.destroy_vm(d->vm_id).is_ok())) return Status::err(ENOENT);
  return Status::ok();
}

Status vm_bind(DrmFile& f, void* arg) {
  const auto* a = static_cast<drm_xe_vm_bind*>(arg);
  const Profile& p = f.device().profile();
  auto vm = f.vm(a->vm_id);
  if (DRM_SIM_IOCTL_DBG(vm == nullptr)) return Status::err(EINVAL);
  if (DRM_SIM_IOCTL_DBG(a->extensions != 0) || DRM_SIM_IOCTL_DBG(a->pad != 0 || a->pad2 != 0) ||
      DRM_SIM_IOCTL_DBG(a->reserved[0] != 0 || a->reserved[1] != 0)) {
    return Status::err(EINVAL);
  }
  if (DRM_SIM_IOCTL_DBG(a->num_binds > kMaxBinds || a->num_syncs > kMaxSyncs)) {
    return Status::err(ENOMEM);
  }
  std::vector<drm_xe_vm_bind_op> uops;
  if (a->num_binds == 0) {
    // A sync-only bind: nothing to map; its fences are signalled below.
  } else if (a->num_binds == 1) {
    uops.push_back(a->bind);
  } else {
    uops.resize(a->num_binds);
    DRM_SIM_TRY(
        copy_from_user(uops.data(), a->vector_of_binds, uops.size() * sizeof(drm_xe_vm_bind_op)));
  }
  for (const auto& o : uops) DRM_SIM_TRY(check_op(o, *vm, p));
  if (DRM_SIM_IOCTL_DBG(a->exec_queue_id != 0)) return Status::err(ENOENT);
  for (const auto& o : uops) DRM_SIM_TRY(check_range(o, p));

  std::vector<BindOp> ops;
  ops.reserve(uops.size());
  for (const auto& o : uops) {
    auto b = to_bind_op(o, f);
    if (!b) return b.status();
    if (o.obj != 0) {  // upstream validates the BO for every op naming one
      std::lock_guard<std::mutex> g(f.device().bo_mutex());
      const Bo* bo = f.device().bo_locked(b->map.bo);
      DRM_SIM_TRY(check_bo(*bo, o, *vm, f, p));
    }
    ops.push_back(*b);
  }

  std::vector<drm_xe_sync> syncs(a->num_syncs);
  if (!syncs.empty()) {
    DRM_SIM_TRY(copy_from_user(syncs.data(), a->syncs, syncs.size() * sizeof(drm_xe_sync)));
  }
  for (const auto& s : syncs) {
    if (DRM_SIM_IOCTL_DBG(s.extensions != 0 || s.reserved[0] != 0 || s.reserved[1] != 0) ||
        DRM_SIM_IOCTL_DBG(s.flags & ~DRM_XE_SYNC_FLAG_SIGNAL) ||
        DRM_SIM_IOCTL_DBG(s.type > DRM_XE_SYNC_TYPE_USER_FENCE)) {
      return Status::err(EINVAL);
    }
    if (s.type == DRM_XE_SYNC_TYPE_USER_FENCE) {
      if (DRM_SIM_IOCTL_DBG(!(s.flags & DRM_XE_SYNC_FLAG_SIGNAL))) return Status::err(EOPNOTSUPP);
      if (DRM_SIM_IOCTL_DBG(!is_aligned(s.addr, 8))) return Status::err(EINVAL);
    }
    // drm_sim serves no syncobjs: any handle is unknown.
    if (s.type != DRM_XE_SYNC_TYPE_USER_FENCE && DRM_SIM_IOCTL_DBG(true)) {
      return Status::err(ENOENT);
    }
  }

  if (!ops.empty()) DRM_SIM_TRY(vm->bind(ops));
  // Binds complete synchronously: signal user fences now.
  for (const auto& s : syncs) {
    DRM_SIM_TRY(copy_to_user(s.addr, &s.timeline_value, sizeof s.timeline_value));
  }
  return Status::ok();
}

}  // namespace drm_sim::ioctl
