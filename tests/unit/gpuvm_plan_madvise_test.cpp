// The madvise mode of the drm_gpuvm walk: cases M1-M7 of spec/gpuvm-cases.md
// and the seven relations of xe-vm-semantics.md §4, for mirror, userptr and
// NULL VMAs. Madvise cuts non-BO VMAs at the request's ends only, emits no
// UNMAP, follows each REMAP with the MAP of the cut piece inside the request,
// never cuts a BO VMA and never merges.
//
// Pages are 4 KiB; a is BO 1 at offset n = 0x10 pages; u@0x100 is a userptr
// VMA mapping CPU page 0x100; mirror+40 is a mirror VMA whose GPU-to-CPU delta
// is 0x40 pages.
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "drm_sim/vm/gpuvm_plan.h"
#include "unit/vma_test_util.h"

namespace drm_sim::test {
namespace {

constexpr std::uint64_t n = 0x10;
constexpr std::uint32_t a = kBoA;

// ---- M1-M7 ----------------------------------------------------------------------

struct MadviseCase {
  const char* name;
  std::vector<Vma> existing;
  std::uint64_t lo, hi;  // the advised range, in pages
  GpuvmOps ops;
  std::string text;  // to_string(ops)
  std::vector<Vma> result;
};

// clang-format off
const std::vector<MadviseCase> kMadviseCases = {
  //       0       1       2       3       4
  // old:  [------------mirror-------------)
  // req:          [----advise-----)
  // ops:  REMAP(prev=[0,1), next=[3,4)), MAP [1,3)
  // new:  [mirror-|----mirror-----|mirror-)
  {"M1_OneMirrorAroundTheRequest_CutTwice",
   {mirror(0, 4)}, 1, 3,
   {remap_op(mirror(0, 4), mirror(0, 1), mirror(3, 4)), map_op(mirror(1, 3))},
   "REMAP old=[0x0,0x4000) mirror prev=[0x0,0x1000) mirror next=[0x3000,0x4000) mirror\n"
   "MAP [0x1000,0x3000) mirror\n",
   {mirror(0, 1), mirror(1, 3), mirror(3, 4)}},

  //       0       1       2       3       4       5
  // old:  [----mirror-----|mirror-|----mirror-----)
  // req:          [--------advise---------)
  // ops:  REMAP(prev=[0,1)), MAP [1,2), REMAP(next=[4,5)), MAP [3,4)
  // new:  [--mir--|--mir--|--mir--|--mir--|--mir--)     [2,3) untouched
  {"M2_ThreeMirrors_OuterTwoCutMiddleUntouched",
   {mirror(0, 2), mirror(2, 3), mirror(3, 5)}, 1, 4,
   {remap_op(mirror(0, 2), mirror(0, 1), std::nullopt), map_op(mirror(1, 2)),
    remap_op(mirror(3, 5), std::nullopt, mirror(4, 5)), map_op(mirror(3, 4))},
   "REMAP old=[0x0,0x2000) mirror prev=[0x0,0x1000) mirror next=-\n"
   "MAP [0x1000,0x2000) mirror\n"
   "REMAP old=[0x3000,0x5000) mirror prev=- next=[0x4000,0x5000) mirror\n"
   "MAP [0x3000,0x4000) mirror\n",
   {mirror(0, 1), mirror(1, 2), mirror(2, 3), mirror(3, 4), mirror(4, 5)}},

  //       0       1       2       3       4
  // old:  [----mirror-----|----mirror-----)
  // req:  [--------advise---------)
  // ops:  REMAP(next=[3,4)), MAP [2,3)
  // new:  [----mirror-----|mirror-|mirror-)
  {"M3_TwoMirrors_RequestEndsInsideTheSecond",
   {mirror(0, 2), mirror(2, 4)}, 0, 3,
   {remap_op(mirror(2, 4), std::nullopt, mirror(3, 4)), map_op(mirror(2, 3))},
   "REMAP old=[0x2000,0x4000) mirror prev=- next=[0x3000,0x4000) mirror\n"
   "MAP [0x2000,0x3000) mirror\n",
   {mirror(0, 2), mirror(2, 3), mirror(3, 4)}},

  //       0       1       2       3       4
  // old:  [----mirror-----|----mirror-----)
  // req:          [--------advise---------)
  // ops:  REMAP(prev=[0,1)), MAP [1,2)
  // new:  [mirror-|mirror-|----mirror-----)
  {"M4_TwoMirrors_RequestStartsInsideTheFirst",
   {mirror(0, 2), mirror(2, 4)}, 1, 4,
   {remap_op(mirror(0, 2), mirror(0, 1), std::nullopt), map_op(mirror(1, 2))},
   "REMAP old=[0x0,0x2000) mirror prev=[0x0,0x1000) mirror next=-\n"
   "MAP [0x1000,0x2000) mirror\n",
   {mirror(0, 1), mirror(1, 2), mirror(2, 4)}},

  //       0       1       2       3       4
  // old:  [----mirror-----|----mirror-----)
  // req:  [------------advise-------------)
  // ops:  none
  // new:  [----mirror-----|----mirror-----)
  {"M5_TwoMirrors_RequestOnBoundaries_NoOps",
   {mirror(0, 2), mirror(2, 4)}, 0, 4,
   {},
   "",
   {mirror(0, 2), mirror(2, 4)}},

  //       0       1       2       3       4
  // old:  [----mirror-----|----mirror-----)
  // req:                  [----advise-----)
  // ops:  none
  // new:  [----mirror-----|----mirror-----)
  {"M5_TwoMirrors_RequestIsTheSecond_NoOps",
   {mirror(0, 2), mirror(2, 4)}, 2, 4,
   {},
   "",
   {mirror(0, 2), mirror(2, 4)}},

  //       0       1       2       3       4
  // old:  (none)
  // req:  [------------advise-------------)
  // ops:  none
  // new:  (none)
  {"M6_NoVma_NoOps",
   {}, 0, 4,
   {},
   "",
   {}},

  // The caller then advises the whole BO VMA; the planner only declines to cut.
  //       0       1       2       3       4
  // old:  [--------------a@n--------------)
  // req:          [advise-)
  // ops:  none (BO VMAs are never cut)
  // new:  [--------------a@n--------------)
  {"M7_BoVmaAroundTheRequest_NeverCut",
   {bo(0, 4, a, n)}, 1, 2,
   {},
   "",
   {bo(0, 4, a, n)}},
};
// clang-format on

class GpuvmPlanMadviseTest : public ::testing::TestWithParam<MadviseCase> {
 protected:
  GpuvmPlanMadviseTest() : tree_(tree_of(GetParam().existing)) {}
  GpuvmOps plan() const { return plan_madvise(tree_, pages(GetParam().lo, GetParam().hi)); }
  VmaTree tree_;
};

TEST_P(GpuvmPlanMadviseTest, PlansTheGoldenOps) {
  // given: the existing VMAs (fixture)
  // when
  const GpuvmOps ops = plan();
  // then
  EXPECT_EQ(ops, GetParam().ops);
}

TEST_P(GpuvmPlanMadviseTest, PrintsTheGoldenText) {
  // given: the existing VMAs (fixture)
  // when
  const GpuvmOps ops = plan();
  // then
  EXPECT_EQ(to_string(ops), GetParam().text);
}

TEST_P(GpuvmPlanMadviseTest, KeepsTheMadviseCardinality) {
  // given: the existing VMAs (fixture)
  // when
  const GpuvmOps ops = plan();
  // then: no UNMAP, at most two REMAPs, each followed by the MAP of its piece
  EXPECT_TRUE(has_madvise_cardinality(ops));
}

TEST_P(GpuvmPlanMadviseTest, ApplyingThePlanGivesTheVmasAfter) {
  // given: the existing VMAs (fixture)
  // when
  ASSERT_TRUE(apply_ops(tree_, plan()));
  // then
  EXPECT_EQ(dump(tree_), dump(GetParam().result));
  EXPECT_EQ(layout(tree_), GetParam().result);
  EXPECT_EQ(tree_.check_invariants(kVaEnd), "");
}

INSTANTIATE_TEST_SUITE_P(GpuvmCases, GpuvmPlanMadviseTest, ::testing::ValuesIn(kMadviseCases),
                         RowName{});

// ---- the seven relations of §4, for each cuttable kind ---------------------------

struct Span {
  std::uint64_t lo, hi;  // pages
};

struct Relation {
  const char* name;
  Span old, req;
  std::optional<Span> prev, next, map;  // what the plan cuts out of old
};

// clang-format off
const std::vector<Relation> kRelations = {
  //       0       1       2       3       4
  // old:  [--------------old--------------)
  // req:          [----advise-----)
  // ops:  REMAP(prev=[0,1), next=[3,4)), MAP [1,3)
  // new:  [-prev--|------map------|-next--)
  {"StartsBeforeAndEndsAfter", {0, 4}, {1, 3}, Span{0, 1}, Span{3, 4}, Span{1, 3}},

  //       0       1       2       3       4
  // old:  [--------------old--------------)
  // req:  [----advise-----)
  // ops:  REMAP(next=[2,4)), MAP [0,2)
  // new:  [------map------|-----next------)
  {"StartsWithAndEndsAfter", {0, 4}, {0, 2}, std::nullopt, Span{2, 4}, Span{0, 2}},

  //       0       1       2       3       4
  // old:  [--------------old--------------)
  // req:                  [----advise-----)
  // ops:  REMAP(prev=[0,2)), MAP [2,4)
  // new:  [-----prev------|------map------)
  {"StartsBeforeAndEndsWith", {0, 4}, {2, 4}, Span{0, 2}, std::nullopt, Span{2, 4}},

  //       0       1       2       3       4
  // old:  [------old------)
  // req:          [--------advise---------)
  // ops:  REMAP(prev=[0,1)), MAP [1,2); keep walking
  // new:  [-prev--|--map--)
  {"StartsBeforeAndEndsInside", {0, 2}, {1, 4}, Span{0, 1}, std::nullopt, Span{1, 2}},

  //       0       1       2       3       4
  // old:                  [------old------)
  // req:          [----advise-----)
  // ops:  REMAP(next=[3,4)), MAP [2,3); stop
  // new:                  [--map--|-next--)
  {"StartsInsideAndEndsAfter", {2, 4}, {1, 3}, std::nullopt, Span{3, 4}, Span{2, 3}},

  //       0       1       2       3       4
  // old:          [------old------)
  // req:  [------------advise-------------)
  // ops:  none
  // new:          [------old------)
  {"FullyInside", {1, 3}, {0, 4}, std::nullopt, std::nullopt, std::nullopt},

  //       0       1       2       3       4
  // old:  [--------------old--------------)
  // req:  [------------advise-------------)
  // ops:  none
  // new:  [--------------old--------------)
  {"BothEndsOnBoundaries", {0, 4}, {0, 4}, std::nullopt, std::nullopt, std::nullopt},
};
// clang-format on

// The old VMA of a relation row: non-default attributes, flags and PAT, and a
// non-zero backing offset where the kind has one, so inheritance and offset
// rules are visible in the pieces.
Vma old_vma(VmaKind kind, Span s) {
  switch (kind) {
    case VmaKind::kMirror:
      return with_custom_attrs(mirror(s.lo, s.hi, 0x40));
    case VmaKind::kUserptr:
      return with_custom_attrs(userptr(s.lo, s.hi, 0x100));
    default:
      return with_custom_attrs(null(s.lo, s.hi));
  }
}

// The spec's rule for a piece [lo, hi) of old: everything but the bounds is
// inherited; a userptr piece's CPU address advances with the cut, a mirror's
// delta does not, and a NULL VMA has no backing.
Vma piece_of(const Vma& old, Span s) {
  Vma p = old;
  p.start = page(s.lo);
  p.end = page(s.hi);
  if (old.kind == VmaKind::kUserptr) {
    p.offset = old.offset + (p.start - old.start);
  }
  return p;
}

using RelationParam = std::tuple<Relation, VmaKind>;

struct RelationName {
  std::string operator()(const ::testing::TestParamInfo<RelationParam>& row) const {
    return std::string(std::get<0>(row.param).name) + "_" + to_string(std::get<1>(row.param));
  }
};

class GpuvmPlanMadviseRelationTest : public ::testing::TestWithParam<RelationParam> {
 protected:
  GpuvmPlanMadviseRelationTest()
      : rel_(std::get<0>(GetParam())),
        old_(old_vma(std::get<1>(GetParam()), rel_.old)),
        tree_(tree_of({old_})) {}

