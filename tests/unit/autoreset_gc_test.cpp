// MADVISE_AUTORESET garbage collection under injected allocation failures
// (spec §7; vm.h Vm::cpu_unmapped). A CPU unmap queues its range; the
// collector applies each range all or nothing, and a range it cannot finish
// stays queued until the next bind, madvise, query or GPU access of the VM.
// Each scenario is run once without faults to learn its final layout and
// how many allocations the collector makes, then once per allocation point
// with that allocation failing: the reset must be deferred (the layout as
// before the unmap), never lost, and land on exactly the fault-free layout
// at the next opportunity, with the VM's invariants holding throughout.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"

namespace drm_sim {
namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kBase = 256 * kMiB;

// A drm_sim file with one fault-mode VM; helpers speak the uapi.
class GcFixture {
 public:
  GcFixture() {
    fd_ = drm_sim_open("b580");
    EXPECT_GE(fd_, 0);
    drm_xe_vm_create c{};
    c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_CREATE, &c), 0);
    vm_ = c.vm_id;
  }
  ~GcFixture() { close(fd_); }
  GcFixture(const GcFixture&) = delete;
  GcFixture& operator=(const GcFixture&) = delete;

  int cpu(std::uint64_t mib, std::uint64_t len_mib, std::uint32_t op) {
    drm_sim_cpu_mmap m{};
    m.addr = kBase + mib * kMiB;
    m.size = len_mib * kMiB;
    m.op = op;
    return drm_sim_ioctl(fd_, DRM_IOCTL_SIM_CPU_MMAP, &m);
  }
  int mirror(std::uint64_t mib, std::uint64_t len_mib, std::uint32_t extra = 0) {
    drm_xe_vm_bind b{};
    b.vm_id = vm_;
    b.num_binds = 1;
    b.bind.addr = kBase + mib * kMiB;
    b.bind.range = len_mib * kMiB;
    b.bind.op = DRM_XE_VM_BIND_OP_MAP;
    b.bind.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR | extra;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_BIND, &b);
  }
  int pat(std::uint64_t mib, std::uint64_t len_mib, std::uint32_t val) {
    drm_xe_madvise m{};
    m.vm_id = vm_;
    m.start = kBase + mib * kMiB;
    m.range = len_mib * kMiB;
    m.type = DRM_XE_MEM_RANGE_ATTR_PAT;
    m.pat_index.val = val;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_MADVISE, &m);
  }
  int fail_alloc_at(std::uint64_t n) {
    drm_sim_fault_inject f{};
    f.op = n == 0 ? DRM_SIM_FAULT_CLEAR : DRM_SIM_FAULT_FAIL_ALLOC_AT;
    f.n = n;
    return drm_sim_ioctl(fd_, DRM_IOCTL_SIM_FAULT_INJECT, &f);
  }
  int query_count() {
    drm_xe_vm_query_mem_range_attr q{};
    q.vm_id = vm_;
    q.start = 0;
    q.range = 1ull << 47;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
  }
  int gpu_read(std::uint64_t mib) {
    drm_sim_mem_access a{};
    a.addr = kBase + mib * kMiB;
    a.size = 8;
    a.op = DRM_SIM_ACCESS_READ;
    drm_sim_mem_access_batch b{};
    b.vm_id = vm_;
    b.num = 1;
    b.accesses = reinterpret_cast<std::uintptr_t>(&a);
    return drm_sim_ioctl(fd_, DRM_IOCTL_SIM_MEM_ACCESS, &b);
  }
  std::shared_ptr<Vm> vm() { return file_from_fd(fd_)->vm(vm_); }
  FaultPlan& plan() { return file_from_fd(fd_)->device().plan(); }
  // "[lo,hi) pat=N" per VMA, in MiB from kBase.
  std::string layout() {
    std::string out;
    for (const Vma& v : vm()->vmas()) {
      out += "[" + std::to_string((v.start - kBase) / kMiB) + "," +
             std::to_string((v.end - kBase) / kMiB) + ") pat=" + std::to_string(v.attrs.pat) + "\n";
    }
    return out;
  }

 private:
  int fd_ = -1;
  std::uint32_t vm_ = 0;
};

// A scenario: set-up calls, then the CPU unmap whose autoreset is at stake.
struct Scenario {
  const char* name;
  std::function<void(GcFixture&)> setup;
  std::uint64_t unmap_mib;
  std::uint64_t unmap_len;
};

// The GC opportunities the fix promises: each runs queued work first.
enum class Next { kQuery, kGpuAccess, kBind, kMadvise };

