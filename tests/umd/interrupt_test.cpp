// Interruption through the real simulator (DRM_IOCTL_SIM_FAULT_INJECT): a
// fatal signal at the killable VM lock of a madvise returns -EINTR before
// anything changes. With the libdrm policy the UMD restarts and the final
// layout equals an uninterrupted run's; with the raw policy the caller sees
// kInterrupted; the bounded policy gives up after its bound.
#include "umd/objects/svm_allocation.h"
#include "umd_test_util.h"

namespace umd_test {
namespace {

constexpr GpuRange kCpu{0x40000000, 16 * kPage};  // an SVM range (not touched by the simulator)
constexpr GpuRange kAdvised{0x40004000, 4 * kPage};

RestartOptions policy(RestartPolicy p, std::uint32_t bound = 3) {
  RestartOptions o;
  o.policy = p;
  o.max_restarts = bound;
  o.initial_backoff = std::chrono::microseconds(1);
  return o;
}

// A device, a fault-mode VM and one SVM allocation over kCpu.
class World {
 public:
  explicit World(RestartOptions restart, const char* profile = "b580") {
    auto dev = Device::open_profile(profile, restart);
    EXPECT_TRUE(dev.has_value()) << to_string(dev.result());
    dev_ = std::move(*dev);
    auto vm = Vm::create(*dev_);
    EXPECT_TRUE(vm.has_value());
    vm_ = std::move(*vm);
    auto svm = SvmAllocation::adopt(*vm_, kCpu);
    EXPECT_TRUE(svm.has_value());
    svm_.emplace(std::move(*svm));
    dev_->kmd().reset_counters();
  }

  // Arms the simulator's fault plan (not through the UMD: a test hook).
  void inject(std::uint32_t op, bool fatal, std::uint64_t n = 1) {
    drm_sim_fault_inject f{};
    f.op = op;
    f.flags = fatal ? DRM_SIM_FAULT_FLAG_FATAL : 0;
    f.n = n;
    ASSERT_EQ(drm_sim_ioctl(dev_->fd(), DRM_IOCTL_SIM_FAULT_INJECT, &f), 0);
  }
  Result advise_system() { return svm_->advise(kAdvised, MemAdvice::kSetPreferredLocationSystem); }
  std::vector<MemRange> layout() {
    auto r = vm_->query_mem_ranges(kCpu);
    EXPECT_TRUE(r.has_value()) << to_string(r.result());
    return r ? *r : std::vector<MemRange>{};
  }
  std::uint64_t madvise_calls() {
    drm_sim_vm_stats s{};
    s.vm_id = vm_->id();
    EXPECT_EQ(drm_sim_ioctl(dev_->fd(), DRM_IOCTL_SIM_VM_STATS, &s), 0);
    return s.madvise_calls;
  }
  RestartCounters counters() { return dev_->restart_counters(); }

