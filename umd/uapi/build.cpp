// The builders and parsers of umd/uapi/build.h. Every struct starts
// value-initialised, so each pad, reserved and extension field is zero.
#include "umd/uapi/build.h"

#include <cstddef>
#include <cstring>

namespace drm_sim::umd {

namespace {

template <class T>
std::uint64_t user_ptr(T* p) {
  return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
}

std::uint32_t atomic_val(AtomicAccess a) {
  switch (a) {
    case AtomicAccess::kNone:
      return DRM_XE_ATOMIC_UNDEFINED;
    case AtomicAccess::kDevice:
      return DRM_XE_ATOMIC_DEVICE;
    case AtomicAccess::kSystem:
      return DRM_XE_ATOMIC_GLOBAL;
    case AtomicAccess::kHost:
      return DRM_XE_ATOMIC_CPU;
  }
  return DRM_XE_ATOMIC_UNDEFINED;
}

AtomicAccess atomic_from(std::uint32_t v) {
  switch (v) {
    case DRM_XE_ATOMIC_DEVICE:
      return AtomicAccess::kDevice;
    case DRM_XE_ATOMIC_GLOBAL:
      return AtomicAccess::kSystem;
    case DRM_XE_ATOMIC_CPU:
      return AtomicAccess::kHost;
    default:
      return AtomicAccess::kNone;
  }
}

}  // namespace

drm_version build_version(std::span<char> name, std::span<char> date, std::span<char> desc) {
  drm_version v{};
  v.name_len = name.size();
  v.name = name.empty() ? nullptr : name.data();
  v.date_len = date.size();
  v.date = date.empty() ? nullptr : date.data();
  v.desc_len = desc.size();
  v.desc = desc.empty() ? nullptr : desc.data();
  return v;
}

drm_xe_device_query build_device_query(std::uint32_t query, std::span<std::byte> reply) {
  drm_xe_device_query q{};
  q.query = query;
  q.size = static_cast<std::uint32_t>(reply.size());
  q.data = reply.empty() ? 0 : user_ptr(reply.data());
  return q;
}

Expected<DeviceConfig> parse_config(std::span<const std::byte> reply) {
  // drm_xe_query_config: u32 num_params, u32 pad, u64 info[num_params].
  constexpr std::size_t kHead = offsetof(drm_xe_query_config, info);
  std::uint32_t num_params = 0;
  if (reply.size() < kHead) return Result::kInvalidArgument;
  std::memcpy(&num_params, reply.data(), sizeof num_params);
  if (reply.size() < kHead + std::size_t{num_params} * sizeof(std::uint64_t)) {
    return Result::kInvalidArgument;
  }
  auto info = [&](std::uint32_t i) -> std::uint64_t {
    if (i >= num_params) return 0;
    std::uint64_t v = 0;
    std::memcpy(&v, reply.data() + kHead + i * sizeof v, sizeof v);
    return v;
  };
  DeviceConfig c;
  const std::uint64_t id = info(DRM_XE_QUERY_CONFIG_REV_AND_DEVICE_ID);
  c.pci_device_id = static_cast<std::uint16_t>(id & 0xffff);
  c.pci_revision = static_cast<std::uint8_t>((id >> 16) & 0xff);
  const std::uint64_t flags = info(DRM_XE_QUERY_CONFIG_FLAGS);
  c.has_vram = (flags & DRM_XE_QUERY_CONFIG_FLAG_HAS_VRAM) != 0;
  c.has_cpu_addr_mirror = (flags & DRM_XE_QUERY_CONFIG_FLAG_HAS_CPU_ADDR_MIRROR) != 0;
  c.min_alignment = info(DRM_XE_QUERY_CONFIG_MIN_ALIGNMENT);
  c.va_bits = static_cast<std::uint32_t>(info(DRM_XE_QUERY_CONFIG_VA_BITS));
  c.max_exec_queue_priority =
      static_cast<std::uint32_t>(info(DRM_XE_QUERY_CONFIG_MAX_EXEC_QUEUE_PRIORITY));
  return c;
}

Expected<std::vector<MemRegion>> parse_mem_regions(std::span<const std::byte> reply) {
  // drm_xe_query_mem_regions: u32 num_mem_regions, u32 pad, then the regions.
  constexpr std::size_t kHead = offsetof(drm_xe_query_mem_regions, mem_regions);
  std::uint32_t count = 0;
  if (reply.size() < kHead) return Result::kInvalidArgument;
  std::memcpy(&count, reply.data(), sizeof count);
  if (reply.size() < kHead + std::size_t{count} * sizeof(drm_xe_mem_region)) {
    return Result::kInvalidArgument;
  }
  std::vector<MemRegion> out;
  out.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    drm_xe_mem_region r{};
    std::memcpy(&r, reply.data() + kHead + i * sizeof r, sizeof r);
    if (r.mem_class > DRM_XE_MEM_REGION_CLASS_VRAM) return Result::kInvalidArgument;
    MemRegion m;
    m.mem_class = r.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM ? MemClass::kVram : MemClass::kSystem;
    m.instance = r.instance;
    m.min_page_size = r.min_page_size;
    m.total_size = r.total_size;
    m.used = r.used;
    m.cpu_visible_size = r.cpu_visible_size;
    m.cpu_visible_used = r.cpu_visible_used;
    out.push_back(m);
  }
  return out;
}

