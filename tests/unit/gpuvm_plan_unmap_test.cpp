// The VM_BIND UNMAP (sm_unmap) rules of spec/gpuvm-cases.md, one table row
// per rule: a VMA inside the range is UNMAPped, one straddling the start keeps
// a prev, one straddling the end keeps a next whose offset advances by
// (range end - old start), one containing the range keeps both, and holes
// plan nothing. Unmap never keeps PTEs and never maps.
//
// Pages are 4 KiB; a and b are BOs 1 and 2; n = 0x10 and m = 0x20 are BO
// offsets in pages; u@0x100 is a userptr VMA mapping CPU page 0x100.
// (A range outside the VM is rejected with -EINVAL by the ioctl before any
// planning; the planner has no VM bounds, so that rule is not tested here.)
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

struct UnmapCase {
  const char* name;
  std::vector<Vma> existing;
  std::uint64_t lo, hi;  // the range to unmap, in pages
  GpuvmOps ops;
  std::string text;  // to_string(ops)
  std::vector<Vma> result;
};

// clang-format off
const std::vector<UnmapCase> kUnmapCases = {
  //       0       1       2       3
  // old:          [--a@n--)
  // req:  [---------unmap---------)
  // ops:  UNMAP [1,2)a@n
  // new:  (none)
  {"VmaInsideTheRange_Unmap",
   {bo(1, 2, a, n)}, 0, 3,
   {unmap_op(bo(1, 2, a, n))},
   "UNMAP [0x1000,0x2000) bo=1@0x10000\n",
   {}},

  //       0       1       2
  // old:  [------a@n------)
  // req:  [-----unmap-----)
  // ops:  UNMAP [0,2)a@n
  // new:  (none)
  {"VmaEqualToTheRange_Unmap",
   {bo(0, 2, a, n)}, 0, 2,
   {unmap_op(bo(0, 2, a, n))},
   "UNMAP [0x0,0x2000) bo=1@0x10000\n",
   {}},

  //       0       1       2       3
  // old:  [------a@n------)
  // req:          [-----unmap-----)
  // ops:  REMAP(prev=[0,1)a@n)
  // new:  [--a@n--)
  {"VmaStraddlingTheStart_RemapPrev",
   {bo(0, 2, a, n)}, 1, 3,
   {remap_op(bo(0, 2, a, n), bo(0, 1, a, n), std::nullopt)},
   "REMAP old=[0x0,0x2000) bo=1@0x10000 prev=[0x0,0x1000) bo=1@0x10000 next=-\n",
   {bo(0, 1, a, n)}},

  // next's offset: n + (range end 2 - old start 1) = n+1.
  //       0       1       2       3
  // old:          [------a@n------)
  // req:  [-----unmap-----)
  // ops:  REMAP(next=[2,3)a@n+1)
  // new:                  [-a@n+1-)
  {"VmaStraddlingTheEnd_RemapNextAdvancedByTheCut",
   {bo(1, 3, a, n)}, 0, 2,
   {remap_op(bo(1, 3, a, n), std::nullopt, bo(2, 3, a, n + 1))},
   "REMAP old=[0x1000,0x3000) bo=1@0x10000 prev=- next=[0x2000,0x3000) bo=1@0x11000\n",
   {bo(2, 3, a, n + 1)}},

  // next's offset: n + (range end 3 - old start 1) = n+2.
  //       0       1       2       3       4
  // old:          [----------a@n----------)
  // req:  [---------unmap---------)
  // ops:  REMAP(next=[3,4)a@n+2)
  // new:                          [-a@n+2-)
  {"VmaStraddlingTheEndByMore_RemapNextAdvancedByTheCut",
   {bo(1, 4, a, n)}, 0, 3,
   {remap_op(bo(1, 4, a, n), std::nullopt, bo(3, 4, a, n + 2))},
   "REMAP old=[0x1000,0x4000) bo=1@0x10000 prev=- next=[0x3000,0x4000) bo=1@0x12000\n",
   {bo(3, 4, a, n + 2)}},

  //       0       1       2       3
  // old:  [----------a@n----------)
  // req:          [-unmap-)
  // ops:  REMAP(prev=[0,1)a@n, next=[2,3)a@n+2)
  // new:  [--a@n--)       [-a@n+2-)
  {"VmaContainingTheRange_OneRemapWithPrevAndNext",
   {bo(0, 3, a, n)}, 1, 2,
   {remap_op(bo(0, 3, a, n), bo(0, 1, a, n), bo(2, 3, a, n + 2))},
   "REMAP old=[0x0,0x3000) bo=1@0x10000 prev=[0x0,0x1000) bo=1@0x10000"
   " next=[0x2000,0x3000) bo=1@0x12000\n",
   {bo(0, 1, a, n), bo(2, 3, a, n + 2)}},

  //       0       1       2       3
  // old:  [----------a@n----------)
  // req:  [-unmap-)
  // ops:  REMAP(next=[1,3)a@n+1)
  // new:          [-----a@n+1-----)
  {"VmaStartingWithTheRangeAndOutlivingIt_RemapNext",
   {bo(0, 3, a, n)}, 0, 1,
   {remap_op(bo(0, 3, a, n), std::nullopt, bo(1, 3, a, n + 1))},
   "REMAP old=[0x0,0x3000) bo=1@0x10000 prev=- next=[0x1000,0x3000) bo=1@0x11000\n",
   {bo(1, 3, a, n + 1)}},

  //       0       1       2       3       4
  // old:  [--a@n--)               [--b@m--)
  // req:          [-----unmap-----)
  // ops:  none
  // new:  [--a@n--)               [--b@m--)
  {"HoleBetweenTouchingNeighbours_NoOps",
   {bo(0, 1, a, n), bo(3, 4, b, m)}, 1, 3,
   {},
   "",
   {bo(0, 1, a, n), bo(3, 4, b, m)}},

  //       0       1       2       3       4
  // old:  (none)
  // req:  [-------------unmap-------------)
  // ops:  none
  // new:  (none)
  {"EmptyVm_NoOps",
   {}, 0, 4,
   {},
   "",
   {}},

  //       0       1       2       3       4       5       6
  // old:  [------a@n------|--b@m--|-null--|----u@0x100----)
  // req:          [-------------unmap-------------)
  // ops:  REMAP(prev=[0,1)a@n), UNMAP [2,3)b@m, UNMAP [3,4)null, REMAP(next=[5,6)u@0x101)
  // new:  [--a@n--)                               [u@0x101)
  {"SeveralVmasAtOnce_RemapUnmapUnmapRemap",
   {bo(0, 2, a, n), bo(2, 3, b, m), null(3, 4), userptr(4, 6, 0x100)}, 1, 5,
   {remap_op(bo(0, 2, a, n), bo(0, 1, a, n), std::nullopt),
    unmap_op(bo(2, 3, b, m)),
    unmap_op(null(3, 4)),
    remap_op(userptr(4, 6, 0x100), std::nullopt, userptr(5, 6, 0x101))},
   "REMAP old=[0x0,0x2000) bo=1@0x10000 prev=[0x0,0x1000) bo=1@0x10000 next=-\n"
   "UNMAP [0x2000,0x3000) bo=2@0x20000\n"
   "UNMAP [0x3000,0x4000) null\n"
   "REMAP old=[0x4000,0x6000) userptr@0x100000 prev=- next=[0x5000,0x6000) userptr@0x101000\n",
   {bo(0, 1, a, n), userptr(5, 6, 0x101)}},

  //       0       1       2       3       4       5       6
  // old:  [--a@n--)       [-a@n+2-)       [-a@n+4-)
  // req:  [---------------------unmap---------------------)
  // ops:  UNMAP [0,1), UNMAP [2,3), UNMAP [4,5)
  // new:  (none)
  {"SeveralVmasSeparatedByHoles_OneUnmapEach",
   {bo(0, 1, a, n), bo(2, 3, a, n + 2), bo(4, 5, a, n + 4)}, 0, 6,
   {unmap_op(bo(0, 1, a, n)), unmap_op(bo(2, 3, a, n + 2)), unmap_op(bo(4, 5, a, n + 4))},
   "UNMAP [0x0,0x1000) bo=1@0x10000\n"
   "UNMAP [0x2000,0x3000) bo=1@0x12000\n"
   "UNMAP [0x4000,0x5000) bo=1@0x14000\n",
   {}},

  //       0       1       2       3
  // old:          [----u@0x100----)
  // req:  [-----unmap-----)
  // ops:  REMAP(next=[2,3)u@0x101)
  // new:                  [u@0x101)
  {"UserptrStraddlingTheEnd_RemapNextAdvancesTheCpuAddress",
   {userptr(1, 3, 0x100)}, 0, 2,
   {remap_op(userptr(1, 3, 0x100), std::nullopt, userptr(2, 3, 0x101))},
   "REMAP old=[0x1000,0x3000) userptr@0x100000 prev=- next=[0x2000,0x3000) userptr@0x101000\n",
   {userptr(2, 3, 0x101)}},
};
// clang-format on

