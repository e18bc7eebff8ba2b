// VM create/destroy, bind, madvise, prefetch and the two-call attribute query.
#include "umd/objects/vm.h"

#include "umd/uapi/build.h"

namespace drm_sim::umd {

Expected<std::unique_ptr<Vm>> Vm::create(Device& device, VmCreateDesc desc) {
  drm_xe_vm_create c = build_vm_create(desc);
  if (Result r = device.call(DRM_IOCTL_XE_VM_CREATE, &c); r != Result::kSuccess) return r;
  return std::unique_ptr<Vm>(new Vm(device, c.vm_id, desc.mode));
}

Vm::~Vm() {
  drm_xe_vm_destroy d = build_vm_destroy(id_);
  (void)device_.call(DRM_IOCTL_XE_VM_DESTROY, &d);  // nothing to do about a failure here
}

Result Vm::bind(const BindOpDesc& op) {
  return bind(std::span<const BindOpDesc>(&op, 1));
}

Result Vm::bind(std::span<const BindOpDesc> ops) {
  if (ops.empty()) return Result::kSuccess;
  std::vector<drm_xe_vm_bind_op> uops;
  uops.reserve(ops.size());
  for (const auto& op : ops) uops.push_back(build_vm_bind_op(op));
  drm_xe_vm_bind b = build_vm_bind(id_, uops);
  return device_.call(DRM_IOCTL_XE_VM_BIND, &b);
}

Result Vm::madvise(const MadviseDesc& d) {
  drm_xe_madvise m = build_madvise(id_, d);
  return device_.call(DRM_IOCTL_XE_MADVISE, &m);
}

Result Vm::prefetch(GpuRange range, PrefetchTarget target) {
  BindOpDesc op;
  op.kind = BindKind::kPrefetch;
  op.range = range;
  op.prefetch = target;
  return bind(op);
}

Expected<std::vector<MemRange>> Vm::query_mem_ranges(GpuRange range) {
  for (int round = 0; round < kMaxQueryRounds; ++round) {
    if (round > 0) ++query_redos_;
    drm_xe_vm_query_mem_range_attr count = build_mem_range_query(id_, range, {});
    if (Result r = device_.call(DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &count);
        r != Result::kSuccess) {
      return r;
    }
    if (count.num_mem_ranges == 0) return std::vector<MemRange>{};
    std::vector<drm_xe_mem_range_attr> attrs(count.num_mem_ranges);
    drm_xe_vm_query_mem_range_attr fill = build_mem_range_query(id_, range, attrs);
    const Result r = device_.call(DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &fill);
    if (r == Result::kNoSpace) continue;  // more VMAs than counted: redo both calls
    if (r != Result::kSuccess) return r;
    std::vector<MemRange> out;
    out.reserve(fill.num_mem_ranges);
    for (std::uint32_t i = 0; i < fill.num_mem_ranges && i < attrs.size(); ++i) {
      out.push_back(parse_mem_range(attrs[i]));
    }
    return out;
  }
  return Result::kNoSpace;
}

}  // namespace drm_sim::umd
