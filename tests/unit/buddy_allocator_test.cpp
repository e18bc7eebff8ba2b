// tests/unit/buddy_allocator_test.cpp — the VRAM buddy allocator: split and
// merge cases as a table, alignment, 64 KiB pages, non-power-of-two regions,
// exhaustion, fragmentation, injected failures, metadata size, and a
// randomized run against a model of allocated ranges.
#include "drm_sim/mem/buddy_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdio>
#include <iterator>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "drm_sim/sync/fault_plan.h"

namespace drm_sim {
namespace {

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;
constexpr std::uint64_t GiB = 1024 * MiB;

BuddyAllocator make_or_die(std::uint64_t size, std::uint64_t min_block,
                           FaultPlan* faults = nullptr) {
  Result<BuddyAllocator> r = BuddyAllocator::make(Bytes{size}, Bytes{min_block}, faults);
  EXPECT_TRUE(r.is_ok()) << "errno " << r.status().error();
  return std::move(r).value();
}

// One step of a table row: an alloc() or a free() and what it must give.
struct Step {
  bool is_free = false;
  std::uint64_t arg = 0;  // alloc: size; free: offset
  std::uint64_t align = 0;
  int want_errno = 0;
  std::uint64_t want_offset = 0;
  std::uint64_t want_size = 0;

