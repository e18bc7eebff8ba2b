// Tests that encode upstream xe behaviour the simulator does not match yet.
// Not committed: each fails against the current engine (see the report).
#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/ioctl_test_util.h"

namespace drm_sim_test {
namespace {

class UpstreamQuirksTest : public IoctlTest {};

// Upstream xe_query.c query_config(): HAS_CPU_ADDR_MIRROR is set when
// xe->info.has_usm (and CONFIG_DRM_XE_GPUSVM). UMDs gate SVM on this bit.
TEST_F(UpstreamQuirksTest, ConfigAdvertisesCpuAddrMirrorOnADeviceWithUsm) {
  // given b580 (has_usm true in profiles/b580.json)
  // when
  const std::vector<std::uint64_t> info = config_info(fd());
  // then
  ASSERT_GT(info.size(), static_cast<std::size_t>(DRM_XE_QUERY_CONFIG_FLAGS));
  EXPECT_NE(info[DRM_XE_QUERY_CONFIG_FLAGS] & DRM_XE_QUERY_CONFIG_FLAG_HAS_CPU_ADDR_MIRROR, 0u);
}

// Upstream drm_gem_handle_create_tail(): idr_alloc(&file_priv->object_idr,
// obj, 1, 0, ...) hands out the lowest free handle >= 1.
TEST_F(UpstreamQuirksTest, GemHandleFreedByCloseIsReusedByTheNextCreate) {
  // given handles 1 and 2, then 1 closed
  const std::uint32_t first = make_bo(fd(), 64 * kKiB);
  make_bo(fd(), 64 * kKiB);
  ASSERT_EQ(gem_close(fd(), first), 0);
  // when
  const std::uint32_t next = make_bo(fd(), 64 * kKiB);
  // then
  EXPECT_EQ(next, first);
}

// Upstream xe_vm_create_ioctl(): xa_alloc(&xef->vm.xa, &id, vm, xa_limit_32b)
// on an XA_FLAGS_ALLOC1 xarray hands out the lowest free id >= 1.
TEST_F(UpstreamQuirksTest, VmIdFreedByDestroyIsReusedByTheNextCreate) {
  // given VMs 1 and 2, then 1 destroyed
  const std::uint32_t first = make_vm(fd());
  make_vm(fd());
  ASSERT_EQ(vm_destroy(fd(), first), 0);
  // when
  const std::uint32_t next = make_vm(fd());
  // then
  EXPECT_EQ(next, first);
}

// Upstream xe_vm_create_ioctl(): SCRATCH_PAGE with FAULT_MODE is refused only
// when !xe->info.needs_scratch; bmg_desc (B580) sets needs_scratch = true.
TEST_F(UpstreamQuirksTest, ScratchPageWithFaultModeIsAcceptedOnB580) {
  EXPECT_EQ(vm_create(fd(), kFaultVm | DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE), 0);
}

// Upstream xe_vm_bind_ioctl(): num_binds == 0 is allowed (syncs only): it
// ends in -ENODATA, which vm_bind_ioctl_signal_fences() turns into 0.
TEST_F(UpstreamQuirksTest, ZeroBindsIsASyncOnlyBindThatSucceeds) {
  // given
  const std::uint32_t vm = make_vm(fd());
  drm_xe_vm_bind b{};
  b.vm_id = vm;
  // when
  const int r = drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_BIND, &b);
  // then
  EXPECT_EQ(r, 0);
}

// Upstream xe_sync_entry_parse(): a USER_FENCE sync without
// DRM_XE_SYNC_FLAG_SIGNAL -> -EOPNOTSUPP.
TEST_F(UpstreamQuirksTest, UserFenceWithoutSignalFlagFailsWithEOPNOTSUPP) {
  // given
  const std::uint32_t vm = make_vm(fd());
  alignas(8) std::uint64_t fence = 0;
  drm_xe_sync s{};
  s.type = DRM_XE_SYNC_TYPE_USER_FENCE;
  s.addr = reinterpret_cast<std::uintptr_t>(&fence);
  s.timeline_value = 1;
  drm_xe_vm_bind b = bind_args(vm, map_null(kMiB, 64 * kKiB));
  b.num_syncs = 1;
  b.syncs = reinterpret_cast<std::uintptr_t>(&s);
  // when
  const int r = drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_BIND, &b);
  // then
  EXPECT_EQ(r, -EOPNOTSUPP);
}

// Upstream xe_vm_bind_ioctl(): the exec queue is looked up (-ENOENT) before
// the VM lock, and the VA-range check (-EINVAL) runs only under the lock.
TEST_F(UpstreamQuirksTest, UnknownExecQueueIsReportedBeforeTheVaRangeCheck) {
  // given an op past the VA space and an unknown exec queue
  const std::uint32_t vm = make_vm(fd());
  drm_xe_vm_bind b = bind_args(vm, map_null(va_end(fd()), 64 * kKiB));
  b.exec_queue_id = 5;
  // when
  const int r = drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_BIND, &b);
  // then
  EXPECT_EQ(r, -ENOENT);
}

// Upstream xe_vm_bind_ioctl() runs xe_vm_bind_ioctl_validate_bo() for every op
// that names a BO, UNMAP_ALL included: a WB BO with a COH_NONE pat_index -> -EINVAL.
TEST_F(UpstreamQuirksTest, UnmapAllOfAWriteBackBoWithANonCoherentPatIsRejected) {
  // given
  const std::uint32_t vm = make_vm(fd());
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  ASSERT_EQ(bind(fd(), vm, map_bo(bo, kMiB, 64 * kKiB)), 0);
  drm_xe_vm_bind_op o = unmap_all(bo);
  o.pat_index = kB580PatNonCoherent;
  // when
  const int r = bind(fd(), vm, o);
  // then
  EXPECT_EQ(r, -EINVAL);
}

}  // namespace
}  // namespace drm_sim_test
