// RestartingKmd: the three restart policies against a FakeBackend that
// injects -EINTR / -EAGAIN n times before answering (xe-vm-semantics.md §3
// "Signals": user-mode drivers restart interrupted calls).
#include <cerrno>
#include <chrono>
#include <vector>

#include "umd_test_util.h"

namespace umd_test {
namespace {

using std::chrono::microseconds;

constexpr unsigned long kMadvise = DRM_IOCTL_XE_MADVISE;

class RestartTest : public ::testing::Test {
 protected:
  RestartingKmd make(RestartOptions o) {
    return RestartingKmd(fake_, o, [this](microseconds d) { sleeps_.push_back(d); });
  }
  static RestartOptions bounded(std::uint32_t n, microseconds initial = microseconds(100)) {
    RestartOptions o;
    o.policy = RestartPolicy::kBounded;
    o.max_restarts = n;
    o.initial_backoff = initial;
    return o;
  }

  FakeBackend fake_;
  std::vector<microseconds> sleeps_;
  drm_xe_madvise arg_{};
};

TEST_F(RestartTest, LibdrmPolicyRestartsEintrUntilSuccess) {
  // given
  fake_.inject(EINTR, 5);
  RestartingKmd kmd = make({RestartPolicy::kLibdrm});
  // when
  const int rc = kmd.call(kMadvise, &arg_);
  // then
  EXPECT_EQ(rc, 0);
  const RestartCounters c = kmd.counters();
  EXPECT_EQ(c.calls, 1u);
  EXPECT_EQ(c.attempts, 6u);
  EXPECT_EQ(c.restarts, 5u);
  EXPECT_EQ(c.eintr_seen, 5u);
  EXPECT_EQ(c.eagain_seen, 0u);
  EXPECT_EQ(c.gave_up, 0u);
  EXPECT_TRUE(sleeps_.empty()) << "libdrm restarts at once";
  EXPECT_EQ(fake_.call_count(), 6u);
}

TEST_F(RestartTest, LibdrmPolicyRestartsEagainToo) {
  fake_.inject(EAGAIN, 3);
  RestartingKmd kmd = make({RestartPolicy::kLibdrm});
  EXPECT_EQ(kmd.call(kMadvise, &arg_), 0);
  EXPECT_EQ(kmd.counters().eagain_seen, 3u);
  EXPECT_EQ(kmd.counters().restarts, 3u);
}

TEST_F(RestartTest, LibdrmPolicyKeepsGoingFarPastAnyBound) {
  fake_.inject(EINTR, 1000);
  RestartingKmd kmd = make({RestartPolicy::kLibdrm});
  EXPECT_EQ(kmd.call(kMadvise, &arg_), 0);
  EXPECT_EQ(kmd.counters().restarts, 1000u);
}

TEST_F(RestartTest, OtherErrorsAreNeverRestarted) {
  fake_.inject(EINVAL, 1);
  RestartingKmd kmd = make({RestartPolicy::kLibdrm});
  EXPECT_EQ(kmd.call(kMadvise, &arg_), -EINVAL);
  EXPECT_EQ(kmd.counters().attempts, 1u);
  EXPECT_EQ(kmd.counters().restarts, 0u);
}

TEST_F(RestartTest, BoundedPolicySucceedsWithinTheBoundAfterBackingOffExponentially) {
  // given
  fake_.inject(EINTR, 3);
  RestartingKmd kmd = make(bounded(4, microseconds(100)));
  // when
  const int rc = kmd.call(kMadvise, &arg_);
  // then
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(sleeps_,
            (std::vector<microseconds>{microseconds(100), microseconds(200), microseconds(400)}));
  EXPECT_EQ(kmd.counters().restarts, 3u);
  EXPECT_EQ(kmd.counters().gave_up, 0u);
  EXPECT_EQ(kmd.counters().backoff_total, microseconds(700));
}

TEST_F(RestartTest, BoundedPolicyGivesUpAfterNRestartsAndReturnsEintr) {
  // given more interruptions than the bound
  fake_.inject(EINTR, 10);
  RestartingKmd kmd = make(bounded(3, microseconds(10)));
  // when
  const int rc = kmd.call(kMadvise, &arg_);
  // then: 1 attempt + 3 restarts, then -EINTR to the caller
  EXPECT_EQ(rc, -EINTR);
  const RestartCounters c = kmd.counters();
  EXPECT_EQ(c.attempts, 4u);
  EXPECT_EQ(c.restarts, 3u);
  EXPECT_EQ(c.eintr_seen, 4u);
  EXPECT_EQ(c.gave_up, 1u);
  EXPECT_EQ(sleeps_,
            (std::vector<microseconds>{microseconds(10), microseconds(20), microseconds(40)}));
  EXPECT_EQ(fake_.call_count(), 4u);
}

TEST_F(RestartTest, BoundedPolicyReturnsEagainWhenEagainOutlastsTheBound) {
  fake_.inject(EAGAIN, 10);
  RestartingKmd kmd = make(bounded(2));
  EXPECT_EQ(kmd.call(kMadvise, &arg_), -EAGAIN);
  EXPECT_EQ(kmd.counters().eagain_seen, 3u);
  EXPECT_EQ(kmd.counters().gave_up, 1u);
}

TEST_F(RestartTest, BoundedBackoffIsCappedAtMaxBackoff) {
  fake_.inject(EINTR, 6);
  RestartOptions o = bounded(8, microseconds(100));
  o.max_backoff = microseconds(350);
  RestartingKmd kmd = make(o);
  EXPECT_EQ(kmd.call(kMadvise, &arg_), 0);
  EXPECT_EQ(sleeps_,
            (std::vector<microseconds>{microseconds(100), microseconds(200), microseconds(350),
                                       microseconds(350), microseconds(350), microseconds(350)}));
}

TEST_F(RestartTest, BoundedPolicyWithZeroRestartsBehavesLikeOneAttempt) {
  fake_.inject(EINTR, 1);
  RestartingKmd kmd = make(bounded(0));
  EXPECT_EQ(kmd.call(kMadvise, &arg_), -EINTR);
  EXPECT_EQ(kmd.counters().gave_up, 1u);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(RestartTest, RawPolicyLetsEintrSurface) {
  // given
  fake_.inject(EINTR, 1);
  RestartingKmd kmd = make({RestartPolicy::kRaw});
  // when
  const int rc = kmd.call(kMadvise, &arg_);
  // then
  EXPECT_EQ(rc, -EINTR);
  const RestartCounters c = kmd.counters();
  EXPECT_EQ(c.attempts, 1u);
  EXPECT_EQ(c.restarts, 0u);
  EXPECT_EQ(c.eintr_seen, 1u);
  EXPECT_EQ(c.gave_up, 0u);
  // and the next call (no signal pending) succeeds
  EXPECT_EQ(kmd.call(kMadvise, &arg_), 0);
}

TEST_F(RestartTest, RestartsResendTheArgumentAsItWasBeforeTheFirstAttempt) {
  // given a backend whose failed attempt scribbles over the in/out struct
  int attempts = 0;
  std::vector<std::uint32_t> seen;
  fake_.on(DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, [&](void* p) {
    auto* q = static_cast<drm_xe_vm_query_mem_range_attr*>(p);
    seen.push_back(q->num_mem_ranges);
    if (attempts++ == 0) {
      q->num_mem_ranges = 99;
      return -EINTR;
    }
    return 0;
  });
  RestartingKmd kmd = make({RestartPolicy::kLibdrm});
  drm_xe_vm_query_mem_range_attr q{};
  q.num_mem_ranges = 4;
  // when
  EXPECT_EQ(kmd.call(DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q), 0);
  // then
  EXPECT_EQ(seen, (std::vector<std::uint32_t>{4, 4}));
}

TEST_F(RestartTest, CountersAccumulateOverCallsAndReset) {
  RestartingKmd kmd = make({RestartPolicy::kLibdrm});
  fake_.inject(EINTR, 2);
  EXPECT_EQ(kmd.call(kMadvise, &arg_), 0);
  fake_.inject(EAGAIN, 1);
  EXPECT_EQ(kmd.call(kMadvise, &arg_), 0);
  EXPECT_EQ(kmd.counters().calls, 2u);
  EXPECT_EQ(kmd.counters().attempts, 5u);
  EXPECT_EQ(kmd.counters().restarts, 3u);
  kmd.reset_counters();
  EXPECT_EQ(kmd.counters().calls, 0u);
  EXPECT_EQ(kmd.counters().attempts, 0u);
}

TEST(RestartPolicyTest, NamesArePrintable) {
  EXPECT_STREQ(to_string(RestartPolicy::kLibdrm), "libdrm");
  EXPECT_STREQ(to_string(RestartPolicy::kBounded), "bounded");
  EXPECT_STREQ(to_string(RestartPolicy::kRaw), "raw");
}

}  // namespace
}  // namespace umd_test
