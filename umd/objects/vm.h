// umd/objects/vm.h — a GPU virtual address space (DRM_IOCTL_XE_VM_CREATE).
//
// Binds (single or all-or-nothing arrays), madvise of one attribute over one
// range, prefetch, and the attribute query with its two-call protocol: a
// count call, then a fill call; -ENOSPC from the fill call (the layout grew
// in between) redoes both calls, at most kMaxQueryRounds times.
//
// Owns: the VM id (VM_DESTROY in the destructor). Borrows the Device, which
// must outlive it. Not movable (allocations hold its address).
// Locking: none inside; the driver serialises concurrent calls on one VM.
// Errors: Result values from the driver; prefetch() returns kNotSupported
// where the driver answers -EOPNOTSUPP (drm_sim before its migration
// engine); query_mem_ranges() returns kNoSpace when every round lost the race.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "umd/core/expected.h"
#include "umd/objects/device.h"
#include "umd/uapi/desc.h"

namespace drm_sim::umd {

class Vm {
 public:
  static constexpr int kMaxQueryRounds = 8;

  static Expected<std::unique_ptr<Vm>> create(Device& device, VmCreateDesc desc = {});
  ~Vm();
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  std::uint32_t id() const { return id_; }
  VmMode mode() const { return mode_; }
  bool fault_mode() const { return mode_ == VmMode::kFault; }
  Device& device() { return device_; }

  Result bind(const BindOpDesc& op);
  Result bind(std::span<const BindOpDesc> ops);  // all or nothing
  Result madvise(const MadviseDesc& d);
  Result prefetch(GpuRange range, PrefetchTarget target);
  Expected<std::vector<MemRange>> query_mem_ranges(GpuRange range);
  // Rounds redone after -ENOSPC by query_mem_ranges() since creation.
  std::uint64_t query_redos() const { return query_redos_; }

 private:
  Vm(Device& device, std::uint32_t id, VmMode mode) : device_(device), id_(id), mode_(mode) {}

  Device& device_;
  std::uint32_t id_;
  VmMode mode_;
  std::uint64_t query_redos_ = 0;
};

}  // namespace drm_sim::umd
