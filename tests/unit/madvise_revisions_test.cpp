// The uapi revisions after v6.18 (xe-vm-semantics.md §3 step 6, §8):
//  - 7.0 (profile b580-xelink): PREFERRED_LOC with devmem_fd > 0 naming
//    another simulated xe device and a VRAM region_instance on it;
//  - 7.1 (profile b580-uapi71): PURGEABLE_STATE on BO VMAs, the retained
//    flag, and what DONTNEED forbids (new binds, CPU mmap).
#include <fcntl.h>

#include "madvise_test_util.h"

namespace madvise_test {
namespace {

// ---------------------------------------------------------------------------
// 7.0: multi-device placement.
//
//     page:  0     1     2     3     4
//            [------- mirror --------)
//     req:         [-----------)          devmem_fd = the other device

class MultiDevicePlacementTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(s_.bind_mirror(pg(0), pages(4)), 0); }
  void expect_unchanged() {
    const auto vmas = s_.vmas();
    EXPECT_EQ(page_spans(vmas), (std::vector<PageSpan>{{0, 4}})) << describe(vmas);
    EXPECT_EQ(vmas.at(0).attrs.devmem_fd, 0);
  }
  Session s_{"b580-xelink"};
};

TEST_F(MultiDevicePlacementTest, LinkedDeviceFdIsStoredAndReported) {
  // given a second device in the same interconnect group
  Session other("b580-xelink");
  // when
  const int rc = s_.advise_loc(pg(1), pages(2), other.fd(), DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES, 1);
  // then
  EXPECT_EQ(rc, 0);
  const auto attrs = s_.query(pg(0), pages(4));
  ASSERT_EQ(page_spans(attrs), (std::vector<PageSpan>{{0, 1}, {1, 3}, {3, 4}}));
  EXPECT_EQ(attrs[1].preferred_mem_loc.devmem_fd, static_cast<std::uint32_t>(other.fd()));
  EXPECT_EQ(attrs[1].preferred_mem_loc.migration_policy,
            static_cast<std::uint32_t>(DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES));
  EXPECT_EQ(attrs[0].preferred_mem_loc.devmem_fd, 0u);
  EXPECT_EQ(vma_at(s_.vmas(), pg(1)).attrs.region_instance, 1);
}

TEST_F(MultiDevicePlacementTest, DeviceWithoutInterconnectFailsWithEnolink) {
  // given a plain b580 (no interconnect group)
  Session other("b580");
  // when / then
  EXPECT_EQ(s_.advise_loc(pg(1), pages(2), other.fd(), 0, 1), -ENOLINK);
  expect_unchanged();
}

TEST_F(MultiDevicePlacementTest, SystemRegionInstanceFailsWithEnoent) {
  // given
  Session other("b580-xelink");
  // when region 0, which is system memory, is named
  const int rc = s_.advise_loc(pg(1), pages(2), other.fd(), 0, 0);
  // then
  EXPECT_EQ(rc, -ENOENT);
  expect_unchanged();
}

TEST_F(MultiDevicePlacementTest, UnknownRegionInstanceFailsWithEnoent) {
  // given
  Session other("b580-xelink");
  // when / then
  EXPECT_EQ(s_.advise_loc(pg(1), pages(2), other.fd(), 0, 7), -ENOENT);
  expect_unchanged();
}

TEST_F(MultiDevicePlacementTest, NonDrmFdFailsWithEnoent) {
  // given
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  // when / then
  EXPECT_EQ(s_.advise_loc(pg(1), pages(2), null_fd, 0, 1), -ENOENT);
  expect_unchanged();
  ::close(null_fd);
}

TEST_F(MultiDevicePlacementTest, GoneDeviceFailsWithEnodev) {
  // given a linked device that was hot-unplugged
  Session other("b580-xelink");
  other.device().mark_gone();
  // when / then
  EXPECT_EQ(s_.advise_loc(pg(1), pages(2), other.fd(), 0, 1), -ENODEV);
  expect_unchanged();
}

