// NodeArena: size classes, reuse of freed blocks, alignment, accounting and
// block integrity across many regions (including the huge-page ones).
#include "drm_sim/core/node_arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <vector>

namespace drm_sim {
namespace {

bool aligned64(const void* p) {
  return (reinterpret_cast<std::uintptr_t>(p) & 63u) == 0;
}

TEST(NodeArena, BlocksAreAlignedAndRoundedToSizeClasses) {
  NodeArena a;
  void* p1 = a.allocate(1);
  void* p2 = a.allocate(64);
  void* p3 = a.allocate(65);
  EXPECT_TRUE(aligned64(p1));
  EXPECT_TRUE(aligned64(p2));
  EXPECT_TRUE(aligned64(p3));
  EXPECT_EQ(a.in_use(), 64u + 64u + 128u);
  EXPECT_GE(a.mapped(), a.in_use());
  a.deallocate(p3, 65);
  a.deallocate(p2, 64);
  a.deallocate(p1, 1);
  EXPECT_EQ(a.in_use(), 0u);
}

TEST(NodeArena, FreedBlockIsReusedByTheSameClassOnly) {
  NodeArena a;
  void* small = a.allocate(100);  // class 2 (128 bytes)
  a.deallocate(small, 100);
  void* other = a.allocate(200);  // class 4: must not get the 128-byte block
  EXPECT_NE(other, small);
  void* again = a.allocate(128);  // class 2: reuses it
  EXPECT_EQ(again, small);
  const std::size_t mapped = a.mapped();
  a.deallocate(again, 128);
  EXPECT_EQ(a.allocate(120), small);
  EXPECT_EQ(a.mapped(), mapped);  // reuse maps nothing new
}

TEST(NodeArena, DeallocateNullIsANoOp) {
  NodeArena a;
  a.deallocate(nullptr, 64);
  EXPECT_EQ(a.in_use(), 0u);
}

TEST(NodeArena, BlockLargerThanAnyRegionGetsItsOwnRegion) {
  NodeArena a;
  const std::size_t big = 20u * 1024 * 1024;  // above the 8 MiB region cap
  auto* p = static_cast<unsigned char*>(a.allocate(big));
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(aligned64(p));
  std::memset(p, 0xA5, big);  // the whole block is mapped and writable
  EXPECT_EQ(p[big - 1], 0xA5);
  EXPECT_GE(a.mapped(), big);
  a.deallocate(p, big);
}

// Many live blocks of mixed classes spread over regions from 64 KiB to the
// 2 MiB-aligned huge-page ones: no two overlap, each keeps its own pattern
// through frees and reuse of its neighbours, and the accounting matches.
TEST(NodeArena, ManyBlocksAcrossRegionsStayDisjointAndIntact) {
  NodeArena a;
  std::mt19937_64 rng(7);
  struct Block {
    unsigned char* p;
    std::size_t bytes;
    unsigned char tag;
  };
  std::vector<Block> live;
  std::size_t expect_in_use = 0;
  auto rounded = [](std::size_t b) { return (b + 63) / 64 * 64; };
  for (int i = 0; i < 200000; ++i) {
    const bool free_one = !live.empty() && (rng() % 3 == 0);
    if (free_one) {
      const std::size_t k = rng() % live.size();
      Block b = live[k];
      for (std::size_t j = 0; j < b.bytes; ++j) ASSERT_EQ(b.p[j], b.tag) << "block " << i;
      a.deallocate(b.p, b.bytes);
      expect_in_use -= rounded(b.bytes);
      live[k] = live.back();
      live.pop_back();
    } else {
      const std::size_t bytes = 1 + rng() % 400;
      auto* p = static_cast<unsigned char*>(a.allocate(bytes));
      ASSERT_TRUE(aligned64(p));
      const auto tag = static_cast<unsigned char>(i);
      std::memset(p, tag, bytes);
      live.push_back({p, bytes, tag});
      expect_in_use += rounded(bytes);
    }
  }
  EXPECT_EQ(a.in_use(), expect_in_use);
  EXPECT_GT(a.mapped(), 4u * 1024 * 1024);       // reached the huge-page regions
  std::map<std::uintptr_t, std::size_t> extent;  // start -> rounded size
  for (const Block& b : live) {
    for (std::size_t j = 0; j < b.bytes; ++j) ASSERT_EQ(b.p[j], b.tag);
    extent[reinterpret_cast<std::uintptr_t>(b.p)] = rounded(b.bytes);
  }
  EXPECT_EQ(extent.size(), live.size());
  std::uintptr_t prev_end = 0;
  for (const auto& [start, size] : extent) {
    EXPECT_GE(start, prev_end);
    prev_end = start + size;
  }
}

}  // namespace
}  // namespace drm_sim
