// DRM_IOCTL_XE_MADVISE error returns and their order (xe-vm-semantics.md §3,
// steps 1–12). Each order test breaks two rules whose errnos differ (or one
// rule plus an injected signal) and expects the earlier step's errno; the
// step-2 table proves each sanity check runs before the VM lock by arming a
// fatal signal there and showing the wait is never reached.
//
// Layout used by most tests, in pages from kBase:
//
//     page:  0     1     2     3     4
//            [-------- mirror -------)
#include <fcntl.h>

#include <climits>

#include "madvise_test_util.h"

namespace madvise_test {
namespace {

// ---------------------------------------------------------------------------
// Step 2: argument sanity, one row per rule.

struct SanityCase {
  const char* name;
  const char* profile;
  std::uint32_t type;                   // the valid advice the row starts from
  void (*break_rule)(drm_xe_madvise&);  // makes exactly one field invalid
};

drm_xe_madvise valid_advice(std::uint32_t vm, std::uint32_t type) {
  switch (type) {
    case DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC:
      return loc_advice(vm, pg(1), pages(2), 0);
    case DRM_XE_MEM_RANGE_ATTR_ATOMIC:
      return atomic_advice(vm, pg(1), pages(2), 1);
    case DRM_XE_VMA_ATTR_PURGEABLE_STATE:
      return purge_advice(vm, pg(1), pages(2), 0);
    default:
      return pat_advice(vm, pg(1), pages(2), 2);
  }
}

constexpr std::uint32_t kLoc = DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC;
constexpr std::uint32_t kAtomic = DRM_XE_MEM_RANGE_ATTR_ATOMIC;
constexpr std::uint32_t kPat = DRM_XE_MEM_RANGE_ATTR_PAT;
constexpr std::uint32_t kPurge = DRM_XE_VMA_ATTR_PURGEABLE_STATE;

const SanityCase kSanityCases[] = {
    {"UnalignedStart", "b580", kPat, [](drm_xe_madvise& m) { m.start += 0x800; }},
    {"UnalignedRange", "b580", kPat, [](drm_xe_madvise& m) { m.range += 0x800; }},
    {"RangeBelowOnePage", "b580", kPat, [](drm_xe_madvise& m) { m.range = 0; }},
    {"UnknownType4", "b580", kPat, [](drm_xe_madvise& m) { m.type = 4; }},
    {"UnknownTypeAllOnes", "b580", kPat, [](drm_xe_madvise& m) { m.type = 0xffffffffu; }},
    {"PurgeableTypeIsUnknownOn618", "b580", kPurge, [](drm_xe_madvise&) {}},
    {"ReservedWord0", "b580", kPat, [](drm_xe_madvise& m) { m.reserved[0] = 1; }},
    {"ReservedWord1", "b580", kPat, [](drm_xe_madvise& m) { m.reserved[1] = 1; }},
    {"ReservedWord0OfPreferredLoc", "b580", kLoc, [](drm_xe_madvise& m) { m.reserved[0] = 1; }},
    {"ReservedWord1OfPreferredLoc", "b580", kLoc, [](drm_xe_madvise& m) { m.reserved[1] = 1; }},
    {"ReservedWord0OfAtomic", "b580", kAtomic, [](drm_xe_madvise& m) { m.reserved[0] = 1; }},
    // PREFERRED_LOC
    {"DevmemFdBelowDefaultSystem", "b580", kLoc,
     [](drm_xe_madvise& m) { m.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(-2); }},
    {"DevmemFdMostNegative", "b580", kLoc,
     [](drm_xe_madvise& m) {
       m.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(INT_MIN);
     }},
    {"MigrationPolicyPastOnlySystemPages", "b580", kLoc,
     [](drm_xe_madvise& m) { m.preferred_mem_loc.migration_policy = 2; }},
    {"RegionInstanceIsPadOn618", "b580", kLoc,
     [](drm_xe_madvise& m) { m.preferred_mem_loc.region_instance = 1; }},
    {"PreferredLocReserved", "b580", kLoc,
     [](drm_xe_madvise& m) { m.preferred_mem_loc.reserved = 1; }},
    {"RegionInstanceWithDefaultDeviceOn70", "b580-xelink", kLoc,
     [](drm_xe_madvise& m) { m.preferred_mem_loc.region_instance = 1; }},
    {"RegionInstanceWithDefaultSystemOn70", "b580-xelink", kLoc,
     [](drm_xe_madvise& m) {
       m.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(-1);
       m.preferred_mem_loc.region_instance = 1;
     }},
    // ATOMIC
    {"AtomicValuePastCpu", "b580", kAtomic, [](drm_xe_madvise& m) { m.atomic.val = 4; }},
    {"AtomicPad", "b580", kAtomic, [](drm_xe_madvise& m) { m.atomic.pad = 1; }},
    {"AtomicReserved", "b580", kAtomic, [](drm_xe_madvise& m) { m.atomic.reserved = 1; }},
    // PAT: b580 has 28 entries; Xe2 entries 16-19 are reserved.
    {"PatIndexEqualToTableSize", "b580", kPat, [](drm_xe_madvise& m) { m.pat_index.val = 28; }},
    {"PatIndexFarPastTheTable", "b580", kPat, [](drm_xe_madvise& m) { m.pat_index.val = 64; }},
    {"PatIndex16IsReserved", "b580", kPat, [](drm_xe_madvise& m) { m.pat_index.val = 16; }},
    {"PatIndex17IsReserved", "b580", kPat, [](drm_xe_madvise& m) { m.pat_index.val = 17; }},
    {"PatIndex18IsReserved", "b580", kPat, [](drm_xe_madvise& m) { m.pat_index.val = 18; }},
    {"PatIndex19IsReserved", "b580", kPat, [](drm_xe_madvise& m) { m.pat_index.val = 19; }},
    {"PatIndexPastPvcTable", "pvc", kPat, [](drm_xe_madvise& m) { m.pat_index.val = 8; }},
    {"PatPad", "b580", kPat, [](drm_xe_madvise& m) { m.pat_index.pad = 1; }},
    {"PatReserved", "b580", kPat, [](drm_xe_madvise& m) { m.pat_index.reserved = 1; }},
    // PURGEABLE_STATE (7.1)
    {"PurgeableValuePastDontneed", "b580-uapi71", kPurge,
     [](drm_xe_madvise& m) { m.purge_state_val.val = 2; }},
    {"PurgeablePad", "b580-uapi71", kPurge, [](drm_xe_madvise& m) { m.purge_state_val.pad = 1; }},
    {"PurgeableReservedWord0", "b580-uapi71", kPurge, [](drm_xe_madvise& m) { m.reserved[0] = 1; }},
};

class MadviseSanityTest : public ::testing::TestWithParam<SanityCase> {};

TEST_P(MadviseSanityTest, FailsWithEinvalBeforeTheVmLock) {
  // given a mirror VMA and a fatal signal armed at the next (VM lock) wait
  const SanityCase& c = GetParam();
  Session s(c.profile);
  ASSERT_EQ(s.bind_mirror(pg(0), pages(4)), 0);
  drm_xe_madvise m = valid_advice(s.vm(), c.type);
  c.break_rule(m);
  const std::uint64_t waits_before = s.waits();
  s.signal_at_wait(1, /*fatal=*/true);
  // when
  const int rc = s.madvise(m);
  // then step 2 refused it: -EINVAL, the VM lock was never waited for
  EXPECT_EQ(rc, -EINVAL);
  EXPECT_EQ(s.waits(), waits_before);
  s.clear_faults();
  EXPECT_EQ(page_spans(s.vmas()), (std::vector<PageSpan>{{0, 4}}));
  EXPECT_EQ(s.stats().madvise_calls, 0u);
}

INSTANTIATE_TEST_SUITE_P(EachRuleOfStep2, MadviseSanityTest, ::testing::ValuesIn(kSanityCases),
                         NameOf());

// The same rows' neighbours that are valid: the table above is not refusing
// everything.
struct BoundaryCase {
  const char* name;
  const char* profile;
  std::uint32_t type;
  void (*set)(drm_xe_madvise&);
};

const BoundaryCase kBoundaryCases[] = {
    {"LastPatIndex", "b580", kPat, [](drm_xe_madvise& m) { m.pat_index.val = 27; }},
    {"PatIndexBeforeTheReservedBlock", "b580", kPat,
     [](drm_xe_madvise& m) { m.pat_index.val = 15; }},
    {"PatIndexAfterTheReservedBlock", "b580", kPat,
     [](drm_xe_madvise& m) { m.pat_index.val = 20; }},
    {"LastPvcPatIndex", "pvc", kPat, [](drm_xe_madvise& m) { m.pat_index.val = 7; }},
    {"AtomicCpu", "b580", kAtomic, [](drm_xe_madvise& m) { m.atomic.val = 3; }},
    {"AtomicUndefined", "b580", kAtomic, [](drm_xe_madvise& m) { m.atomic.val = 0; }},
    {"DevmemFdDefaultSystem", "b580", kLoc,
     [](drm_xe_madvise& m) { m.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(-1); }},
    {"MigrationPolicyOnlySystemPages", "b580", kLoc,
     [](drm_xe_madvise& m) { m.preferred_mem_loc.migration_policy = 1; }},
    {"PurgeableDontneed", "b580-uapi71", kPurge,
     [](drm_xe_madvise& m) { m.purge_state_val.val = 1; }},
};

class MadviseBoundaryTest : public ::testing::TestWithParam<BoundaryCase> {};

TEST_P(MadviseBoundaryTest, IsAccepted) {
  // given
  const BoundaryCase& c = GetParam();
  Session s(c.profile);
  ASSERT_EQ(s.bind_mirror(pg(0), pages(4)), 0);
  drm_xe_madvise m = valid_advice(s.vm(), c.type);
  c.set(m);
  // when / then
  EXPECT_EQ(s.madvise(m), 0);
}

INSTANTIATE_TEST_SUITE_P(ValidNeighbours, MadviseBoundaryTest, ::testing::ValuesIn(kBoundaryCases),
                         NameOf());

// ---------------------------------------------------------------------------
// Order, step by step.

class MadviseErrnoOrderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(s_.bind_mirror(pg(0), pages(4)), 0); }
  Session s_{"b580"};
};

