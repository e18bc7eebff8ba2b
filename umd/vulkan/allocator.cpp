// Running a PlacementPlan: create, bind, advise; undo in reverse on failure.
#include "umd/vulkan/allocator.h"

#include <sys/mman.h>

namespace drm_sim::umd::vk {

namespace {

// An inaccessible CPU VA range of `size` bytes aligned to `align`.
Expected<GpuRange> reserve_va(std::uint64_t size, std::uint64_t align) {
  const std::uint64_t span = size + align;
  void* p = ::mmap(nullptr, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return Result::kOutOfMemory;
  const auto base = reinterpret_cast<std::uint64_t>(p);
  const std::uint64_t start = (base + align - 1) / align * align;
  // Give back the unaligned head and the tail.
  if (start > base) ::munmap(p, start - base);
  if (base + span > start + size) {
    ::munmap(reinterpret_cast<void*>(start + size), base + span - (start + size));  // NOLINT
  }
  return GpuRange{start, size};
}

void release_va(GpuRange r) {
  if (r.size != 0) ::munmap(reinterpret_cast<void*>(r.start), r.size);  // NOLINT
}

}  // namespace

DeviceMemory::~DeviceMemory() {
  if (bound_) {
    BindOpDesc op;
    op.kind = BindKind::kUnmap;
    op.range = range_;
    (void)vm_.bind(op);
  }
  bo_.reset();   // GEM_CLOSE
  svm_.reset();  // unbind + munmap
  release_va(reservation_);
}

Expected<MemoryAllocator> MemoryAllocator::for_vm(Vm& vm) {
  auto table = build_memory_table(vm.device().mem_regions());
  if (!table) return table.result();
  return MemoryAllocator(vm, *table);
}

PlacementContext MemoryAllocator::context() const {
  return PlacementContext{vm_->fault_mode(), vm_->device().config().has_cpu_addr_mirror,
                          vm_->device().pat()};
}

Expected<std::unique_ptr<DeviceMemory>> MemoryAllocator::allocate(const AllocationRequest& req) {
  auto plan = plan_placement(table_, req, context());
  if (!plan) return plan.result();
  std::unique_ptr<DeviceMemory> m(new DeviceMemory(*vm_, std::move(*plan)));
  const Result r = m->plan_.backing == Backing::kSvmMirror ? back_with_svm(*m) : back_with_bo(*m);
  if (r != Result::kSuccess) return r;  // ~DeviceMemory undoes what was done
  for (const MadviseAttribute& a : m->plan_.advice) {
    if (Result ar = vm_->madvise(MadviseDesc{m->range_, a}); ar != Result::kSuccess) return ar;
  }
  return m;
}

Result MemoryAllocator::back_with_bo(DeviceMemory& m) {
  auto bo = BufferObject::create(vm_->device(), m.plan_.gem);
  if (!bo) return bo.result();
  m.bo_.emplace(std::move(*bo));
  auto va = reserve_va(m.plan_.size, m.plan_.va_alignment);
  if (!va) return va.result();
  m.reservation_ = *va;
  m.range_ = *va;
  BindOpDesc op;
  op.kind = BindKind::kMapBo;
  op.range = m.range_;
  op.bo = m.bo_->handle();
  op.pat_index = m.plan_.pat_index;
  if (Result r = vm_->bind(op); r != Result::kSuccess) return r;
  m.bound_ = true;
  return Result::kSuccess;
}

Result MemoryAllocator::back_with_svm(DeviceMemory& m) {
  auto svm = SvmAllocation::create(*vm_, m.plan_.size, m.plan_.pat_index);
  if (!svm) return svm.result();
  m.range_ = svm->range();
  m.svm_.emplace(std::move(*svm));
  return Result::kSuccess;
}

}  // namespace drm_sim::umd::vk
