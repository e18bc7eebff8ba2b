// Interrupting madvise and the attribute query at every wait
// (xe-vm-semantics.md §3 "Signals", §5): for each path, an uninterrupted run
// gives the number of waits (FaultPlan::waits() delta, which must match the
// path's spec-derived wait list) and the final state; then for each wait k
// and each signal kind (fatal, non-fatal), a fresh device runs the same path
// with wait k interrupted. Where the signal can interrupt — a fatal one every
// killable or interruptible wait, a non-fatal one only interruptible waits
// (it stays pending, so it also interrupts any later interruptible wait) —
// the ioctl returns -EINTR with no attribute changed; the identical ioctl is
// then restarted and the final VMAs, BO attributes and query results must
// equal the uninterrupted run's.
//
// Waits of madvise: VM lock (killable), then one per BO in the range
// (interruptible), then the notifier lock when mirror or userptr VMAs are in
// the range (interruptible). Waits of the query: the VM read lock
// (interruptible).
#include <xf86drm.h>

#include "madvise_test_util.h"

namespace madvise_test {
namespace {

using drm_sim::WaitKind;
constexpr WaitKind K = WaitKind::kKillable;
constexpr WaitKind I = WaitKind::kInterruptible;

// One world per run: the session under test and, for multi-device paths, a
// second device.
struct World {
  explicit World(const char* profile, std::uint32_t vm_flags) : s(profile, vm_flags) {}
  Session s;
  std::unique_ptr<Session> other;
  std::vector<std::uint32_t> bos;  // handles, in creation order
  std::uint32_t retained = 0;      // 7.1 retained_ptr target
  std::vector<drm_xe_mem_range_attr> query_out;
  std::uint32_t query_num = 0;
  std::uint64_t query_sizeof = 0;
};

struct Path {
  const char* name;
  const char* profile;
  std::uint32_t vm_flags;
  void (*setup)(World&);
  int (*op)(World&);  // the ioctl under test: 0 or -errno
  std::vector<WaitKind> waits;
};

// --- setups ---------------------------------------------------------------

//     page:  0                               8
//            [------------ mirror ------------)
void mirror_only(World& w) {
  ASSERT_EQ(w.s.bind_mirror(pg(0), pages(8)), 0);
}

//     page:  0           4           8
//            [-- BO a ---)[-- BO b ---)
void two_bos(World& w) {
  for (std::uint64_t i = 0; i < 2; ++i) {
    const std::uint32_t bo = w.s.create_bo(pages(4), kSmem | kVram);
    ASSERT_EQ(w.s.bind_bo(bo, 0, pg(4 * i), pages(4)), 0);
    w.bos.push_back(bo);
  }
}

//     page:  0           4           8          12          16
//            [- mirror --)[--- BO ----)[- userptr )[-- NULL ---)
void every_kind(World& w) {
  ASSERT_EQ(w.s.bind_mirror(pg(0), pages(4)), 0);
  const std::uint32_t bo = w.s.create_bo(pages(4), kSmem | kVram);
  ASSERT_EQ(w.s.bind_bo(bo, 0, pg(4), pages(4)), 0);
  w.bos.push_back(bo);
  ASSERT_EQ(w.s.bind_userptr(pg(8), pages(4), kUserptrCpuBase), 0);
  ASSERT_EQ(w.s.bind_null(pg(12), pages(4)), 0);
}

void userptr_only(World& w) {
  ASSERT_EQ(w.s.bind_userptr(pg(0), pages(8), kUserptrCpuBase), 0);
}
void null_only(World& w) {
  ASSERT_EQ(w.s.bind_null(pg(0), pages(8)), 0);
}
void one_bo(World& w) {
  const std::uint32_t bo = w.s.create_bo(pages(8), kSmem);
  ASSERT_EQ(w.s.bind_bo(bo, 0, pg(0), pages(8)), 0);
  w.bos.push_back(bo);
}
void mirror_and_linked_device(World& w) {
  mirror_only(w);
  w.other = std::make_unique<Session>("b580-xelink");
}

// --- operations -----------------------------------------------------------

int pat_2_to_5(World& w) {
  return w.s.advise_pat(pg(2), pages(3), 2);
}
int pat_2_to_14(World& w) {
  return w.s.advise_pat(pg(2), pages(12), 2);
}
int loc_system_2_to_5(World& w) {
  return w.s.advise_loc(pg(2), pages(3), DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM, 1);
}
int atomic_cpu_2_to_5(World& w) {
  return w.s.advise_atomic(pg(2), pages(3), DRM_XE_ATOMIC_CPU);
}
int atomic_global_2_to_6(World& w) {
  return w.s.advise_atomic(pg(2), pages(4), DRM_XE_ATOMIC_GLOBAL);
}
int pat_over_a_hole(World& w) {
  return w.s.advise_pat(pg(32), pages(4), 2);
}
int same_pat_2_to_5(World& w) {
  return w.s.advise_pat(pg(2), pages(3), 0);
}
int dontneed_with_retained(World& w) {
  return w.s.advise_purge(pg(0), pages(8), DRM_XE_VMA_PURGEABLE_STATE_DONTNEED, &w.retained);
}
int loc_linked_device(World& w) {
  return w.s.advise_loc(pg(2), pages(3), w.other->fd(), 1, 1);
}

int query_count(World& w) {
  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = w.s.vm();
  q.start = pg(0);
  q.range = pages(16);
  const int rc = drm_sim_ioctl(w.s.fd(), DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
  w.query_num = q.num_mem_ranges;
  w.query_sizeof = q.sizeof_mem_range_attr;
  return rc;
}
int query_fill(World& w) {
  w.query_out.assign(8, drm_xe_mem_range_attr{});
  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = w.s.vm();
  q.start = pg(0);
  q.range = pages(16);
  q.num_mem_ranges = static_cast<std::uint32_t>(w.query_out.size());
  q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
  q.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(w.query_out.data());
  const int rc = drm_sim_ioctl(w.s.fd(), DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
  w.query_num = q.num_mem_ranges;
  w.query_sizeof = q.sizeof_mem_range_attr;
  w.query_out.resize(rc == 0 ? q.num_mem_ranges : 0);
  return rc;
}

const Path kPaths[] = {
    {"MirrorPatSplit", "b580", kFaultVm, mirror_only, pat_2_to_5, {K, I}},
    {"MirrorPreferredLoc", "b580", kFaultVm, mirror_only, loc_system_2_to_5, {K, I}},
    {"MirrorAtomic", "b580", kFaultVm, mirror_only, atomic_cpu_2_to_5, {K, I}},
    {"MirrorSameValue", "b580", kFaultVm, mirror_only, same_pat_2_to_5, {K, I}},
    {"TwoBosAtomic", "b580", kFaultVm, two_bos, atomic_global_2_to_6, {K, I, I}},
    {"TwoBosPatWithPtes", "b580", kPlainVm, two_bos, pat_2_to_5, {K, I, I}},
    {"EveryKindPat", "b580", kFaultVm, every_kind, pat_2_to_14, {K, I, I}},
    {"UserptrPat", "b580", kPlainVm, userptr_only, pat_2_to_5, {K, I}},
    {"NullPat", "b580", kPlainVm, null_only, pat_2_to_5, {K}},
    {"Hole", "b580", kFaultVm, mirror_only, pat_over_a_hole, {K}},
    {"BoDontneedWithRetained", "b580-uapi71", kPlainVm, one_bo, dontneed_with_retained, {K, I}},
    {"MirrorLinkedDevice",
     "b580-xelink",
     kFaultVm,
     mirror_and_linked_device,
     loc_linked_device,
     {K, I}},
    {"QueryCountCall", "b580", kFaultVm, every_kind, query_count, {I}},
    {"QueryFillCall", "b580", kFaultVm, every_kind, query_fill, {I}},
};

// --- observation ----------------------------------------------------------

struct BoAttrs {
  std::uint8_t atomic;
  bool cpu_mappings_zapped;
  std::uint32_t dontneed_refs;
  bool operator==(const BoAttrs&) const = default;
};

struct Snapshot {
  std::vector<Vma> vmas;
  std::vector<BoAttrs> bos;
  std::uint32_t retained = 0;
  std::vector<std::vector<std::uint8_t>> query_bytes;
  std::uint32_t query_num = 0;
  std::uint64_t query_sizeof = 0;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(World& w) {
  Snapshot s;
  s.vmas = w.s.vmas();
  for (std::uint32_t h : w.bos) {
    const drm_sim::Bo b = w.s.bo_state(h);
    s.bos.push_back({b.atomic, b.cpu_mappings_zapped, b.dontneed_refs});
  }
  s.retained = w.retained;
  for (const auto& a : w.query_out) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&a);
    s.query_bytes.emplace_back(p, p + sizeof a);
  }
  s.query_num = w.query_num;
  s.query_sizeof = w.query_sizeof;
  return s;
}

// Interrupted runs change no attribute: every VMA now carries the attributes
// of the VMA that covered its start before the call.
void expect_no_attribute_changed(const std::vector<Vma>& before, const std::vector<Vma>& after) {
  for (const auto& v : after) {
    bool covered = false;
    for (const auto& b : before) {
      if (b.start <= v.start && v.start < b.end) {
        covered = true;
        EXPECT_EQ(v.attrs, b.attrs) << describe(v) << " was " << describe(b);
      }
    }
    EXPECT_TRUE(covered) << "new VMA " << describe(v);
  }
}

class MadviseInterruptTest : public ::testing::TestWithParam<Path> {};

TEST_P(MadviseInterruptTest, RestartAfterEveryInterruptedWaitReachesTheUninterruptedState) {
  const Path& p = GetParam();
  // given the uninterrupted run
  Snapshot expected;
  {
    World w(p.profile, p.vm_flags);
    p.setup(w);
    ASSERT_FALSE(HasFatalFailure());
    const std::uint64_t before = w.s.waits();
    ASSERT_EQ(p.op(w), 0);
    ASSERT_EQ(w.s.waits() - before, p.waits.size()) << "waits of an uninterrupted run";
    expected = snapshot(w);
  }
  for (std::size_t k = 1; k <= p.waits.size(); ++k) {
    for (const bool fatal : {false, true}) {
      SCOPED_TRACE(testing::Message() << "signal at wait " << k << (fatal ? " (fatal)" : ""));
      // given a fresh world and a signal at wait k
      World w(p.profile, p.vm_flags);
      p.setup(w);
      ASSERT_FALSE(HasFatalFailure());
      const std::vector<Vma> before = w.s.vmas();
      w.s.signal_at_wait(k, fatal);
      bool interruptible_from_k = fatal;
      for (std::size_t j = k - 1; j < p.waits.size(); ++j) {
        interruptible_from_k = interruptible_from_k || p.waits[j] == I;
      }
      // when
      const int rc = p.op(w);
      w.s.clear_faults();
      // then
      if (interruptible_from_k) {
        EXPECT_EQ(rc, -EINTR);
        expect_no_attribute_changed(before, w.s.vmas());
        EXPECT_EQ(w.retained, 0u);
        EXPECT_EQ(p.op(w), 0) << "restart";
      } else {
        EXPECT_EQ(rc, 0) << "a non-fatal signal cannot interrupt the remaining waits";
      }
      const Snapshot got = snapshot(w);
      EXPECT_TRUE(got == expected) << "got:\n"
                                   << describe(got.vmas) << "expected:\n"
                                   << describe(expected.vmas);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPath, MadviseInterruptTest, ::testing::ValuesIn(kPaths), NameOf());

// ---------------------------------------------------------------------------
// The wait kinds, one behaviour each.

TEST(MadviseSignalTest, FatalSignalInterruptsTheKillableVmLock) {
  // given
  World w("b580", kPlainVm);
  null_only(w);
  w.s.signal_at_wait(1, true);
  // when / then
  EXPECT_EQ(pat_2_to_5(w), -EINTR);
  w.s.clear_faults();
}

TEST(MadviseSignalTest, NonFatalSignalPendingFromTheVmLockInterruptsTheBoLock) {
  // given the signal arrives while waiting for the VM lock (killable: ignored)
  World w("b580", kFaultVm);
  two_bos(w);
  w.s.signal_at_wait(1, false);
  // when
  const int rc = atomic_global_2_to_6(w);
  // then it is still pending at the first BO lock (interruptible)
  EXPECT_EQ(rc, -EINTR);
  w.s.clear_faults();
  for (const auto& v : w.s.vmas()) EXPECT_EQ(v.attrs.atomic, 0) << describe(v);
}

TEST(MadviseSignalTest, PendingSignalEndsWithTheIoctl) {
  // given a non-fatal signal ignored by the only (killable) wait of a call
  World w("b580", kPlainVm);
  null_only(w);
  w.s.signal_at_wait(1, false);
  ASSERT_EQ(pat_2_to_5(w), 0);
  w.s.clear_faults();
  // when the next call needs an interruptible wait
  ASSERT_EQ(w.s.bind_userptr(pg(16), pages(4), kUserptrCpuBase), 0);
  // then it is not interrupted by the old signal
  EXPECT_EQ(w.s.advise_pat(pg(16), pages(4), 2), 0);
}

TEST(MadviseSignalTest, NonFatalSignalInterruptsTheQueryReadLock) {
  // given
  World w("b580", kFaultVm);
  every_kind(w);
  w.s.signal_at_wait(1, false);
  // when / then
  EXPECT_EQ(query_count(w), -EINTR);
  w.s.clear_faults();
  EXPECT_EQ(query_count(w), 0);
  EXPECT_EQ(w.query_num, 4u);
}

// libdrm's drmIoctl() restarts on EINTR: a signal is invisible to its callers.
TEST(MadviseSignalTest, DrmIoctlRestartsAnInterruptedMadvise) {
  // given
  World w("b580", kFaultVm);
  mirror_only(w);
  w.s.signal_at_wait(1, true);
  drm_xe_madvise m = pat_advice(w.s.vm(), pg(2), pages(3), 2);
  // when
  const int rc = drmIoctl(w.s.fd(), DRM_IOCTL_XE_MADVISE, &m);
  // then
  EXPECT_EQ(rc, 0);
  w.s.clear_faults();
  EXPECT_GE(w.s.device().plan().signals_delivered(), 1u);
  const auto vmas = w.s.vmas();
  EXPECT_EQ(page_spans(vmas), (std::vector<PageSpan>{{0, 2}, {2, 5}, {5, 8}})) << describe(vmas);
  EXPECT_EQ(vma_at(vmas, pg(2)).attrs.pat, 2);
}

}  // namespace
}  // namespace madvise_test