// Step 1 before step 4.
TEST_F(MadviseErrnoOrderTest, UnknownVmIdFailsWithEinvalBeforeTheVmLock) {
  // given a fatal signal armed at the VM lock
  const std::uint64_t waits_before = s_.waits();
  s_.signal_at_wait(1, true);
  // when the VM id is unknown
  const int rc = s_.madvise(pat_advice(999, pg(1), pages(2), 2));
  // then
  EXPECT_EQ(rc, -EINVAL);
  EXPECT_EQ(s_.waits(), waits_before);
  s_.clear_faults();
}

// Step 1 before step 2 cannot be told apart by errno; a destroyed VM's id is
// simply unknown (step 1), not "closed" (step 5).
TEST_F(MadviseErrnoOrderTest, DestroyedVmIdIsUnknownNotClosed) {
  // given
  ASSERT_EQ(s_.destroy_vm(s_.vm()), 0);
  // when / then
  EXPECT_EQ(s_.advise_pat(pg(1), pages(2), 2), -EINVAL);
}

// Step 1 before step 3.
TEST(MadviseErrnoOrder71Test, UnknownVmIdIsCheckedBeforeTheRetainedPointer) {
  // given an unreadable retained pointer
  Session s("b580-uapi71");
  NoAccessPage bad;
  // when the VM id is unknown too
  const int rc = s.madvise(purge_advice(999, pg(0), pages(1), 1, bad.ptr()));
  // then step 1 decides: -EINVAL, not -EFAULT
  EXPECT_EQ(rc, -EINVAL);
}