  Step gives(std::uint64_t offset, std::uint64_t size) const {
    Step s = *this;
    s.want_offset = offset;
    s.want_size = size;
    return s;
  }
  Step fails(int e) const {
    Step s = *this;
    s.want_errno = e;
    return s;
  }
};

Step alloc(std::uint64_t size, std::uint64_t align = 0) {
  Step s;
  s.arg = size;
  s.align = align;
  return s;
}

Step free_at(std::uint64_t offset) {
  Step s;
  s.is_free = true;
  s.arg = offset;
  return s;
}

struct Case {
  const char* name;
  std::uint64_t region;
  std::uint64_t min_block;
  std::vector<Step> steps;
  std::uint64_t want_used;
  std::uint64_t want_largest_free;
  std::uint64_t want_free_blocks;
};

// Pictures: a = allocated, f = free block, | = block boundary.
const Case kCases[] = {
    // 0  4K  8K     16K          32K                     64K
    // |a |f  |f     |f           |f                      |
    {"SplitsTheRootDownToTheRequest",
     64 * KiB,
     4 * KiB,
     {alloc(4 * KiB).gives(0, 4 * KiB)},
     4 * KiB,
     32 * KiB,
     4},
    // |a |a  |f     |f           |f                      |
    {"SecondRequestTakesTheFreedBuddy",
     64 * KiB,
     4 * KiB,
     {alloc(4 * KiB).gives(0, 4 * KiB), alloc(4 * KiB).gives(4 * KiB, 4 * KiB)},
     8 * KiB,
     32 * KiB,
     3},
    // |a (12K rounded to 16K) |f   |f                      |
    {"SizeRoundsUpToAPowerOfTwo",
     64 * KiB,
     4 * KiB,
     {alloc(12 * KiB).gives(0, 16 * KiB)},
     16 * KiB,
     32 * KiB,
     2},
    // |a |a  |f     |a           |f                      |
    {"SmallestFreeOrderThatFitsIsUsedFirst",
     64 * KiB,
     4 * KiB,
     {alloc(4 * KiB).gives(0, 4 * KiB), alloc(16 * KiB).gives(16 * KiB, 16 * KiB),
      alloc(4 * KiB).gives(4 * KiB, 4 * KiB)},
     24 * KiB,
     32 * KiB,
     2},
    // |a (4K aligned to 16K)  |a |f  |f     |f                     |
    {"AlignmentAboveTheSizeEnlargesTheBlock",
     64 * KiB,
     4 * KiB,
     {alloc(4 * KiB, 16 * KiB).gives(0, 16 * KiB), alloc(4 * KiB).gives(16 * KiB, 4 * KiB)},
     20 * KiB,
     32 * KiB,
     3},
    // |a |f  |a     |f           |f                      |
    {"AlignmentBelowTheSizeChangesNothing",
     64 * KiB,
     4 * KiB,
     {alloc(4 * KiB).gives(0, 4 * KiB), alloc(8 * KiB, 4 * KiB).gives(8 * KiB, 8 * KiB)},
     12 * KiB,
     32 * KiB,
     3},
    // 0    64K  128K      256K                512K                         1M
    // |a   |f   |a        |f                  |f                           |
    {"MinBlock64KRoundsSmallRequestsUp",
     1 * MiB,
     64 * KiB,
     {alloc(4 * KiB).gives(0, 64 * KiB), alloc(100 * KiB).gives(128 * KiB, 128 * KiB)},
     192 * KiB,
     512 * KiB,
     3},
    // 0                 8M          12M
    // |root 8M          |root 4M    |
    {"NonPowerOfTwoRegionHasOneRootPerSetBit",
     12 * MiB,
     4 * KiB,
     {alloc(8 * MiB).gives(0, 8 * MiB), alloc(4 * MiB).gives(8 * MiB, 4 * MiB),
      alloc(4 * KiB).fails(ENOSPC)},
     12 * MiB,
     0,
     0},
    // 0      8K   12K
    // |a |f  |a   |      the 4K root serves the first 4K request unsplit
    {"SmallRootServesBeforeALargeRootIsSplit",
     12 * KiB,
     4 * KiB,
     {alloc(4 * KiB).gives(8 * KiB, 4 * KiB), alloc(4 * KiB).gives(0, 4 * KiB)},
     8 * KiB,
     4 * KiB,
     1},
    // 12M rounds up to 16M, larger than the 8M root: it can never fit.
    {"RequestAboveTheLargestRootIsInvalid",
     12 * MiB,
     4 * KiB,
     {alloc(12 * MiB).fails(EINVAL), alloc(16 * MiB).fails(EINVAL),
      alloc(4 * KiB, 16 * MiB).fails(EINVAL), alloc(8 * MiB).gives(0, 8 * MiB)},
     8 * MiB,
     4 * MiB,
     1},
    // 0       8K  12K 16K
    // |a      |a  |a  |     full
    {"ExhaustedRegionReportsNoSpace",
     16 * KiB,
     4 * KiB,
     {alloc(8 * KiB).gives(0, 8 * KiB), alloc(4 * KiB).gives(8 * KiB, 4 * KiB),
      alloc(4 * KiB).gives(12 * KiB, 4 * KiB), alloc(4 * KiB).fails(ENOSPC)},
     16 * KiB,
     0,
     0},
    // |a  |f  |a      |     after freeing [0,8K) and taking 4K of it
    {"FreeingMakesRoomAgain",
     16 * KiB,
     4 * KiB,
     {alloc(8 * KiB).gives(0, 8 * KiB), alloc(8 * KiB).gives(8 * KiB, 8 * KiB),
      alloc(4 * KiB).fails(ENOSPC), free_at(0), alloc(4 * KiB).gives(0, 4 * KiB)},
     12 * KiB,
     4 * KiB,
     1},
    // |a|a|a|a|  ->  |f             |   buddies merge level by level
    {"FreeMergesBuddiesBackIntoTheRoot",
     16 * KiB,
     4 * KiB,
     {alloc(4 * KiB).gives(0, 4 * KiB), alloc(4 * KiB).gives(4 * KiB, 4 * KiB),
      alloc(4 * KiB).gives(8 * KiB, 4 * KiB), alloc(4 * KiB).gives(12 * KiB, 4 * KiB),
      free_at(4 * KiB), free_at(12 * KiB), free_at(0), free_at(8 * KiB)},
     0,
     16 * KiB,
     1},
    // |a |f  |a     |a           |f                      |
    {"InvalidArgumentsChangeNothing",
     64 * KiB,
     4 * KiB,
     {alloc(0).fails(EINVAL), alloc(4 * KiB, 12 * KiB).fails(EINVAL),
      alloc(4 * KiB).gives(0, 4 * KiB), alloc(8 * KiB).gives(8 * KiB, 8 * KiB),
      alloc(16 * KiB).gives(16 * KiB, 16 * KiB),
      free_at(2 * KiB).fails(EINVAL),                     // not page aligned
      free_at(64 * KiB).fails(EINVAL),                    // outside the region
      free_at(4 * KiB).fails(EINVAL),                     // a free block
      free_at(20 * KiB).fails(EINVAL),                    // inside an allocated block
      free_at(8 * KiB), free_at(8 * KiB).fails(EINVAL)},  // double free
     20 * KiB,
     32 * KiB,
     3},
};

class BuddyAllocatorCaseTest : public ::testing::TestWithParam<Case> {};

TEST_P(BuddyAllocatorCaseTest, GivesTheTabulatedBlocksAndAccounting) {
  // given
  const Case& c = GetParam();
  BuddyAllocator b = make_or_die(c.region, c.min_block);

  // when
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const Step& s = c.steps[i];
    SCOPED_TRACE("step " + std::to_string(i));
    if (s.is_free) {
      EXPECT_EQ(b.free(VramOffset{s.arg}).error(), s.want_errno);
    } else {
      Result<BuddyBlock> r = b.alloc(Bytes{s.arg}, Bytes{s.align});
      EXPECT_EQ(r.status().error(), s.want_errno);
      if (r.is_ok() && s.want_errno == 0) {
        EXPECT_EQ(*r, (BuddyBlock{VramOffset{s.want_offset}, Bytes{s.want_size}}));
      }
    }
    ASSERT_EQ(b.check_invariants(), "");
  }

