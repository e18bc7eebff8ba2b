// The madvise subtests of IGT's xe_exec_system_allocator, re-expressed at the
// layout level: the same sequence of binds and madvise calls, then the VMA
// boundaries, attribute tuples, query results and counters the sequence must
// leave (GPU execution and page migration are not modelled here).
//
// Every test starts as IGT does: one CPU_ADDR_MIRROR VMA over the whole VA
// space (the "system allocator" bind), and a buffer `data` of kSize bytes at
// kData. Xe2 PAT indices as the kernel names them (xe_pat.c, Xe2 table):
// UC 3, WT 15, WB 2, UC with compression 12; b580 exposes 28 entries, so the
// largest index is 27.
#include "madvise_test_util.h"

namespace madvise_test {
namespace {

constexpr std::uint64_t kData = 64ull << 20;  // 64 MiB, 2 MiB aligned like IGT's buffers
constexpr std::uint64_t kSize = 2ull << 20;   // bo_size
constexpr std::uint32_t kPatUc = 3;
constexpr std::uint32_t kPatWt = 15;
constexpr std::uint32_t kPatWb = 2;
constexpr std::uint32_t kPatUcComp = 12;
constexpr std::uint32_t kPatMax = 27;

struct Bounds {
  std::uint64_t start;
  std::uint64_t end;
  bool operator==(const Bounds&) const = default;
};

std::vector<Bounds> bounds(const std::vector<drm_xe_mem_range_attr>& attrs) {
  std::vector<Bounds> out;
  for (const auto& a : attrs) out.push_back({a.start, a.end});
  return out;
}

std::string describe_attrs(const std::vector<drm_xe_mem_range_attr>& attrs) {
  std::string s;
  for (const auto& a : attrs) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  [0x%llx,0x%llx) fd=0x%x pol=%u atomic=%u pat=%u\n",
                  static_cast<unsigned long long>(a.start), static_cast<unsigned long long>(a.end),
                  a.preferred_mem_loc.devmem_fd, a.preferred_mem_loc.migration_policy, a.atomic.val,
                  a.pat_index.val);
    s += buf;
  }
  return s;
}

class IgtSystemAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    va_end_ = s_.device().profile().va_end();
    ASSERT_EQ(s_.bind_mirror(0, va_end_), 0);  // bind_system_allocator()
  }
  Session s_{"b580"};
  std::uint64_t va_end_ = 0;
};

// madvise-multi-vma:
//   atomic DEVICE on [data+size/2, data+size), PAT WB on the same,
//   atomic DEVICE on [data+size, data+2*size), PAT WB on [data, data+size).
//
//   0 ... data      +size/2      +size        +2*size ... 2^48
//   [------)[--------)[----------)[-----------)[-----------)
//   default  WB        DEVICE+WB   DEVICE       default
TEST_F(IgtSystemAllocatorTest, MultiVmaLeavesFiveVmasWithTheirOwnAttributes) {
  // when
  ASSERT_EQ(s_.advise_atomic(kData + kSize / 2, kSize / 2, DRM_XE_ATOMIC_DEVICE), 0);
  ASSERT_EQ(s_.advise_pat(kData + kSize / 2, kSize / 2, kPatWb), 0);
  ASSERT_EQ(s_.advise_atomic(kData + kSize, kSize, DRM_XE_ATOMIC_DEVICE), 0);
  ASSERT_EQ(s_.advise_pat(kData, kSize, kPatWb), 0);
  // then
  const auto attrs = s_.query_all();
  ASSERT_EQ(bounds(attrs), (std::vector<Bounds>{{0, kData},
                                                {kData, kData + kSize / 2},
                                                {kData + kSize / 2, kData + kSize},
                                                {kData + kSize, kData + 2 * kSize},
                                                {kData + 2 * kSize, va_end_}}))
      << describe_attrs(attrs);
  const std::uint32_t atomic[] = {0, 0, DRM_XE_ATOMIC_DEVICE, DRM_XE_ATOMIC_DEVICE, 0};
  const std::uint32_t pat[] = {0, kPatWb, kPatWb, 0, 0};
  for (std::size_t i = 0; i < attrs.size(); ++i) {
    EXPECT_EQ(attrs[i].atomic.val, atomic[i]) << "VMA " << i << "\n" << describe_attrs(attrs);
    EXPECT_EQ(attrs[i].pat_index.val, pat[i]) << "VMA " << i << "\n" << describe_attrs(attrs);
  }
  // the last PAT call found [data+size/2, data+size) already WB
  const drm_sim_vm_stats st = s_.stats();
  EXPECT_EQ(st.vmas_advised, 4u);
  EXPECT_EQ(st.vmas_skipped, 1u);
}

