// The madvise split (xe-vm-semantics.md §4; gpuvm-cases.md MADVISE M1–M7)
// observed through the uapi: VMA bounds, kinds, backing offsets, creation
// flags and attributes after DRM_IOCTL_XE_MADVISE, and the REMAP count
// (DRM_IOCTL_SIM_VM_STATS.madvise_splits). Mirror, userptr and NULL VMAs are
// cut at the request's ends only; BO VMAs are never cut; nothing is merged.
//
// Pictures are in pages from kBase; the advice is always PAT index 2, which
// differs from every bind's PAT (0 for mirror and NULL, 1 for userptr).
#include "madvise_test_util.h"

namespace madvise_test {
namespace {

constexpr std::uint32_t kAdvisedPat = 2;

struct SplitCase {
  const char* name;
  std::vector<PageSpan> existing;
  PageSpan request;
  std::vector<PageSpan> after;
  std::uint64_t remaps;  // REMAPs the walk emits (each followed by its MAP)
};

// §4 relation table, then gpuvm-cases.md M1–M6 (M7 is the BO case below).
const SplitCase kSplitCases[] = {
    // old:  0     1     2     3     4
    //       [-----------------------)
    // req:        [-----------)
    // ops:  REMAP(prev=[0,1), next=[3,4)) · MAP [1,3)
    {"StraddlesBothEnds", {{0, 4}}, {1, 3}, {{0, 1}, {1, 3}, {3, 4}}, 1},
    // old:  0     1     2     3     4
    //       [-----------------------)
    // req:  [-----------)
    // ops:  REMAP(next=[2,4)) · MAP [0,2)
    {"SharesTheStartAndRunsPastTheEnd", {{0, 4}}, {0, 2}, {{0, 2}, {2, 4}}, 1},
    // old:  0     1     2     3     4
    //       [-----------------------)
    // req:              [-----------)
    // ops:  REMAP(prev=[0,2)) · MAP [2,4)
    {"StartsBeforeAndSharesTheEnd", {{0, 4}}, {2, 4}, {{0, 2}, {2, 4}}, 1},
    // old:  0     1     2     3
    //       [-----------)
    // req:        [-----------)
    // ops:  REMAP(prev=[0,1)) · MAP [1,2); walk on: nothing more
    {"StartsBeforeAndEndsInside", {{0, 2}}, {1, 3}, {{0, 1}, {1, 2}}, 1},
    // old:  0     1     2     3
    //             [-----------)
    // req:  [-----------)
    // ops:  REMAP(next=[2,3)) · MAP [1,2); stop
    {"StartsInsideAndRunsPastTheEnd", {{1, 3}}, {0, 2}, {{1, 2}, {2, 3}}, 1},
    // old:  0     1     2     3
    //             [-----)
    // req:  [-----------------)
    // ops:  none
    {"FullyInside", {{1, 2}}, {0, 3}, {{1, 2}}, 0},
    // old:  0     1     2     3     4     5     6
    //                                   [-----)
    // req:  [-----------------)
    // ops:  none
    {"NoVmaInTheRange", {{5, 6}}, {0, 3}, {{5, 6}}, 0},
    // M1
    // old:  0     1     2     3     4
    //       [-----------------------)
    // req:        [-----------)
    // ops:  REMAP(prev=[0,1), next=[3,4)) · MAP [1,3)
    {"M1", {{0, 4}}, {1, 3}, {{0, 1}, {1, 3}, {3, 4}}, 1},
    // M2
    // old:  0     1     2     3     4     5
    //       [-----------)[----)[-----------)
    // req:        [-----------------)
    // ops:  REMAP(prev=[0,1)) · MAP [1,2) · REMAP(next=[4,5)) · MAP [3,4)
    {"M2", {{0, 2}, {2, 3}, {3, 5}}, {1, 4}, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}}, 2},
    // M3
    // old:  0     1     2     3     4
    //       [-----------)[-----------)
    // req:  [-----------------)
    // ops:  REMAP(next=[3,4)) · MAP [2,3)
    {"M3", {{0, 2}, {2, 4}}, {0, 3}, {{0, 2}, {2, 3}, {3, 4}}, 1},
    // M4
    // old:  0     1     2     3     4
    //       [-----------)[-----------)
    // req:        [-----------------)
    // ops:  REMAP(prev=[0,1)) · MAP [1,2)
    {"M4", {{0, 2}, {2, 4}}, {1, 4}, {{0, 1}, {1, 2}, {2, 4}}, 1},
    // M5, whole range
    // old:  0     1     2     3     4
    //       [-----------)[-----------)
    // req:  [-----------------------)
    // ops:  none
    {"M5WholeRange", {{0, 2}, {2, 4}}, {0, 4}, {{0, 2}, {2, 4}}, 0},
    // M5, one VMA exactly
    // old:  0     1     2     3     4
    //       [-----------)[-----------)
    // req:              [-----------)
    // ops:  none
    {"M5OneVmaExactly", {{0, 2}, {2, 4}}, {2, 4}, {{0, 2}, {2, 4}}, 0},
    // M6
    // old:  (none)
    // req:  0     1     2     3     4
    //       [-----------------------)
    // ops:  none, rc 0
    {"M6", {}, {0, 4}, {}, 0},
};

