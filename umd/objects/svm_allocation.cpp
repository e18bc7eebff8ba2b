// Mirror bind with autoreset; advice inside the range; unbind then munmap.
#include "umd/objects/svm_allocation.h"

#include <sys/mman.h>

#include <utility>

namespace drm_sim::umd {

Expected<SvmAllocation> SvmAllocation::create(Vm& vm, std::uint64_t size,
                                              std::optional<std::uint16_t> pat_index) {
  if (size == 0) return Result::kInvalidArgument;
  const std::uint64_t rounded = (size + kPage - 1) & ~(kPage - 1);
  void* p = ::mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return Result::kOutOfMemory;
  const GpuRange range{reinterpret_cast<std::uint64_t>(p), rounded};
  auto a = bind(vm, range, true, pat_index);
  if (!a) ::munmap(p, rounded);
  return a;
}

Expected<SvmAllocation> SvmAllocation::adopt(Vm& vm, GpuRange cpu_range,
                                             std::optional<std::uint16_t> pat_index) {
  if (cpu_range.size == 0 || cpu_range.start % kPage != 0 || cpu_range.size % kPage != 0) {
    return Result::kInvalidArgument;
  }
  return bind(vm, cpu_range, false, pat_index);
}

Expected<SvmAllocation> SvmAllocation::bind(Vm& vm, GpuRange range, bool owns_cpu,
                                            std::optional<std::uint16_t> pat_index) {
  if (!vm.fault_mode()) return Result::kInvalidArgument;
  BindOpDesc op;
  op.kind = BindKind::kMapMirror;
  op.range = range;
  op.pat_index = pat_index.value_or(vm.device().pat().cached_coherent);
  op.autoreset = true;
  if (Result r = vm.bind(op); r != Result::kSuccess) return r;
  return SvmAllocation(vm, range, owns_cpu);
}

SvmAllocation::SvmAllocation(SvmAllocation&& other) noexcept
    : vm_(std::exchange(other.vm_, nullptr)),
      range_(std::exchange(other.range_, GpuRange{})),
      owns_cpu_(std::exchange(other.owns_cpu_, false)) {}

SvmAllocation& SvmAllocation::operator=(SvmAllocation&& other) noexcept {
  if (this != &other) {
    release();
    vm_ = std::exchange(other.vm_, nullptr);
    range_ = std::exchange(other.range_, GpuRange{});
    owns_cpu_ = std::exchange(other.owns_cpu_, false);
  }
  return *this;
}

SvmAllocation::~SvmAllocation() {
  release();
}

void SvmAllocation::release() {
  if (vm_ == nullptr) return;
  BindOpDesc op;
  op.kind = BindKind::kUnmap;
  op.range = range_;
  (void)vm_->bind(op);
  if (owns_cpu_) ::munmap(reinterpret_cast<void*>(range_.start), range_.size);  // NOLINT
  vm_ = nullptr;
}

bool SvmAllocation::contains(GpuRange sub) const {
  return sub.size > 0 && sub.start >= range_.start && sub.end() <= range_.end() &&
         sub.end() > sub.start;
}

Result SvmAllocation::advise(GpuRange sub, MemAdvice advice) {
  if (!contains(sub)) return Result::kInvalidArgument;
  return vm_->madvise(to_madvise(sub, advice));
}

Result SvmAllocation::set_pat(GpuRange sub, std::uint16_t pat_index) {
  if (!contains(sub)) return Result::kInvalidArgument;
  return vm_->madvise(pat_advice(sub, pat_index));
}

}  // namespace drm_sim::umd