// madvise-split-vma:
//   a VRAM BO bound over [split, split+size/2), the mirror bound again over the
//   same range (its default-attribute neighbours merge with it), then atomic
//   GLOBAL on [split, split+size/2).
//
//   after the BO bind:      [ mirror )[ BO )[ mirror )
//   after the mirror bind:  [          mirror         )
//   after the madvise:      [ mirror )[GLOB)[ mirror )
TEST_F(IgtSystemAllocatorTest, SplitVmaBoReplacedByTheMirrorThenCutByAtomic) {
  // given
  const std::uint64_t split = kData + kSize / 2;
  const std::uint64_t split_size = kSize / 2;
  const std::uint32_t bo = s_.create_bo(kSize, kVram);
  ASSERT_EQ(s_.bind_bo(bo, 0, split, split_size), 0);
  ASSERT_EQ(s_.query_all().size(), 3u);
  ASSERT_EQ(s_.bind_mirror(split, split_size), 0);
  ASSERT_EQ(s_.gem_close(bo), 0);
  ASSERT_EQ(s_.query_all().size(), 1u);
  // when
  ASSERT_EQ(s_.advise_atomic(split, split_size, DRM_XE_ATOMIC_GLOBAL), 0);
  // then
  const auto attrs = s_.query_all();
  ASSERT_EQ(
      bounds(attrs),
      (std::vector<Bounds>{{0, split}, {split, split + split_size}, {split + split_size, va_end_}}))
      << describe_attrs(attrs);
  EXPECT_EQ(attrs[0].atomic.val, 0u);
  EXPECT_EQ(attrs[1].atomic.val, static_cast<std::uint32_t>(DRM_XE_ATOMIC_GLOBAL));
  EXPECT_EQ(attrs[2].atomic.val, 0u);
  for (const auto& v : s_.vmas()) EXPECT_EQ(v.kind, VmaKind::kMirror) << describe(v);
}

// madvise-preffered-loc-atomic-{vram,gl,cpu,und}: preferred location
// DEFAULT_SYSTEM with ALL_PAGES over data, then the atomic attribute.
struct LocThenAtomicCase {
  const char* name;
  std::uint32_t atomic;
};

class IgtPreferredLocAtomicTest : public IgtSystemAllocatorTest,
                                  public ::testing::WithParamInterface<LocThenAtomicCase> {};