  // then
  EXPECT_EQ(b.used(), Bytes{c.want_used});
  EXPECT_EQ(b.available(), Bytes{c.region - c.want_used});
  EXPECT_EQ(b.largest_free_block(), Bytes{c.want_largest_free});
  EXPECT_EQ(b.free_block_count(), c.want_free_blocks);
}

INSTANTIATE_TEST_SUITE_P(Buddy, BuddyAllocatorCaseTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& row) {
                           return std::string(row.param.name);
                         });

TEST(BuddyAllocatorTest, MakeRejectsBadGeometry) {
  struct Bad {
    std::uint64_t size, min_block;
  };
  for (Bad bad : {Bad{1 * MiB, 2 * KiB}, Bad{1 * MiB, 12 * KiB}, Bad{1 * MiB, 0},
                  Bad{32 * KiB, 64 * KiB}, Bad{0, 4 * KiB}}) {
    SCOPED_TRACE(std::to_string(bad.size) + " / " + std::to_string(bad.min_block));
    EXPECT_EQ(BuddyAllocator::make(Bytes{bad.size}, Bytes{bad.min_block}).status().error(), EINVAL);
  }
}

TEST(BuddyAllocatorTest, SizeIsRoundedDownToWholeMinBlocks) {
  // given / when: 1 MiB + 5 KiB in 4 KiB pages
  BuddyAllocator b = make_or_die(1 * MiB + 5 * KiB, 4 * KiB);

  // then: 257 pages, roots 1 MiB and 4 KiB
  EXPECT_EQ(b.size(), Bytes{1 * MiB + 4 * KiB});
  EXPECT_EQ(b.root_count(), 2u);
  EXPECT_EQ(b.max_block(), Bytes{1 * MiB});
  EXPECT_EQ(b.available(), b.size());
  EXPECT_EQ(b.check_invariants(), "");
}