drm_xe_gem_create build_gem_create(const GemCreateDesc& d) {
  drm_xe_gem_create c{};
  c.size = d.size;
  c.placement = d.placement;
  c.flags = (d.defer_backing ? DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING : 0u) |
            (d.scanout ? DRM_XE_GEM_CREATE_FLAG_SCANOUT : 0u) |
            (d.needs_visible_vram ? DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM : 0u);
  c.vm_id = d.vm_id;
  c.cpu_caching = static_cast<std::uint16_t>(d.cpu_caching);
  return c;
}

drm_gem_close build_gem_close(std::uint32_t handle) {
  drm_gem_close c{};
  c.handle = handle;
  return c;
}

drm_xe_vm_create build_vm_create(const VmCreateDesc& d) {
  drm_xe_vm_create c{};
  switch (d.mode) {
    case VmMode::kDmaFence:
      break;
    case VmMode::kLongRunning:
      c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE;
      break;
    case VmMode::kFault:
      c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
      break;
  }
  if (d.scratch_page) c.flags |= DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE;
  return c;
}

drm_xe_vm_destroy build_vm_destroy(std::uint32_t vm_id) {
  drm_xe_vm_destroy d{};
  d.vm_id = vm_id;
  return d;
}

drm_xe_vm_bind_op build_vm_bind_op(const BindOpDesc& d) {
  drm_xe_vm_bind_op o{};
  o.addr = d.range.start;
  o.range = d.range.size;
  std::uint32_t flags = (d.readonly ? DRM_XE_VM_BIND_FLAG_READONLY : 0u) |
                        (d.immediate ? DRM_XE_VM_BIND_FLAG_IMMEDIATE : 0u);
  switch (d.kind) {
    case BindKind::kMapBo:
      o.op = DRM_XE_VM_BIND_OP_MAP;
      o.obj = d.bo;
      o.obj_offset = d.bo_offset;
      o.pat_index = d.pat_index;
      break;
    case BindKind::kMapUserptr:
      o.op = DRM_XE_VM_BIND_OP_MAP_USERPTR;
      o.userptr = d.userptr;
      o.pat_index = d.pat_index;
      break;
    case BindKind::kMapNull:
      o.op = DRM_XE_VM_BIND_OP_MAP;
      o.pat_index = d.pat_index;
      flags |= DRM_XE_VM_BIND_FLAG_NULL;
      break;
    case BindKind::kMapMirror:
      o.op = DRM_XE_VM_BIND_OP_MAP;
      o.pat_index = d.pat_index;
      o.cpu_addr_mirror_offset = 0;  // GPU VA == CPU VA
      flags |= DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
      if (d.autoreset) flags |= DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET;
      break;
    case BindKind::kUnmap:
      o.op = DRM_XE_VM_BIND_OP_UNMAP;
      break;
    case BindKind::kUnmapAll:
      o.op = DRM_XE_VM_BIND_OP_UNMAP_ALL;
      o.obj = d.bo;
      o.addr = 0;
      o.range = 0;
      break;
    case BindKind::kPrefetch:
      o.op = DRM_XE_VM_BIND_OP_PREFETCH;
      o.prefetch_mem_region_instance =
          d.prefetch.consult_preferred_location
              ? static_cast<std::uint32_t>(DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC)
              : d.prefetch.region_instance;
      break;
  }
  o.flags = flags;
  return o;
}