TEST_F(MultiDevicePlacementTest, RegionInstanceNeedsADeviceFd) {
  // when / then (step 2: region_instance != 0 while devmem_fd <= 0)
  EXPECT_EQ(s_.advise_loc(pg(1), pages(2), DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE, 0, 1), -EINVAL);
  EXPECT_EQ(s_.advise_loc(pg(1), pages(2), DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM, 0, 1), -EINVAL);
  expect_unchanged();
}

TEST_F(MultiDevicePlacementTest, LinkedDeviceFdIsIgnoredOnBoVmas) {
  // given a BO VMA
  Session other("b580-xelink");
  const std::uint32_t bo = s_.create_bo(pages(4), kSmem | kVram);
  ASSERT_EQ(s_.bind_bo(bo, 0, pg(8), pages(4)), 0);
  // when
  const int rc = s_.advise_loc(pg(8), pages(4), other.fd(), 0, 1);
  // then
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(s_.query(pg(8), pages(4)).at(0).preferred_mem_loc.devmem_fd, 0u);
}

// ---------------------------------------------------------------------------
// 7.1: purgeable state.

class PurgeableStateTest : public ::testing::Test {
 protected:
  std::uint32_t bind_new_bo(std::uint64_t page, std::uint64_t n) {
    const std::uint32_t bo = s_.create_bo(pages(n), kSmem);
    EXPECT_EQ(s_.bind_bo(bo, 0, pg(page), pages(n)), 0);
    return bo;
  }
  Session s_{"b580-uapi71"};
};

