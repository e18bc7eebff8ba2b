// The fifteen VM_BIND MAP (sm_map) cases of spec/gpuvm-cases.md, one table row
// each: the existing VMAs, the request, the golden op list (as values and as
// the stable text form) and the layout after the ops are applied.
//
// Pages are 4 KiB; a and b are BOs 1 and 2; n = 0x10 and m = 0x20 are BO
// offsets in pages (n+1 is 0x11 pages, so "bo=1@0x11000" in text form);
// u@0x100 is a userptr VMA mapping CPU page 0x100.
#include <string>
#include <vector>

#include "drm_sim/vm/gpuvm_plan.h"
#include "unit/vma_test_util.h"

namespace drm_sim::test {
namespace {

constexpr std::uint64_t n = 0x10;
constexpr std::uint64_t m = 0x20;
constexpr std::uint32_t a = kBoA;
constexpr std::uint32_t b = kBoB;

struct MapCase {
  const char* name;
  std::vector<Vma> existing;
  Vma request;  // the VMA the bind creates
  GpuvmOps ops;
  std::string text;  // to_string(ops)
  std::vector<Vma> result;
};

// clang-format off
const std::vector<MapCase> kMapCases = {
  //       0       1       2       3
  // old:  [--a@n--)
  // req:  [--a@n--)
  // ops:  UNMAP(keep), MAP [0,1)a@n
  // new:  [--a@n--)
  {"Case01_SameBoSameOffset_UnmapKeep",
   {bo(0, 1, a, n)},
   bo(0, 1, a, n),
   {unmap_op(bo(0, 1, a, n), Keep::kYes), map_op(bo(0, 1, a, n))},
   "UNMAP keep [0x0,0x1000) bo=1@0x10000\n"
   "MAP [0x0,0x1000) bo=1@0x10000\n",
   {bo(0, 1, a, n)}},

  //       0       1       2       3
  // old:  [--a@n--)
  // req:  [--a@m--)
  // ops:  UNMAP, MAP [0,1)a@m
  // new:  [--a@m--)
  {"Case02_SameBoOtherOffset_Unmap",
   {bo(0, 1, a, n)},
   bo(0, 1, a, m),
   {unmap_op(bo(0, 1, a, n)), map_op(bo(0, 1, a, m))},
   "UNMAP [0x0,0x1000) bo=1@0x10000\n"
   "MAP [0x0,0x1000) bo=1@0x20000\n",
   {bo(0, 1, a, m)}},

  //       0       1       2       3
  // old:  [--a@n--)
  // req:  [--b@n--)
  // ops:  UNMAP, MAP [0,1)b@n
  // new:  [--b@n--)
  {"Case03_OtherBoSameOffset_Unmap",
   {bo(0, 1, a, n)},
   bo(0, 1, b, n),
   {unmap_op(bo(0, 1, a, n)), map_op(bo(0, 1, b, n))},
   "UNMAP [0x0,0x1000) bo=1@0x10000\n"
   "MAP [0x0,0x1000) bo=2@0x10000\n",
   {bo(0, 1, b, n)}},

  //       0       1       2       3
  // old:  [--a@n--)
  // req:  [------a@n------)
  // ops:  UNMAP(keep), MAP [0,2)a@n
  // new:  [------a@n------)
  {"Case04_SameBoGrowsAtTheEnd_UnmapKeep",
   {bo(0, 1, a, n)},
   bo(0, 2, a, n),
   {unmap_op(bo(0, 1, a, n), Keep::kYes), map_op(bo(0, 2, a, n))},
   "UNMAP keep [0x0,0x1000) bo=1@0x10000\n"
   "MAP [0x0,0x2000) bo=1@0x10000\n",
   {bo(0, 2, a, n)}},

  //       0       1       2       3
  // old:  [------a@n------)
  // req:  [--b@n--)
  // ops:  REMAP(next=[1,2)a@n+1), MAP [0,1)b@n
  // new:  [--b@n--|-a@n+1-)
  {"Case05_OtherBoOverTheHead_RemapNext",
   {bo(0, 2, a, n)},
   bo(0, 1, b, n),
   {remap_op(bo(0, 2, a, n), std::nullopt, bo(1, 2, a, n + 1)), map_op(bo(0, 1, b, n))},
   "REMAP old=[0x0,0x2000) bo=1@0x10000 prev=- next=[0x1000,0x2000) bo=1@0x11000\n"
   "MAP [0x0,0x1000) bo=2@0x10000\n",
   {bo(0, 1, b, n), bo(1, 2, a, n + 1)}},

  //       0       1       2       3
  // old:  [------a@n------)
  // req:  [--a@n--)
  // ops:  REMAP(keep, next=[1,2)a@n+1), MAP [0,1)a@n
  // new:  [--a@n--|-a@n+1-)
  {"Case06_SameBoOverTheHead_RemapKeepNext",
   {bo(0, 2, a, n)},
   bo(0, 1, a, n),
   {remap_op(bo(0, 2, a, n), std::nullopt, bo(1, 2, a, n + 1), Keep::kYes),
    map_op(bo(0, 1, a, n))},
   "REMAP keep old=[0x0,0x2000) bo=1@0x10000 prev=- next=[0x1000,0x2000) bo=1@0x11000\n"
   "MAP [0x0,0x1000) bo=1@0x10000\n",
   {bo(0, 1, a, n), bo(1, 2, a, n + 1)}},

  //       0       1       2       3
  // old:  [------a@n------)
  // req:          [--b@m--)
  // ops:  REMAP(prev=[0,1)a@n), MAP [1,2)b@m
  // new:  [--a@n--|--b@m--)
  {"Case07_OtherBoOverTheTail_RemapPrev",
   {bo(0, 2, a, n)},
   bo(1, 2, b, m),
   {remap_op(bo(0, 2, a, n), bo(0, 1, a, n), std::nullopt), map_op(bo(1, 2, b, m))},
   "REMAP old=[0x0,0x2000) bo=1@0x10000 prev=[0x0,0x1000) bo=1@0x10000 next=-\n"
   "MAP [0x1000,0x2000) bo=2@0x20000\n",
   {bo(0, 1, a, n), bo(1, 2, b, m)}},

  //       0       1       2       3
  // old:  [------a@n------)
  // req:          [-a@n+1-)
  // ops:  REMAP(keep, prev=[0,1)a@n), MAP [1,2)a@n+1
  // new:  [--a@n--|-a@n+1-)
  {"Case08_SameBoOverTheTail_RemapKeepPrev",
   {bo(0, 2, a, n)},
   bo(1, 2, a, n + 1),
   {remap_op(bo(0, 2, a, n), bo(0, 1, a, n), std::nullopt, Keep::kYes),
    map_op(bo(1, 2, a, n + 1))},
   "REMAP keep old=[0x0,0x2000) bo=1@0x10000 prev=[0x0,0x1000) bo=1@0x10000 next=-\n"
   "MAP [0x1000,0x2000) bo=1@0x11000\n",
   {bo(0, 1, a, n), bo(1, 2, a, n + 1)}},

  //       0       1       2       3
  // old:  [------a@n------)
  // req:          [------b@m------)
  // ops:  REMAP(prev=[0,1)a@n), MAP [1,3)b@m
  // new:  [--a@n--|------b@m------)
  {"Case09_OtherBoPastTheEnd_RemapPrev",
   {bo(0, 2, a, n)},
   bo(1, 3, b, m),
   {remap_op(bo(0, 2, a, n), bo(0, 1, a, n), std::nullopt), map_op(bo(1, 3, b, m))},
   "REMAP old=[0x0,0x2000) bo=1@0x10000 prev=[0x0,0x1000) bo=1@0x10000 next=-\n"
   "MAP [0x1000,0x3000) bo=2@0x20000\n",
   {bo(0, 1, a, n), bo(1, 3, b, m)}},

  //       0       1       2       3
  // old:  [------a@n------)
  // req:          [-----a@n+1-----)
  // ops:  REMAP(keep, prev=[0,1)a@n), MAP [1,3)a@n+1
  // new:  [--a@n--|-----a@n+1-----)
  {"Case10_SameBoPastTheEnd_RemapKeepPrev",
   {bo(0, 2, a, n)},
   bo(1, 3, a, n + 1),
   {remap_op(bo(0, 2, a, n), bo(0, 1, a, n), std::nullopt, Keep::kYes),
    map_op(bo(1, 3, a, n + 1))},
   "REMAP keep old=[0x0,0x2000) bo=1@0x10000 prev=[0x0,0x1000) bo=1@0x10000 next=-\n"
   "MAP [0x1000,0x3000) bo=1@0x11000\n",
   {bo(0, 1, a, n), bo(1, 3, a, n + 1)}},

  //       0       1       2       3
  // old:  [----------a@n----------)
  // req:          [--b@m--)
  // ops:  REMAP(prev=[0,1)a@n, next=[2,3)a@n+2), MAP [1,2)b@m
  // new:  [--a@n--|--b@m--|-a@n+2-)
  {"Case11_OtherBoInTheMiddle_RemapPrevNext",
   {bo(0, 3, a, n)},
   bo(1, 2, b, m),
   {remap_op(bo(0, 3, a, n), bo(0, 1, a, n), bo(2, 3, a, n + 2)), map_op(bo(1, 2, b, m))},
   "REMAP old=[0x0,0x3000) bo=1@0x10000 prev=[0x0,0x1000) bo=1@0x10000"
   " next=[0x2000,0x3000) bo=1@0x12000\n"
   "MAP [0x1000,0x2000) bo=2@0x20000\n",
   {bo(0, 1, a, n), bo(1, 2, b, m), bo(2, 3, a, n + 2)}},

  //       0       1       2       3
  // old:  [----------a@n----------)
  // req:          [-a@n+1-)
  // ops:  REMAP(keep, prev=[0,1)a@n, next=[2,3)a@n+2), MAP [1,2)a@n+1
  // new:  [--a@n--|-a@n+1-|-a@n+2-)
  {"Case12_SameBoInTheMiddle_RemapKeepPrevNext",
   {bo(0, 3, a, n)},
   bo(1, 2, a, n + 1),
   {remap_op(bo(0, 3, a, n), bo(0, 1, a, n), bo(2, 3, a, n + 2), Keep::kYes),
    map_op(bo(1, 2, a, n + 1))},
   "REMAP keep old=[0x0,0x3000) bo=1@0x10000 prev=[0x0,0x1000) bo=1@0x10000"
   " next=[0x2000,0x3000) bo=1@0x12000\n"
   "MAP [0x1000,0x2000) bo=1@0x11000\n",
   {bo(0, 1, a, n), bo(1, 2, a, n + 1), bo(2, 3, a, n + 2)}},

  //       0       1       2       3
  // old:          [-a@n+1-)
  // req:  [------a@n------)
  // ops:  UNMAP(keep), MAP [0,2)a@n
  // new:  [------a@n------)
  {"Case13_SameBoGrowsAtTheFront_UnmapKeep",
   {bo(1, 2, a, n + 1)},
   bo(0, 2, a, n),
   {unmap_op(bo(1, 2, a, n + 1), Keep::kYes), map_op(bo(0, 2, a, n))},
   "UNMAP keep [0x1000,0x2000) bo=1@0x11000\n"
   "MAP [0x0,0x2000) bo=1@0x10000\n",
   {bo(0, 2, a, n)}},

  //       0       1       2       3
  // old:          [-a@n+1-)
  // req:  [----------a@n----------)
  // ops:  UNMAP(keep), MAP [0,3)a@n
  // new:  [----------a@n----------)
  {"Case14_SameBoGrowsAtBothEnds_UnmapKeep",
   {bo(1, 2, a, n + 1)},
   bo(0, 3, a, n),
   {unmap_op(bo(1, 2, a, n + 1), Keep::kYes), map_op(bo(0, 3, a, n))},
   "UNMAP keep [0x1000,0x2000) bo=1@0x11000\n"
   "MAP [0x0,0x3000) bo=1@0x10000\n",
   {bo(0, 3, a, n)}},

  // The surviving tail's offset is n + (request end - old start) = n+1.
  //       0       1       2       3
  // old:          [------a@n------)
  // req:  [------b@m------)
  // ops:  REMAP(next=[2,3)a@n+1), MAP [0,2)b@m
  // new:  [------b@m------|-a@n+1-)
  {"Case15_OtherBoOverlapsTheHeadFromBelow_RemapNext",
   {bo(1, 3, a, n)},
   bo(0, 2, b, m),
   {remap_op(bo(1, 3, a, n), std::nullopt, bo(2, 3, a, n + 1)), map_op(bo(0, 2, b, m))},
   "REMAP old=[0x1000,0x3000) bo=1@0x10000 prev=- next=[0x2000,0x3000) bo=1@0x11000\n"
   "MAP [0x0,0x2000) bo=2@0x20000\n",
   {bo(0, 2, b, m), bo(2, 3, a, n + 1)}},
};
// clang-format on

class GpuvmPlanMapTest : public ::testing::TestWithParam<MapCase> {
 protected:
  GpuvmPlanMapTest() : tree_(tree_of(GetParam().existing)) {}
  GpuvmOps plan() const { return plan_map(tree_, map_request(GetParam().request)); }
  VmaTree tree_;
};

TEST_P(GpuvmPlanMapTest, PlansTheGoldenOps) {
  // given: the existing VMAs (fixture)
  // when
  const GpuvmOps ops = plan();
  // then
  EXPECT_EQ(ops, GetParam().ops);
}

TEST_P(GpuvmPlanMapTest, PrintsTheGoldenText) {
  // given: the existing VMAs (fixture)
  // when
  const GpuvmOps ops = plan();
  // then
  EXPECT_EQ(to_string(ops), GetParam().text);
}

TEST_P(GpuvmPlanMapTest, KeepsTheMapCardinality) {
  // given: the existing VMAs (fixture)
  // when
  const GpuvmOps ops = plan();
  // then: any number of UNMAPs, at most two REMAPs, exactly one MAP, last
  EXPECT_TRUE(has_map_cardinality(ops));
}

TEST_P(GpuvmPlanMapTest, ApplyingThePlanGivesTheResultLayout) {
  // given: the existing VMAs (fixture)
  // when
  ASSERT_TRUE(apply_ops(tree_, plan()));
  // then
  EXPECT_EQ(dump(tree_), dump(GetParam().result));
  EXPECT_EQ(layout(tree_), GetParam().result);
  EXPECT_EQ(tree_.check_invariants(kVaEnd), "");
}

TEST_P(GpuvmPlanMapTest, PlanningLeavesTheTreeUntouched) {
  // given: the existing VMAs (fixture)
  // when
  (void)plan();
  // then
  EXPECT_EQ(layout(tree_), GetParam().existing);
}

INSTANTIATE_TEST_SUITE_P(GpuvmCases, GpuvmPlanMapTest, ::testing::ValuesIn(kMapCases), RowName{});

// ---- beyond the table: the same rules on wider layouts ---------------------------

//       0       1       2       3       4       5       6
// old:  [------a@n------|--b@m--|-null--|----u@0x100----)
// req:          [--------------b@m--------------)
// ops:  REMAP(prev=[0,1)a@n), UNMAP [2,3)b@m, UNMAP [3,4)null,
//       REMAP(next=[5,6)u@0x101), MAP [1,5)b@m
// new:  [--a@n--|--------------b@m--------------|u@0x101)
TEST(GpuvmPlanMap, UnmapsEveryVmaInsideAndRemapsBothEdges) {
  // given
  const VmaTree tree = tree_of({bo(0, 2, a, n), bo(2, 3, b, m), null(3, 4), userptr(4, 6, 0x100)});
  // when
  const GpuvmOps ops = plan_map(tree, map_request(bo(1, 5, b, m)));
  // then
  const GpuvmOps want = {
      remap_op(bo(0, 2, a, n), bo(0, 1, a, n), std::nullopt),
      unmap_op(bo(2, 3, b, m)),
      unmap_op(null(3, 4)),
      remap_op(userptr(4, 6, 0x100), std::nullopt, userptr(5, 6, 0x101)),
      map_op(bo(1, 5, b, m)),
  };
  EXPECT_EQ(ops, want);
  EXPECT_TRUE(has_map_cardinality(ops));
}

// Neighbours that only touch the request are not walked.
//       0       1       2       3
// old:  [--a@n--)       [-a@n+2-)
// req:          [-a@n+1-)
// ops:  MAP [1,2)a@n+1
// new:  [--a@n--|-a@n+1-|-a@n+2-)
TEST(GpuvmPlanMap, MapIntoAHoleBetweenTouchingNeighboursIsASingleMap) {
  // given
  VmaTree tree = tree_of({bo(0, 1, a, n), bo(2, 3, a, n + 2)});
  // when
  const GpuvmOps ops = plan_map(tree, map_request(bo(1, 2, a, n + 1)));
  // then: drm_gpuvm never joins VMAs, even contiguous ones of the same BO
  EXPECT_EQ(ops, GpuvmOps{map_op(bo(1, 2, a, n + 1))});
  ASSERT_TRUE(apply_ops(tree, ops));
  EXPECT_EQ(layout(tree),
            (std::vector<Vma>{bo(0, 1, a, n), bo(1, 2, a, n + 1), bo(2, 3, a, n + 2)}));
}

//       0       1       2
// old:  [----u@0x100----)
// req:  [u@0x100)
// ops:  REMAP(next=[1,2)u@0x101), MAP [0,1)u@0x100; no keep
TEST(GpuvmPlanMap, OnlyBoBackedVmasAreEverKept) {
  // given: the same user pages at the same address, but no GEM object
  const VmaTree tree = tree_of({userptr(0, 2, 0x100)});
  // when
  const GpuvmOps ops = plan_map(tree, map_request(userptr(0, 1, 0x100)));
  // then
  const GpuvmOps want = {remap_op(userptr(0, 2, 0x100), std::nullopt, userptr(1, 2, 0x101)),
                         map_op(userptr(0, 1, 0x100))};
  EXPECT_EQ(ops, want);
}

//       0       1       2       3
// old:  [---------null----------)
// req:          [--b@m--)
// ops:  REMAP(prev=[0,1)null, next=[2,3)null), MAP [1,2)b@m
TEST(GpuvmPlanMap, CuttingANullVmaKeepsItsPiecesNull) {
  // given
  const VmaTree tree = tree_of({null(0, 3)});
  // when
  const GpuvmOps ops = plan_map(tree, map_request(bo(1, 2, b, m)));
  // then
  const GpuvmOps want = {remap_op(null(0, 3), null(0, 1), null(2, 3)), map_op(bo(1, 2, b, m))};
  EXPECT_EQ(ops, want);
}

}  // namespace
}  // namespace drm_sim::test
