// VmaTree (the VM's B+tree of VMA records) against a std::map reference:
// random inserts, erases, replaces, splits, seeks and range walks, at sizes that
// build several inner levels and then shrink them back, with the tree's own
// structure check after every step of the small runs and every 1,000 steps
// of the large ones.
#include "drm_sim/vm/vma_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <vector>

namespace drm_sim {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kVaEnd = std::uint64_t{1} << 48;

Vma vma_at(std::uint64_t start, std::uint64_t pages, std::uint16_t pat) {
  Vma v;
  v.start = start;
  v.end = start + pages * kPage;
  v.kind = VmaKind::kMirror;
  v.attrs.pat = pat;
  return v;
}

// The reference: start -> Vma.
using Ref = std::map<std::uint64_t, Vma>;

std::vector<Vma> all_of(const VmaTree& t) {
  std::vector<Vma> out;
  t.visit_all([&](const Vma& v) {
    out.push_back(v);
    return true;
  });
  return out;
}

std::vector<Vma> all_of(const Ref& r) {
  std::vector<Vma> out;
  for (const auto& [s, v] : r) out.push_back(v);
  return out;
}

std::vector<Vma> overlapping(const Ref& r, VaRange q) {
  std::vector<Vma> out;
  auto it = r.upper_bound(q.lo());
  if (it != r.begin() && std::prev(it)->second.end > q.lo()) --it;
  for (; it != r.end() && it->first < q.hi(); ++it) out.push_back(it->second);
  return out;
}

std::vector<Vma> overlapping(const VmaTree& t, VaRange q) {
  std::vector<Vma> out;
  t.visit(q, [&](const Vma& v) {
    out.push_back(v);
    return true;
  });
  return out;
}

std::optional<Vma> containing(const Ref& r, std::uint64_t addr) {
  auto it = r.upper_bound(addr);
  if (it == r.begin()) return std::nullopt;
  --it;
  if (addr < it->second.end) return it->second;
  return std::nullopt;
}

// Slots of kSlotPages pages; each holds at most one VMA of 1..kSlotPages-1
// pages at its start, so VMAs never overlap and holes separate them.
constexpr std::uint64_t kSlotPages = 4;

struct TreeRun {
  VmaTree tree;
  Ref ref;
  std::mt19937_64 rng;
  std::uint64_t slots;

  TreeRun(std::uint64_t seed, std::uint64_t nslots) : rng(seed), slots(nslots) {}

  std::uint64_t slot_addr(std::uint64_t s) const { return (1 + s * kSlotPages) * kPage; }
  std::uint64_t any_addr() { return slot_addr(rng() % slots) + (rng() % (kSlotPages * kPage)); }

  // One random step; the insert weight grows or shrinks the tree.
  void step(unsigned insert_percent) {
    const unsigned op = static_cast<unsigned>(rng() % 100);
    if (op < insert_percent) {
      const std::uint64_t a = slot_addr(rng() % slots);
      if (ref.count(a) != 0) return;
      const Vma v = vma_at(a, 1 + rng() % (kSlotPages - 1), static_cast<std::uint16_t>(rng() % 4));
      if (!overlapping(ref, v.range()).empty()) return;  // pieces of a split remain
      if (rng() % 2 == 0) tree.seek(a);
      tree.insert(v);
      ref[a] = v;
    } else if (op < insert_percent + (100 - insert_percent) / 2) {
      if (ref.empty()) return;
      auto it = ref.lower_bound(slot_addr(rng() % slots));
      if (it == ref.end()) it = ref.begin();
      tree.erase(it->first);
      ref.erase(it);
    } else if (op % 3 == 0) {
      if (ref.empty()) return;
      auto it = ref.lower_bound(slot_addr(rng() % slots));
      if (it == ref.end()) return;
      Vma v = it->second;
      if (rng() % 2 == 0 && v.size() >= 2 * kPage) {
        split(v);
        return;
      }
      v.end = v.start + (1 + rng() % (kSlotPages - 1)) * kPage;
      const auto after = std::next(it);
      if (after != ref.end() && v.end > after->first) return;
      v.attrs.pat = static_cast<std::uint16_t>(rng() % 8);
      tree.replace(v);
      it->second = v;
    } else if (op % 3 == 1) {
      const std::uint64_t a = any_addr();
      if (rng() % 2 == 0) tree.seek(any_addr());
      ASSERT_EQ(tree.find(a), containing(ref, a)) << "find 0x" << std::hex << a;
      const std::uint64_t s = slot_addr(rng() % slots);
      const auto it = ref.find(s);
      ASSERT_EQ(tree.at(s), it == ref.end() ? std::nullopt : std::optional<Vma>(it->second));
    } else {
      const std::uint64_t lo = any_addr();
      const std::uint64_t hi = lo + 1 + rng() % (64 * kSlotPages * kPage);
      const VaRange q = VaRange::from_bounds(lo, hi);
      ASSERT_EQ(overlapping(tree, q), overlapping(ref, q));
      ASSERT_EQ(tree.count_overlaps(q), overlapping(ref, q).size());
    }
  }