class GpuvmPlanUnmapTest : public ::testing::TestWithParam<UnmapCase> {
 protected:
  GpuvmPlanUnmapTest() : tree_(tree_of(GetParam().existing)) {}
  GpuvmOps plan() const { return plan_unmap(tree_, pages(GetParam().lo, GetParam().hi)); }
  VmaTree tree_;
};

TEST_P(GpuvmPlanUnmapTest, PlansTheGoldenOps) {
  // given: the existing VMAs (fixture)
  // when
  const GpuvmOps ops = plan();
  // then
  EXPECT_EQ(ops, GetParam().ops);
}

TEST_P(GpuvmPlanUnmapTest, PrintsTheGoldenText) {
  // given: the existing VMAs (fixture)
  // when
  const GpuvmOps ops = plan();
  // then
  EXPECT_EQ(to_string(ops), GetParam().text);
}

TEST_P(GpuvmPlanUnmapTest, KeepsTheUnmapCardinality) {
  // given: the existing VMAs (fixture)
  // when
  const GpuvmOps ops = plan();
  // then: any number of UNMAPs, at most two REMAPs, no MAP
  EXPECT_TRUE(has_unmap_cardinality(ops));
}

TEST_P(GpuvmPlanUnmapTest, NeverKeepsPageTableEntries) {
  // given: the existing VMAs (fixture)
  // when
  const GpuvmOps ops = plan();
  // then: there is no new mapping to keep entries for
  for (const GpuvmOp& op : ops) {
    if (const auto* u = std::get_if<UnmapOp>(&op)) {
      EXPECT_FALSE(u->keep) << to_string(op);
    }
    if (const auto* r = std::get_if<RemapOp>(&op)) {
      EXPECT_FALSE(r->keep) << to_string(op);
    }
  }
}