// Step 2 before step 3.
TEST(MadviseErrnoOrder71Test, BadArgumentsAreCheckedBeforeTheRetainedPointer) {
  // given
  Session s("b580-uapi71");
  NoAccessPage bad;
  drm_xe_madvise m = purge_advice(s.vm(), pg(0), pages(1), 1, bad.ptr());
  m.reserved[0] = 1;
  // when / then
  EXPECT_EQ(s.madvise(m), -EINVAL);
}

TEST_F(MadviseErrnoOrderTest, ExtensionsAreNotRead) {
  // given an extension pointer nobody could follow
  drm_xe_madvise m = pat_advice(s_.vm(), pg(1), pages(2), 2);
  m.extensions = 0xdead0000;
  // when / then
  EXPECT_EQ(s_.madvise(m), 0);
  EXPECT_EQ(vma_at(s_.vmas(), pg(1)).attrs.pat, 2);
}

// Step 3.
TEST(MadviseErrno71Test, UnreadableRetainedPointerFailsWithEfault) {
  // given
  Session s("b580-uapi71");
  NoAccessPage bad;
  // when / then
  EXPECT_EQ(s.advise_purge(pg(0), pages(1), 1, bad.ptr()), -EFAULT);
}

TEST(MadviseErrno71Test, NonZeroRetainedValueFailsWithEinval) {
  // given
  Session s("b580-uapi71");
  std::uint32_t retained = 7;
  // when / then
  EXPECT_EQ(s.advise_purge(pg(0), pages(1), 1, &retained), -EINVAL);
  EXPECT_EQ(retained, 7u);
}