struct KindCase {
  const char* name;
  VmaKind kind;
};
const KindCase kKinds[] = {
    {"Mirror", VmaKind::kMirror}, {"Userptr", VmaKind::kUserptr}, {"Null", VmaKind::kNull}};

class MadviseSplitTest : public ::testing::TestWithParam<std::tuple<KindCase, SplitCase>> {
 protected:
  static std::uint16_t bind_pat(Session& s, VmaKind kind) {
    return kind == VmaKind::kUserptr ? s.coherent_pat() : 0;
  }
};

TEST_P(MadviseSplitTest, CutsAtTheRequestEndsOnly) {
  // given
  const auto& [kind_case, c] = GetParam();
  const VmaKind kind = kind_case.kind;
  Session s("b580");
  build_layout(s, kind, c.existing);
  ASSERT_FALSE(HasFatalFailure());
  const std::uint64_t splits_before = s.stats().madvise_splits;
  // when
  const int rc =
      s.advise_pat(pg(c.request.first), pages(c.request.second - c.request.first), kAdvisedPat);
  // then
  EXPECT_EQ(rc, 0);
  const auto vmas = s.vmas();
  EXPECT_EQ(page_spans(vmas), c.after) << describe(vmas);
  EXPECT_EQ(s.stats().madvise_splits - splits_before, c.remaps);
  EXPECT_EQ(s.invariants(), "");
}

TEST_P(MadviseSplitTest, AdvisesExactlyThePiecesInsideTheRequest) {
  // given
  const auto& [kind_case, c] = GetParam();
  const VmaKind kind = kind_case.kind;
  Session s("b580");
  build_layout(s, kind, c.existing);
  ASSERT_FALSE(HasFatalFailure());
  // when
  ASSERT_EQ(
      s.advise_pat(pg(c.request.first), pages(c.request.second - c.request.first), kAdvisedPat), 0);
  // then
  const std::uint64_t lo = pg(c.request.first);
  const std::uint64_t hi = pg(c.request.second);
  for (const auto& v : s.vmas()) {
    const bool inside = v.start >= lo && v.end <= hi;
    EXPECT_EQ(v.kind, kind) << describe(v);
    EXPECT_EQ(v.attrs.pat, inside ? kAdvisedPat : bind_pat(s, kind)) << describe(v);
  }
}

TEST_P(MadviseSplitTest, PiecesKeepTheirBackingOffsets) {
  // given
  const auto& [kind_case, c] = GetParam();
  const VmaKind kind = kind_case.kind;
  Session s("b580");
  build_layout(s, kind, c.existing);
  ASSERT_FALSE(HasFatalFailure());
  // when
  ASSERT_EQ(
      s.advise_pat(pg(c.request.first), pages(c.request.second - c.request.first), kAdvisedPat), 0);
  // then a userptr piece still maps its own CPU page (offset advances with the
  // cut); mirror and NULL VMAs have no backing offset to advance
  for (const auto& v : s.vmas()) {
    const std::uint64_t expected =
        kind == VmaKind::kUserptr ? kUserptrCpuBase + (v.start - kBase) : 0;
    EXPECT_EQ(v.offset, expected) << describe(v);
  }
}

INSTANTIATE_TEST_SUITE_P(SplitTable, MadviseSplitTest,
                         ::testing::Combine(::testing::ValuesIn(kKinds),
                                            ::testing::ValuesIn(kSplitCases)),
                         [](const auto& row) {
                           return std::string(std::get<0>(row.param).name) + "_" +
                                  std::get<1>(row.param).name;
                         });