TEST(BuddyAllocatorTest, OddRegionStartsWithOneFreeRootPerSetBit) {
  // given: 12 GiB + 64 KiB + 4 KiB, as roots 8G, 4G, 64K, 4K
  BuddyAllocator b = make_or_die(12 * GiB + 68 * KiB, 4 * KiB);

  // then
  EXPECT_EQ(b.root_count(), 4u);
  EXPECT_EQ(b.free_block_count(), 4u);
  EXPECT_EQ(b.largest_free_block(), Bytes{8 * GiB});
}

TEST(BuddyAllocatorTest, FreeingFourBlocksInEveryOrderMergesBackToOneRoot) {
  std::array<std::uint64_t, 4> order = {0, 1, 2, 3};
  do {
    // given: a 16 KiB region cut into four 4 KiB blocks
    BuddyAllocator b = make_or_die(16 * KiB, 4 * KiB);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(b.alloc(Bytes{4 * KiB}).is_ok());

    // when: they are freed in this permutation
    for (std::uint64_t i : order) ASSERT_TRUE(b.free(VramOffset{i * 4 * KiB}).is_ok());

    // then
    EXPECT_EQ(b.free_block_count(), 1u);
    EXPECT_EQ(b.largest_free_block(), Bytes{16 * KiB});
    EXPECT_EQ(b.check_invariants(), "");
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST(BuddyAllocatorTest, FreeingMixedBlocksInRandomOrderMergesBackToTheRoots) {
  for (std::uint32_t seed : {1u, 2u, 3u, 4u, 5u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    // given: a non-power-of-two region filled with blocks of mixed sizes
    BuddyAllocator b = make_or_die(6 * MiB + 12 * KiB, 4 * KiB);
    std::mt19937 rng(seed);
    std::vector<VramOffset> blocks;
    for (;;) {
      const std::uint64_t size = 4 * KiB << (rng() % 6);
      Result<BuddyBlock> r = b.alloc(Bytes{size});
      if (!r.is_ok()) {
        ASSERT_EQ(r.status().error(), ENOSPC);
        if (size == 4 * KiB) break;
        continue;
      }
      blocks.push_back(r->offset);
    }
    ASSERT_EQ(b.available(), Bytes{0});

    // when
    std::shuffle(blocks.begin(), blocks.end(), rng);
    for (VramOffset o : blocks) ASSERT_TRUE(b.free(o).is_ok());

    // then: only the roots are left, all free
    EXPECT_EQ(b.used(), Bytes{0});
    EXPECT_EQ(b.free_block_count(), b.root_count());
    EXPECT_EQ(b.largest_free_block(), Bytes{4 * MiB});
    EXPECT_EQ(b.check_invariants(), "");
  }
}

TEST(BuddyAllocatorTest, FragmentedRegionHasSpaceButNoLargeBlockUntilFreesCoalesce) {
  // given: a 64 KiB region as sixteen 4 KiB blocks
  BuddyAllocator b = make_or_die(64 * KiB, 4 * KiB);
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(b.alloc(Bytes{4 * KiB}).is_ok());

  // when: every other block is freed
  for (std::uint64_t i = 0; i < 16; i += 2) ASSERT_TRUE(b.free(VramOffset{i * 4 * KiB}).is_ok());

  // then: half the region is free, yet no 8 KiB block exists
  EXPECT_EQ(b.available(), Bytes{32 * KiB});
  EXPECT_EQ(b.largest_free_block(), Bytes{4 * KiB});
  EXPECT_EQ(b.alloc(Bytes{8 * KiB}).status().error(), ENOSPC);
  EXPECT_EQ(b.check_invariants(), "");

  // when: the rest is freed
  for (std::uint64_t i = 1; i < 16; i += 2) ASSERT_TRUE(b.free(VramOffset{i * 4 * KiB}).is_ok());

  // then: it coalesces back into the one root
  EXPECT_EQ(b.largest_free_block(), Bytes{64 * KiB});
  EXPECT_EQ(b.free_block_count(), 1u);
  EXPECT_TRUE(b.alloc(Bytes{64 * KiB}).is_ok());
}

TEST(BuddyAllocatorTest, InjectedFailureReturnsNoMemoryAndChangesNothing) {
  // given: a plan that fails the second allocation
  FaultPlan plan;
  BuddyAllocator b = make_or_die(1 * MiB, 4 * KiB, &plan);
  plan.fail_alloc_at(2);
  ASSERT_TRUE(b.alloc(Bytes{4 * KiB}).is_ok());

  // when
  Result<BuddyBlock> failed = b.alloc(Bytes{4 * KiB});

  // then
  EXPECT_EQ(failed.status().error(), ENOMEM);
  EXPECT_EQ(plan.allocs_failed(), 1u);
  EXPECT_EQ(b.used(), Bytes{4 * KiB});
  EXPECT_EQ(b.check_invariants(), "");
  Result<BuddyBlock> next = b.alloc(Bytes{4 * KiB});
  ASSERT_TRUE(next.is_ok());
  EXPECT_EQ(next->offset, VramOffset{4 * KiB});
}

// Bytes of metadata per managed page, measured and printed for the record.
double metadata_per_page(const BuddyAllocator& b) {
  const double pages = static_cast<double>(b.size().v) / static_cast<double>(b.min_block().v);
  const double per_page = static_cast<double>(b.metadata_bytes()) / pages;
  std::printf("[ metadata ] %llu MiB in %llu KiB pages: %zu bytes, %.4f bytes/page\n",
              static_cast<unsigned long long>(b.size().v / MiB),
              static_cast<unsigned long long>(b.min_block().v / KiB), b.metadata_bytes(), per_page);
  return per_page;
}

TEST(BuddyAllocatorTest, MetadataStaysAroundOneByteAndAQuarterPerPage) {
  // given / when: a 64 GiB region of 4 KiB pages (16 M pages), a 64 GiB
  // region of 64 KiB pages and a 12 GiB B580-class region
  BuddyAllocator big = make_or_die(64 * GiB, 4 * KiB);
  BuddyAllocator pvc = make_or_die(64 * GiB, 64 * KiB);
  BuddyAllocator b580 = make_or_die(12 * GiB, 4 * KiB);

  // then
  EXPECT_LT(metadata_per_page(big), 1.3);
  EXPECT_LT(metadata_per_page(pvc), 1.3);
  EXPECT_LT(metadata_per_page(b580), 1.3);
  EXPECT_LT(big.metadata_bytes(), 21u * MiB);
}

TEST(BuddyAllocatorTest, SixteenMillionPageRegionSplitsAndMergesOneBlock) {
  // given
  BuddyAllocator b = make_or_die(64 * GiB, 4 * KiB);

  // when: the deepest split and the full merge back
  Result<BuddyBlock> r = b.alloc(Bytes{4 * KiB});
  ASSERT_TRUE(r.is_ok());
  const std::uint64_t free_after_split = b.free_block_count();
  ASSERT_TRUE(b.free(r->offset).is_ok());

  // then: one free block per order below the root, then the root alone
  EXPECT_EQ(free_after_split, 24u);
  EXPECT_EQ(b.free_block_count(), 1u);
  EXPECT_EQ(b.largest_free_block(), Bytes{64 * GiB});
}

// The model: allocated [offset, offset + size) ranges keyed by offset.
class RangeModel {
 public:
  explicit RangeModel(std::uint64_t region) : region_(region) {}

  // "" or why `blk` cannot be a fresh allocation.
  std::string admit(BuddyBlock blk, std::uint64_t requested, std::uint64_t align) {
    const std::uint64_t o = blk.offset.v;
    const std::uint64_t s = blk.size.v;
    if ((s & (s - 1)) != 0 || s < requested || s < align) return "bad block size";
    if (o % s != 0) return "block not naturally aligned";
    if (o + s > region_) return "block outside the region";
    auto next = ranges_.lower_bound(o);
    if (next != ranges_.end() && next->first < o + s) return "overlaps the next block";
    if (next != ranges_.begin() && std::prev(next)->second > o) return "overlaps the previous";
    ranges_.emplace(o, o + s);
    order_.push_back(o);
    used_ += s;
    return "";
  }

  // Whether some aligned free block of `size` bytes exists in the region.
  bool has_free_aligned(std::uint64_t size) const {
    for (std::uint64_t o = 0; o + size <= region_; o += size) {
      auto next = ranges_.lower_bound(o);
      const bool next_clear = next == ranges_.end() || next->first >= o + size;
      const bool prev_clear = next == ranges_.begin() || std::prev(next)->second <= o;
      if (next_clear && prev_clear) return true;
    }
    return false;
  }

  std::uint64_t take_random(std::mt19937_64& rng) {
    const std::size_t i = rng() % order_.size();
    const std::uint64_t o = order_[i];
    order_[i] = order_.back();
    order_.pop_back();
    auto it = ranges_.find(o);
    used_ -= it->second - it->first;
    ranges_.erase(it);
    return o;
  }

  bool empty() const { return order_.empty(); }
  std::uint64_t used() const { return used_; }

 private:
  std::uint64_t region_;
  std::map<std::uint64_t, std::uint64_t> ranges_;  // offset -> end
  std::vector<std::uint64_t> order_;               // offsets, for random picks
  std::uint64_t used_ = 0;
};

TEST(BuddyAllocatorTest, RandomAllocAndFreeAgreeWithARangeModel) {
  // given: a 16 MiB + 44 KiB region (roots 16M, 32K, 8K, 4K)
  constexpr std::uint64_t kRegion = 16 * MiB + 44 * KiB;
  BuddyAllocator b = make_or_die(kRegion, 4 * KiB);
  RangeModel model(kRegion);
  std::mt19937_64 rng(0x5eed);
  int allocs = 0, frees = 0, no_space = 0;

  // when: 20000 random steps, biased towards allocation until the region fills
  for (int step = 0; step < 20000; ++step) {
    if (model.empty() || rng() % 100 < 55) {
      const std::uint64_t size = 1 + rng() % (4 * KiB << (rng() % 9));  // up to 1 MiB
      const std::uint64_t align = rng() % 4 == 0 ? 4 * KiB << (rng() % 7) : 0;
      Result<BuddyBlock> r = b.alloc(Bytes{size}, Bytes{align});
      if (r.is_ok()) {
        ++allocs;
        ASSERT_EQ(model.admit(*r, size, align), "") << "step " << step;
      } else {
        ++no_space;
        ASSERT_EQ(r.status().error(), ENOSPC) << "step " << step;
        const std::uint64_t need = std::max({std::bit_ceil(size), align, 4 * KiB});
        ASSERT_FALSE(model.has_free_aligned(need)) << "false ENOSPC at step " << step;
      }
    } else {
      ++frees;
      ASSERT_TRUE(b.free(VramOffset{model.take_random(rng)}).is_ok()) << "step " << step;
    }
    ASSERT_EQ(b.used().v, model.used()) << "step " << step;
    if (step % 512 == 0) {
      ASSERT_EQ(b.check_invariants(), "") << "step " << step;
    }
  }
  ASSERT_EQ(b.check_invariants(), "");
  while (!model.empty()) ASSERT_TRUE(b.free(VramOffset{model.take_random(rng)}).is_ok());

  // then: every path was taken and everything merged back
  EXPECT_GT(allocs, 1000);
  EXPECT_GT(frees, 1000);
  EXPECT_GT(no_space, 100);
  EXPECT_EQ(b.used(), Bytes{0});
  EXPECT_EQ(b.free_block_count(), b.root_count());
  EXPECT_EQ(b.check_invariants(), "");
}

}  // namespace
}  // namespace drm_sim