// Step 3 before step 4.
TEST(MadviseErrnoOrder71Test, RetainedPointerIsCheckedBeforeTheVmLock) {
  // given a fatal signal armed at the VM lock
  Session s("b580-uapi71");
  NoAccessPage bad;
  const std::uint64_t waits_before = s.waits();
  s.signal_at_wait(1, true);
  // when
  const int rc = s.advise_purge(pg(0), pages(1), 1, bad.ptr());
  // then
  EXPECT_EQ(rc, -EFAULT);
  EXPECT_EQ(s.waits(), waits_before);
  s.clear_faults();
}

// Step 4.
TEST_F(MadviseErrnoOrderTest, FatalSignalAtTheVmLockFailsWithEintrAndChangesNothing) {
  // given
  s_.signal_at_wait(1, true);
  // when
  const int rc = s_.advise_pat(pg(1), pages(2), 2);
  // then nothing was split or counted
  EXPECT_EQ(rc, -EINTR);
  s_.clear_faults();
  EXPECT_EQ(page_spans(s_.vmas()), (std::vector<PageSpan>{{0, 4}}));
  EXPECT_EQ(s_.stats().madvise_calls, 0u);
}

TEST(MadviseErrnoOrderNullTest, NonFatalSignalDoesNotInterruptTheKillableVmLock) {
  // given a NULL VMA (no BO lock and no notifier lock follow the VM lock)
  Session s("b580");
  ASSERT_EQ(s.bind_null(pg(0), pages(4)), 0);
  s.signal_at_wait(1, /*fatal=*/false);
  // when
  const int rc = s.advise_pat(pg(0), pages(4), 2);
  // then the killable wait ignored it
  EXPECT_EQ(rc, 0);
  s.clear_faults();
  EXPECT_EQ(vma_at(s.vmas(), pg(0)).attrs.pat, 2);
}

