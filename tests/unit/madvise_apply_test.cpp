// What DRM_IOCTL_XE_MADVISE changes (xe-vm-semantics.md §3 steps 9, 11, 12):
// the applicability table (attribute × VMA kind), the BO-wide atomic
// attribute and its placement rule, and invalidation — only changed VMAs are
// zapped (whole VMA), then one TLB invalidation per affected tile over the
// request, observed through the event trace and DRM_IOCTL_SIM_VM_STATS.
#include "madvise_test_util.h"

namespace madvise_test {
namespace {

// ---------------------------------------------------------------------------
// Applicability: each attribute × each VMA kind.
//
//     page:  0     1     2     3     4
//            [------ the VMA --------)      advice over all of it

struct ApplyCase {
  const char* name;
  const char* profile;
  VmaKind kind;
  std::uint32_t type;
  std::uint32_t value;  // devmem_fd for PREFERRED_LOC
  bool applies;
};

constexpr std::uint32_t kLoc = DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC;
constexpr std::uint32_t kAtomic = DRM_XE_MEM_RANGE_ATTR_ATOMIC;
constexpr std::uint32_t kPat = DRM_XE_MEM_RANGE_ATTR_PAT;
constexpr std::uint32_t kPurge = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
constexpr auto kSystem = static_cast<std::uint32_t>(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM);

const ApplyCase kApplyCases[] = {
    // PREFERRED_LOC: mirror only; silently ignored elsewhere (rc 0)
    {"PreferredLocSetsMirror", "b580", VmaKind::kMirror, kLoc, kSystem, true},
    {"PreferredLocIgnoresBo", "b580", VmaKind::kBo, kLoc, kSystem, false},
    {"PreferredLocIgnoresUserptr", "b580", VmaKind::kUserptr, kLoc, kSystem, false},
    {"PreferredLocIgnoresNull", "b580", VmaKind::kNull, kLoc, kSystem, false},
    // ATOMIC
    {"AtomicSetsMirror", "b580", VmaKind::kMirror, kAtomic, DRM_XE_ATOMIC_GLOBAL, true},
    {"AtomicSetsBo", "b580", VmaKind::kBo, kAtomic, DRM_XE_ATOMIC_GLOBAL, true},
    {"AtomicGlobalIgnoresUserptr", "b580", VmaKind::kUserptr, kAtomic, DRM_XE_ATOMIC_GLOBAL, false},
    {"AtomicDeviceIgnoresUserptrOnDiscrete", "b580", VmaKind::kUserptr, kAtomic,
     DRM_XE_ATOMIC_DEVICE, false},
    {"AtomicDeviceSetsUserptrWithDeviceAtomicsOnSmem", "integrated", VmaKind::kUserptr, kAtomic,
     DRM_XE_ATOMIC_DEVICE, true},
    {"AtomicCpuIgnoresUserptrEvenWithDeviceAtomicsOnSmem", "integrated", VmaKind::kUserptr, kAtomic,
     DRM_XE_ATOMIC_CPU, false},
    {"AtomicSetsNull", "b580", VmaKind::kNull, kAtomic, DRM_XE_ATOMIC_GLOBAL, true},
    // PAT: everywhere
    {"PatSetsMirror", "b580", VmaKind::kMirror, kPat, 2, true},
    {"PatSetsBo", "b580", VmaKind::kBo, kPat, 2, true},
    {"PatSetsUserptr", "b580", VmaKind::kUserptr, kPat, 2, true},
    {"PatSetsNull", "b580", VmaKind::kNull, kPat, 2, true},
    // PURGEABLE_STATE (7.1): BO only, others skipped
    {"PurgeableSkipsMirror", "b580-uapi71", VmaKind::kMirror, kPurge, 1, false},
    {"PurgeableSetsBo", "b580-uapi71", VmaKind::kBo, kPurge, 1, true},
    {"PurgeableSkipsUserptr", "b580-uapi71", VmaKind::kUserptr, kPurge, 1, false},
    {"PurgeableSkipsNull", "b580-uapi71", VmaKind::kNull, kPurge, 1, false},
};

// The advised field of a VMA record.
std::uint32_t field(const Vma& v, std::uint32_t type) {
  switch (type) {
    case kLoc:
      return static_cast<std::uint32_t>(v.attrs.devmem_fd);
    case kAtomic:
      return v.attrs.atomic;
    case kPat:
      return v.attrs.pat;
    default:
      return v.attrs.purgeable;
  }
}

void bind_one(Session& s, VmaKind kind, std::uint64_t addr, std::uint64_t range) {
  switch (kind) {
    case VmaKind::kMirror:
      ASSERT_EQ(s.bind_mirror(addr, range), 0);
      break;
    case VmaKind::kNull:
      ASSERT_EQ(s.bind_null(addr, range), 0);
      break;
    case VmaKind::kUserptr:
      ASSERT_EQ(s.bind_userptr(addr, range, kUserptrCpuBase), 0);
      break;
    case VmaKind::kBo: {
      // system memory always; VRAM too where the device has it (GLOBAL needs both)
      const bool discrete = s.device().profile().features.discrete;
      const std::uint32_t bo = s.create_bo(range, discrete ? kSmem | kVram : kSmem);
      ASSERT_EQ(s.bind_bo(bo, 0, addr, range), 0);
      break;
    }
  }
}

class MadviseApplyTest : public ::testing::TestWithParam<ApplyCase> {};

TEST_P(MadviseApplyTest, SetsOrSilentlyIgnoresTheAttribute) {
  // given
  const ApplyCase& c = GetParam();
  Session s(c.profile);
  bind_one(s, c.kind, pg(0), pages(4));
  ASSERT_FALSE(HasFatalFailure());
  const std::uint32_t before = field(s.vmas().at(0), c.type);
  ASSERT_NE(before, c.value);
  drm_xe_madvise m = advice(s.vm(), pg(0), pages(4), c.type);
  m.atomic.val = c.value;  // devmem_fd, atomic.val, pat_index.val and purge val share offset 32
  // when
  const int rc = s.madvise(m);
  // then
  EXPECT_EQ(rc, 0);
  const auto vmas = s.vmas();
  ASSERT_EQ(vmas.size(), 1u) << describe(vmas);
  EXPECT_EQ(field(vmas[0], c.type), c.applies ? c.value : before) << describe(vmas);
  const drm_sim_vm_stats st = s.stats();
  EXPECT_EQ(st.vmas_advised, c.applies ? 1u : 0u);
  EXPECT_EQ(st.vmas_skipped, c.applies ? 0u : 1u);
}

INSTANTIATE_TEST_SUITE_P(AttributeByKind, MadviseApplyTest, ::testing::ValuesIn(kApplyCases),
                         NameOf());

// ---------------------------------------------------------------------------
// BO-wide atomic.

class MadviseBoAtomicTest : public ::testing::Test {
 protected:
  Session s_{"b580"};
};

//     page:  0     1     2     3     4 ...  8     9    10    11    12
//            [-- BO @0 (advised) ----)      [------- BO @4 ---------)
TEST_F(MadviseBoAtomicTest, AtomicOnOneVmaOfABoChangesTheWholeBo) {
  // given one BO mapped by two VMAs
  const std::uint32_t bo = s_.create_bo(pages(8), kSmem | kVram);
  ASSERT_EQ(s_.bind_bo(bo, 0, pg(0), pages(4)), 0);
  ASSERT_EQ(s_.bind_bo(bo, pages(4), pg(8), pages(4)), 0);
  // when only the first VMA is advised
  ASSERT_EQ(s_.advise_atomic(pg(0), pages(4), DRM_XE_ATOMIC_DEVICE), 0);
  // then the BO carries the value; each VMA keeps its own
  EXPECT_EQ(s_.bo_state(bo).atomic, DRM_XE_ATOMIC_DEVICE);
  const auto vmas = s_.vmas();
  EXPECT_EQ(vma_at(vmas, pg(0)).attrs.atomic, DRM_XE_ATOMIC_DEVICE);
  EXPECT_EQ(vma_at(vmas, pg(8)).attrs.atomic, DRM_XE_ATOMIC_UNDEFINED);
}

struct CpuMappingCase {
  const char* name;
  std::uint32_t placement;
  std::uint32_t value;
  bool zapped;
};

// A VRAM BO set to CPU or GLOBAL loses its CPU mappings.
const CpuMappingCase kCpuMappingCases[] = {
    {"VramBoSetToGlobal", kSmem | kVram, DRM_XE_ATOMIC_GLOBAL, true},
    {"VramBoSetToCpu", kSmem | kVram, DRM_XE_ATOMIC_CPU, true},
    {"VramBoSetToDevice", kSmem | kVram, DRM_XE_ATOMIC_DEVICE, false},
    {"VramBoSetToUndefined", kSmem | kVram, DRM_XE_ATOMIC_UNDEFINED, false},
    {"SystemBoSetToCpu", kSmem, DRM_XE_ATOMIC_CPU, false},
};

class MadviseCpuMappingTest : public ::testing::TestWithParam<CpuMappingCase> {};

TEST_P(MadviseCpuMappingTest, LosesCpuMappingsOnlyWhenInVramAndSetToCpuOrGlobal) {
  // given
  const CpuMappingCase& c = GetParam();
  Session s("b580");
  const std::uint32_t bo = s.create_bo(pages(4), c.placement);
  ASSERT_EQ(s.bind_bo(bo, 0, pg(0), pages(4)), 0);
  // when
  ASSERT_EQ(s.advise_atomic(pg(0), pages(4), c.value), 0);
  // then
  EXPECT_EQ(s.bo_state(bo).cpu_mappings_zapped, c.zapped);
}

INSTANTIATE_TEST_SUITE_P(ByPlacementAndValue, MadviseCpuMappingTest,
                         ::testing::ValuesIn(kCpuMappingCases), NameOf());

// Step 9: may the BO's placement hold the atomic value?
struct PlacementCase {
  const char* name;
  const char* profile;
  std::uint32_t placement;
  std::uint32_t value;
  int rc;
};

const PlacementCase kPlacementCases[] = {
    {"SmemUndefined", "b580", kSmem, DRM_XE_ATOMIC_UNDEFINED, 0},
    {"SmemDevice", "b580", kSmem, DRM_XE_ATOMIC_DEVICE, -EINVAL},
    {"SmemGlobal", "b580", kSmem, DRM_XE_ATOMIC_GLOBAL, -EINVAL},
    {"SmemCpu", "b580", kSmem, DRM_XE_ATOMIC_CPU, 0},
    {"VramUndefined", "b580", kVram, DRM_XE_ATOMIC_UNDEFINED, 0},
    {"VramDevice", "b580", kVram, DRM_XE_ATOMIC_DEVICE, 0},
    {"VramGlobal", "b580", kVram, DRM_XE_ATOMIC_GLOBAL, -EINVAL},
    {"VramCpu", "b580", kVram, DRM_XE_ATOMIC_CPU, -EINVAL},
    {"BothUndefined", "b580", kSmem | kVram, DRM_XE_ATOMIC_UNDEFINED, 0},
    {"BothDevice", "b580", kSmem | kVram, DRM_XE_ATOMIC_DEVICE, 0},
    {"BothGlobal", "b580", kSmem | kVram, DRM_XE_ATOMIC_GLOBAL, 0},
    {"BothCpu", "b580", kSmem | kVram, DRM_XE_ATOMIC_CPU, 0},
    {"IntegratedSmemDevice", "integrated", kSmem, DRM_XE_ATOMIC_DEVICE, 0},
    {"IntegratedSmemGlobal", "integrated", kSmem, DRM_XE_ATOMIC_GLOBAL, -EINVAL},
    {"IntegratedSmemCpu", "integrated", kSmem, DRM_XE_ATOMIC_CPU, 0},
};

class MadviseAtomicPlacementTest : public ::testing::TestWithParam<PlacementCase> {};

TEST_P(MadviseAtomicPlacementTest, BoPlacementDecidesWhetherTheValueIsAllowed) {
  // given
  const PlacementCase& c = GetParam();
  Session s(c.profile);
  const std::uint32_t bo = s.create_bo(pages(4), c.placement);
  ASSERT_EQ(s.bind_bo(bo, 0, pg(0), pages(4)), 0);
  // when
  const int rc = s.advise_atomic(pg(0), pages(4), c.value);
  // then a refused value changes neither the VMA nor the BO
  EXPECT_EQ(rc, c.rc);
  const std::uint32_t expected = rc == 0 ? c.value : 0;
  EXPECT_EQ(s.vmas().at(0).attrs.atomic, expected);
  EXPECT_EQ(s.bo_state(bo).atomic, expected);
}

//     page:  0           4           8
//            [- BO smem --)[- BO vram --)     CPU atomics over both
TEST(MadviseAtomicPlacementRuleTest, OneRefusingBoFailsTheWholeCall) {
  // given
  Session s("b580");
  const std::uint32_t smem = s.create_bo(pages(4), kSmem);
  const std::uint32_t vram = s.create_bo(pages(4), kVram);
  ASSERT_EQ(s.bind_bo(smem, 0, pg(0), pages(4)), 0);
  ASSERT_EQ(s.bind_bo(vram, 0, pg(4), pages(4)), 0);
  // when
  const int rc = s.advise_atomic(pg(0), pages(8), DRM_XE_ATOMIC_CPU);
  // then neither BO nor VMA changed, though the first BO allows CPU atomics
  EXPECT_EQ(rc, -EINVAL);
  EXPECT_EQ(s.bo_state(smem).atomic, 0);
  EXPECT_EQ(s.bo_state(vram).atomic, 0);
  for (const auto& v : s.vmas()) EXPECT_EQ(v.attrs.atomic, 0) << describe(v);
}

INSTANTIATE_TEST_SUITE_P(Step9, MadviseAtomicPlacementTest, ::testing::ValuesIn(kPlacementCases),
                         NameOf());

// ---------------------------------------------------------------------------
// Invalidation. BO, userptr and NULL VMAs of a VM without FAULT_MODE have GPU
// PTEs on every tile right after their bind.

class MadviseInvalidationTest : public ::testing::Test {
 protected:
  std::uint32_t bind_bo(Session& s, std::uint64_t page, std::uint64_t n, std::uint16_t pat = 0) {
    const std::uint32_t bo = s.create_bo(pages(n), kSmem);
    EXPECT_EQ(s.bind_bo(bo, 0, pg(page), pages(n), pat), 0);
    return bo;
  }
};

TEST_F(MadviseInvalidationTest, BoundBoVmaHasPtesOnEveryTile) {
  Session b580("b580", kPlainVm);
  Session pvc("pvc", kPlainVm);
  bind_bo(b580, 0, 4);
  bind_bo(pvc, 0, 16);
  EXPECT_EQ(b580.vmas().at(0).pte_tiles, 0b1);
  EXPECT_EQ(pvc.vmas().at(0).pte_tiles, 0b11);
}

TEST_F(MadviseInvalidationTest, SameValueSkipsInvalidation) {
  // given a BO VMA bound with PAT 0
  Session s("b580", kPlainVm);
  bind_bo(s, 0, 4, 0);
  EventTap tap(s.device());
  // when advised PAT 0 again
  ASSERT_EQ(s.advise_pat(pg(0), pages(4), 0), 0);
  // then no zap, no TLB invalidation; the PTEs stay
  const auto events = tap.take();
  EXPECT_EQ(only(events, EventType::kAttrSkipped).size(), 1u) << describe(events);
  EXPECT_TRUE(only(events, EventType::kPteZap).empty()) << describe(events);
  EXPECT_TRUE(only(events, EventType::kTlbInval).empty()) << describe(events);
  const drm_sim_vm_stats st = s.stats();
  EXPECT_EQ(st.vmas_skipped, 1u);
  EXPECT_EQ(st.vmas_advised, 0u);
  EXPECT_EQ(st.pte_zaps, 0u);
  EXPECT_EQ(st.tlb_invalidations, 0u);
  EXPECT_EQ(s.vmas().at(0).pte_tiles, 0b1);
}

//     page:  0     1     2     3     4
//            [--------- NULL --------)
//     req:         [-----------)        PAT 0 (unchanged)
TEST_F(MadviseInvalidationTest, SameValueStillSplitsButSkipsInvalidation) {
  // given
  Session s("b580", kPlainVm);
  ASSERT_EQ(s.bind_null(pg(0), pages(4)), 0);
  EventTap tap(s.device());
  // when
  ASSERT_EQ(s.advise_pat(pg(1), pages(2), 0), 0);
  // then three VMAs, each still mapped, nothing invalidated
  const auto vmas = s.vmas();
  EXPECT_EQ(page_spans(vmas), (std::vector<PageSpan>{{0, 1}, {1, 3}, {3, 4}})) << describe(vmas);
  for (const auto& v : vmas) EXPECT_EQ(v.pte_tiles, 0b1) << describe(v);
  const auto events = tap.take();
  EXPECT_TRUE(only(events, EventType::kPteZap).empty()) << describe(events);
  EXPECT_TRUE(only(events, EventType::kTlbInval).empty()) << describe(events);
  const drm_sim_vm_stats st = s.stats();
  EXPECT_EQ(st.madvise_splits, 1u);
  EXPECT_EQ(st.vmas_skipped, 1u);
  EXPECT_EQ(st.pte_zaps, 0u);
  EXPECT_EQ(st.tlb_invalidations, 0u);
}

//     page:  0     1     2     3     4     5     6     7     8
//            [-------- BO a ---------)[-------- BO b ---------)
//     req:               [-----------------------)              PAT 2
//     zap:   [-----------------------)[-----------------------)
//     TLB:               [-----------------------)              once, tile 0
TEST_F(MadviseInvalidationTest, ChangedBoVmasAreZappedWholeThenTlbInvalidatedOnce) {
  // given
  Session s("b580", kPlainVm);
  bind_bo(s, 0, 4);
  bind_bo(s, 4, 4);
  EventTap tap(s.device());
  // when
  ASSERT_EQ(s.advise_pat(pg(2), pages(4), 2), 0);
  // then
  const auto events = tap.take();
  const auto zaps = only(events, EventType::kPteZap);
  ASSERT_EQ(zaps.size(), 2u) << describe(events);
  EXPECT_EQ(zaps[0].start, pg(0));
  EXPECT_EQ(zaps[0].end, pg(4));
  EXPECT_EQ(zaps[0].tile_mask, 0b1u);
  EXPECT_EQ(zaps[1].start, pg(4));
  EXPECT_EQ(zaps[1].end, pg(8));
  const auto tlb = only(events, EventType::kTlbInval);
  ASSERT_EQ(tlb.size(), 1u) << describe(events);
  EXPECT_EQ(tlb[0].start, pg(2));
  EXPECT_EQ(tlb[0].end, pg(6));
  EXPECT_EQ(tlb[0].tile, 0u);
  const drm_sim_vm_stats st = s.stats();
  EXPECT_EQ(st.vmas_advised, 2u);
  EXPECT_EQ(st.pte_zaps, 2u);
  EXPECT_EQ(st.tlb_invalidations, 1u);
  for (const auto& v : s.vmas()) EXPECT_EQ(v.pte_tiles, 0u) << describe(v);
}

TEST_F(MadviseInvalidationTest, ZapsComeBeforeTheTlbInvalidation) {
  // given
  Session s("b580", kPlainVm);
  bind_bo(s, 0, 4);
  bind_bo(s, 4, 4);
  EventTap tap(s.device());
  // when
  ASSERT_EQ(s.advise_pat(pg(0), pages(8), 2), 0);
  // then
  const auto events = tap.take();
  std::vector<EventType> order;
  for (const auto& e : events) {
    if (e.type == EventType::kPteZap || e.type == EventType::kTlbInval) order.push_back(e.type);
  }
  EXPECT_EQ(order,
            (std::vector<EventType>{EventType::kPteZap, EventType::kPteZap, EventType::kTlbInval}))
      << describe(events);
}

//     page:  0     1     2     3     4     5     6     7     8
//            [---- BO a, PAT 0 ------)[---- BO b, PAT 2 ------)
//     req:   [-----------------------------------------------)  PAT 2
TEST_F(MadviseInvalidationTest, OnlyTheChangedVmaIsZapped) {
  // given
  Session s("b580", kPlainVm);
  bind_bo(s, 0, 4, 0);
  bind_bo(s, 4, 4, 2);
  EventTap tap(s.device());
  // when
  ASSERT_EQ(s.advise_pat(pg(0), pages(8), 2), 0);
  // then
  const auto events = tap.take();
  const auto zaps = only(events, EventType::kPteZap);
  ASSERT_EQ(zaps.size(), 1u) << describe(events);
  EXPECT_EQ(zaps[0].start, pg(0));
  EXPECT_EQ(zaps[0].end, pg(4));
  EXPECT_EQ(only(events, EventType::kTlbInval).size(), 1u) << describe(events);
  EXPECT_EQ(vma_at(s.vmas(), pg(4)).pte_tiles, 0b1);
  const drm_sim_vm_stats st = s.stats();
  EXPECT_EQ(st.vmas_advised, 1u);
  EXPECT_EQ(st.vmas_skipped, 1u);
}

TEST_F(MadviseInvalidationTest, TwoTilesGetOneTlbInvalidationEach) {
  // given a two-tile device (64 KiB-aligned for its VRAM pages; the BO is in
  // system memory, 16 pages)
  Session s("pvc", kPlainVm);
  bind_bo(s, 0, 16);
  EventTap tap(s.device());
  // when
  ASSERT_EQ(s.advise_pat(pg(0), pages(16), 3), 0);
  // then one zap covering both tiles, one invalidation per tile
  const auto events = tap.take();
  const auto zaps = only(events, EventType::kPteZap);
  ASSERT_EQ(zaps.size(), 1u) << describe(events);
  EXPECT_EQ(zaps[0].tile_mask, 0b11u);
  const auto tlb = only(events, EventType::kTlbInval);
  ASSERT_EQ(tlb.size(), 2u) << describe(events);
  EXPECT_EQ(tlb[0].tile, 0u);
  EXPECT_EQ(tlb[1].tile, 1u);
  for (const auto& t : tlb) {
    EXPECT_EQ(t.start, pg(0));
    EXPECT_EQ(t.end, pg(16));
  }
  EXPECT_EQ(s.stats().tlb_invalidations, 2u);
}

TEST_F(MadviseInvalidationTest, IgnoredAttributeInvalidatesNothing) {
  // given a BO VMA with PTEs
  Session s("b580", kPlainVm);
  bind_bo(s, 0, 4);
  EventTap tap(s.device());
  // when advised a preferred location, which BO VMAs ignore
  ASSERT_EQ(s.advise_loc(pg(0), pages(4), DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM), 0);
  // then
  const auto events = tap.take();
  EXPECT_TRUE(only(events, EventType::kPteZap).empty()) << describe(events);
  EXPECT_TRUE(only(events, EventType::kTlbInval).empty()) << describe(events);
  EXPECT_EQ(s.vmas().at(0).pte_tiles, 0b1);
}

TEST_F(MadviseInvalidationTest, ChangedUserptrAndNullVmasAreZappedToo) {
  // given
  Session s("b580", kPlainVm);
  ASSERT_EQ(s.bind_userptr(pg(0), pages(4), kUserptrCpuBase), 0);
  ASSERT_EQ(s.bind_null(pg(4), pages(4)), 0);
  EventTap tap(s.device());
  // when
  ASSERT_EQ(s.advise_pat(pg(0), pages(8), 2), 0);
  // then
  const auto events = tap.take();
  EXPECT_EQ(only(events, EventType::kPteZap).size(), 2u) << describe(events);
  EXPECT_EQ(only(events, EventType::kTlbInval).size(), 1u) << describe(events);
}

}  // namespace
}  // namespace madvise_test