TEST_P(GpuvmPlanUnmapTest, ApplyingThePlanGivesTheResultLayout) {
  // given: the existing VMAs (fixture)
  // when
  ASSERT_TRUE(apply_ops(tree_, plan()));
  // then
  EXPECT_EQ(dump(tree_), dump(GetParam().result));
  EXPECT_EQ(layout(tree_), GetParam().result);
  EXPECT_EQ(tree_.check_invariants(kVaEnd), "");
}

TEST_P(GpuvmPlanUnmapTest, LeavesNoVmaInsideTheRange) {
  // given: the existing VMAs (fixture)
  // when
  ASSERT_TRUE(apply_ops(tree_, plan()));
  // then
  EXPECT_EQ(tree_.count_overlaps(pages(GetParam().lo, GetParam().hi)), 0u);
}

INSTANTIATE_TEST_SUITE_P(GpuvmCases, GpuvmPlanUnmapTest, ::testing::ValuesIn(kUnmapCases),
                         RowName{});

// ---- beyond the table ---------------------------------------------------------

// The cut pieces keep everything but their bounds (and the offset advance).
//       0       1       2       3
// old:  [------a@n, custom------)
// req:          [-unmap-)
// ops:  REMAP(prev=[0,1), next=[2,3)) with the old flags, PAT and attributes
TEST(GpuvmPlanUnmap, RemapPiecesKeepTheOldFlagsAndAttributes) {
  // given
  const Vma old = with_custom_attrs(bo(0, 3, a, n));
  const VmaTree tree = tree_of({old});
  // when
  const GpuvmOps ops = plan_unmap(tree, pages(1, 2));
  // then
  Vma prev = old;
  prev.end = page(1);
  Vma next = old;
  next.start = page(2);
  next.offset = page(n + 2);
  EXPECT_EQ(ops, GpuvmOps{remap_op(old, prev, next)});
}

// Unmapping the same range twice: the second plan finds only the hole.
//       0       1       2       3
// old:  [----------a@n----------)
// req:          [-unmap-)          (twice)
TEST(GpuvmPlanUnmap, UnmappingAnAlreadyUnmappedRangePlansNothing) {
  // given
  VmaTree tree = tree_of({bo(0, 3, a, n)});
  ASSERT_TRUE(apply_ops(tree, plan_unmap(tree, pages(1, 2))));
  // when
  const GpuvmOps again = plan_unmap(tree, pages(1, 2));
  // then
  EXPECT_TRUE(again.empty()) << to_string(again);
}

}  // namespace
}  // namespace drm_sim::test