 private:
  std::unique_ptr<Device> dev_;
  std::unique_ptr<Vm> vm_;
  std::optional<SvmAllocation> svm_;
};

std::vector<MemRange> uninterrupted_layout() {
  World w(policy(RestartPolicy::kRaw));
  EXPECT_EQ(w.advise_system(), Result::kSuccess);
  return w.layout();
}

TEST(InterruptTest, LibdrmPolicyRestartsAFatallyInterruptedMadviseToTheSameLayout) {
  // given a fatal signal armed for the next wait: madvise's killable VM lock
  World w(policy(RestartPolicy::kLibdrm));
  w.inject(DRM_SIM_FAULT_SIGNAL_AT_WAIT, true);
  // when
  const Result r = w.advise_system();
  // then
  EXPECT_EQ(r, Result::kSuccess);
  const RestartCounters c = w.counters();
  EXPECT_EQ(c.calls, 1u);
  EXPECT_EQ(c.attempts, 2u);
  EXPECT_EQ(c.restarts, 1u);
  EXPECT_EQ(c.eintr_seen, 1u);
  EXPECT_EQ(c.gave_up, 0u);
  const auto expected = uninterrupted_layout();
  EXPECT_EQ(expected.size(), 3u);
  EXPECT_EQ(w.layout(), expected) << to_string(w.layout()) << "vs\n" << to_string(expected);
}

TEST(InterruptTest, RawPolicyLetsTheCallerSeeInterruptedWithNothingChanged) {
  // given
  World w(policy(RestartPolicy::kRaw));
  const auto before = w.layout();
  w.inject(DRM_SIM_FAULT_SIGNAL_AT_WAIT, true);
  // when
  const Result r = w.advise_system();
  // then
  EXPECT_EQ(r, Result::kInterrupted);
  EXPECT_EQ(w.counters().eintr_seen, 1u);
  EXPECT_EQ(w.counters().restarts, 0u);
  EXPECT_EQ(w.layout(), before) << "the VM lock is taken before any split";
  // and the caller's own restart converges on the uninterrupted layout
  EXPECT_EQ(w.advise_system(), Result::kSuccess);
  EXPECT_EQ(w.layout(), uninterrupted_layout());
}

TEST(InterruptTest, BoundedPolicyGivesUpWhenEveryWaitIsInterrupted) {
  // given a fatal signal at every wait
  World w(policy(RestartPolicy::kBounded, 3));
  w.inject(DRM_SIM_FAULT_SIGNAL_EVERY, true);
  // when
  const Result r = w.advise_system();
  // then
  EXPECT_EQ(r, Result::kInterrupted);
  const RestartCounters c = w.counters();
  EXPECT_EQ(c.attempts, 4u);
  EXPECT_EQ(c.restarts, 3u);
  EXPECT_EQ(c.eintr_seen, 4u);
  EXPECT_EQ(c.gave_up, 1u);
  EXPECT_GT(c.backoff_total.count(), 0);
  // and once the signals stop, the same call succeeds
  w.inject(DRM_SIM_FAULT_CLEAR, false, 0);
  EXPECT_EQ(w.advise_system(), Result::kSuccess);
  EXPECT_EQ(w.layout(), uninterrupted_layout());
}

TEST(InterruptTest, BoundedPolicyRidesOutAShortBurst) {
  World w(policy(RestartPolicy::kBounded, 3));
  w.inject(DRM_SIM_FAULT_SIGNAL_AT_WAIT, true);
  EXPECT_EQ(w.advise_system(), Result::kSuccess);
  EXPECT_EQ(w.counters().restarts, 1u);
  EXPECT_EQ(w.layout(), uninterrupted_layout());
}

TEST(InterruptTest, ANonFatalSignalInterruptsTheNotifierLockAndTheRestartStillConverges) {
  // given a non-fatal signal: the killable VM lock ignores it, it stays
  // pending and interrupts the interruptible SVM notifier lock, after the split
  World w(policy(RestartPolicy::kLibdrm));
  w.inject(DRM_SIM_FAULT_SIGNAL_AT_WAIT, false);
  // when
  const Result r = w.advise_system();
  // then
  EXPECT_EQ(r, Result::kSuccess);
  EXPECT_EQ(w.counters().restarts, 1u);
  EXPECT_EQ(w.layout(), uninterrupted_layout());
}

TEST(InterruptTest, TheAttributeQueryIsRestartedToo) {
  World w(policy(RestartPolicy::kLibdrm));
  ASSERT_EQ(w.advise_system(), Result::kSuccess);
  const auto expected = w.layout();
  w.inject(DRM_SIM_FAULT_SIGNAL_AT_WAIT, false);  // the query's interruptible read lock
  const auto before = w.counters().restarts;
  EXPECT_EQ(w.layout(), expected);
  EXPECT_EQ(w.counters().restarts, before + 1);
}

TEST(InterruptTest, TheRestartIsASecondMadviseThatReachesTheVm) {
  // given a signal that interrupts madvise after it reached the VM (the
  // notifier lock), as the simulator's statistics show
  World w(policy(RestartPolicy::kLibdrm));
  const std::uint64_t before = w.madvise_calls();
  w.inject(DRM_SIM_FAULT_SIGNAL_AT_WAIT, false);
  // when
  ASSERT_EQ(w.advise_system(), Result::kSuccess);
  // then
  EXPECT_EQ(w.madvise_calls() - before, 2u);
}

}  // namespace
}  // namespace umd_test