TEST_P(IgtPreferredLocAtomicTest, DataRangeCarriesBothAttributes) {
  // when
  ASSERT_EQ(
      s_.advise_loc(kData, kSize, DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM, DRM_XE_MIGRATE_ALL_PAGES),
      0);
  ASSERT_EQ(s_.advise_atomic(kData, kSize, GetParam().atomic), 0);
  // then
  const auto attrs = s_.query(kData, kSize);
  ASSERT_EQ(bounds(attrs), (std::vector<Bounds>{{kData, kData + kSize}})) << describe_attrs(attrs);
  EXPECT_EQ(attrs[0].preferred_mem_loc.devmem_fd, 0xffffffffu);
  EXPECT_EQ(attrs[0].preferred_mem_loc.migration_policy,
            static_cast<std::uint32_t>(DRM_XE_MIGRATE_ALL_PAGES));
  EXPECT_EQ(attrs[0].atomic.val, GetParam().atomic);
  EXPECT_EQ(s_.query_all().size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(Variants, IgtPreferredLocAtomicTest,
                         ::testing::Values(LocThenAtomicCase{"Vram", DRM_XE_ATOMIC_DEVICE},
                                           LocThenAtomicCase{"Gl", DRM_XE_ATOMIC_GLOBAL},
                                           LocThenAtomicCase{"Cpu", DRM_XE_ATOMIC_CPU},
                                           LocThenAtomicCase{"Und", DRM_XE_ATOMIC_UNDEFINED}),
                         NameOf());

// madvise-preffered-loc-atomic-und: UNDEFINED equals what the split pieces
// already hold, so the second call advises nothing.
TEST_F(IgtSystemAllocatorTest, PreferredLocThenUndefinedAtomicSkipsTheSecondCall) {
  // given
  ASSERT_EQ(s_.advise_loc(kData, kSize, DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM), 0);
  const drm_sim_vm_stats before = s_.stats();
  // when
  ASSERT_EQ(s_.advise_atomic(kData, kSize, DRM_XE_ATOMIC_UNDEFINED), 0);
  // then
  const drm_sim_vm_stats after = s_.stats();
  EXPECT_EQ(after.vmas_advised - before.vmas_advised, 0u);
  EXPECT_EQ(after.vmas_skipped - before.vmas_skipped, 1u);
}

// madvise-no-range-invalidate-same-attr: atomic GLOBAL over data, then GLOBAL
// again over the first half: the first half is cut off but not invalidated.
TEST_F(IgtSystemAllocatorTest, SameAtomicAgainCutsTheRangeWithoutInvalidating) {
  // given
  ASSERT_EQ(s_.advise_atomic(kData, kSize, DRM_XE_ATOMIC_GLOBAL), 0);
  const drm_sim_vm_stats before = s_.stats();
  EventTap tap(s_.device());
  // when
  ASSERT_EQ(s_.advise_atomic(kData, kSize / 2, DRM_XE_ATOMIC_GLOBAL), 0);
  // then
  const auto attrs = s_.query(kData, kSize);
  ASSERT_EQ(bounds(attrs),
            (std::vector<Bounds>{{kData, kData + kSize / 2}, {kData + kSize / 2, kData + kSize}}))
      << describe_attrs(attrs);
  for (const auto& a : attrs)
    EXPECT_EQ(a.atomic.val, static_cast<std::uint32_t>(DRM_XE_ATOMIC_GLOBAL));
  const auto events = tap.take();
  EXPECT_TRUE(only(events, EventType::kAttrChanged).empty()) << describe(events);
  EXPECT_TRUE(only(events, EventType::kPteZap).empty()) << describe(events);
  EXPECT_TRUE(only(events, EventType::kTlbInval).empty()) << describe(events);
  const drm_sim_vm_stats after = s_.stats();
  EXPECT_EQ(after.vmas_skipped - before.vmas_skipped, 1u);
  EXPECT_EQ(after.madvise_splits - before.madvise_splits, 1u);
  EXPECT_EQ(after.tlb_invalidations, before.tlb_invalidations);
}

// madvise-range-invalidate-change-attr: atomic GLOBAL, then DEVICE over the
// same range: the VMA changes (and is the one the trace reports).
TEST_F(IgtSystemAllocatorTest, ChangedAtomicIsAdvisedAgain) {
  // given
  ASSERT_EQ(s_.advise_atomic(kData, kSize, DRM_XE_ATOMIC_GLOBAL), 0);
  EventTap tap(s_.device());
  // when
  ASSERT_EQ(s_.advise_atomic(kData, kSize, DRM_XE_ATOMIC_DEVICE), 0);
  // then
  const auto changed = only(tap.take(), EventType::kAttrChanged);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].start, kData);
  EXPECT_EQ(changed[0].end, kData + kSize);
  EXPECT_EQ(s_.query(kData, kSize).at(0).atomic.val,
            static_cast<std::uint32_t>(DRM_XE_ATOMIC_DEVICE));
}

