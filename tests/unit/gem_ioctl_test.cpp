// DRM_IOCTL_XE_GEM_CREATE and DRM_IOCTL_GEM_CLOSE through the uapi: every
// argument check of xe_gem_create_ioctl() (plus the BO-size alignment of
// __xe_bo_create_locked() on 64 KiB VRAM-page devices), handle numbering, and
// what closing a handle does to a BO that is still bound.
#include <gtest/gtest.h>

#include <mutex>

#include "tests/unit/ioctl_test_util.h"

namespace drm_sim_test {
namespace {

class GemCreateTest : public IoctlTest {
 protected:
  int create(drm_xe_gem_create* c) { return gem_create(fd(), c); }
};

TEST_F(GemCreateTest, SystemMemoryBosGetHandlesFromOne) {
  // given
  drm_xe_gem_create a = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  drm_xe_gem_create b = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WC);
  // when
  const int ra = create(&a);
  const int rb = create(&b);
  // then
  EXPECT_EQ(ra, 0);
  EXPECT_EQ(rb, 0);
  EXPECT_EQ(a.handle, 1u);
  EXPECT_EQ(b.handle, 2u);
}

TEST_F(GemCreateTest, VramBoWithWcCachingIsCreated) {
  // given
  drm_xe_gem_create c = gem_args(2 * kMiB, kVram0, DRM_XE_GEM_CPU_CACHING_WC);
  // when
  const int r = create(&c);
  // then
  EXPECT_EQ(r, 0);
  EXPECT_NE(c.handle, 0u);
}

TEST_F(GemCreateTest, BoPrivateToAnExistingVmIsCreated) {
  // given
  drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  c.vm_id = make_vm(fd());
  // when
  const int r = create(&c);
  // then
  EXPECT_EQ(r, 0);
  EXPECT_NE(c.handle, 0u);
}

TEST_F(GemCreateTest, SizeZeroIsRejected) {
  // given
  drm_xe_gem_create c = gem_args(0, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(GemCreateTest, SizeNotAMultipleOf4KIsRejected) {
  // given
  drm_xe_gem_create c = gem_args(kPage + 512, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(GemCreateTest, VramSizeNotAMultipleOf64KIsRejectedOnPvc) {
  // given a 64 KiB VRAM-page device
  open_device("pvc");
  for (const std::uint32_t placement : {kVram0, kVram1, kSysmem | kVram0}) {
    // when
    drm_xe_gem_create c = gem_args(68 * kKiB, placement, DRM_XE_GEM_CPU_CACHING_WC);
    const int r = create(&c);
    // then
    EXPECT_EQ(r, -EINVAL) << "placement 0x" << std::hex << placement;
  }
}

TEST_F(GemCreateTest, VramSizeMultipleOf64KIsAcceptedOnPvc) {
  // given
  open_device("pvc");
  drm_xe_gem_create c = gem_args(128 * kKiB, kVram1, DRM_XE_GEM_CPU_CACHING_WC);
  // when / then
  EXPECT_EQ(create(&c), 0);
}

TEST_F(GemCreateTest, SystemMemorySizeOf4KIsAcceptedOnPvc) {
  // given
  open_device("pvc");
  drm_xe_gem_create c = gem_args(kPage, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  // when / then
  EXPECT_EQ(create(&c), 0);
}

TEST_F(GemCreateTest, PlacementZeroIsRejected) {
  // given
  drm_xe_gem_create c = gem_args(64 * kKiB, 0, DRM_XE_GEM_CPU_CACHING_WB);
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(GemCreateTest, PlacementNamingAnUnknownRegionIsRejected) {
  // b580 has regions 0 and 1 only
  for (const std::uint32_t placement : {kVram1, kSysmem | (1u << 31)}) {
    // given
    drm_xe_gem_create c = gem_args(64 * kKiB, placement, DRM_XE_GEM_CPU_CACHING_WC);
    // when / then
    EXPECT_EQ(create(&c), -EINVAL) << "placement 0x" << std::hex << placement;
  }
}

TEST_F(GemCreateTest, VramPlacementIsRejectedOnAnIntegratedDevice) {
  // given
  open_device("integrated");
  drm_xe_gem_create c = gem_args(64 * kKiB, kVram0, DRM_XE_GEM_CPU_CACHING_WC);
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(GemCreateTest, VramPlacementWithWbCachingIsRejected) {
  for (const std::uint32_t placement : {kVram0, kSysmem | kVram0}) {
    // given
    drm_xe_gem_create c = gem_args(64 * kKiB, placement, DRM_XE_GEM_CPU_CACHING_WB);
    // when / then
    EXPECT_EQ(create(&c), -EINVAL) << "placement 0x" << std::hex << placement;
  }
}

TEST_F(GemCreateTest, CpuCachingZeroIsRejected) {
  // given
  drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, 0);
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(GemCreateTest, CpuCachingThreeIsRejected) {
  // given
  drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, 3);
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(GemCreateTest, UnknownFlagIsRejected) {
  // given
  drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  c.flags = 1u << 31;
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(GemCreateTest, NeedsVisibleVramWithoutVramIsRejected) {
  // given
  drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WC);
  c.flags = DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM;
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(GemCreateTest, ScanoutWithWbCachingIsRejected) {
  // given
  drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  c.flags = DRM_XE_GEM_CREATE_FLAG_SCANOUT;
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(GemCreateTest, NonZeroHandleOnInputIsRejected) {
  // given
  drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  c.handle = 7;
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(GemCreateTest, EveryPadWordMustBeZero) {
  for (int i = 0; i < 3; ++i) {
    // given
    drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
    c.pad[i] = 1;
    // when / then
    EXPECT_EQ(create(&c), -EINVAL) << "pad[" << i << "]";
  }
}

TEST_F(GemCreateTest, EveryReservedWordMustBeZero) {
  for (int i = 0; i < 2; ++i) {
    // given
    drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
    c.reserved[i] = 1;
    // when / then
    EXPECT_EQ(create(&c), -EINVAL) << "reserved[" << i << "]";
  }
}

// An extension chain whose link names no known extension (upstream
// gem_create_user_extensions(): name out of its table -> -EINVAL).
TEST_F(GemCreateTest, UnknownExtensionIsRejected) {
  // given
  drm_xe_ext_set_property ext{};
  ext.base.name = 99;
  drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  c.extensions = reinterpret_cast<std::uintptr_t>(&ext);
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(GemCreateTest, UnknownVmIdFailsWithENOENT) {
  // given
  drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  c.vm_id = 42;
  // when / then
  EXPECT_EQ(create(&c), -ENOENT);
}

TEST_F(GemCreateTest, RejectedCreateReturnsNoHandle) {
  // given
  drm_xe_gem_create c = gem_args(0, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  // when
  ASSERT_EQ(create(&c), -EINVAL);
  // then
  EXPECT_EQ(c.handle, 0u);
  EXPECT_EQ(drm_sim::file_from_fd(fd())->handle_count(), 0u);
}

// ---------------------------------------------------------------------------
// DRM_IOCTL_GEM_CLOSE

class GemCloseTest : public IoctlTest {};

TEST_F(GemCloseTest, ClosesAHandleOnce) {
  // given
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB);
  // when
  const int first = gem_close(fd(), bo);
  const int second = gem_close(fd(), bo);
  // then
  EXPECT_EQ(first, 0);
  EXPECT_EQ(second, -EINVAL);
}

TEST_F(GemCloseTest, UnknownHandleFailsWithEINVAL) {
  EXPECT_EQ(gem_close(fd(), 99), -EINVAL);
}

TEST_F(GemCloseTest, HandleZeroFailsWithEINVAL) {
  EXPECT_EQ(gem_close(fd(), 0), -EINVAL);
}

TEST_F(GemCloseTest, NonZeroPadFailsWithEINVAL) {
  // given
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB);
  drm_gem_close c{};
  c.handle = bo;
  c.pad = 1;
  // when
  const int r = drm_sim_ioctl(fd(), DRM_IOCTL_GEM_CLOSE, &c);
  // then
  EXPECT_EQ(r, -EINVAL);
  EXPECT_EQ(gem_close(fd(), bo), 0);
}

TEST_F(GemCloseTest, ClosedHandleCannotBeBound) {
  // given
  const std::uint32_t vm = make_vm(fd());
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB);
  ASSERT_EQ(gem_close(fd(), bo), 0);
  // when
  const int r = bind(fd(), vm, map_bo(bo, kMiB, 64 * kKiB));
  // then
  EXPECT_EQ(r, -ENOENT);
}

TEST_F(GemCloseTest, ClosingABoundBoKeepsItsVma) {
  // given a BO bound at [1 MiB, 1 MiB + 64 KiB)
  const std::uint32_t vm = make_vm(fd());
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB);
  ASSERT_EQ(bind(fd(), vm, map_bo(bo, kMiB, 64 * kKiB)), 0);
  const std::string before = full_layout(fd(), vm);
  // when
  ASSERT_EQ(gem_close(fd(), bo), 0);
  // then the query still reports the VMA, unchanged
  EXPECT_EQ(layout(fd(), vm), "[0x100000,0x110000) loc=0 policy=0 atomic=0 pat=1\n");
  EXPECT_EQ(full_layout(fd(), vm), before);
}

TEST_F(GemCloseTest, VmaOfAClosedBoCanStillBeUnmapped) {
  // given
  const std::uint32_t vm = make_vm(fd());
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB);
  ASSERT_EQ(bind(fd(), vm, map_bo(bo, kMiB, 64 * kKiB)), 0);
  ASSERT_EQ(gem_close(fd(), bo), 0);
  // when
  const int r = bind(fd(), vm, unmap(kMiB, 64 * kKiB));
  // then
  EXPECT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), vm), "");
}

TEST_F(GemCloseTest, BoIsFreedWhenItsLastVmaGoesAfterTheHandleWasClosed) {
  // given a closed BO still mapped once
  const std::uint32_t vm = make_vm(fd());
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB);
  ASSERT_EQ(bind(fd(), vm, map_bo(bo, kMiB, 64 * kKiB)), 0);
  ASSERT_EQ(gem_close(fd(), bo), 0);
  drm_sim::Device& dev = drm_sim::file_from_fd(fd())->device();
  {
    std::lock_guard<std::mutex> g(dev.bo_mutex());
    ASSERT_EQ(dev.bo_count_locked(), 1u);
  }
  // when
  ASSERT_EQ(bind(fd(), vm, unmap(kMiB, 64 * kKiB)), 0);
  // then
  std::lock_guard<std::mutex> g(dev.bo_mutex());
  EXPECT_EQ(dev.bo_count_locked(), 0u);
}

}  // namespace
}  // namespace drm_sim_test