// Runs the scenario failing allocation n (0: none); returns the layout
// after the next opportunity and reports through the out-parameters.
std::string run(const Scenario& sc, std::uint64_t n, Next next, std::uint64_t* allocs,
                std::uint64_t* failed, std::string* before_unmap, std::string* deferred) {
  GcFixture f;
  sc.setup(f);
  *before_unmap = f.layout();
  const std::uint64_t a0 = f.plan().allocs();
  const std::uint64_t f0 = f.plan().allocs_failed();
  if (n != 0) {
    EXPECT_EQ(f.fail_alloc_at(n), 0);
  }
  EXPECT_EQ(f.cpu(sc.unmap_mib, sc.unmap_len, DRM_SIM_CPU_MMAP_UNMAP), 0);  // munmap succeeds
  EXPECT_EQ(f.fail_alloc_at(0), 0);
  *allocs = f.plan().allocs() - a0;
  *failed = f.plan().allocs_failed() - f0;
  *deferred = f.layout();
  EXPECT_EQ(f.vm()->check_invariants(), "");
  EXPECT_EQ(f.vm()->gc_pending(), *failed != 0 ? 1u : 0u) << "the reset must stay queued";
  switch (next) {
    case Next::kQuery:
      EXPECT_EQ(f.query_count(), 0);
      break;
    case Next::kGpuAccess:
      EXPECT_EQ(f.gpu_read(60), -EFAULT);  // no VMA there: the collector still ran first
      break;
    case Next::kBind:
      EXPECT_EQ(f.mirror(60, 2), 0);  // far away from the scenario's VMAs
      break;
    case Next::kMadvise:
      EXPECT_EQ(f.pat(0, 1, 0), 0);  // hits [0,1), which no scenario resets
      break;
  }
  EXPECT_EQ(f.vm()->gc_pending(), 0u);
  EXPECT_EQ(f.vm()->check_invariants(), "");
  std::string out = f.layout();
  if (next == Next::kBind) out += "+bind";  // keep the comparison like for like
  if (next == Next::kMadvise) out += "+madvise";
  return out;
}

const Scenario kScenarios[] = {
    // advised autoreset mirror [0,8), unmap [2,4): cut at both ends (prev,
    // next and the piece), reset, no merge
    {"CutInsideOneVma",
     [](GcFixture& f) {
       ASSERT_EQ(f.cpu(0, 8, DRM_SIM_CPU_MMAP_MAP), 0);
       ASSERT_EQ(f.mirror(0, 8, DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET), 0);
       ASSERT_EQ(f.pat(0, 8, 1), 0);
     },
     2, 2},
    // advised autoreset mirror [0,4) next to default mirror [4,8), unmap
    // [2,4): cut at 2, reset [2,4), which merges with [4,8)
    {"CutResetAndMerge",
     [](GcFixture& f) {
       ASSERT_EQ(f.cpu(0, 8, DRM_SIM_CPU_MMAP_MAP), 0);
       ASSERT_EQ(f.mirror(0, 4, DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET), 0);
       ASSERT_EQ(f.pat(0, 4, 1), 0);
       ASSERT_EQ(f.mirror(4, 4), 0);
     },
     2, 2},
    // two advised autoreset pieces [2,4) and [4,6) between default mirrors,
    // unmap [2,6): both reset, and merge with the default neighbour [1,2)
    {"TwoPiecesResetAndMerge",
     [](GcFixture& f) {
       ASSERT_EQ(f.cpu(0, 8, DRM_SIM_CPU_MMAP_MAP), 0);
       ASSERT_EQ(f.mirror(2, 4, DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET), 0);
       ASSERT_EQ(f.pat(2, 2, 1), 0);
       ASSERT_EQ(f.pat(4, 2, 2), 0);
       ASSERT_EQ(f.mirror(0, 2), 0);
       ASSERT_EQ(f.mirror(6, 2), 0);
       ASSERT_EQ(f.pat(0, 1, 1), 0);  // [0,1) advised: [1,2) stays a default neighbour
     },
     2, 4},
};

class AutoresetGcTest : public ::testing::TestWithParam<std::tuple<int, Next>> {};