// mmap-*-madvise (MADVISE_SWIZZLE): preferred location alternating
// DEFAULT_SYSTEM / DEFAULT_DEVICE on each exec over the same buffer.
TEST_F(IgtSystemAllocatorTest, SwizzledPreferredLocationEndsWithTheLastValue) {
  // when
  for (int i = 0; i < 4; ++i) {
    const std::int32_t loc =
        i % 2 == 0 ? DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM : DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE;
    ASSERT_EQ(s_.advise_loc(kData, kSize, loc), 0);
  }
  // then one cut-out VMA, every call changed it
  const auto attrs = s_.query(kData, kSize);
  ASSERT_EQ(bounds(attrs), (std::vector<Bounds>{{kData, kData + kSize}})) << describe_attrs(attrs);
  EXPECT_EQ(attrs[0].preferred_mem_loc.devmem_fd, 0u);
  EXPECT_EQ(s_.stats().vmas_advised, 4u);
  EXPECT_EQ(s_.query_all().size(), 3u);
}

// pat-index-madvise-*: single VMA (one call over data) and multi VMA (three
// calls: [data+size, +size/2), [data, +size), [data+size/2, +size/4)); the
// query over [data, data+size) must report the PAT index on every range.
struct PatCase {
  const char* name;
  std::uint32_t pat;
};

const PatCase kPatCases[] = {
    {"MaxPatIndex", kPatMax}, {"PatIdxUc", kPatUc},         {"PatIdxWt", kPatWt},
    {"PatIdxWb", kPatWb},     {"PatIdxUcComp", kPatUcComp},
};

class IgtPatIndexTest : public IgtSystemAllocatorTest,
                        public ::testing::WithParamInterface<PatCase> {};

//   data        +size
//   [-----------)          one VMA
TEST_P(IgtPatIndexTest, SingleVmaReportsThePatIndex) {
  // when
  ASSERT_EQ(s_.advise_pat(kData, kSize, GetParam().pat), 0);
  // then
  const auto attrs = s_.query(kData, kSize);
  ASSERT_EQ(bounds(attrs), (std::vector<Bounds>{{kData, kData + kSize}})) << describe_attrs(attrs);
  EXPECT_EQ(attrs[0].pat_index.val, GetParam().pat);
}

//   data     +size/2 +3/4  +size   +3/2
//   [--------)[-----)[-----)[------)
//   pat       pat    pat    pat          (query over [data, data+size): three)
TEST_P(IgtPatIndexTest, MultiVmaReportsThePatIndexOnEveryRange) {
  // when
  const std::uint32_t pat = GetParam().pat;
  ASSERT_EQ(s_.advise_pat(kData + kSize, kSize / 2, pat), 0);
  ASSERT_EQ(s_.advise_pat(kData, kSize, pat), 0);
  ASSERT_EQ(s_.advise_pat(kData + kSize / 2, kSize / 4, pat), 0);
  // then
  const auto attrs = s_.query(kData, kSize);
  ASSERT_EQ(bounds(attrs), (std::vector<Bounds>{{kData, kData + kSize / 2},
                                                {kData + kSize / 2, kData + 3 * kSize / 4},
                                                {kData + 3 * kSize / 4, kData + kSize}}))
      << describe_attrs(attrs);
  for (const auto& a : attrs) EXPECT_EQ(a.pat_index.val, pat) << describe_attrs(attrs);
  // the third call only cut: every piece already had the index
  const drm_sim_vm_stats st = s_.stats();
  EXPECT_EQ(st.vmas_advised, 2u);
  EXPECT_EQ(st.vmas_skipped, 1u);
  EXPECT_EQ(s_.query_all().size(), 6u);
}

INSTANTIATE_TEST_SUITE_P(Xe2Indices, IgtPatIndexTest, ::testing::ValuesIn(kPatCases), NameOf());

// pat-index-madvise-max-pat-index on a Xe_HPC part (8 entries: largest 7).
TEST(IgtPvcPatIndexTest, MaxPatIndexSingleVma) {
  // given
  Session s("pvc");
  ASSERT_EQ(s.bind_mirror(0, s.device().profile().va_end()), 0);
  // when
  ASSERT_EQ(s.advise_pat(kData, kSize, 7), 0);
  // then
  const auto attrs = s.query(kData, kSize);
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(attrs[0].pat_index.val, 7u);
}

}  // namespace
}  // namespace madvise_test
