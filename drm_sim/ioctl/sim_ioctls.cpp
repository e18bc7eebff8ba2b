// Simulator-only ioctls (drm_sim/drm_sim_ext.h): VM statistics, fault injection, the
// simulated process's mappings (anonymous and BO) and its memory accesses.
#include <csignal>
#include <vector>

#include "drm_sim/core/log.h"
#include "drm_sim/core/uaccess.h"
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
  const bool signal_op = fi->op == DRM_SIM_FAULT_SIGNAL_AT_WAIT ||
                         fi->op == DRM_SIM_FAULT_SIGNAL_EVERY ||
                         fi->op == DRM_SIM_FAULT_SIGNAL_RANDOM;
  if (DRM_SIM_IOCTL_DBG(fi->reserved != 0) ||
      DRM_SIM_IOCTL_DBG(fi->flags & ~DRM_SIM_FAULT_FLAG_FATAL) ||
      DRM_SIM_IOCTL_DBG(fi->op != DRM_SIM_FAULT_SIGNAL_RANDOM && fi->probability_ppm != 0) ||
      DRM_SIM_IOCTL_DBG(fi->probability_ppm > FaultPlan::kPpmOne) ||
      DRM_SIM_IOCTL_DBG(!signal_op && fi->signo != 0) ||
      DRM_SIM_IOCTL_DBG(fi->signo >= static_cast<std::uint32_t>(NSIG))) {
    return Status::err(EINVAL);
  }
  FaultPlan& plan = f.device().plan();
  const bool fatal = (fi->flags & DRM_SIM_FAULT_FLAG_FATAL) != 0;
  if (signal_op) plan.set_signal_number(fi->signo == 0 ? SIGINT : static_cast<int>(fi->signo));
  switch (fi->op) {
    case DRM_SIM_FAULT_SIGNAL_AT_WAIT:
      plan.signal_at_wait(fi->n, fatal);
      break;
    case DRM_SIM_FAULT_SIGNAL_EVERY:
      plan.signal_every_wait(fatal);
      break;
    case DRM_SIM_FAULT_SIGNAL_RANDOM:
      plan.signal_random(fi->probability_ppm, fi->n, fatal);
      break;
    case DRM_SIM_FAULT_FAIL_ALLOC_AT:
      plan.fail_alloc_at(fi->n);
      break;
    case DRM_SIM_FAULT_CLEAR:
      plan.clear();
      break;
    case DRM_SIM_FAULT_SET_SIGNAL_RETURN:
      if (DRM_SIM_IOCTL_DBG(fi->n > DRM_SIM_SIGNAL_RETURN_ERESTARTSYS || fatal)) {
        return Status::err(EINVAL);
      }
      f.device().set_signal_return(fi->n == DRM_SIM_SIGNAL_RETURN_ERESTARTSYS
                                       ? SignalReturn::kRestartSys
                                       : SignalReturn::kEintr);
      break;
    case DRM_SIM_FAULT_REAL_SIGNALS:
      if (DRM_SIM_IOCTL_DBG(fi->n != 0)) return Status::err(EINVAL);
      plan.set_real_signals_fatal(fatal);
      break;
    default:
      DRM_SIM_IOCTL_DBG(true);
      return Status::err(EINVAL);
  }
  return Status::ok();
}

Status sim_cpu_mmap(DrmFile& f, void* arg) {
  const auto* m = static_cast<const drm_sim_cpu_mmap*>(arg);
  if (DRM_SIM_IOCTL_DBG(m->pad != 0 || m->reserved != 0) ||
      DRM_SIM_IOCTL_DBG(m->op != DRM_SIM_CPU_MMAP_MAP_BO && m->mmap_offset != 0)) {
    return Status::err(EINVAL);
  }
  switch (m->op) {
    case DRM_SIM_CPU_MMAP_MAP:
      return f.cpu_map(m->addr, m->size);
    case DRM_SIM_CPU_MMAP_MAP_BO:
      return f.cpu_map_bo(m->addr, m->size, m->mmap_offset);
    case DRM_SIM_CPU_MMAP_UNMAP: {
      auto gone = f.cpu_unmap(m->addr, m->size);
      if (!gone) return gone.status();
      // The garbage collector: MADVISE_AUTORESET in every VM of the file.
      for (const std::uint32_t id : f.vm_ids()) {
        if (auto vm = f.vm(id)) {
          for (const VaRange& r : *gone) vm->cpu_unmapped(r);
        }
      }
      return Status::ok();
    }
    default:
      DRM_SIM_IOCTL_DBG(true);
      return Status::err(EINVAL);
  }
}

