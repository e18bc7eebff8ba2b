// The compute runtime's memory advice -> one madvise each (mem_advice.h).
#include "umd/objects/mem_advice.h"

#include "umd/uapi/build.h"
#include "umd_test_util.h"

namespace umd_test {
namespace {

constexpr GpuRange kRange{0x200000, 0x10000};

struct Row {
  MemAdvice advice;
  std::uint32_t type;
  std::uint32_t value;  // devmem_fd for PREFERRED_LOC, val for ATOMIC
};

class MemAdviceTest : public ::testing::TestWithParam<Row> {};

TEST_P(MemAdviceTest, BecomesOneMadviseOfTheDocumentedTypeAndValue) {
  const Row& row = GetParam();
  const drm_xe_madvise m = build_madvise(4, to_madvise(kRange, row.advice));
  EXPECT_EQ(m.start, kRange.start);
  EXPECT_EQ(m.range, kRange.size);
  EXPECT_EQ(m.vm_id, 4u);
  EXPECT_EQ(m.type, row.type) << to_string(row.advice);
  if (row.type == DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC) {
    EXPECT_EQ(m.preferred_mem_loc.devmem_fd, row.value) << to_string(row.advice);
    EXPECT_EQ(m.preferred_mem_loc.migration_policy, DRM_XE_MIGRATE_ALL_PAGES);
    EXPECT_EQ(m.preferred_mem_loc.region_instance, 0u);
  } else {
    EXPECT_EQ(m.atomic.val, row.value) << to_string(row.advice);
  }
}

constexpr std::uint32_t kLoc = DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC;
constexpr std::uint32_t kAtomic = DRM_XE_MEM_RANGE_ATTR_ATOMIC;

INSTANTIATE_TEST_SUITE_P(
    ComputeRuntimeMapping, MemAdviceTest,
    ::testing::Values(
        Row{MemAdvice::kSetPreferredLocationDevice, kLoc, DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE},
        Row{MemAdvice::kSetPreferredLocationSystem, kLoc,
            static_cast<std::uint32_t>(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM)},
        Row{MemAdvice::kClearPreferredLocation, kLoc, DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE},
        Row{MemAdvice::kAtomicsNone, kAtomic, DRM_XE_ATOMIC_UNDEFINED},
        Row{MemAdvice::kAtomicsDevice, kAtomic, DRM_XE_ATOMIC_DEVICE},
        Row{MemAdvice::kAtomicsSystem, kAtomic, DRM_XE_ATOMIC_GLOBAL},
        Row{MemAdvice::kAtomicsHost, kAtomic, DRM_XE_ATOMIC_CPU}));

TEST(PatAdviceTest, BecomesAPatMadvise) {
  const drm_xe_madvise m = build_madvise(4, pat_advice(kRange, 3));
  EXPECT_EQ(m.type, static_cast<std::uint32_t>(DRM_XE_MEM_RANGE_ATTR_PAT));
  EXPECT_EQ(m.pat_index.val, 3u);
}

TEST(PlatformTest, PatIndicesPerGraphicsFamily) {
  EXPECT_EQ(pat_config_for(0xe20b), (PatConfig{6, 1}));  // Battlemage: Xe2
  EXPECT_EQ(pat_config_for(0x64a0), (PatConfig{6, 1}));  // Lunar Lake: Xe2
  EXPECT_EQ(pat_config_for(0x0bd5), (PatConfig{1, 3}));  // Ponte Vecchio: Xe_HPC
  EXPECT_EQ(family_of(0x0bd5), GraphicsFamily::kXeHpc);
  EXPECT_EQ(family_of(0x1234), GraphicsFamily::kXe2);
}

}  // namespace
}  // namespace umd_test
