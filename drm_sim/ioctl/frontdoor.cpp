// The front door: drm_sim_open() and drm_sim_ioctl(). One table maps each
// request code to its handler; the argument is copied in (and out for IOWR
// requests) exactly as drm_ioctl() does, and the handler's Status becomes 0
// or -errno here and nowhere else.
#include <cstring>

#include "drm_sim/core/log.h"
#include "drm_sim/device/file.h"
#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"
#include "drm_sim/ioctl/handlers.h"
#include "drm_sim/sync/fault_plan.h"

namespace drm_sim {
namespace {

using Handler = Status (*)(DrmFile&, void*);

struct Entry {
  unsigned long request;
  Handler fn;
  const char* name;
};

constexpr Entry kIoctls[] = {
    {DRM_IOCTL_VERSION, ioctl::version, "VERSION"},
    {DRM_IOCTL_GEM_CLOSE, ioctl::gem_close, "GEM_CLOSE"},
    {DRM_IOCTL_XE_DEVICE_QUERY, ioctl::device_query, "XE_DEVICE_QUERY"},
    {DRM_IOCTL_XE_GEM_CREATE, ioctl::gem_create, "XE_GEM_CREATE"},
    {DRM_IOCTL_XE_GEM_MMAP_OFFSET, ioctl::gem_mmap_offset, "XE_GEM_MMAP_OFFSET"},
    {DRM_IOCTL_XE_VM_CREATE, ioctl::vm_create, "XE_VM_CREATE"},
    {DRM_IOCTL_XE_VM_DESTROY, ioctl::vm_destroy, "XE_VM_DESTROY"},
    {DRM_IOCTL_XE_VM_BIND, ioctl::vm_bind, "XE_VM_BIND"},
    {DRM_IOCTL_XE_MADVISE, ioctl::madvise, "XE_MADVISE"},
    {DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, ioctl::query_mem_range_attrs,
     "XE_VM_QUERY_MEM_RANGE_ATTRS"},
    {DRM_IOCTL_SIM_VM_STATS, ioctl::sim_vm_stats, "SIM_VM_STATS"},
    {DRM_IOCTL_SIM_FAULT_INJECT, ioctl::sim_fault_inject, "SIM_FAULT_INJECT"},
    {DRM_IOCTL_SIM_CPU_MMAP, ioctl::sim_cpu_mmap, "SIM_CPU_MMAP"},
    {DRM_IOCTL_SIM_MEM_ACCESS, ioctl::sim_mem_access, "SIM_MEM_ACCESS"},
    {DRM_IOCTL_SIM_MEM_STATS, ioctl::sim_mem_stats, "SIM_MEM_STATS"},
};

const Entry* find_entry(unsigned long request) {
  for (const auto& e : kIoctls) {
    if (e.request == request) return &e;
  }
  return nullptr;
}

int dispatch(DrmFile& file, unsigned long request, void* arg) {
  const Entry* e = find_entry(request);
  if (e == nullptr) {
    DRM_SIM_LOG(kIoctl, "unknown ioctl 0x{:x}", request);
    return -ENOTTY;
  }
  const std::size_t size = _IOC_SIZE(request);
  alignas(16) unsigned char kdata[256];
  if (size > sizeof kdata) return -EINVAL;
  if (arg == nullptr) return -EFAULT;
  std::memcpy(kdata, arg, size);
  const Status s = e->fn(file, kdata);
  end_syscall();  // a pending signal is delivered on the way out
  if ((_IOC_DIR(request) & _IOC_READ) != 0) std::memcpy(arg, kdata, size);
  if (!s.is_ok()) DRM_SIM_LOG(kIoctl, "{} -> -{}", e->name, s.error());
  return s.to_ret();
}

}  // namespace
}  // namespace drm_sim

extern "C" {

int drm_sim_open(const char* profile) {
  auto p = drm_sim::load_profile(profile == nullptr ? "" : profile);
  if (!p) return p.status().to_ret();
  auto dev = std::make_shared<drm_sim::Device>(std::move(*p));
  return drm_sim::install_file(std::make_shared<drm_sim::DrmFile>(std::move(dev)));
}

int drm_sim_open_file(int fd) {
  auto f = drm_sim::file_from_fd(fd);
  if (!f) return -EBADF;
  return drm_sim::install_file(std::make_shared<drm_sim::DrmFile>(f->device_ptr()));
}

int drm_sim_ioctl(int fd, unsigned long request, void* arg) {
  auto f = drm_sim::file_from_fd(fd);
  if (!f) return -EBADF;
  return drm_sim::dispatch(*f, request, arg);
}

int drm_sim_is_sim_fd(int fd) {
  return drm_sim::file_from_fd(fd) != nullptr ? 1 : 0;
}

const char* drm_sim_profile_name(int fd) {
  auto f = drm_sim::file_from_fd(fd);
  return f ? f->device().profile().name.c_str() : nullptr;
}

}  // extern "C"
