// umd/vulkan/allocator.h — vkAllocateMemory/vkFreeMemory over a Vm.
//
// allocate() runs a PlacementPlan (placement.h) against the driver:
//   BO:   GEM_CREATE, then VM_BIND MAP of the whole BO at a fresh GPU VA
//   SVM:  VM_BIND MAP CPU_ADDR_MIRROR|MADVISE_AUTORESET of fresh CPU memory
// then one MADVISE per planned attribute over the whole allocation. Freeing
// is the reverse: VM_BIND UNMAP, then GEM_CLOSE (BO) or munmap (SVM).
// GPU VAs of BOs are reserved in the CPU address space (an inaccessible
// mmap), so they never collide with SVM ranges, whose GPU VA is their CPU VA.
//
// Owns: each DeviceMemory owns its BO or SVM range and its VA reservation.
// Borrows the Vm (which must outlive the allocator and every DeviceMemory).
// Locking: none inside. Errors: plan errors (kInvalidArgument), the driver's
// Result of the failing ioctl (everything done before it is undone), or
// kOutOfMemory when no VA could be reserved.
#pragma once

#include <memory>
#include <optional>

#include "umd/core/expected.h"
#include "umd/objects/buffer_object.h"
#include "umd/objects/svm_allocation.h"
#include "umd/objects/vm.h"
#include "umd/vulkan/memory_types.h"
#include "umd/vulkan/placement.h"

namespace drm_sim::umd::vk {

class DeviceMemory {
 public:
  ~DeviceMemory();
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;

  const PlacementPlan& plan() const { return plan_; }
  GpuRange gpu_range() const { return range_; }
  // The GEM handle (0 for SVM memory).
  std::uint32_t bo_handle() const { return bo_ ? bo_->handle() : 0; }

 private:
  friend class MemoryAllocator;
  DeviceMemory(Vm& vm, PlacementPlan plan) : vm_(vm), plan_(std::move(plan)) {}

  Vm& vm_;
  PlacementPlan plan_;
  GpuRange range_;
  GpuRange reservation_;  // BO only: the CPU VA reservation behind range_
  bool bound_ = false;    // BO only
  std::optional<BufferObject> bo_;
  std::optional<SvmAllocation> svm_;
};

class MemoryAllocator {
 public:
  // The table comes from the VM's device (its MEM_REGIONS answer).
  static Expected<MemoryAllocator> for_vm(Vm& vm);

  const MemoryTable& table() const { return table_; }
  PlacementContext context() const;
  Expected<std::unique_ptr<DeviceMemory>> allocate(const AllocationRequest& req);

 private:
  MemoryAllocator(Vm& vm, MemoryTable table) : vm_(&vm), table_(table) {}
  Result back_with_bo(DeviceMemory& m);
  Result back_with_svm(DeviceMemory& m);

  Vm* vm_;
  MemoryTable table_;
};

}  // namespace drm_sim::umd::vk
