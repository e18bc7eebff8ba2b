// CpuBoMappings: munmap cuts of BO mapping pieces, one table row per layout,
// and the BO references each cut takes or drops.
#include "drm_sim/mem/cpu_bo_map.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

namespace drm_sim {
namespace {

constexpr std::uint64_t kP = 4096;

struct CutCase {
  const char* name;
  std::vector<CpuBoMapping> before;  // pieces, by start
  VaRange unmap;
  std::string after;  // "[lo,hi)bo@off ..." in pages
  int refs;           // net change of BO references
};

std::string layout(const CpuBoMappings& m, std::uint64_t end) {
  std::string s;
  for (std::uint64_t a = 0; a < end; ++a) {
    const auto p = m.find_locked(a * kP);
    if (!p || p->range.lo() != a * kP) continue;
    s += "[" + std::to_string(p->range.lo() / kP) + "," + std::to_string(p->range.hi() / kP) + ")" +
         std::to_string(p->bo) + "@" + std::to_string(p->bo_offset / kP) + " ";
  }
  return s;
}

CpuBoMapping piece(std::uint64_t lo, std::uint64_t hi, std::uint32_t bo, std::uint64_t off) {
  return CpuBoMapping{VaRange::from_bounds(lo * kP, hi * kP), bo, off * kP};
}

class CpuBoMapCutTest : public ::testing::TestWithParam<CutCase> {};

TEST_P(CpuBoMapCutTest, UnmapCutsPiecesLikeMunmap) {
  const CutCase& c = GetParam();
  CpuBoMappings m;
  std::unique_lock<std::shared_mutex> g(m.lock());
  for (const CpuBoMapping& p : c.before) {
    ASSERT_FALSE(m.overlaps_locked(p.range));
    m.insert_locked(p);
  }
  int refs = 0;
  for (const auto& r : m.remove_locked(c.unmap)) refs += r.delta;
  EXPECT_EQ(layout(m, 32), c.after);
  EXPECT_EQ(refs, c.refs);
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, CpuBoMapCutTest,
    ::testing::Values(
        // map:   2  bo7@0   6
        //        [----------)
        // unmap: [----------)          -> gone, one reference dropped
        CutCase{"Whole", {piece(2, 6, 7, 0)}, VaRange::from_bounds(2 * kP, 6 * kP), "", -1},
        // unmap:    [--)               -> [2,3)@0 and [4,6)@2: one more reference
        CutCase{"Middle",
                {piece(2, 6, 7, 0)},
                VaRange::from_bounds(3 * kP, 4 * kP),
                "[2,3)7@0 [4,6)7@2 ",
                1},
        // unmap: [--)                  -> [3,6)@1, same reference
        CutCase{"Front", {piece(2, 6, 7, 0)}, VaRange::from_bounds(0, 3 * kP), "[3,6)7@1 ", 0},
        // unmap:          [-------)    -> [2,5)@0
        CutCase{"Back", {piece(2, 6, 7, 0)}, VaRange::from_bounds(5 * kP, 9 * kP), "[2,5)7@0 ", 0},
        // map:   2 bo7 4  6 bo8 8 9 bo9 12
        // unmap:    [-------------)    -> [2,3)7@0 [10,12)9@1; bo8 dropped
        CutCase{"Several",
                {piece(2, 4, 7, 0), piece(6, 8, 8, 0), piece(9, 12, 9, 0)},
                VaRange::from_bounds(3 * kP, 10 * kP),
                "[2,3)7@0 [10,12)9@1 ",
                -1},
        // unmap a hole: nothing
        CutCase{"Hole", {piece(2, 4, 7, 5)}, VaRange::from_bounds(4 * kP, 9 * kP), "[2,4)7@5 ", 0}),
    [](const ::testing::TestParamInfo<CutCase>& i) { return std::string(i.param.name); });

TEST(CpuBoMapTest, ClearDropsOneReferencePerPiece) {
  CpuBoMappings m;
  std::unique_lock<std::shared_mutex> g(m.lock());
  m.insert_locked(piece(0, 2, 3, 0));
  m.insert_locked(piece(4, 6, 3, 4));
  const auto refs = m.clear_locked();
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].delta + refs[1].delta, -2);
  EXPECT_EQ(m.size_locked(), 0u);
  EXPECT_FALSE(m.find_locked(0).has_value());
}

}  // namespace
}  // namespace drm_sim
