// Simulator-only ioctls (drm_sim/drm_sim_ext.h): VM statistics and fault injection.
#include "drm_sim/core/log.h"
#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/handlers.h"

namespace drm_sim::ioctl {

Status sim_vm_stats(DrmFile& f, void* arg) {
  auto* s = static_cast<drm_sim_vm_stats*>(arg);
  if (DRM_SIM_IOCTL_DBG(s->pad != 0)) return Status::err(EINVAL);
  for (auto r : s->reserved) {
    if (DRM_SIM_IOCTL_DBG(r != 0)) return Status::err(EINVAL);
  }
  auto vm = f.vm(s->vm_id);
  if (DRM_SIM_IOCTL_DBG(vm == nullptr)) return Status::err(ENOENT);
  const VmCounters c = vm->counters();
  s->binds = c.binds;
  s->bind_rollbacks = c.bind_rollbacks;
  s->madvise_calls = c.madvise_calls;
  s->madvise_splits = c.madvise_splits;
  s->vmas_advised = c.vmas_advised;
  s->vmas_skipped = c.vmas_skipped;
  s->pte_zaps = c.pte_zaps;
  s->tlb_invalidations = c.tlb_invalidations;
  s->queries = c.queries;
  s->num_vmas = vm->vma_count();
  s->vma_bytes = vm->memory_bytes();
  return Status::ok();
}

Status sim_fault_inject(DrmFile& f, void* arg) {
  const auto* fi = static_cast<const drm_sim_fault_inject*>(arg);
  if (DRM_SIM_IOCTL_DBG(fi->reserved[0] != 0 || fi->reserved[1] != 0) ||
      DRM_SIM_IOCTL_DBG(fi->flags & ~DRM_SIM_FAULT_FLAG_FATAL)) {
    return Status::err(EINVAL);
  }
  FaultPlan& plan = f.device().plan();
  const bool fatal = (fi->flags & DRM_SIM_FAULT_FLAG_FATAL) != 0;
  switch (fi->op) {
    case DRM_SIM_FAULT_SIGNAL_AT_WAIT:
      plan.signal_at_wait(fi->n, fatal);
      break;
    case DRM_SIM_FAULT_SIGNAL_EVERY:
      plan.signal_every_wait(fatal);
      break;
    case DRM_SIM_FAULT_FAIL_ALLOC_AT:
      plan.fail_alloc_at(fi->n);
      break;
    case DRM_SIM_FAULT_CLEAR:
      plan.clear();
      break;
    default:
      DRM_SIM_IOCTL_DBG(true);
      return Status::err(EINVAL);
  }
  return Status::ok();
}

}  // namespace drm_sim::ioctl