// ---------------------------------------------------------------------------
// BO VMAs, holes, and never merging.

class MadviseBoSplitTest : public ::testing::Test {
 protected:
  Session s_{"b580"};
};

// M7
// old:  0     1     2     3     4
//       [---------- BO ---------)
// req:        [-----)
// ops:  none (BO VMAs are never cut); the whole BO VMA is advised
TEST_F(MadviseBoSplitTest, BoVmaIsNeverCutButAdvisedWhole) {
  // given
  const std::uint32_t bo = s_.create_bo(pages(4), kSmem);
  ASSERT_EQ(s_.bind_bo(bo, 0, pg(0), pages(4)), 0);
  // when
  ASSERT_EQ(s_.advise_pat(pg(1), pages(1), kAdvisedPat), 0);
  // then
  const auto vmas = s_.vmas();
  EXPECT_EQ(page_spans(vmas), (std::vector<PageSpan>{{0, 4}})) << describe(vmas);
  EXPECT_EQ(vmas.at(0).attrs.pat, kAdvisedPat);
  EXPECT_EQ(s_.stats().madvise_splits, 0u);
}

// old:  0     1     2     3     4     5     6     7     8
//       [- mirror --)[--------- BO ----------)[- mirror --)
// req:        [-----------------------------------)
// ops:  REMAP(prev=[0,1)) · MAP [1,2) · REMAP(next=[7,8)) · MAP [6,7)
TEST_F(MadviseBoSplitTest, MirrorsAroundABoAreCutWhileTheBoStaysWhole) {
  // given
  ASSERT_EQ(s_.bind_mirror(pg(0), pages(2)), 0);
  const std::uint32_t bo = s_.create_bo(pages(4), kSmem);
  ASSERT_EQ(s_.bind_bo(bo, 0, pg(2), pages(4)), 0);
  ASSERT_EQ(s_.bind_mirror(pg(6), pages(2)), 0);
  // when
  ASSERT_EQ(s_.advise_pat(pg(1), pages(6), kAdvisedPat), 0);
  // then
  const auto vmas = s_.vmas();
  EXPECT_EQ(page_spans(vmas), (std::vector<PageSpan>{{0, 1}, {1, 2}, {2, 6}, {6, 7}, {7, 8}}))
      << describe(vmas);
  EXPECT_EQ(vma_at(vmas, pg(0)).attrs.pat, 0);
  EXPECT_EQ(vma_at(vmas, pg(1)).attrs.pat, kAdvisedPat);
  EXPECT_EQ(vma_at(vmas, pg(2)).kind, VmaKind::kBo);
  EXPECT_EQ(vma_at(vmas, pg(2)).attrs.pat, kAdvisedPat);
  EXPECT_EQ(vma_at(vmas, pg(6)).attrs.pat, kAdvisedPat);
  EXPECT_EQ(vma_at(vmas, pg(7)).attrs.pat, 0);
  EXPECT_EQ(s_.stats().madvise_splits, 2u);
}

// old:  0     1     2     3     4
//       [----)      [----)
// req:  [-----------------------)
// ops:  none; both VMAs advised, the holes stay holes
TEST_F(MadviseBoSplitTest, HolesInTheRequestStayHoles) {
  // given
  build_layout(s_, VmaKind::kNull, {{0, 1}, {2, 3}});
  // when
  ASSERT_EQ(s_.advise_pat(pg(0), pages(4), kAdvisedPat), 0);
  // then
  const auto vmas = s_.vmas();
  EXPECT_EQ(page_spans(vmas), (std::vector<PageSpan>{{0, 1}, {2, 3}})) << describe(vmas);
  for (const auto& v : vmas) EXPECT_EQ(v.attrs.pat, kAdvisedPat) << describe(v);
}

TEST_F(MadviseBoSplitTest, AdviceOverNothingCreatesNoVma) {
  // when
  const int rc = s_.advise_pat(pg(0), pages(16), kAdvisedPat);
  // then
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(s_.vmas().empty());
  EXPECT_EQ(s_.stats().num_vmas, 0u);
}

