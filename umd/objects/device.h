// umd/objects/device.h — an opened xe device: the UMD's root object.
//
// A Device is a DRM file (an fd from drm_sim_open() or from open(2) of a
// render-node path, or a caller's KmdBackend), the restart loop every ioctl
// goes through, and what the device told us when it was opened: the driver
// name (DRM_IOCTL_VERSION must say "xe"), DEVICE_QUERY CONFIG and
// MEM_REGIONS, each with the two-call protocol (size, then data).
//
// Owns: the fd when it opened it (closed by the destructor), its backend and
// its RestartingKmd. Vm, BufferObject and SvmAllocation objects borrow the
// Device, which must outlive them. Not movable (objects hold its address).
// Locking: call() and the const accessors may be used from several threads;
// refresh_mem_regions() must not race with mem_regions().
// Errors: Result values; open fails with the Result of the failing step
// (kNotFound for a missing node, kNotSupported for a non-xe driver, ...).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "umd/core/expected.h"
#include "umd/kmd/libdrm_backend.h"
#include "umd/kmd/restarting_kmd.h"
#include "umd/objects/platform.h"
#include "umd/uapi/desc.h"

namespace drm_sim::umd {

class Device {
 public:
  // A new simulated device: profile is a built-in name, a JSON path, or
  // nullptr for the default profile.
  static Expected<std::unique_ptr<Device>> open_profile(const char* profile,
                                                        RestartOptions restart = {});
  // A render node (or anything else that answers the xe uapi), by path.
  static Expected<std::unique_ptr<Device>> open_path(const char* path, RestartOptions restart = {});
  // Over a caller's backend (a FakeBackend in tests). No fd is owned.
  static Expected<std::unique_ptr<Device>> over_backend(KmdBackend& backend,
                                                        RestartOptions restart = {},
                                                        RestartingKmd::SleepFn sleep = {});

  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // The one way the UMD reaches the driver: the restart loop, then
  // result_from_errno().
  Result call(unsigned long request, void* arg);

  int fd() const { return fd_; }  // -1 over a caller's backend
  const std::string& driver_name() const { return driver_name_; }
  const DeviceConfig& config() const { return config_; }
  const std::vector<MemRegion>& mem_regions() const { return regions_; }
  const MemRegion* system_region() const;
  std::vector<MemRegion> vram_regions() const;
  PatConfig pat() const { return pat_config_for(config_.pci_device_id); }

  RestartingKmd& kmd() { return kmd_; }
  RestartCounters restart_counters() const { return kmd_.counters(); }

  // Asks MEM_REGIONS again (the used/visible figures change over time).
  Result refresh_mem_regions();

 private:
  Device(int fd, bool owns_fd, KmdBackend* external, RestartOptions restart,
         RestartingKmd::SleepFn sleep);
  static Expected<std::unique_ptr<Device>> finish(std::unique_ptr<Device> d);
  Result init();
  Result query(std::uint32_t query, std::vector<std::byte>& reply);

  int fd_ = -1;
  bool owns_fd_ = false;
  std::unique_ptr<LibdrmBackend> own_backend_;  // before kmd_: kmd_ refers to it
  RestartingKmd kmd_;
  std::string driver_name_;
  DeviceConfig config_;
  std::vector<MemRegion> regions_;
};

}  // namespace drm_sim::umd
