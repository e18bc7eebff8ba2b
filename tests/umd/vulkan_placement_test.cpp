// plan_placement(): a Vulkan allocation request -> GEM placement, caching,
// bind PAT and the madvise calls that follow (the table in umd/README.md).
#include "umd/vulkan/placement.h"
#include "umd_test_util.h"

namespace umd_test {
namespace {

using vk::AllocationRequest;
using vk::Backing;
using vk::PlacementContext;
using vk::PlacementPlan;

// b580: type 0 VRAM, 1 system WC, 2 system WB, 3 VRAM host-visible (resizable BAR).
const std::vector<MemRegion> kB580 = {{MemClass::kSystem, 0, 4096, 16ull << 30, 0, 0, 0},
                                      {MemClass::kVram, 1, 4096, 12ull << 30, 0, 12ull << 30, 0}};
const std::vector<MemRegion> kPvc = {{MemClass::kSystem, 0, 4096, 128ull << 30, 0, 0, 0},
                                     {MemClass::kVram, 1, 65536, 64ull << 30, 0, 64ull << 30, 0},
                                     {MemClass::kVram, 2, 65536, 64ull << 30, 0, 64ull << 30, 0}};
const std::vector<MemRegion> kIntegrated = {{MemClass::kSystem, 0, 4096, 32ull << 30, 0, 0, 0}};
const std::vector<MemRegion> kSmallBar = {
    {MemClass::kSystem, 0, 4096, 16ull << 30, 0, 0, 0},
    {MemClass::kVram, 1, 4096, 8ull << 30, 0, 256ull << 20, 0}};

constexpr PlacementContext kFaultVm{true, true, PatConfig{6, 1}};
constexpr PlacementContext kPlainVm{false, true, PatConfig{6, 1}};

PlacementPlan plan(const std::vector<MemRegion>& regions, AllocationRequest req,
                   PlacementContext ctx = kFaultVm) {
  auto table = vk::build_memory_table(regions);
  EXPECT_TRUE(table.has_value());
  auto p = vk::plan_placement(*table, req, ctx);
  EXPECT_TRUE(p.has_value()) << to_string(p.result());
  return p ? *p : PlacementPlan{};
}

AllocationRequest req(std::uint32_t type, std::uint64_t size = 1 * kMiB, float priority = 0.5f,
                      bool pageable = false) {
  return AllocationRequest{type, size, priority, pageable};
}

TEST(PlacementTest, DeviceLocalIsAVramOnlyWriteCombinedBo) {
  const PlacementPlan p = plan(kB580, req(0));
  EXPECT_EQ(p.backing, Backing::kBufferObject);
  EXPECT_EQ(p.gem.placement, region_bit(1));
  EXPECT_EQ(p.gem.cpu_caching, CpuCaching::kWriteCombined);
  EXPECT_FALSE(p.gem.needs_visible_vram);
  EXPECT_EQ(p.gem.size, 1 * kMiB);
  EXPECT_EQ(p.pat_index, 6u);
  EXPECT_TRUE(p.advice.empty());
}

TEST(PlacementTest, HostCoherentIsASystemWriteCombinedBo) {
  const PlacementPlan p = plan(kB580, req(1));
  EXPECT_EQ(p.gem.placement, region_bit(0));
  EXPECT_EQ(p.gem.cpu_caching, CpuCaching::kWriteCombined);
  EXPECT_EQ(p.pat_index, 6u);
}

TEST(PlacementTest, HostCachedIsASystemWriteBackBoWithACoherentPat) {
  const PlacementPlan p = plan(kB580, req(2));
  EXPECT_EQ(p.gem.placement, region_bit(0));
  EXPECT_EQ(p.gem.cpu_caching, CpuCaching::kWriteBack);
  EXPECT_EQ(p.pat_index, 1u);
}

TEST(PlacementTest, ResizableBarHostVisibleVramNeedsNoVisibleVramFlag) {
  const PlacementPlan p = plan(kB580, req(3));
  EXPECT_EQ(p.gem.placement, region_bit(1));
  EXPECT_EQ(p.gem.cpu_caching, CpuCaching::kWriteCombined);
  EXPECT_FALSE(p.gem.needs_visible_vram);
}

TEST(PlacementTest, SmallBarHostVisibleVramAsksForVisibleVram) {
  const PlacementPlan p = plan(kSmallBar, req(3));
  EXPECT_EQ(p.gem.placement, region_bit(1));
  EXPECT_TRUE(p.gem.needs_visible_vram);
}

TEST(PlacementTest, LowPriorityDeviceLocalMayFallBackToSystem) {
  const PlacementPlan p = plan(kB580, req(0, kMiB, 0.1f));
  EXPECT_EQ(p.backing, Backing::kBufferObject);
  EXPECT_EQ(p.gem.placement, region_bit(1) | region_bit(0));
  EXPECT_EQ(p.gem.cpu_caching, CpuCaching::kWriteCombined);
}

TEST(PlacementTest, PriorityAtTheThresholdIsNotLow) {
  EXPECT_EQ(plan(kB580, req(0, kMiB, vk::kLowPriority)).gem.placement, region_bit(1));
}

TEST(PlacementTest, PageableDeviceLocalOnAFaultVmIsAnSvmMirrorPreferringVram) {
  const PlacementPlan p = plan(kB580, req(0, kMiB + 1, 0.5f, true));
  EXPECT_EQ(p.backing, Backing::kSvmMirror);
  EXPECT_EQ(p.size, kMiB + kPage);
  EXPECT_EQ(p.pat_index, 1u) << "CPU pages are mapped coherent";
  ASSERT_EQ(p.advice.size(), 1u);
  EXPECT_EQ(p.advice[0], MadviseAttribute{PreferredLocation::device()});
}

TEST(PlacementTest, PageableLowPriorityPrefersSystemMemory) {
  const PlacementPlan p = plan(kB580, req(0, kMiB, 0.0f, true));
  EXPECT_EQ(p.backing, Backing::kSvmMirror);
  ASSERT_EQ(p.advice.size(), 1u);
  EXPECT_EQ(p.advice[0], MadviseAttribute{PreferredLocation::system()});
}

TEST(PlacementTest, PageableHostVisibleVramIsAnSvmMirrorToo) {
  EXPECT_EQ(plan(kB580, req(3, kMiB, 0.5f, true)).backing, Backing::kSvmMirror);
}

TEST(PlacementTest, PageableWithoutAFaultVmIsAnEvictableBo) {
  const PlacementPlan p = plan(kB580, req(0, kMiB, 0.5f, true), kPlainVm);
  EXPECT_EQ(p.backing, Backing::kBufferObject);
  EXPECT_EQ(p.gem.placement, region_bit(1) | region_bit(0));
}

TEST(PlacementTest, PageableWithoutCpuAddrMirrorSupportIsAnEvictableBo) {
  const PlacementPlan p = plan(kB580, req(0, kMiB, 0.5f, true), {true, false, PatConfig{6, 1}});
  EXPECT_EQ(p.backing, Backing::kBufferObject);
}

TEST(PlacementTest, PageableSystemMemoryIsUnaffected) {
  const PlacementPlan p = plan(kB580, req(2, kMiB, 0.0f, true));
  EXPECT_EQ(p.backing, Backing::kBufferObject);
  EXPECT_EQ(p.gem.placement, region_bit(0));
  EXPECT_EQ(p.gem.cpu_caching, CpuCaching::kWriteBack);
}

TEST(PlacementTest, SecondTileVramOnPvcIs64KibAlignedInItsOwnRegion) {
  const PlacementPlan p = plan(kPvc, req(1, 100 * 1024), {true, true, PatConfig{1, 3}});
  EXPECT_EQ(p.gem.placement, region_bit(2));
  EXPECT_EQ(p.gem.size, 128u * 1024);
  EXPECT_EQ(p.va_alignment, 64u * 1024);
  EXPECT_EQ(p.pat_index, 1u);
}

TEST(PlacementTest, IntegratedDeviceLocalIsSystemMemoryEvenWhenPageable) {
  const PlacementPlan p = plan(kIntegrated, req(0, kMiB, 0.5f, true));
  EXPECT_EQ(p.backing, Backing::kBufferObject);
  EXPECT_EQ(p.gem.placement, region_bit(0));
  EXPECT_EQ(p.gem.cpu_caching, CpuCaching::kWriteCombined);
}

TEST(PlacementTest, IntegratedHostCachedIsWriteBack) {
  const PlacementPlan p = plan(kIntegrated, req(2));
  EXPECT_EQ(p.gem.cpu_caching, CpuCaching::kWriteBack);
  EXPECT_EQ(p.pat_index, 1u);
}

TEST(PlacementTest, BadRequestsAreInvalid) {
  auto table = vk::build_memory_table(kB580);
  EXPECT_EQ(vk::plan_placement(*table, req(4), kFaultVm).result(), Result::kInvalidArgument);
  EXPECT_EQ(vk::plan_placement(*table, req(0, 0), kFaultVm).result(), Result::kInvalidArgument);
  EXPECT_EQ(vk::plan_placement(*table, req(0, kMiB, 1.5f), kFaultVm).result(),
            Result::kInvalidArgument);
  EXPECT_EQ(vk::plan_placement(*table, req(0, kMiB, -0.1f), kFaultVm).result(),
            Result::kInvalidArgument);
}

}  // namespace
}  // namespace umd_test