  // Splits v into two or three pieces that tile it, as a madvise or a bind
  // inside it does (VmaTree::replace_split).
  void split(const Vma& v) {
    const std::uint64_t pages = v.size() / kPage;
    std::vector<std::uint64_t> cuts;
    for (std::uint64_t p = 1; p < pages; ++p) {
      if (rng() % 2 == 0) cuts.push_back(v.start + p * kPage);
    }
    if (cuts.empty()) cuts.push_back(v.start + kPage);
    if (cuts.size() > 2) cuts.resize(2);
    Vma pieces[3];
    int n = 0;
    std::uint64_t lo = v.start;
    for (const std::uint64_t c : cuts) {
      pieces[n] = v;
      pieces[n].start = lo;
      pieces[n].end = c;
      pieces[n].attrs.pat = static_cast<std::uint16_t>(n);
      lo = c;
      ++n;
    }
    pieces[n] = v;
    pieces[n].start = lo;
    pieces[n].attrs.pat = static_cast<std::uint16_t>(n);
    ++n;
    if (rng() % 2 == 0) tree.seek(v.start);
    tree.replace_split(pieces, n);
    for (int k = 0; k < n; ++k) ref[pieces[k].start] = pieces[k];
  }

  void check() {
    ASSERT_EQ(tree.check_invariants(kVaEnd), "");
    ASSERT_EQ(tree.size(), ref.size());
  }
};

TEST(VmaTree, EmptyTreeFindsNothing) {
  VmaTree t;
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.find(0x1000), std::nullopt);
  EXPECT_EQ(t.at(0x1000), std::nullopt);
  EXPECT_EQ(t.count_overlaps(VaRange::from_bounds(0, kVaEnd)), 0u);
  t.seek(0x5000);
  EXPECT_EQ(t.check_invariants(kVaEnd), "");
}

TEST(VmaTree, AppendInAddressOrderStaysCompact) {
  // A million VMAs bound in address order (the benchmark's fixture) should
  // not cost more than when they were inserted at random.
  VmaTree seq;
  for (std::uint64_t i = 0; i < 100000; ++i) seq.insert(vma_at((1 + 8 * i) * kPage, 4, 0));
  VmaTree rnd;
  std::vector<std::uint64_t> order(100000);
  for (std::uint64_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(3));
  for (const std::uint64_t i : order) rnd.insert(vma_at((1 + 8 * i) * kPage, 4, 0));
  EXPECT_EQ(seq.check_invariants(kVaEnd), "");
  EXPECT_EQ(rnd.check_invariants(kVaEnd), "");
  EXPECT_EQ(all_of(seq), all_of(rnd));
  // Leaves of 12 in address order (room for two madvise splits each).
  // Random inserts move a key to a sibling with room before they split a
  // full leaf, so their leaves end up fuller, but never past 16.
  EXPECT_EQ(seq.leaf_count(), (100000 + 11) / 12);
  EXPECT_LT(rnd.leaf_count(), seq.leaf_count());
  EXPECT_GE(rnd.leaf_count(), 100000u / 16);
  // memory_bytes() counts the arena's mapped regions, which grow by
  // doubling, so only the 128 B/VMA bound is exact.
  EXPECT_LT(static_cast<double>(seq.memory_bytes()) / 100000.0, 128.0);
}

TEST(VmaTree, AppendInAddressOrderFillsInnerNodes) {
  // 4096 leaves of 12 under full inner nodes: 64 of 64 leaves and a root of
  // 64. Splitting inner nodes in half on appends would leave about twice
  // as many, and a random lookup at a million VMAs would less often find
  // the lowest inner level in the cache.
  VmaTree t;
  constexpr std::uint64_t kVmas = 12 * 64 * 64;
  for (std::uint64_t i = 0; i < kVmas; ++i) t.insert(vma_at((1 + 8 * i) * kPage, 4, 0));
  EXPECT_EQ(t.leaf_count(), 4096u);
  EXPECT_EQ(t.inner_count(), 65u);
  EXPECT_EQ(t.check_invariants(kVaEnd), "");
  // One more leaf starts a new inner node of one child, and a new root.
  for (std::uint64_t i = kVmas; i < kVmas + 12; ++i) t.insert(vma_at((1 + 8 * i) * kPage, 4, 0));
  EXPECT_EQ(t.leaf_count(), 4097u);
  EXPECT_EQ(t.inner_count(), 68u);
  EXPECT_EQ(t.check_invariants(kVaEnd), "");
  // Inserts in the middle still split a full inner node in half.
  for (std::uint64_t i = 0; i < 12 * 64; i += 6) {
    const std::uint64_t a = (1 + 8 * i) * kPage;
    t.insert(vma_at(a + 4 * kPage, 1, 0));
    t.insert(vma_at(a + 5 * kPage, 1, 0));
    t.insert(vma_at(a + 6 * kPage, 1, 0));
  }
  EXPECT_GT(t.inner_count(), 68u);
  EXPECT_EQ(t.check_invariants(kVaEnd), "");
}