// Step 4 before step 5: a closed VM reached through a reference taken before
// VM_DESTROY, as an ioctl racing the destroy would.
TEST_F(MadviseErrnoOrderTest, FatalSignalAtTheVmLockWinsOverAClosedVm) {
  // given
  std::shared_ptr<drm_sim::Vm> vm = s_.vm_ptr();
  ASSERT_EQ(s_.destroy_vm(s_.vm()), 0);
  s_.signal_at_wait(1, true);
  drm_sim::MadviseRequest r;
  r.start = pg(1);
  r.range = pages(2);
  r.type = drm_sim::MadviseType::kPat;
  r.value = 2;
  // when
  const drm_sim::Status st = vm->madvise(r, [] { return drm_sim::Status::ok(); });
  drm_sim::end_syscall();
  // then
  EXPECT_EQ(st.error(), EINTR);
  s_.clear_faults();
}

// Step 5.
TEST_F(MadviseErrnoOrderTest, ClosedVmFailsWithEnoent) {
  // given
  std::shared_ptr<drm_sim::Vm> vm = s_.vm_ptr();
  ASSERT_EQ(s_.destroy_vm(s_.vm()), 0);
  drm_sim::MadviseRequest r;
  r.start = pg(1);
  r.range = pages(2);
  r.type = drm_sim::MadviseType::kPat;
  r.value = 2;
  // when
  const drm_sim::Status st = vm->madvise(r, [] { return drm_sim::Status::ok(); });
  drm_sim::end_syscall();
  // then
  EXPECT_EQ(st.error(), ENOENT);
  EXPECT_TRUE(vm->vmas().empty());
}

// Step 5 before step 6.
TEST(MadviseErrnoOrder70Test, ClosedVmIsCheckedBeforeTheDevmemFd) {
  // given a closed 7.0 VM and a devmem fd whose resolution would fail
  Session s("b580-xelink");
  ASSERT_EQ(s.bind_mirror(pg(0), pages(4)), 0);
  std::shared_ptr<drm_sim::Vm> vm = s.vm_ptr();
  ASSERT_EQ(s.destroy_vm(s.vm()), 0);
  drm_sim::MadviseRequest r;
  r.start = pg(1);
  r.range = pages(2);
  r.type = drm_sim::MadviseType::kPreferredLoc;
  r.devmem_fd = s.fd();
  r.region_instance = 1;
  int resolutions = 0;
  auto resolve = [&] {
    ++resolutions;
    return drm_sim::Status::err(ENOLINK);
  };
  // when
  const drm_sim::Status st = vm->madvise(r, resolve);
  drm_sim::end_syscall();
  // then
  EXPECT_EQ(st.error(), ENOENT);
  EXPECT_EQ(resolutions, 0);
}

// Step 6 after step 4.
TEST(MadviseErrnoOrder70Test, DevmemFdIsResolvedAfterTheVmLock) {
  // given a devmem fd that is not a DRM file, and a fatal signal at the VM lock
  Session s("b580-xelink");
  ASSERT_EQ(s.bind_mirror(pg(0), pages(4)), 0);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  s.signal_at_wait(1, true);
  // when
  const int interrupted = s.advise_loc(pg(1), pages(2), null_fd, 0, 1);
  s.clear_faults();
  const int resolved = s.advise_loc(pg(1), pages(2), null_fd, 0, 1);
  // then the lock came first, the fd second
  EXPECT_EQ(interrupted, -EINTR);
  EXPECT_EQ(resolved, -ENOENT);
  ::close(null_fd);
}

// Step 6 before step 7.
TEST(MadviseErrnoOrder70Test, DevmemFdIsResolvedBeforeTheRangeCheck) {
  // given
  Session s("b580-xelink");
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  const std::uint64_t va_end = s.device().profile().va_end();
  // when the range also runs past the VA space
  const int rc = s.advise_loc(va_end - kPage, pages(2), null_fd, 0, 1);
  // then
  EXPECT_EQ(rc, -ENOENT);
  ::close(null_fd);
}

TEST(MadviseErrnoOrder70Test, DevmemFdErrorLeavesTheLayoutUnsplit) {
  // given a device without interconnect
  Session s("b580-xelink");
  Session other("b580");
  ASSERT_EQ(s.bind_mirror(pg(0), pages(4)), 0);
  // when
  const int rc = s.advise_loc(pg(1), pages(2), other.fd(), 0, 1);
  // then step 6 failed before the split of step 7
  EXPECT_EQ(rc, -ENOLINK);
  EXPECT_EQ(page_spans(s.vmas()), (std::vector<PageSpan>{{0, 4}}));
  EXPECT_EQ(s.stats().madvise_splits, 0u);
}

