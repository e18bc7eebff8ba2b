// The front door: drm_sim_open() and drm_sim_ioctl(). One table maps each
// request code to its handler; the argument is copied in (and out for IOWR
// requests) exactly as drm_ioctl() does, and the handler's Status becomes 0
// or -errno here and nowhere else. It is also the return to user space of
// the signal model: the pending signal ends with the ioctl, and in a device's
// -ERESTARTSYS mode an ioctl interrupted by a non-fatal signal whose handler
// has SA_RESTART is restarted here, from the caller's unchanged argument, as
// the kernel's signal delivery restarts the system call.
#include <csignal>
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

// A plan that signals every wait with an SA_RESTART handler would restart
// forever (as a kernel would); past this bound the ioctl returns -EINTR.
constexpr std::uint32_t kMaxTransparentRestarts = 10'000;

// Whether the kernel would restart a system call interrupted by signo: its
// handler is installed with SA_RESTART.
bool handler_restarts(int signo) {
  struct sigaction sa {};
  if (signo <= 0 || signo >= NSIG || sigaction(signo, nullptr, &sa) != 0) return false;
  const bool handled =
      (sa.sa_flags & SA_SIGINFO) != 0 || (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
  return handled && (sa.sa_flags & SA_RESTART) != 0;
}

// kIoctls indexed by the request's command number (_IOC_NR); the full
// request code (direction, size, type) must still match.
struct EntryIndex {
  const Entry* by_nr[256] = {};
  constexpr EntryIndex() {
    for (const auto& e : kIoctls) by_nr[_IOC_NR(e.request)] = &e;
  }
};
constexpr EntryIndex kIndex;
static_assert([] {
  for (const auto& e : kIoctls) {
    if (kIndex.by_nr[_IOC_NR(e.request)] != &e) return false;  // two share a number
  }
  return true;
}());

const Entry* find_entry(unsigned long request) {
  const Entry* e = kIndex.by_nr[_IOC_NR(request)];
  return e != nullptr && e->request == request ? e : nullptr;
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
  Status s;
  for (std::uint32_t restarts = 0;; ++restarts) {
    std::memcpy(kdata, arg, size);
    s = e->fn(file, kdata);
    const PendingSignal sig = current_signal();
    end_syscall();  // a pending signal is delivered on the way out
    if (s.error() != EINTR || !sig.pending || sig.fatal || restarts == kMaxTransparentRestarts ||
        file.device().signal_return() != SignalReturn::kRestartSys ||
        !handler_restarts(sig.signo)) {
      break;
    }
    file.device().plan().note_transparent_restart();
    DRM_SIM_LOG(kIoctl, "{}: -ERESTARTSYS, signal {} has SA_RESTART: restarted", e->name,
                sig.signo);
  }
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
  auto f = drm_sim::file_for_ioctl(fd);
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