TEST(VmaTree, LeavesBoundInAddressOrderTakeTwoSplitsWithoutALeafSplit) {
  // The benchmark's and a UMD's pattern: bind in address order, then madvise
  // splits VMAs in three. Each leaf of 12 takes two splits (four more VMAs).
  VmaTree t;
  constexpr std::uint64_t kVmas = 1200;
  for (std::uint64_t i = 0; i < kVmas; ++i) t.insert(vma_at((1 + 8 * i) * kPage, 4, 0));
  const std::size_t leaves = t.leaf_count();
  ASSERT_EQ(leaves, kVmas / 12);
  for (std::uint64_t i = 0; i < kVmas; i += 6) {  // VMAs 0 and 6 of every leaf
    const std::uint64_t a = (1 + 8 * i) * kPage;
    const Vma pieces[3] = {vma_at(a, 1, 0), vma_at(a + kPage, 1, 1), vma_at(a + 2 * kPage, 2, 0)};
    t.seek(a + kPage);
    t.replace_split(pieces, 3);
  }
  EXPECT_EQ(t.size(), kVmas + 2 * (kVmas / 6));
  EXPECT_EQ(t.leaf_count(), leaves);
  EXPECT_EQ(t.check_invariants(kVaEnd), "");
}

TEST(VmaTree, AFullLeafPassesAKeyToASiblingWithRoomInsteadOfSplitting) {
  // Three leaves of 12 (in-order binds), then splits in the middle one
  // until it is full: the next pieces move its last key to the right
  // sibling, and once that one is nearly full its first key to the left
  // one; a sibling takes keys while it has two free slots or more, and only
  // when neither has does a leaf split.
  VmaTree t;
  for (std::uint64_t i = 0; i < 36; ++i) t.insert(vma_at((1 + 8 * i) * kPage, 4, 0));
  ASSERT_EQ(t.leaf_count(), 3u);
  auto split_at = [&](std::uint64_t i) {
    const std::uint64_t a = (1 + 8 * i) * kPage;
    const Vma pieces[3] = {vma_at(a, 1, 0), vma_at(a + kPage, 1, 1), vma_at(a + 2 * kPage, 2, 0)};
    t.replace_split(pieces, 3);
    ASSERT_EQ(t.check_invariants(kVaEnd), "");
  };
  // Leaf 1 holds VMAs 12..23: two splits fill it to 16.
  split_at(14);
  split_at(20);
  EXPECT_EQ(t.leaf_count(), 3u);
  // Each further split needs two slots. Keys go to the right leaf until it
  // holds 15 (one free slot), then to the left one (also up to 15):
  // three more splits fit in the three leaves (16 + 15 + 15 = 46 VMAs).
  for (std::uint64_t i = 15; i < 18; ++i) split_at(i);
  EXPECT_EQ(t.leaf_count(), 3u);
  EXPECT_EQ(t.size(), 46u);
  // Neither sibling has two free slots now: the next split splits a leaf.
  split_at(18);
  EXPECT_EQ(t.size(), 48u);
  EXPECT_EQ(t.leaf_count(), 4u);
  // Every VMA is still found where it is.
  for (std::uint64_t i = 0; i < 36; ++i) {
    const std::uint64_t a = (1 + 8 * i) * kPage;
    ASSERT_TRUE(t.find(a + 3 * kPage).has_value()) << i;
    EXPECT_EQ(t.find(a + 3 * kPage)->end, a + 4 * kPage) << i;
  }
}

TEST(VmaTree, SmallRandomRunsMatchAMapAfterEveryStep) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    TreeRun r(seed, 64);
    for (int i = 0; i < 2000; ++i) {
      r.step(i < 1000 ? 60 : 35);
      ASSERT_NO_FATAL_FAILURE(r.check()) << "seed " << seed << " step " << i;
    }
  }
}

TEST(VmaTree, LargeRunGrowsAndShrinksSeveralLevels) {
  // 40,000 slots: grows to ~30,000 VMAs (three inner levels), then shrinks
  // to empty through merges, then grows again.
  TreeRun r(99, 40000);
  for (int phase = 0; phase < 3; ++phase) {
    const unsigned insert_percent = phase == 1 ? 0 : 75;
    for (int i = 0; i < 120000; ++i) {
      r.step(insert_percent);
      if (i % 1000 == 0) {
        ASSERT_NO_FATAL_FAILURE(r.check()) << "phase " << phase << " step " << i;
      }
    }
    ASSERT_NO_FATAL_FAILURE(r.check());
    ASSERT_EQ(all_of(r.tree), all_of(r.ref));
  }
}