// Step 7.
TEST_F(MadviseErrnoOrderTest, RangeEndingPastTheVaSpaceFailsWithEinval) {
  // given
  const std::uint64_t va_end = s_.device().profile().va_end();
  // when / then
  EXPECT_EQ(s_.advise_pat(va_end - kPage, pages(2), 2), -EINVAL);
}

// Step 7 before step 8: outside the VA space nothing is mapped, yet it is an
// error, while a hole inside the VA space is not.
TEST_F(MadviseErrnoOrderTest, RangeStartingPastTheVaSpaceFailsEvenThoughNothingIsThere) {
  // given
  const std::uint64_t va_end = s_.device().profile().va_end();
  // when / then
  EXPECT_EQ(s_.advise_pat(va_end, pages(1), 2), -EINVAL);
  EXPECT_EQ(s_.advise_pat(va_end - kPage, pages(1), 2), 0);
}

TEST_F(MadviseErrnoOrderTest, OverflowingRangeFailsWithEinval) {
  // given start + range wraps around 2^64
  const std::uint64_t start = ~0ull - kPage + 1;
  // when / then
  EXPECT_EQ(s_.advise_pat(start, pages(2), 2), -EINVAL);
}

TEST_F(MadviseErrnoOrderTest, AllocationFailureInTheSplitFailsWithEnomemAndChangesNothing) {
  // given the next allocation fails
  s_.fail_alloc_at(1);
  // when the advice needs a split
  const int rc = s_.advise_pat(pg(1), pages(2), 2);
  // then
  EXPECT_EQ(rc, -ENOMEM);
  s_.clear_faults();
  const auto vmas = s_.vmas();
  EXPECT_EQ(page_spans(vmas), (std::vector<PageSpan>{{0, 4}})) << describe(vmas);
  EXPECT_EQ(vmas.at(0).attrs.pat, 0);
}

// Layout for the BO rows of steps 7, 9 and 10:
//
//     page:  0     1     2     3     4     5     6     7     8
//            [-------- mirror -------)[--------- BO ----------)
//     req:               [-----------------------)
class MadviseMirrorAndBoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(s_.bind_mirror(pg(0), pages(4)), 0);
    handle_ = s_.create_bo(pages(4), placement());
    ASSERT_NE(handle_, 0u);
    ASSERT_EQ(s_.bind_bo(handle_, 0, pg(4), pages(4)), 0);
  }
  virtual std::uint32_t placement() const { return kVram; }

  void expect_split_kept_and_nothing_advised() {
    const auto vmas = s_.vmas();
    EXPECT_EQ(page_spans(vmas), (std::vector<PageSpan>{{0, 2}, {2, 4}, {4, 8}})) << describe(vmas);
    for (const auto& v : vmas) EXPECT_EQ(v.attrs.atomic, 0) << describe(v);
    EXPECT_EQ(s_.bo_state(handle_).atomic, 0);
    EXPECT_EQ(s_.stats().vmas_advised, 0u);
  }

  Session s_{"b580"};
  std::uint32_t handle_ = 0;
};

// Step 7 before step 9.
TEST_F(MadviseMirrorAndBoTest, SplitAllocationFailureWinsOverTheAtomicPlacementRule) {
  // given the VRAM-only BO cannot take CPU atomics, and the split's allocation fails
  s_.fail_alloc_at(1);
  // when
  const int rc = s_.advise_atomic(pg(2), pages(4), DRM_XE_ATOMIC_CPU);
  // then
  EXPECT_EQ(rc, -ENOMEM);
  s_.clear_faults();
  EXPECT_EQ(page_spans(s_.vmas()), (std::vector<PageSpan>{{0, 4}, {4, 8}}));
}

