// DRM_IOCTL_VERSION, DEVICE_QUERY, GEM_CREATE, GEM_CLOSE, GEM_MMAP_OFFSET.
#include <algorithm>
#include <cstring>
#include <vector>

#include "drm_sim/core/log.h"
#include "drm_sim/core/uaccess.h"
#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/handlers.h"

namespace drm_sim::ioctl {

namespace {

// DRM_IOCTL_VERSION's string protocol: copy at most *len bytes, then report
// the full length (drmGetVersion calls twice: lengths, then strings).
Status put_string(const char* s, __kernel_size_t* len, char* user_buf) {
  const std::size_t n = std::strlen(s);
  if (*len > 0 && user_buf != nullptr) {
    DRM_SIM_TRY(copy_to_user(reinterpret_cast<std::uint64_t>(user_buf), s, std::min(*len, n)));
  }
  *len = n;
  return Status::ok();
}

// Two-call query protocol: size 0 asks for the size; otherwise it must match.
Status put_query(drm_xe_device_query& q, const std::vector<unsigned char>& blob) {
  if (q.size == 0) {
    q.size = static_cast<std::uint32_t>(blob.size());
    return Status::ok();
  }
  if (DRM_SIM_IOCTL_DBG(q.size != blob.size())) return Status::err(EINVAL);
  return copy_to_user(q.data, blob.data(), blob.size());
}

std::vector<unsigned char> mem_regions_blob(const Profile& p, DeviceMemory& mem) {
  std::vector<unsigned char> blob(sizeof(drm_xe_query_mem_regions) +
                                  p.regions.size() * sizeof(drm_xe_mem_region));
  auto* q = reinterpret_cast<drm_xe_query_mem_regions*>(blob.data());
  q->num_mem_regions = static_cast<std::uint32_t>(p.regions.size());
  for (std::size_t i = 0; i < p.regions.size(); ++i) {
    const MemRegionDesc& r = p.regions[i];
    drm_xe_mem_region& m = q->mem_regions[i];
    m.mem_class = static_cast<std::uint16_t>(r.mem_class);
    m.instance = r.instance;
    m.min_page_size = r.min_page_size;
    m.total_size = r.size;
    m.used = r.mem_class == MemClass::kVram ? mem.vram_used(r.tile) : 0;
    m.cpu_visible_size = r.mem_class == MemClass::kVram ? r.size : 0;
    m.cpu_visible_used = m.used;
  }
  return blob;
}

std::vector<unsigned char> config_blob(const Profile& p) {
  constexpr std::uint32_t kParams = DRM_XE_QUERY_CONFIG_MAX_EXEC_QUEUE_PRIORITY + 1;
  std::vector<unsigned char> blob(sizeof(drm_xe_query_config) + kParams * sizeof(std::uint64_t));
  auto* q = reinterpret_cast<drm_xe_query_config*>(blob.data());
  q->num_params = kParams;
  q->info[DRM_XE_QUERY_CONFIG_REV_AND_DEVICE_ID] =
      (static_cast<std::uint64_t>(p.pci_revision) << 16) | p.pci_device_id;
  q->info[DRM_XE_QUERY_CONFIG_FLAGS] =
      (p.features.discrete ? DRM_XE_QUERY_CONFIG_FLAG_HAS_VRAM : 0) |
      DRM_XE_QUERY_CONFIG_FLAG_HAS_LOW_LATENCY |
      (p.features.has_usm ? DRM_XE_QUERY_CONFIG_FLAG_HAS_CPU_ADDR_MIRROR : 0) |
      (p.uapi_at_least(UapiRevision::k7_1) ? DRM_XE_QUERY_CONFIG_FLAG_HAS_PURGING_SUPPORT : 0);
  q->info[DRM_XE_QUERY_CONFIG_MIN_ALIGNMENT] = p.vram_alignment();
  q->info[DRM_XE_QUERY_CONFIG_VA_BITS] = p.va_bits;
  q->info[DRM_XE_QUERY_CONFIG_MAX_EXEC_QUEUE_PRIORITY] = 2;
  return blob;
}

// One main GT per tile (gt_id = tile id; no media GT is modelled). Its near
// regions: the tile's VRAM on a discrete part, system memory on an
// integrated one; far: every other region.
std::vector<unsigned char> gt_list_blob(const Profile& p) {
  std::vector<unsigned char> blob(sizeof(drm_xe_query_gt_list) + p.num_tiles * sizeof(drm_xe_gt));
  auto* q = reinterpret_cast<drm_xe_query_gt_list*>(blob.data());
  q->num_gt = p.num_tiles;
  const std::uint64_t all = p.valid_placement_mask();
  for (std::uint32_t t = 0; t < p.num_tiles; ++t) {
    drm_xe_gt& g = q->gt_list[t];
    g.type = DRM_XE_QUERY_GT_TYPE_MAIN;
    g.tile_id = static_cast<std::uint16_t>(t);
    g.gt_id = static_cast<std::uint16_t>(t);
    g.reference_clock = p.reference_clock_hz;
    const MemRegionDesc* vram = p.vram_for_tile(static_cast<std::uint16_t>(t));
    g.near_mem_regions = 1ull << (vram != nullptr ? vram->instance : p.regions[0].instance);
    g.far_mem_regions = all & ~g.near_mem_regions;
    g.ip_ver_major = p.graphics_ip_major;
    g.ip_ver_minor = p.graphics_ip_minor;
  }
  return blob;
}

// The engines a UMD's initialisation looks for, per GT: one compute and one
// copy engine, and one render engine on GT 0. drm_sim runs no batches; the
// list lets exec-queue-less UMD start-up code find what it expects.
std::vector<unsigned char> engines_blob(const Profile& p) {
  std::vector<drm_xe_engine_class_instance> list;
  for (std::uint32_t t = 0; t < p.num_tiles; ++t) {
    const auto gt = static_cast<std::uint16_t>(t);
    if (t == 0) list.push_back({DRM_XE_ENGINE_CLASS_RENDER, 0, gt, 0});
    list.push_back({DRM_XE_ENGINE_CLASS_COMPUTE, 0, gt, 0});
    list.push_back({DRM_XE_ENGINE_CLASS_COPY, 0, gt, 0});
  }
  std::vector<unsigned char> blob(sizeof(drm_xe_query_engines) +
                                  list.size() * sizeof(drm_xe_engine));
  auto* q = reinterpret_cast<drm_xe_query_engines*>(blob.data());
  q->num_engines = static_cast<std::uint32_t>(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) q->engines[i].instance = list[i];
  return blob;
}

}  // namespace

Status version(DrmFile&, void* arg) {
  auto* v = static_cast<drm_version*>(arg);
  v->version_major = 1;
  v->version_minor = 1;
  v->version_patchlevel = 0;
  DRM_SIM_TRY(put_string("xe", &v->name_len, v->name));
  DRM_SIM_TRY(put_string("20260101", &v->date_len, v->date));
  DRM_SIM_TRY(put_string("Intel Xe2 Graphics (drm_sim)", &v->desc_len, v->desc));
  return Status::ok();
}

Status gem_close(DrmFile& f, void* arg) {
  const auto* c = static_cast<drm_gem_close*>(arg);
  if (DRM_SIM_IOCTL_DBG(c->pad != 0)) return Status::err(EINVAL);
  if (DRM_SIM_IOCTL_DBG(!f.close_handle(c->handle).is_ok())) return Status::err(EINVAL);
  return Status::ok();
}

Status device_query(DrmFile& f, void* arg) {
  auto* q = static_cast<drm_xe_device_query*>(arg);
  if (DRM_SIM_IOCTL_DBG(q->extensions != 0) ||
      DRM_SIM_IOCTL_DBG(q->reserved[0] != 0 || q->reserved[1] != 0)) {
    return Status::err(EINVAL);
  }
  const Profile& p = f.device().profile();
  switch (q->query) {
    case DRM_XE_DEVICE_QUERY_MEM_REGIONS:
      return put_query(*q, mem_regions_blob(p, f.device().memory()));
    case DRM_XE_DEVICE_QUERY_CONFIG:
      return put_query(*q, config_blob(p));
    case DRM_XE_DEVICE_QUERY_GT_LIST:
      return put_query(*q, gt_list_blob(p));
    case DRM_XE_DEVICE_QUERY_ENGINES:
      return put_query(*q, engines_blob(p));
    default:
      DRM_SIM_LOG(kIoctl, "device_query: query {} not served", q->query);
      return Status::err(EINVAL);
  }
}

Status gem_create(DrmFile& f, void* arg) {
  auto* c = static_cast<drm_xe_gem_create*>(arg);
  const Profile& p = f.device().profile();
  constexpr std::uint32_t kKnownFlags = DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING |
                                        DRM_XE_GEM_CREATE_FLAG_SCANOUT |
                                        DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM;
  const std::uint32_t vram_mask = p.vram_placement_mask();
  const bool wants_vram = (c->placement & vram_mask) != 0;
  const std::uint64_t align = wants_vram ? p.vram_alignment() : kPage4K;
  if (DRM_SIM_IOCTL_DBG(c->extensions != 0) ||
      DRM_SIM_IOCTL_DBG(c->reserved[0] != 0 || c->reserved[1] != 0) ||
      DRM_SIM_IOCTL_DBG(c->pad[0] != 0 || c->pad[1] != 0 || c->pad[2] != 0) ||
      DRM_SIM_IOCTL_DBG(c->flags & ~kKnownFlags) || DRM_SIM_IOCTL_DBG(c->handle != 0) ||
      DRM_SIM_IOCTL_DBG(c->placement == 0) ||
      DRM_SIM_IOCTL_DBG(c->placement & ~p.valid_placement_mask()) ||
      DRM_SIM_IOCTL_DBG((c->flags & DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM) && !wants_vram) ||
      DRM_SIM_IOCTL_DBG(c->cpu_caching == 0 || c->cpu_caching > DRM_XE_GEM_CPU_CACHING_WC) ||
      DRM_SIM_IOCTL_DBG(wants_vram && c->cpu_caching == DRM_XE_GEM_CPU_CACHING_WB) ||
      DRM_SIM_IOCTL_DBG((c->flags & DRM_XE_GEM_CREATE_FLAG_SCANOUT) &&
                        c->cpu_caching == DRM_XE_GEM_CPU_CACHING_WB) ||
      DRM_SIM_IOCTL_DBG(c->size == 0 || !is_aligned(c->size, align))) {
    return Status::err(EINVAL);
  }
  if (c->vm_id != 0 && DRM_SIM_IOCTL_DBG(f.vm(c->vm_id) == nullptr)) return Status::err(ENOENT);
  // A BO larger than every region it may live in cannot be backed: upstream's
  // TTM allocation fails with ENOSPC at create time (IGT xe_create
  // create-massive-size). DEFER_BACKING allocates nothing at create.
  if ((c->flags & DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING) == 0) {
    std::uint64_t largest = 0;
    for (const MemRegionDesc& r : p.regions) {
      if ((c->placement & (1u << r.instance)) != 0) largest = std::max(largest, r.size);
    }
    if (DRM_SIM_IOCTL_DBG(c->size > largest)) return Status::err(ENOSPC);
  } else {
    // A deferred BO allocates nothing at create, and upstream learns only at
    // its first use whether it fits. The simulator still keeps state per
    // 2 MiB chunk of every BO from the start, so it refuses with -ENOMEM (as
    // an allocation failure) a BO larger than all of the device's memory
    // together, which could never be backed anyway (the fuzzer's 2^63-byte
    // deferred BO asked for a 127 TiB chunk table).
    std::uint64_t all_memory = 0;
    for (const MemRegionDesc& r : p.regions) all_memory += r.size;
    if (DRM_SIM_IOCTL_DBG(c->size > all_memory)) return Status::err(ENOMEM);
  }
  Bo desc;
  desc.size = c->size;
  desc.placement = c->placement;
  desc.flags = c->flags;
  desc.cpu_caching = c->cpu_caching;
  desc.vm_id = c->vm_id;
  auto h = f.create_bo(desc);
  if (!h) return h.status();
  c->handle = *h;
  return Status::ok();
}

Status gem_mmap_offset(DrmFile& f, void* arg) {
  auto* m = static_cast<drm_xe_gem_mmap_offset*>(arg);
  if (DRM_SIM_IOCTL_DBG(m->extensions != 0) ||
      DRM_SIM_IOCTL_DBG(m->reserved[0] != 0 || m->reserved[1] != 0) ||
      DRM_SIM_IOCTL_DBG(m->flags != 0)) {
    return Status::err(EINVAL);
  }
  auto bo = f.bo_of(m->handle);
  if (DRM_SIM_IOCTL_DBG(!bo)) return Status::err(ENOENT);
  std::lock_guard<std::mutex> g(f.device().bo_mutex());
  const Bo* b = f.device().bo_locked(*bo);
  if (DRM_SIM_IOCTL_DBG(b->purgeable())) return Status::err(EBUSY);  // 7.1: DONTNEED
  m->offset = b->mmap_offset;
  return Status::ok();
}

}  // namespace drm_sim::ioctl