Status sim_mem_access(DrmFile& f, void* arg) {
  const auto* b = static_cast<const drm_sim_mem_access_batch*>(arg);
  constexpr std::uint32_t kMaxAccesses = 1u << 20;
  if (DRM_SIM_IOCTL_DBG(b->pad != 0 || b->pad2 != 0 || b->reserved[0] != 0 ||
                        b->reserved[1] != 0) ||
      DRM_SIM_IOCTL_DBG(b->num > kMaxAccesses)) {
    return Status::err(EINVAL);
  }
  std::vector<drm_sim_mem_access> in(b->num);
  DRM_SIM_TRY(copy_from_user(in.data(), b->accesses, in.size() * sizeof(drm_sim_mem_access)));
  const bool data_mode = f.device().profile().backing == BackingMode::kData;
  std::vector<MemAccess> acc(in.size());
  std::vector<std::vector<std::byte>> payload(data_mode ? in.size() : 0);
  for (std::size_t i = 0; i < in.size(); ++i) {
    const drm_sim_mem_access& u = in[i];
    if (DRM_SIM_IOCTL_DBG(u.op > DRM_SIM_ACCESS_ATOMIC || u.pad != 0 || u.size == 0 ||
                          u.size > kPage4K)) {
      return Status::err(EINVAL);
    }
    MemAccess& a = acc[i];
    a.addr = u.addr;
    a.size = u.size;
    a.kind = static_cast<AccessKind>(u.op);
    a.value = u.value;
    if (data_mode && u.op != DRM_SIM_ACCESS_ATOMIC) {
      payload[i].resize(u.size);
      a.data = payload[i].data();
      if (u.op == DRM_SIM_ACCESS_WRITE) DRM_SIM_TRY(copy_from_user(a.data, u.data, u.size));
    }
  }
  std::vector<int> results(in.size(), 0);
  Status s;
  if (b->vm_id == 0) {
    for (std::size_t i = 0; i < acc.size() && s.is_ok(); ++i) {
      s = f.cpu_access(acc[i]);
      results[i] = s.to_ret();
    }
  } else {
    auto vm = f.vm(b->vm_id);
    if (DRM_SIM_IOCTL_DBG(vm == nullptr)) return Status::err(ENOENT);
    s = vm->gpu_access(acc, b->tile, results);
  }
  // Copy results (and read data) back for every access that ran.
  for (std::size_t i = 0; i < in.size(); ++i) {
    in[i].value = acc[i].value;
    in[i].result = results[i];
    if (data_mode && results[i] == 0 && in[i].op == DRM_SIM_ACCESS_READ) {
      DRM_SIM_TRY(copy_to_user(in[i].data, acc[i].data, in[i].size));
    }
  }
  DRM_SIM_TRY(copy_to_user(b->accesses, in.data(), in.size() * sizeof(drm_sim_mem_access)));
  return s;
}

Status sim_mem_stats(DrmFile& f, void* arg) {
  auto* s = static_cast<drm_sim_mem_stats*>(arg);
  for (auto r : s->reserved) {
    if (DRM_SIM_IOCTL_DBG(r != 0)) return Status::err(EINVAL);
  }
  DeviceMemory& mem = f.device().memory();
  const MemStats m = mem.stats();
  s->gpu_accesses = m.gpu_accesses;
  s->gpu_faults = m.gpu_faults;
  s->cpu_faults = m.cpu_faults;
  s->migrations_to_vram = m.migrations_to_vram;
  s->migrations_to_sys = m.migrations_to_sys;
  s->bytes_to_vram = m.bytes_to_vram;
  s->bytes_to_sys = m.bytes_to_sys;
  s->evictions = m.evictions;
  s->gpu_invalidations = m.gpu_invalidations;
  s->sim_time_ns = m.sim_time_ns;
  s->remote_accesses = m.remote_accesses;
  s->purges = m.purges;
  for (std::uint16_t t = 0; t < 4; ++t) s->vram_used[t] = mem.vram_used(t);
  return Status::ok();
}

}  // namespace drm_sim::ioctl