  GpuvmOps plan() const { return plan_madvise(tree_, pages(rel_.req.lo, rel_.req.hi)); }

  std::optional<Vma> piece(const std::optional<Span>& s) const {
    if (!s) {
      return std::nullopt;
    }
    return piece_of(old_, *s);
  }
  GpuvmOps expected_ops() const {
    if (!rel_.map) {
      return {};
    }
    return {remap_op(old_, piece(rel_.prev), piece(rel_.next)), map_op(*piece(rel_.map))};
  }
  std::vector<Vma> expected_layout() const {
    if (!rel_.map) {
      return {old_};
    }
    std::vector<Vma> out;
    for (const auto& s : {rel_.prev, rel_.map, rel_.next}) {
      if (s) {
        out.push_back(piece_of(old_, *s));
      }
    }
    return out;
  }

  Relation rel_;
  Vma old_;
  VmaTree tree_;
};

TEST_P(GpuvmPlanMadviseRelationTest, PlansTheOpsOfTheRelationTable) {
  // given: one VMA in the relation's position (fixture)
  // when
  const GpuvmOps ops = plan();
  // then
  EXPECT_EQ(to_string(ops), to_string(expected_ops()));
  EXPECT_EQ(ops, expected_ops());
}

TEST_P(GpuvmPlanMadviseRelationTest, KeepsTheMadviseCardinality) {
  // given: one VMA in the relation's position (fixture)
  // when
  const GpuvmOps ops = plan();
  // then
  EXPECT_TRUE(has_madvise_cardinality(ops));
}

TEST_P(GpuvmPlanMadviseRelationTest, PiecesInheritKindFlagsAndAttributes) {
  // given: one VMA with non-default attributes (fixture)
  // when
  const GpuvmOps ops = plan();
  // then: prev, next and the MAP piece differ from old only in bounds/offset
  auto inherits = [&](const Vma& p) {
    EXPECT_EQ(p.kind, old_.kind) << to_string(p);
    EXPECT_EQ(p.bo, old_.bo) << to_string(p);
    EXPECT_EQ(p.flags, old_.flags) << to_string(p);
    EXPECT_EQ(p.default_pat, old_.default_pat) << to_string(p);
    EXPECT_EQ(p.pte_tiles, old_.pte_tiles) << to_string(p);
    EXPECT_EQ(p.attrs, old_.attrs) << to_string(p);
  };
  for (const GpuvmOp& op : ops) {
    if (const auto* r = std::get_if<RemapOp>(&op)) {
      if (r->prev) {
        inherits(*r->prev);
      }
      if (r->next) {
        inherits(*r->next);
      }
    } else if (const auto* m = std::get_if<MapOp>(&op)) {
      inherits(m->vma);
    }
  }
}

TEST_P(GpuvmPlanMadviseRelationTest, ApplyingThePlanTilesTheOldVmaWithoutMerging) {
  // given: one VMA in the relation's position (fixture)
  // when
  ASSERT_TRUE(apply_ops(tree_, plan()));
  // then
  EXPECT_EQ(dump(tree_), dump(expected_layout()));
  EXPECT_EQ(layout(tree_), expected_layout());
}

INSTANTIATE_TEST_SUITE_P(XeVmSemantics4, GpuvmPlanMadviseRelationTest,
                         ::testing::Combine(::testing::ValuesIn(kRelations),
                                            ::testing::Values(VmaKind::kMirror, VmaKind::kUserptr,
                                                              VmaKind::kNull)),
                         RelationName{});

// ---- offsets, BO VMAs, repeated advice ------------------------------------------

//       0       1       2       3       4
// old:  [------------u@0x100------------)
// req:          [----advise-----)
// ops:  REMAP(prev=[0,1)u@0x100, next=[3,4)u@0x103), MAP [1,3)u@0x101
// new:  [u@0x100|----u@0x101----|u@0x103)
TEST(GpuvmPlanMadvise, UserptrPiecesAdvanceTheirCpuAddressWithTheCut) {
  // given
  const VmaTree tree = tree_of({userptr(0, 4, 0x100)});
  // when
  const GpuvmOps ops = plan_madvise(tree, pages(1, 3));
  // then
  const GpuvmOps want = {remap_op(userptr(0, 4, 0x100), userptr(0, 1, 0x100), userptr(3, 4, 0x103)),
                         map_op(userptr(1, 3, 0x101))};
  EXPECT_EQ(ops, want);
}

//       0       1       2       3       4
// old:  [-----------mirror+40-----------)
// req:          [----advise-----)
// ops:  REMAP(prev=[0,1), next=[3,4)), MAP [1,3), all with delta 0x40
// new:  [-m+40--|-----m+40------|-m+40--)
TEST(GpuvmPlanMadvise, MirrorPiecesKeepTheirDelta) {
  // given
  const VmaTree tree = tree_of({mirror(0, 4, 0x40)});
  // when
  const GpuvmOps ops = plan_madvise(tree, pages(1, 3));
  // then
  const GpuvmOps want = {remap_op(mirror(0, 4, 0x40), mirror(0, 1, 0x40), mirror(3, 4, 0x40)),
                         map_op(mirror(1, 3, 0x40))};
  EXPECT_EQ(ops, want);
}

//       0       1       2       3       4       5       6
// old:  [----mirror-----|------a@n------|----mirror-----)
// req:          [------------advise-------------)
// ops:  REMAP(prev=[0,1)), MAP [1,2), REMAP(next=[5,6)), MAP [4,5)
// new:  [--mir--|--mir--|------a@n------|--mir--|--mir--)
TEST(GpuvmPlanMadvise, BoVmaBetweenMirrorsIsSkippedWhileTheMirrorsAreCut) {
  // given
  VmaTree tree = tree_of({mirror(0, 2), bo(2, 4, a, n), mirror(4, 6)});
  // when
  const GpuvmOps ops = plan_madvise(tree, pages(1, 5));
  // then
  const GpuvmOps want = {remap_op(mirror(0, 2), mirror(0, 1), std::nullopt), map_op(mirror(1, 2)),
                         remap_op(mirror(4, 6), std::nullopt, mirror(5, 6)), map_op(mirror(4, 5))};
  EXPECT_EQ(ops, want);
  EXPECT_TRUE(has_madvise_cardinality(ops));
  ASSERT_TRUE(apply_ops(tree, ops));
  EXPECT_EQ(layout(tree), (std::vector<Vma>{mirror(0, 1), mirror(1, 2), bo(2, 4, a, n),
                                            mirror(4, 5), mirror(5, 6)}));
}

//       0       1       2       3       4
// old:  [------a@n------|----mirror-----)
// req:          [----advise-----)
// ops:  REMAP(next=[3,4)), MAP [2,3)      (the BO VMA is not cut at 1)
// new:  [------a@n------|mirror-|mirror-)
TEST(GpuvmPlanMadvise, BoVmaStraddlingTheStartIsNotCutButTheWalkGoesOn) {
  // given
  const VmaTree tree = tree_of({bo(0, 2, a, n), mirror(2, 4)});
  // when
  const GpuvmOps ops = plan_madvise(tree, pages(1, 3));
  // then
  const GpuvmOps want = {remap_op(mirror(2, 4), std::nullopt, mirror(3, 4)), map_op(mirror(2, 3))};
  EXPECT_EQ(ops, want);
}

//       0       1       2       3       4
// old:  [mirror-|----mirror-----|mirror-)     (M1 applied)
// req:          [----advise-----)            (again)
// ops:  none: the pieces stay separate although they are equal neighbours
TEST(GpuvmPlanMadvise, AdvisingTheSameRangeAgainPlansNothingAndNeverMerges) {
  // given
  VmaTree tree = tree_of({mirror(0, 4)});
  ASSERT_TRUE(apply_ops(tree, plan_madvise(tree, pages(1, 3))));
  // when
  const GpuvmOps again = plan_madvise(tree, pages(1, 3));
  const GpuvmOps whole = plan_madvise(tree, pages(0, 4));
  // then
  EXPECT_TRUE(again.empty()) << to_string(again);
  EXPECT_TRUE(whole.empty()) << to_string(whole);
  EXPECT_EQ(layout(tree), (std::vector<Vma>{mirror(0, 1), mirror(1, 3), mirror(3, 4)}));
}

}  // namespace
}  // namespace drm_sim::test
