// The fault path's decisions (spec §7): the chunk-size table — including
// chunks that madvise splits shrink — and the placement/atomic-policy tables.
#include <gtest/gtest.h>

#include <vector>

#include "drm_sim/fault/placement.h"

namespace drm_sim {
namespace {

constexpr std::uint64_t K = 1024;
constexpr std::uint64_t M = 1024 * 1024;

VaRange r(std::uint64_t lo, std::uint64_t hi) {
  return VaRange::from_bounds(lo, hi);
}

struct ChunkCase {
  const char* name;
  std::uint64_t addr;
  VaRange vma;
  VaRange cpu;
  std::vector<VaRange> populated;
  std::uint64_t min_chunk;
  std::uint64_t want_lo;  // 0 with want_size 0: EFAULT
  std::uint64_t want_size;
};

class ChunkTableTest : public ::testing::TestWithParam<ChunkCase> {};

TEST_P(ChunkTableTest, PicksTheLargestAlignedChunkThatFits) {
  const ChunkCase& c = GetParam();
  // when
  auto got = choose_chunk(c.addr, c.vma, c.cpu, c.populated, c.min_chunk);
  // then
  if (c.want_size == 0) {
    ASSERT_FALSE(got);
    EXPECT_EQ(got.status().error(), EFAULT);
    return;
  }
  ASSERT_TRUE(got) << "errno " << got.status().error();
  EXPECT_EQ(got->lo(), c.want_lo);
  EXPECT_EQ(got->size().v, c.want_size);
}

const ChunkCase kChunkCases[] = {
    // VMA and CPU mapping cover a whole 2 MiB block: 2 MiB.
    //   VMA/CPU [0 ------------------------------ 4M)
    //   fault        x (1M+5)          -> [0,2M)
    {"Whole2MBlock", 1 * M + 5, r(0, 4 * M), r(0, 4 * M), {}, 4 * K, 0, 2 * M},
    // The VMA ends inside the 2 MiB block: 64 KiB.
    {"VmaEndsInside2M", 1 * M + 5, r(0, 1 * M + 64 * K), r(0, 4 * M), {}, 4 * K, 1 * M, 64 * K},
    // The CPU mapping is shorter than the VMA: the CPU mapping bounds the chunk.
    {"CpuMappingBounds",
     3 * M + 8 * K,
     r(0, 4 * M),
     r(2 * M, 3 * M + 12 * K),
     {},
     4 * K,
     3 * M + 8 * K,
     4 * K},
    // A madvise split cut the VMA at 1M+4K: the pieces get 4 KiB chunks near the cut.
    //   VMA piece [1M+4K ---- 1M+64K)   fault at 1M+8K -> 4 KiB
    {"MadviseSplitShrinksTo4K",
     1 * M + 8 * K,
     r(1 * M + 4 * K, 2 * M),
     r(0, 4 * M),
     {},
     4 * K,
     1 * M + 8 * K,
     4 * K},
    // ... and 64 KiB further inside the piece.
    {"MadviseSplitPieceInterior64K",
     1 * M + 200 * K,
     r(1 * M + 4 * K, 2 * M),
     r(0, 4 * M),
     {},
     4 * K,
     1 * M + 192 * K,
     64 * K},
    // A populated range inside the 2 MiB block forbids 2 MiB; the 64 KiB around x is free.
    {"PopulatedNeighbourForces64K",
     1 * M,
     r(0, 4 * M),
     r(0, 4 * M),
     {r(0, 64 * K)},
     4 * K,
     1 * M,
     64 * K},
    // A populated 4 KiB page inside the 64 KiB around x forces 4 KiB.
    {"PopulatedPageForces4K",
     1 * M + 8 * K,
     r(0, 4 * M),
     r(0, 4 * M),
     {r(1 * M, 1 * M + 4 * K)},
     4 * K,
     1 * M + 8 * K,
     4 * K},
    // A 64 KiB-VRAM device never goes below 64 KiB: a 4 KiB-only fit is a failure.
    {"Min64KRefuses4K", 1 * M + 8 * K, r(1 * M + 4 * K, 2 * M), r(0, 4 * M), {}, 64 * K, 0, 0},
    // Outside the CPU mapping: a GPU segmentation fault.
    {"NoCpuMappingIsEfault", 5 * M, r(0, 8 * M), r(0, 4 * M), {}, 4 * K, 0, 0},
};

INSTANTIATE_TEST_SUITE_P(SpecSection7, ChunkTableTest, ::testing::ValuesIn(kChunkCases),
                         [](const ::testing::TestParamInfo<ChunkCase>& i) { return i.param.name; });

Profile discrete() {
  Profile p;
  p.features.discrete = true;
  return p;
}
Profile discrete_with_smem_atomics() {
  Profile p = discrete();
  p.features.device_atomics_on_smem = true;
  return p;
}
Profile integrated() {
  Profile p;
  p.features.discrete = false;
  p.features.device_atomics_on_smem = true;
  return p;
}

MemAttrs attrs(std::int32_t loc, std::uint8_t atomic) {
  MemAttrs a;
  a.devmem_fd = loc;
  a.atomic = atomic;
  return a;
}

Placement vram(std::uint16_t tile) {
  Placement p;
  p.vram = true;
  p.tile = tile;
  return p;
}
const Placement kSystem{};

struct PlacementCase {
  const char* name;
  Profile profile;
  MemAttrs attrs;
  AccessKind access;
  int want_errno;
  Placement want;
};

class PlacementTableTest : public ::testing::TestWithParam<PlacementCase> {};

TEST_P(PlacementTableTest, PlacesPagesAsTheSpecSays) {
  const PlacementCase& c = GetParam();
  // when tile 1 faults
  auto got = decide_placement(c.attrs, c.access, c.profile, 1);
  // then
  if (c.want_errno != 0) {
    ASSERT_FALSE(got);
    EXPECT_EQ(got.status().error(), c.want_errno);
  } else {
    ASSERT_TRUE(got) << "errno " << got.status().error();
    EXPECT_EQ(*got, c.want);
  }
}

const PlacementCase kPlacementCases[] = {
    // preferred location, non-atomic accesses
    {"DefaultDeviceReadGoesToFaultingTileVram", discrete(), attrs(0, 0), AccessKind::kRead, 0,
     vram(1)},
    {"DefaultDeviceWriteGoesToFaultingTileVram", discrete(), attrs(0, 0), AccessKind::kWrite, 0,
     vram(1)},
    {"DefaultSystemStaysInSystemMemory", discrete(), attrs(-1, 0), AccessKind::kRead, 0, kSystem},
    {"IntegratedDefaultDeviceIsSystemMemory", integrated(), attrs(0, 0), AccessKind::kWrite, 0,
     kSystem},
    // atomic policy on a discrete part
    {"CpuAtomicPolicyRefusesGpuAtomics", discrete(), attrs(0, 3), AccessKind::kAtomic, EACCES, {}},
    {"CpuAtomicPolicyStillAllowsReads", discrete(), attrs(-1, 3), AccessKind::kRead, 0, kSystem},
    {"DeviceAtomicsGoToVram", discrete(), attrs(-1, 1), AccessKind::kAtomic, 0, vram(1)},
    {"DeviceAtomicsOnSmemCapablePartFollowPreferredLocation", discrete_with_smem_atomics(),
     attrs(-1, 1), AccessKind::kAtomic, 0, kSystem},
    {"UndefinedAtomicsGoToVramEvenWhenSystemPreferred", discrete(), attrs(-1, 0),
     AccessKind::kAtomic, 0, vram(1)},
    {"GlobalAtomicsGoToVram", discrete(), attrs(-1, 2), AccessKind::kAtomic, 0, vram(1)},
    // integrated parts have no VRAM: atomics stay in system memory
    {"IntegratedAtomicsStayInSystemMemory", integrated(), attrs(0, 2), AccessKind::kAtomic, 0,
     kSystem},
};

INSTANTIATE_TEST_SUITE_P(SpecSection7, PlacementTableTest, ::testing::ValuesIn(kPlacementCases),
                         [](const ::testing::TestParamInfo<PlacementCase>& i) {
                           return i.param.name;
                         });

TEST(PlacementTest, AnotherDevicesFdPlacesPagesInThatDevicesRegion) {
  // given a uapi 7.0 preferred location naming device fd 7, region 2
  MemAttrs a = attrs(7, 0);
  a.region_instance = 2;
  // when
  auto got = decide_placement(a, AccessKind::kRead, discrete(), 0);
  // then
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->vram);
  EXPECT_EQ(got->device_fd, 7);
  EXPECT_EQ(got->region, 2);
}

}  // namespace
}  // namespace drm_sim