// Step 8.
TEST_F(MadviseErrnoOrderTest, HoleReturnsZeroAndCreatesNothing) {
  // given nothing at pages 8..12
  // when
  const int rc = s_.advise_pat(pg(8), pages(4), 2);
  // then
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(page_spans(s_.vmas()), (std::vector<PageSpan>{{0, 4}}));
}

// Step 8 before step 10.
TEST_F(MadviseErrnoOrderTest, HoleReturnsBeforeTheBoAndNotifierLocks) {
  // given every interruptible wait would be interrupted
  const std::uint64_t waits_before = s_.waits();
  s_.signal_every_wait(false);
  // when
  const int rc = s_.advise_pat(pg(8), pages(4), 2);
  // then only the (killable) VM lock was waited for
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(s_.waits() - waits_before, 1u);
  s_.clear_faults();
}

// Step 9.
TEST_F(MadviseMirrorAndBoTest, AtomicCpuOnAVramOnlyBoFailsWithEinvalAfterTheSplit) {
  // when
  const int rc = s_.advise_atomic(pg(2), pages(4), DRM_XE_ATOMIC_CPU);
  // then the mirror stays cut at page 2, nothing is advised
  EXPECT_EQ(rc, -EINVAL);
  expect_split_kept_and_nothing_advised();
}

// Step 9 before step 10.
TEST_F(MadviseMirrorAndBoTest, AtomicPlacementIsCheckedBeforeTheBoLocks) {
  // given every interruptible wait would be interrupted
  s_.signal_every_wait(false);
  // when
  const int rc = s_.advise_atomic(pg(2), pages(4), DRM_XE_ATOMIC_CPU);
  // then
  EXPECT_EQ(rc, -EINVAL);
  s_.clear_faults();
  expect_split_kept_and_nothing_advised();
}

// Step 10: waits are VM lock (1), BO lock (2), notifier lock (3).
class MadviseLockTest : public MadviseMirrorAndBoTest {
 protected:
  std::uint32_t placement() const override { return kSmem | kVram; }
};

TEST_F(MadviseLockTest, SignalAtTheBoLockFailsWithEintrAfterTheSplit) {
  // given
  s_.signal_at_wait(2, false);
  // when
  const int rc = s_.advise_atomic(pg(2), pages(4), DRM_XE_ATOMIC_GLOBAL);
  // then
  EXPECT_EQ(rc, -EINTR);
  s_.clear_faults();
  expect_split_kept_and_nothing_advised();
}

TEST_F(MadviseLockTest, SignalAtTheNotifierLockFailsWithEintrAfterTheSplit) {
  // given
  s_.signal_at_wait(3, false);
  // when
  const int rc = s_.advise_atomic(pg(2), pages(4), DRM_XE_ATOMIC_GLOBAL);
  // then
  EXPECT_EQ(rc, -EINTR);
  s_.clear_faults();
  expect_split_kept_and_nothing_advised();
}

// Steps 11 and 12 after every lock: the same call uninterrupted.
TEST_F(MadviseLockTest, AttributesChangeOnlyOnceEveryLockIsHeld) {
  // when
  const std::uint64_t waits_before = s_.waits();
  const int rc = s_.advise_atomic(pg(2), pages(4), DRM_XE_ATOMIC_GLOBAL);
  // then
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(s_.waits() - waits_before, 3u);
  const auto vmas = s_.vmas();
  EXPECT_EQ(vma_at(vmas, pg(0)).attrs.atomic, 0);
  EXPECT_EQ(vma_at(vmas, pg(2)).attrs.atomic, DRM_XE_ATOMIC_GLOBAL);
  EXPECT_EQ(vma_at(vmas, pg(4)).attrs.atomic, DRM_XE_ATOMIC_GLOBAL);
  EXPECT_EQ(s_.bo_state(handle_).atomic, DRM_XE_ATOMIC_GLOBAL);
}

}  // namespace
}  // namespace madvise_test
