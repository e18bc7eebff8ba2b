// FaultPlan: the allocation counter and the "fail the k-th allocation" plan,
// for single allocations and for a run of them asked for at once.
#include "drm_sim/sync/fault_plan.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>

namespace drm_sim {
namespace {

TEST(FaultPlanTest, UnarmedRunOfAllocationsCountsEachOne) {
  // given: nothing armed, two allocations already made
  FaultPlan plan;
  ASSERT_TRUE(plan.on_alloc().is_ok());
  ASSERT_TRUE(plan.on_alloc().is_ok());

  // when
  const Status s = plan.on_allocs(3);

  // then
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(plan.allocs(), 5u);
  EXPECT_EQ(plan.allocs_failed(), 0u);
}

TEST(FaultPlanTest, EmptyRunOfAllocationsNeverFails) {
  // given: the next allocation is armed to fail
  FaultPlan plan;
  plan.fail_alloc_at(1);

  // when
  const Status s = plan.on_allocs(0);

  // then: no allocation happened, so the armed one is still ahead
  EXPECT_TRUE(s.is_ok());
  EXPECT_EQ(plan.allocs(), 0u);
  EXPECT_EQ(plan.on_alloc().error(), ENOMEM);
}

// A run of n allocations behaves as n single ones: the k-th fails, the ones
// after it are not made, and the counters say so.
class FaultPlanRunTest : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(FaultPlanRunTest, ArmedRunFailsAtTheArmedAllocationAndStopsThere) {
  // given: one allocation made, then the k-th allocation from now armed
  const std::uint64_t k = GetParam();
  FaultPlan plan;
  ASSERT_TRUE(plan.on_alloc().is_ok());
  plan.fail_alloc_at(k);

  // when: a run of four
  const Status s = plan.on_allocs(4);

  // then
  if (k <= 4) {
    EXPECT_EQ(s.error(), ENOMEM);
    EXPECT_EQ(plan.allocs(), 1 + k);
    EXPECT_EQ(plan.allocs_failed(), 1u);
  } else {
    EXPECT_TRUE(s.is_ok());
    EXPECT_EQ(plan.allocs(), 5u);
    EXPECT_EQ(plan.allocs_failed(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPosition, FaultPlanRunTest, ::testing::Values(1, 2, 3, 4, 5));

}  // namespace
}  // namespace drm_sim