TEST(VmaTree, ShrinkingReleasesNodesForReuse) {
  VmaTree t;
  for (std::uint64_t i = 0; i < 50000; ++i) t.insert(vma_at((1 + 8 * i) * kPage, 4, 0));
  const std::size_t peak = t.memory_bytes();
  for (std::uint64_t i = 0; i < 50000; ++i) t.erase((1 + 8 * i) * kPage);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.check_invariants(kVaEnd), "");
  // Growing again reuses the freed nodes: no new mapping.
  for (std::uint64_t i = 0; i < 50000; ++i) t.insert(vma_at((1 + 8 * i) * kPage, 4, 0));
  EXPECT_EQ(t.memory_bytes(), peak);
  EXPECT_EQ(t.check_invariants(kVaEnd), "");
}

TEST(VmaTree, SplitInThreeNextToTheFingerMatchesTheMap) {
  // The madvise pattern: shorten a VMA in place and insert the two pieces
  // after it, at random places of a large tree.
  TreeRun r(5, 20000);
  for (std::uint64_t s = 0; s < r.slots; ++s) {
    const Vma v = vma_at(r.slot_addr(s), 3, 0);
    r.tree.insert(v);
    r.ref[v.start] = v;
  }
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t a = r.slot_addr(r.rng() % r.slots);
    if (r.ref.at(a).size() != 3 * kPage) continue;
    r.tree.seek(a + kPage);
    const Vma prev = vma_at(a, 1, 0);
    const Vma mid = vma_at(a + kPage, 1, 1);
    const Vma next = vma_at(a + 2 * kPage, 1, 0);
    r.tree.replace(prev);
    r.tree.insert(next);
    r.tree.insert(mid);
    r.ref[a] = prev;
    r.ref[mid.start] = mid;
    r.ref[next.start] = next;
    std::vector<Vma*> got;
    r.tree.collect_mut(mid.range(), got);
    ASSERT_EQ(got.size(), 1u);
    ASSERT_EQ(*got[0], mid);
    if (i % 500 == 0) {
      ASSERT_NO_FATAL_FAILURE(r.check());
    }
  }
  ASSERT_NO_FATAL_FAILURE(r.check());
  ASSERT_EQ(all_of(r.tree), all_of(r.ref));
}

TEST(VmaTree, SplitPiecesPastAStaleSeparatorGoToTheLeafADescentFinds) {
  // Erases never update separators, so the addresses between a leaf's last
  // VMA and the separator above the next leaf may belong to the next leaf.
  // Forty one-page VMAs in address order fill leaves of 12: separator 25p
  // sits above the first leaf (whose last VMA is [23p, 24p)).
  VmaTree t;
  for (std::uint64_t i = 0; i < 40; ++i) t.insert(vma_at((2 * i + 1) * kPage, 1, 0));
  ASSERT_EQ(t.leaf_count(), 4u);
  t.erase(25 * kPage);  // the separator stays 25p
  t.erase(1 * kPage);   // fewer keys in the first leaf
  t.erase(3 * kPage);
  t.replace(vma_at(23 * kPage, 3, 0));  // [23p, 26p): past the separator
  const Vma pieces[3] = {vma_at(23 * kPage, 1, 0), vma_at(24 * kPage, 1, 1),
                         vma_at(25 * kPage, 1, 0)};
  t.seek(24 * kPage);
  t.replace_split(pieces, 3);
  // [25p, 26p) must be in the leaf right of the separator: the structure
  // check compares every key with the separators above it.
  ASSERT_EQ(t.check_invariants(kVaEnd), "");
  EXPECT_EQ(t.at(25 * kPage), pieces[2]);
  t.erase(25 * kPage);  // erase descends without the finger
  t.erase(24 * kPage);
  EXPECT_EQ(t.size(), 37u);  // 40 - 3 erased + 2 pieces - 2 erased
  EXPECT_EQ(t.check_invariants(kVaEnd), "");
}

TEST(VmaTree, ClearEmptiesAndTheTreeIsUsableAgain) {
  VmaTree t;
  for (std::uint64_t i = 0; i < 5000; ++i) t.insert(vma_at((1 + 8 * i) * kPage, 4, 0));
  t.clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.find(9 * kPage), std::nullopt);
  t.insert(vma_at(kPage, 1, 0));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.check_invariants(kVaEnd), "");
}

}  // namespace
}  // namespace drm_sim