// old:  0     1     2     3     4
//       [------- mirror --------)
// req:        [-----------)          PAT 0, the value every piece already has
// after: three VMAs, none advised
TEST_F(MadviseBoSplitTest, ValueEqualToTheDefaultStillLeavesThreeVmas) {
  // given
  ASSERT_EQ(s_.bind_mirror(pg(0), pages(4)), 0);
  // when
  ASSERT_EQ(s_.advise_pat(pg(1), pages(2), 0), 0);
  // then
  const auto vmas = s_.vmas();
  EXPECT_EQ(page_spans(vmas), (std::vector<PageSpan>{{0, 1}, {1, 3}, {3, 4}})) << describe(vmas);
  const drm_sim_vm_stats st = s_.stats();
  EXPECT_EQ(st.vmas_advised, 0u);
  EXPECT_EQ(st.vmas_skipped, 1u);
  EXPECT_EQ(s_.query(pg(0), pages(4)).size(), 3u);
}

// old:  0     1     2     3     4
//       [------- mirror --------)
// req1: [-----------)                PAT 2
// req2:             [-----------)    PAT 2
// req3: [-----------------------)    PAT 2
// after: [0,2) and [2,4), equal but separate
TEST_F(MadviseBoSplitTest, EqualNeighboursStaySeparateAndTheQueryReportsEach) {
  // given
  ASSERT_EQ(s_.bind_mirror(pg(0), pages(4)), 0);
  // when
  ASSERT_EQ(s_.advise_pat(pg(0), pages(2), kAdvisedPat), 0);
  ASSERT_EQ(s_.advise_pat(pg(2), pages(2), kAdvisedPat), 0);
  ASSERT_EQ(s_.advise_pat(pg(0), pages(4), kAdvisedPat), 0);
  // then
  const auto attrs = s_.query(pg(0), pages(4));
  EXPECT_EQ(page_spans(attrs), (std::vector<PageSpan>{{0, 2}, {2, 4}}));
  for (const auto& a : attrs) EXPECT_EQ(a.pat_index.val, kAdvisedPat);
}

// old:  0     1     2     3     4
//       [------- mirror --------)    atomic GLOBAL over all of it first
// req:        [-----------)          PAT 2
// after: every piece keeps GLOBAL; only the middle one has PAT 2
TEST_F(MadviseBoSplitTest, PiecesInheritTheAttributesTheVmaHadBeforeTheCut) {
  // given
  ASSERT_EQ(s_.bind_mirror(pg(0), pages(4)), 0);
  ASSERT_EQ(s_.advise_atomic(pg(0), pages(4), DRM_XE_ATOMIC_GLOBAL), 0);
  // when
  ASSERT_EQ(s_.advise_pat(pg(1), pages(2), kAdvisedPat), 0);
  // then
  const auto vmas = s_.vmas();
  ASSERT_EQ(vmas.size(), 3u) << describe(vmas);
  for (const auto& v : vmas) EXPECT_EQ(v.attrs.atomic, DRM_XE_ATOMIC_GLOBAL) << describe(v);
  EXPECT_EQ(vma_at(vmas, pg(0)).attrs.pat, 0);
  EXPECT_EQ(vma_at(vmas, pg(1)).attrs.pat, kAdvisedPat);
  EXPECT_EQ(vma_at(vmas, pg(3)).attrs.pat, 0);
}

TEST_F(MadviseBoSplitTest, PiecesInheritTheCreationFlagsOfTheVma) {
  // given a read-only NULL VMA and an autoreset mirror
  ASSERT_EQ(s_.bind_null(pg(0), pages(4), 0, DRM_XE_VM_BIND_FLAG_READONLY), 0);
  ASSERT_EQ(s_.bind_mirror(pg(8), pages(4), DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET), 0);
  // when both are cut in three
  ASSERT_EQ(s_.advise_pat(pg(1), pages(2), kAdvisedPat), 0);
  ASSERT_EQ(s_.advise_pat(pg(9), pages(2), kAdvisedPat), 0);
  // then
  const auto vmas = s_.vmas();
  ASSERT_EQ(vmas.size(), 6u) << describe(vmas);
  for (const auto& v : vmas) {
    const std::uint8_t flag =
        v.kind == VmaKind::kNull ? drm_sim::vma_flag::kReadonly : drm_sim::vma_flag::kAutoreset;
    EXPECT_EQ(v.flags, flag) << describe(v);
  }
}

}  // namespace
}  // namespace madvise_test
