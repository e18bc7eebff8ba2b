// DRM_IOCTL_XE_MADVISE (spec §3 steps 1–3 here, 4–12 in Vm::madvise) and
// DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS (spec §5).
#include <vector>

#include "drm_sim/core/log.h"
#include "drm_sim/core/uaccess.h"
#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"
#include "drm_sim/ioctl/handlers.h"

namespace drm_sim::ioctl {

namespace {

static_assert(static_cast<std::uint32_t>(MadviseType::kPreferredLoc) ==
              DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC);
static_assert(static_cast<std::uint32_t>(MadviseType::kAtomic) == DRM_XE_MEM_RANGE_ATTR_ATOMIC);
static_assert(static_cast<std::uint32_t>(MadviseType::kPat) == DRM_XE_MEM_RANGE_ATTR_PAT);
static_assert(static_cast<std::uint32_t>(MadviseType::kPurgeableState) ==
              DRM_XE_VMA_ATTR_PURGEABLE_STATE);

// Step 2: argument sanity (xe's madvise_args_are_sane).
bool args_are_sane(const drm_xe_madvise& a, const Profile& p) {
  if (DRM_SIM_IOCTL_DBG(!is_aligned(a.start, kPage4K)) ||
      DRM_SIM_IOCTL_DBG(!is_aligned(a.range, kPage4K)) || DRM_SIM_IOCTL_DBG(a.range < kPage4K)) {
    return false;
  }
  switch (a.type) {
    case DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC: {
      const auto fd = static_cast<std::int32_t>(a.preferred_mem_loc.devmem_fd);
      if (DRM_SIM_IOCTL_DBG(fd < DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM) ||
          DRM_SIM_IOCTL_DBG(a.preferred_mem_loc.migration_policy >
                            DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES) ||
          DRM_SIM_IOCTL_DBG(a.preferred_mem_loc.reserved != 0)) {
        return false;
      }
      // v6.18: the u16 at offset 38 is pad; v7.0 names it region_instance.
      const bool pre_7_0 = !p.uapi_at_least(UapiRevision::k7_0);
      if (DRM_SIM_IOCTL_DBG(pre_7_0 && a.preferred_mem_loc.region_instance != 0) ||
          DRM_SIM_IOCTL_DBG(a.preferred_mem_loc.region_instance != 0 && fd <= 0)) {
        return false;
      }
      break;
    }
    case DRM_XE_MEM_RANGE_ATTR_ATOMIC:
      if (DRM_SIM_IOCTL_DBG(a.atomic.val > DRM_XE_ATOMIC_CPU) ||
          DRM_SIM_IOCTL_DBG(a.atomic.pad != 0) || DRM_SIM_IOCTL_DBG(a.atomic.reserved != 0)) {
        return false;
      }
      break;
    case DRM_XE_MEM_RANGE_ATTR_PAT:
      if (DRM_SIM_IOCTL_DBG(a.pat_index.val >= p.pat.size()) ||
          DRM_SIM_IOCTL_DBG(p.pat[a.pat_index.val] == kCohReserved) ||
          DRM_SIM_IOCTL_DBG(a.pat_index.pad != 0) || DRM_SIM_IOCTL_DBG(a.pat_index.reserved != 0)) {
        return false;
      }
      break;
    case DRM_XE_VMA_ATTR_PURGEABLE_STATE:
      if (DRM_SIM_IOCTL_DBG(!p.uapi_at_least(UapiRevision::k7_1)) ||  // unknown type before 7.1
          DRM_SIM_IOCTL_DBG(a.purge_state_val.val > DRM_XE_VMA_PURGEABLE_STATE_DONTNEED) ||
          DRM_SIM_IOCTL_DBG(a.purge_state_val.pad != 0)) {
        return false;
      }
      break;
    default:
      DRM_SIM_IOCTL_DBG(true);  // unknown type
      return false;
  }
  return !DRM_SIM_IOCTL_DBG(a.reserved[0] != 0 || a.reserved[1] != 0);
}

// Step 6 (uapi 7.0): devmem_fd names another simulated xe device.
Status resolve_devmem(const Device& self, std::int32_t fd, std::uint16_t region_instance) {
  auto other = file_from_fd(fd);
  if (DRM_SIM_IOCTL_DBG(other == nullptr)) return Status::err(ENOENT);
  const Device& dev = other->device();
  if (DRM_SIM_IOCTL_DBG(dev.gone())) return Status::err(ENODEV);
  const MemRegionDesc* r = dev.profile().region_by_instance(region_instance);
  if (DRM_SIM_IOCTL_DBG(r == nullptr || r->mem_class != MemClass::kVram)) {
    return Status::err(ENOENT);
  }
  const bool same = &dev == &self;
  const std::string& g = self.profile().interconnect_group;
  if (DRM_SIM_IOCTL_DBG(!same && (g.empty() || g != dev.profile().interconnect_group))) {
    return Status::err(ENOLINK);
  }
  return Status::ok();
}

}  // namespace

Status madvise(DrmFile& f, void* arg) {
  const auto* a = static_cast<const drm_xe_madvise*>(arg);
  Device& dev = f.device();
  // Step 1.
  auto vm = f.vm(a->vm_id);
  if (DRM_SIM_IOCTL_DBG(vm == nullptr)) return Status::err(EINVAL);
  // Step 2.
  if (!args_are_sane(*a, dev.profile())) return Status::err(EINVAL);
  // Step 3 (7.1): retained_ptr must be readable and hold 0.
  if (a->type == DRM_XE_VMA_ATTR_PURGEABLE_STATE && a->purge_state_val.retained_ptr != 0) {
    std::uint32_t retained = 0;
    DRM_SIM_TRY(copy_from_user(&retained, a->purge_state_val.retained_ptr, sizeof retained));
    if (DRM_SIM_IOCTL_DBG(retained != 0)) return Status::err(EINVAL);
  }
  MadviseRequest r;
  r.start = a->start;
  r.range = a->range;
  r.type = static_cast<MadviseType>(a->type);
  switch (a->type) {
    case DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC:
      r.devmem_fd = static_cast<std::int32_t>(a->preferred_mem_loc.devmem_fd);
      r.migration_policy = a->preferred_mem_loc.migration_policy;
      r.region_instance = a->preferred_mem_loc.region_instance;
      break;
    case DRM_XE_MEM_RANGE_ATTR_ATOMIC:
      r.value = a->atomic.val;
      break;
    case DRM_XE_MEM_RANGE_ATTR_PAT:
      r.value = a->pat_index.val;
      break;
    default:
      r.value = a->purge_state_val.val;
      r.retained_ptr = a->purge_state_val.retained_ptr;
      break;
  }
  const bool multi_device = dev.profile().uapi_at_least(UapiRevision::k7_0);
  return vm->madvise(r, [&]() -> Status {
    return multi_device ? resolve_devmem(dev, r.devmem_fd, r.region_instance) : Status::ok();
  });
}

Status query_mem_range_attrs(DrmFile& f, void* arg) {
  auto* q = static_cast<drm_xe_vm_query_mem_range_attr*>(arg);
  auto vm = f.vm(q->vm_id);
  // As upstream, extensions and reserved are not read.
  if (DRM_SIM_IOCTL_DBG(vm == nullptr) ||
      DRM_SIM_IOCTL_DBG(q->num_mem_ranges == 0 &&
                        (q->vector_of_mem_attr != 0 || q->sizeof_mem_range_attr != 0)) ||
      DRM_SIM_IOCTL_DBG(q->num_mem_ranges > 0 &&
                        (q->vector_of_mem_attr == 0 ||
                         q->sizeof_mem_range_attr != sizeof(drm_xe_mem_range_attr)))) {
    return Status::err(EINVAL);
  }
  std::size_t count = 0;
  if (q->num_mem_ranges == 0) {
    DRM_SIM_TRY(vm->query(q->start, q->range, 0, &count, nullptr));
    q->num_mem_ranges = static_cast<std::uint32_t>(count);
    q->sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
    return Status::ok();
  }
  std::vector<Vma> vmas;
  DRM_SIM_TRY(vm->query(q->start, q->range, q->num_mem_ranges, &count, &vmas));
  std::vector<drm_xe_mem_range_attr> out(vmas.size());
  for (std::size_t i = 0; i < vmas.size(); ++i) {
    const Vma& v = vmas[i];
    drm_xe_mem_range_attr& e = out[i];
    e = drm_xe_mem_range_attr{};
    e.start = v.start;
    e.end = v.end;
    e.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(v.attrs.devmem_fd);
    e.preferred_mem_loc.migration_policy = v.attrs.migration_policy;
    e.atomic.val = v.attrs.atomic;
    e.pat_index.val = v.attrs.pat;
  }
  DRM_SIM_TRY(
      copy_to_user(q->vector_of_mem_attr, out.data(), out.size() * sizeof(drm_xe_mem_range_attr)));
  q->num_mem_ranges = static_cast<std::uint32_t>(count);
  return Status::ok();
}

}  // namespace drm_sim::ioctl