drm_xe_vm_bind build_vm_bind(std::uint32_t vm_id, std::span<const drm_xe_vm_bind_op> ops) {
  drm_xe_vm_bind b{};
  b.vm_id = vm_id;
  b.num_binds = static_cast<std::uint32_t>(ops.size());
  if (ops.size() == 1) {
    b.bind = ops[0];
  } else if (!ops.empty()) {
    b.vector_of_binds = user_ptr(ops.data());
  }
  return b;
}

drm_xe_madvise build_madvise(std::uint32_t vm_id, const MadviseDesc& d) {
  drm_xe_madvise m{};
  m.start = d.range.start;
  m.range = d.range.size;
  m.vm_id = vm_id;
  if (const auto* loc = std::get_if<PreferredLocation>(&d.attribute)) {
    m.type = DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC;
    switch (loc->kind) {
      case PreferredLocation::Kind::kDefaultDevice:
        m.preferred_mem_loc.devmem_fd = DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE;
        break;
      case PreferredLocation::Kind::kSystem:
        m.preferred_mem_loc.devmem_fd =
            static_cast<std::uint32_t>(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM);
        break;
      case PreferredLocation::Kind::kDeviceFd:
        m.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(loc->devmem_fd);
        m.preferred_mem_loc.region_instance = loc->region_instance;
        break;
    }
    m.preferred_mem_loc.migration_policy = static_cast<std::uint16_t>(loc->migration);
  } else if (const auto* atomic = std::get_if<AtomicAccess>(&d.attribute)) {
    m.type = DRM_XE_MEM_RANGE_ATTR_ATOMIC;
    m.atomic.val = atomic_val(*atomic);
  } else if (const auto* pat = std::get_if<PatIndex>(&d.attribute)) {
    m.type = DRM_XE_MEM_RANGE_ATTR_PAT;
    m.pat_index.val = pat->value;
  }
  return m;
}

drm_xe_vm_query_mem_range_attr build_mem_range_query(std::uint32_t vm_id, GpuRange range,
                                                     std::span<drm_xe_mem_range_attr> out) {
  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = vm_id;
  q.start = range.start;
  q.range = range.size;
  if (!out.empty()) {
    q.num_mem_ranges = static_cast<std::uint32_t>(out.size());
    q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
    q.vector_of_mem_attr = user_ptr(out.data());
  }
  return q;
}

MemRange parse_mem_range(const drm_xe_mem_range_attr& a) {
  MemRange r;
  r.range = GpuRange{a.start, a.end - a.start};
  const auto fd = static_cast<std::int32_t>(a.preferred_mem_loc.devmem_fd);
  const auto policy = a.preferred_mem_loc.migration_policy == DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES
                          ? MigrationPolicy::kOnlySystemPages
                          : MigrationPolicy::kAllPages;
  if (fd == DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM) {
    r.preferred = PreferredLocation::system(policy);
  } else if (fd == DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE) {
    r.preferred = PreferredLocation::device(policy);
  } else {
    r.preferred = PreferredLocation::device_fd(fd, 0, policy);
  }
  r.atomic = atomic_from(a.atomic.val);
  r.pat_index = static_cast<std::uint16_t>(a.pat_index.val);
  return r;
}

}  // namespace drm_sim::umd
