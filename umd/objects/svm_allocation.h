// umd/objects/svm_allocation.h — a shared-virtual-memory (system allocator) range.
//
// The compute runtime's system-allocator pattern: CPU memory (malloc/mmap)
// is made GPU-accessible at the same address by binding its range with
// DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR | MADVISE_AUTORESET on a fault-mode VM
// (pages arrive on GPU fault; the attributes go back to the defaults when
// the CPU range is unmapped). Memory advice then steers placement and atomics.
//
//   CPU VA   [---------- mmap'd or caller's range ----------)
//   GPU VA   [---------- the same addresses (mirror VMA) ----)
//
// Owns: the mirror binding (unbound by the destructor) and, for create(),
// the anonymous CPU mapping (munmap'ed after the unbind). Borrows the Vm,
// which must outlive it. Move-only. Locking: none inside.
// Errors: kInvalidArgument for a non-fault VM, an unaligned range or advice
// outside the range; otherwise the driver's Result; kOutOfMemory when mmap
// fails.
#pragma once

#include <optional>

#include "umd/core/expected.h"
#include "umd/objects/mem_advice.h"
#include "umd/objects/vm.h"
#include "umd/uapi/desc.h"

namespace drm_sim::umd {

class SvmAllocation {
 public:
  static constexpr std::uint64_t kPage = 4096;

  // mmaps size bytes (rounded up to 4 KiB) and mirrors them. The bind's PAT
  // is pat_index, by default the device's cached-coherent index.
  static Expected<SvmAllocation> create(Vm& vm, std::uint64_t size,
                                        std::optional<std::uint16_t> pat_index = std::nullopt);
  // Mirrors a page-aligned CPU range the caller owns (it need not be mapped:
  // the simulator does not touch CPU memory).
  static Expected<SvmAllocation> adopt(Vm& vm, GpuRange cpu_range,
                                       std::optional<std::uint16_t> pat_index = std::nullopt);

  SvmAllocation(SvmAllocation&& other) noexcept;
  SvmAllocation& operator=(SvmAllocation&& other) noexcept;
  SvmAllocation(const SvmAllocation&) = delete;
  SvmAllocation& operator=(const SvmAllocation&) = delete;
  ~SvmAllocation();

  GpuRange range() const { return range_; }
  void* data() const { return reinterpret_cast<void*>(range_.start); }  // NOLINT

  Result advise(MemAdvice advice) { return advise(range_, advice); }
  Result advise(GpuRange sub, MemAdvice advice);
  Result set_pat(GpuRange sub, std::uint16_t pat_index);
  Result prefetch(PrefetchTarget target) { return vm_->prefetch(range_, target); }

 private:
  SvmAllocation(Vm& vm, GpuRange range, bool owns_cpu)
      : vm_(&vm), range_(range), owns_cpu_(owns_cpu) {}
  static Expected<SvmAllocation> bind(Vm& vm, GpuRange range, bool owns_cpu,
                                      std::optional<std::uint16_t> pat_index);
  bool contains(GpuRange sub) const;
  void release();

  Vm* vm_ = nullptr;
  GpuRange range_;
  bool owns_cpu_ = false;
};

}  // namespace drm_sim::umd