TEST_P(AutoresetGcTest, FailedAllocationDefersTheResetUntilTheNextOpportunity) {
  const Scenario& sc = kScenarios[std::get<0>(GetParam())];
  const Next next = std::get<1>(GetParam());
  // given the fault-free result and the collector's allocation count
  std::uint64_t allocs = 0;
  std::uint64_t failed = 0;
  std::string before;
  std::string deferred;
  const std::string want = run(sc, 0, next, &allocs, &failed, &before, &deferred);
  ASSERT_GT(allocs, 0u) << sc.name << ": the collector must allocate";
  ASSERT_EQ(failed, 0u);
  ASSERT_NE(deferred, before) << sc.name << ": the unmap must change the layout";
  // when each of its allocations fails in turn
  for (std::uint64_t n = 1; n <= allocs; ++n) {
    SCOPED_TRACE(std::string(sc.name) + ", failing allocation " + std::to_string(n) + " of " +
                 std::to_string(allocs));
    std::uint64_t a = 0;
    std::uint64_t fl = 0;
    std::string b;
    std::string d;
    const std::string got = run(sc, n, next, &a, &fl, &b, &d);
    // then the failure hit the collector, which undid that range entirely
    EXPECT_EQ(fl, 1u);
    EXPECT_EQ(d, b) << "a failed range is undone, not half applied";
    // and the next opportunity reached exactly the fault-free layout
    EXPECT_EQ(got, want);
  }
}

std::string next_name(Next n) {
  switch (n) {
    case Next::kQuery:
      return "Query";
    case Next::kGpuAccess:
      return "GpuAccess";
    case Next::kBind:
      return "Bind";
    case Next::kMadvise:
      return "Madvise";
  }
  return "?";
}

INSTANTIATE_TEST_SUITE_P(EveryAllocationPoint, AutoresetGcTest,
                         ::testing::Combine(::testing::Range(0, 3),
                                            ::testing::Values(Next::kQuery, Next::kGpuAccess,
                                                              Next::kBind, Next::kMadvise)),
                         [](const ::testing::TestParamInfo<std::tuple<int, Next>>& p) {
                           return std::string(kScenarios[std::get<0>(p.param)].name) + "_" +
                                  next_name(std::get<1>(p.param));
                         });

// The queue keeps its order: a second unmap while the first reset is still
// queued is applied after it, and both land.
TEST(AutoresetGcQueueTest, QueuedResetsRunInOrderAtTheNextOpportunity) {
  // given two advised autoreset mirrors and a failing first reset
  GcFixture f;
  ASSERT_EQ(f.cpu(0, 8, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(f.mirror(0, 8, DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET), 0);
  ASSERT_EQ(f.pat(0, 8, 1), 0);
  ASSERT_EQ(f.fail_alloc_at(1), 0);
  ASSERT_EQ(f.cpu(1, 1, DRM_SIM_CPU_MMAP_UNMAP), 0);
  ASSERT_EQ(f.fail_alloc_at(0), 0);
  ASSERT_EQ(f.vm()->gc_pending(), 1u);
  // when a second unmap comes: the collector runs both, oldest first
  ASSERT_EQ(f.cpu(5, 1, DRM_SIM_CPU_MMAP_UNMAP), 0);
  // then both resets are there and nothing is queued
  EXPECT_EQ(f.vm()->gc_pending(), 0u);
  EXPECT_EQ(f.layout(), "[0,1) pat=1\n[1,2) pat=0\n[2,5) pat=1\n[5,6) pat=0\n[6,8) pat=1\n");
  EXPECT_EQ(f.vm()->check_invariants(), "");
}

// While the collector cannot finish, a bind fails with its ENOMEM and
// changes nothing; once it can, the bind goes through after the reset.
TEST(AutoresetGcQueueTest, BindFailsWithTheCollectorsEnomemAndChangesNothing) {
  GcFixture f;
  ASSERT_EQ(f.cpu(0, 8, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(f.mirror(0, 8, DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET), 0);
  ASSERT_EQ(f.pat(0, 8, 1), 0);
  ASSERT_EQ(f.fail_alloc_at(1), 0);
  ASSERT_EQ(f.cpu(2, 2, DRM_SIM_CPU_MMAP_UNMAP), 0);
  const std::string deferred = f.layout();
  ASSERT_EQ(f.fail_alloc_at(1), 0);  // the collector's first allocation fails again
  EXPECT_EQ(f.mirror(20, 2), -ENOMEM);
  EXPECT_EQ(f.layout(), deferred);
  EXPECT_EQ(f.vm()->gc_pending(), 1u);
  ASSERT_EQ(f.fail_alloc_at(0), 0);
  EXPECT_EQ(f.mirror(20, 2), 0);  // restarted unchanged, as a UMD does
  EXPECT_EQ(f.layout(), "[0,2) pat=1\n[2,4) pat=0\n[4,8) pat=1\n[20,22) pat=0\n");
  EXPECT_EQ(f.vm()->gc_pending(), 0u);
}

}  // namespace
}  // namespace drm_sim