//     page:  0           4           8          12          16
//            [- mirror --)[--- BO ----)[- userptr )[-- NULL ---)
//     req:   [-----------------------------------------------)   DONTNEED
TEST_F(PurgeableStateTest, AppliesToBoVmasOnly) {
  // given
  ASSERT_EQ(s_.bind_mirror(pg(0), pages(4)), 0);
  const std::uint32_t bo = bind_new_bo(4, 4);
  ASSERT_EQ(s_.bind_userptr(pg(8), pages(4), kUserptrCpuBase), 0);
  ASSERT_EQ(s_.bind_null(pg(12), pages(4)), 0);
  // when
  ASSERT_EQ(s_.advise_purge(pg(0), pages(16), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  // then
  for (const auto& v : s_.vmas()) {
    EXPECT_EQ(v.attrs.purgeable, v.kind == VmaKind::kBo ? 1 : 0) << describe(v);
  }
  EXPECT_TRUE(s_.bo_state(bo).purgeable());
  const drm_sim_vm_stats st = s_.stats();
  EXPECT_EQ(st.vmas_advised, 1u);
  EXPECT_EQ(st.vmas_skipped, 3u);
}

TEST_F(PurgeableStateTest, WillneedReturnsTheVmaToNotPurgeable) {
  // given
  const std::uint32_t bo = bind_new_bo(0, 4);
  ASSERT_EQ(s_.advise_purge(pg(0), pages(4), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  // when
  ASSERT_EQ(s_.advise_purge(pg(0), pages(4), DRM_XE_VMA_PURGEABLE_STATE_WILLNEED), 0);
  // then
  EXPECT_EQ(s_.vmas().at(0).attrs.purgeable, 0);
  EXPECT_FALSE(s_.bo_state(bo).purgeable());
  EXPECT_EQ(s_.mmap_offset(bo), 0);
}

TEST_F(PurgeableStateTest, RetainedIsWrittenOneWhenNothingWasPurged) {
  // given
  bind_new_bo(0, 4);
  std::uint32_t retained = 0;
  // when
  ASSERT_EQ(s_.advise_purge(pg(0), pages(4), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED, &retained), 0);
  // then
  EXPECT_EQ(retained, 1u);
}

TEST_F(PurgeableStateTest, RetainedPointerIsOptional) {
  // given
  bind_new_bo(0, 4);
  // when / then
  EXPECT_EQ(s_.advise_purge(pg(0), pages(4), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED, nullptr), 0);
}

//     page:  0     1     2     3     4
//            [---------- BO ---------)
//     req:         [-----)                 DONTNEED: the whole VMA
TEST_F(PurgeableStateTest, DontneedOnPartOfABoVmaMarksTheWholeVma) {
  // given
  const std::uint32_t bo = bind_new_bo(0, 4);
  // when
  ASSERT_EQ(s_.advise_purge(pg(1), pages(1), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  // then
  const auto vmas = s_.vmas();
  EXPECT_EQ(page_spans(vmas), (std::vector<PageSpan>{{0, 4}})) << describe(vmas);
  EXPECT_EQ(vmas.at(0).attrs.purgeable, 1);
  EXPECT_TRUE(s_.bo_state(bo).purgeable());
}

TEST_F(PurgeableStateTest, BindingABoWhoseEveryVmaIsDontneedFailsWithEbusy) {
  // given
  const std::uint32_t bo = bind_new_bo(0, 4);
  ASSERT_EQ(s_.advise_purge(pg(0), pages(4), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  // when
  const int rc = s_.bind_bo(bo, 0, pg(8), pages(4));
  // then
  EXPECT_EQ(rc, -EBUSY);
  EXPECT_EQ(s_.vmas().size(), 1u);
}

TEST_F(PurgeableStateTest, MmapOffsetOfAPurgeableBoFailsWithEbusy) {
  // given
  const std::uint32_t bo = bind_new_bo(0, 4);
  ASSERT_EQ(s_.mmap_offset(bo), 0);
  ASSERT_EQ(s_.advise_purge(pg(0), pages(4), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  // when / then
  EXPECT_EQ(s_.mmap_offset(bo), -EBUSY);
}

//     page:  0     4 ... 8    12
//            [ @0 )      [ @0 )       one BO, two VMAs; only the first DONTNEED
TEST_F(PurgeableStateTest, OneWillneedVmaKeepsTheBoUsable) {
  // given
  const std::uint32_t bo = bind_new_bo(0, 4);
  ASSERT_EQ(s_.bind_bo(bo, 0, pg(8), pages(4)), 0);
  // when
  ASSERT_EQ(s_.advise_purge(pg(0), pages(4), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  // then
  EXPECT_FALSE(s_.bo_state(bo).purgeable());
  EXPECT_EQ(s_.mmap_offset(bo), 0);
  EXPECT_EQ(s_.bind_bo(bo, 0, pg(16), pages(4)), 0);
}

TEST_F(PurgeableStateTest, EveryVmaInEveryVmMustBeDontneed) {
  // given one BO mapped in two VMs of the file
  const std::uint32_t bo = bind_new_bo(0, 4);
  const std::uint32_t vm2 = s_.create_vm(kPlainVm);
  ASSERT_EQ(s_.bind_bo(bo, 0, pg(0), pages(4), 0, 0, vm2), 0);
  ASSERT_EQ(s_.advise_purge(pg(0), pages(4), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  ASSERT_FALSE(s_.bo_state(bo).purgeable());
  // when the second VM's VMA is DONTNEED too
  ASSERT_EQ(s_.madvise(purge_advice(vm2, pg(0), pages(4), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED)), 0);
  // then
  EXPECT_TRUE(s_.bo_state(bo).purgeable());
  EXPECT_EQ(s_.bind_bo(bo, 0, pg(8), pages(4)), -EBUSY);
}

//     page:  0     1     2     3     4
//            [------ BO DONTNEED ----)
//     unbind [-----)
//     after:       [-- DONTNEED -----)
TEST_F(PurgeableStateTest, PartialUnbindKeepsDontneedOnTheRemainingPiece) {
  // given
  const std::uint32_t bo = bind_new_bo(0, 4);
  ASSERT_EQ(s_.advise_purge(pg(0), pages(4), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  // when
  ASSERT_EQ(s_.unbind(pg(0), pages(1)), 0);
  // then
  const auto vmas = s_.vmas();
  ASSERT_EQ(page_spans(vmas), (std::vector<PageSpan>{{1, 4}})) << describe(vmas);
  EXPECT_EQ(vmas[0].attrs.purgeable, 1);
  EXPECT_TRUE(s_.bo_state(bo).purgeable());
  EXPECT_EQ(s_.bind_bo(bo, 0, pg(8), pages(4)), -EBUSY);
  EXPECT_EQ(s_.mmap_offset(bo), -EBUSY);
}

}  // namespace
}  // namespace madvise_test
