// VmaTree: a B+tree keyed by VMA start that keeps the VMA records in its
// leaves.
//
// Why not a general-purpose ordered map: a splitting madvise looks one VMA
// up, shortens it in place and inserts two pieces next to it. With an index
// that maps start -> record slot (the previous absl::btree_map design), each
// of those touches the index node and a record slab line elsewhere in memory;
// at 64 K VMAs and more, every one of them is a cache miss. Here a leaf holds
// its records, so the whole sequence touches one leaf, and inserting next to
// a known position is a shift of a few 8-byte keys.
//
// Shape:
//  - Leaf: up to kLeafCap sorted keys (the starts), and for each key the
//    index of its record in the leaf's record array (records never move when
//    keys shift; a free record is found through a bitmask). Leaves are linked
//    both ways for iteration, and each keeps its upper bound (the separator
//    above it), so work at a leaf's end need not read the next leaf.
//  - Inner: up to kInnerCap children and kInnerCap - 1 separators. Separator
//    i bounds child i from above and child i + 1 from below (every key of
//    child i < sep[i] <= every key of child i + 1). Erasing a key never
//    updates a separator, so after erases a descent can land in a leaf whose
//    keys are all above the address; the floor is then the previous leaf's
//    last key.
//  - Unused key slots hold kNoKey, so the searches count "keys <= addr" over
//    the whole fixed-size array without a branch on the node's fill.
//  - A full leaf first passes a key to a sibling under the same parent that
//    has two free slots or more (moving only the separator between them);
//    only when neither has is it split in half. Appends at the end of the
//    rightmost leaf (in-order bulk binds) fill it to kAppendFill only and
//    then start a new leaf, so that every bulk-loaded leaf has room for two
//    madvise splits (each adds two VMAs next to an existing one) without a
//    leaf split.
//  - A leaf or inner node that falls to a quarter merges with a sibling
//    when both fit in one node; the right node always merges into the left
//    one, so the leftmost leaf is never freed and separators stay valid
//    bounds.
//  - A finger (leaf, index) remembers the last position looked up or
//    changed; lookups and inserts next to it skip the descent.
// Nodes come from the tree's NodeArena (huge pages at a million VMAs).
#include "drm_sim/vm/vma_tree.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include "drm_sim/core/node_arena.h"

namespace drm_sim {
namespace {

constexpr int kLeafCap = 16;
// Keys an in-order append leaves in a leaf before starting the next one.
constexpr int kAppendFill = 12;
static_assert(kAppendFill + 4 <= kLeafCap, "room for two splits of three");
// Children per inner node. 64 rather than 32: a million VMAs then need
// three inner levels instead of four, one dependent step less on every
// descent (dependent random lookups at 1 M VMAs: about 30 ns faster, 10 %),
// for about 30 more instructions per madvise at 1 K (a wider root search).
constexpr int kInnerCap = 64;
constexpr std::uint64_t kNoKey = ~std::uint64_t{0};
constexpr int kMaxHeight = 16;  // 64^15 leaves: far beyond any VA space

static_assert(std::is_trivially_copyable_v<Vma>, "records are moved with memcpy-like copies");

// Leaves and inner nodes live in the NodeArena and are set up field by field
// by new_leaf() / new_inner(); records are written only into used slots.
// NOLINTNEXTLINE(cppcoreguidelines-pro-type-member-init)
struct Leaf {
  std::uint64_t keys[kLeafCap];  // sorted; kNoKey past n
  std::uint8_t slot[kLeafCap];   // keys[i]'s record is recs[slot[i]]
  std::uint16_t used;            // bit s set: recs[s] holds a live record
  std::uint8_t n;
  // Every key of this leaf is < hi <= every key of the leaves after it: the
  // nearest separator above the leaf (kNoKey for the last leaf). It lets an
  // insert or lookup at the leaf's end stay in the leaf without reading the
  // next one (at a million VMAs, another DRAM miss).
  std::uint64_t hi;
  Leaf* prev;
  Leaf* next;
  Vma recs[kLeafCap];
};

struct Inner {
  std::uint64_t keys[kInnerCap - 1];  // separators; kNoKey past n - 1
  std::uint32_t n;                    // children
  void* child[kInnerCap];
};

// Number of keys <= addr in a sorted array padded with kNoKey, in two
// branchless steps: the last keys of the blocks of 8 pick the block where
// the count ends, then the 8 keys of that block (the window slides back to
// stay inside the array). Every comparison of a step is independent, so a
// node's cache lines load in parallel and a random address costs no branch
// mispredictions; about 2 instructions per key compared, 11 keys for 16,
// 15 for 63.
template <int N>
inline int count_le(const std::uint64_t (&keys)[N], std::uint64_t addr) {
  static_assert(N >= 8);
  constexpr int kBlock = 8;
  constexpr int kBlocks = (N + kBlock - 1) / kBlock;
  int full = 0;  // blocks whose keys are all <= addr
#pragma GCC unroll 8
  for (int b = 1; b < kBlocks; ++b) full += keys[b * kBlock - 1] <= addr ? 1 : 0;
  // Only a partial last block slides back (by kBlock - N % kBlock); as
  // arithmetic, not a branch.
  constexpr int kBack = N % kBlock == 0 ? 0 : kBlock - N % kBlock;
  const int start = full * kBlock - (full == kBlocks - 1 ? 1 : 0) * kBack;
  const std::uint64_t* w = keys + start;
  int n = start;
#pragma GCC unroll 8
  for (int i = 0; i < kBlock; ++i) n += w[i] <= addr ? 1 : 0;
  return n;
}

// Starts loading the cache lines [p, p + Bytes) of a node. A plain
// unrolled loop: GCC deletes a prefetch-only helper that it does not inline
// (it has no side effects), which a recursive template was.
template <std::size_t Bytes>
inline void prefetch_lines(const void* p) {
  const char* c = static_cast<const char*>(p);
#pragma GCC unroll 16
  for (std::size_t off = 0; off < Bytes; off += 64) __builtin_prefetch(c + off);
}

// A broken caller precondition (erase or replace of a start that is not in
// the tree): stop here rather than corrupt the tree.
[[noreturn]] void precondition_failed(const char* what) {
  std::fprintf(stderr, "drm_sim: VmaTree: %s\n", what);
  std::abort();
}

struct Pos {
  Leaf* leaf = nullptr;  // nullptr: before the first VMA (or invalid)
  int i = 0;
  bool valid() const { return leaf != nullptr; }
};

// One level of a recorded descent: the inner node and the child taken.
struct PathStep {
  Inner* node;
  int ci;
};

}  // namespace

struct VmaTree::Impl {
  NodeArena arena;
  void* root = nullptr;
  int height = 0;  // inner levels above the leaves; 0: the root is a leaf
  Leaf* first = nullptr;
  std::size_t count = 0;
  std::size_t leaves = 0;
  std::size_t inners = 0;
  Pos finger;

  Impl() { reset(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void reset() {
    first = new_leaf();
    root = first;
    height = 0;
    count = 0;
    finger = {};
  }

  Leaf* new_leaf() {
    auto* l = static_cast<Leaf*>(arena.allocate(sizeof(Leaf)));
    std::fill(std::begin(l->keys), std::end(l->keys), kNoKey);
    l->used = 0;
    l->n = 0;
    l->hi = kNoKey;
    l->prev = nullptr;
    l->next = nullptr;
    ++leaves;
    return l;
  }
  Inner* new_inner() {
    auto* in = static_cast<Inner*>(arena.allocate(sizeof(Inner)));
    std::fill(std::begin(in->keys), std::end(in->keys), kNoKey);
    in->n = 0;
    ++inners;
    return in;
  }
  void free_leaf(Leaf* l) {
    arena.deallocate(l, sizeof(Leaf));
    --leaves;
  }
  void free_inner(Inner* in) {
    arena.deallocate(in, sizeof(Inner));
    --inners;
  }

  static Vma& rec(Pos p) { return p.leaf->recs[p.leaf->slot[p.i]]; }
  static std::uint64_t key(Pos p) { return p.leaf->keys[p.i]; }

  static Pos next(Pos p) {
    if (p.i + 1 < p.leaf->n) return {p.leaf, p.i + 1};
    Leaf* l = p.leaf->next;
    while (l != nullptr && l->n == 0) l = l->next;
    return l == nullptr ? Pos{} : Pos{l, 0};
  }
  // The position before p; invalid when p is the first.
  static Pos prev(Pos p) {
    if (p.i > 0) return {p.leaf, p.i - 1};
    Leaf* l = p.leaf->prev;
    while (l != nullptr && l->n == 0) l = l->prev;
    return l == nullptr ? Pos{} : Pos{l, l->n - 1};
  }
  Pos begin() const {
    Leaf* l = first;
    while (l != nullptr && l->n == 0) l = l->next;
    return l == nullptr ? Pos{} : Pos{l, 0};
  }
  bool finger_ok() const { return finger.valid() && finger.i < finger.leaf->n; }

  // The leaf a key belongs in, recording the inner nodes passed. Each node
  // is prefetched whole as soon as its address is known: a leaf's key lines,
  // slot line and record line, and an inner node's probe, window and child
  // lines would otherwise be fetched one after the other (at a million VMAs
  // the lowest inner level no longer stays in the L2 cache).
  Leaf* descend(std::uint64_t addr, PathStep* path) const {
    void* node = root;
    for (int h = 0; h < height; ++h) {
      auto* in = static_cast<Inner*>(node);
      const int ci = count_le(in->keys, addr);
      if (path != nullptr) path[h] = {in, ci};
      node = in->child[ci];
      // The block probes, the window and the child pointer of a node sit on
      // different lines: load them all at once rather than one after another.
      // Only the leaves and the lowest inner level miss the cache (the
      // level above is 64 times smaller, about 22 KiB at a million VMAs).
      if (h + 1 == height) {
        prefetch_lines<sizeof(Leaf)>(node);
      } else if (h + 2 == height) {
        prefetch_lines<sizeof(Inner)>(node);
      }
    }
    return static_cast<Leaf*>(node);
  }

  // The position of the last key <= addr, or invalid when there is none.
  Pos floor(std::uint64_t addr) {
    if (finger_ok()) {
      const Pos f = finger;
      if (key(f) <= addr) {
        // The next key, or at the leaf's end its bound: no other leaf read
        // (past the bound, the descent below finds the answer).
        if (f.i + 1 < f.leaf->n ? f.leaf->keys[f.i + 1] > addr : addr < f.leaf->hi) return f;
      } else {
        const Pos p = prev(f);
        if (!p.valid() || key(p) <= addr) return p;
      }
    }
    Leaf* l = descend(addr, nullptr);
    const int i = count_le(l->keys, addr) - 1;
    if (i >= 0) return {l, i};
    return prev(Pos{l, 0});
  }

  // The position holding exactly start, or invalid.
  Pos find_exact(std::uint64_t start) {
    if (finger_ok() && key(finger) == start) return finger;
    const Pos p = floor(start);
    if (p.valid() && key(p) == start) return p;
    return {};
  }

  // The first position whose VMA overlaps [lo, ...), or invalid.
  Pos first_overlap(std::uint64_t lo) {
    const Pos f = floor(lo);
    if (!f.valid()) return begin();
    if (rec(f).end > lo) return f;
    return next(f);
  }

  // Calls f on the record of each VMA overlapping r, in address order, until
  // f returns false. A VMA reaching r's end is the last one: the walk does
  // not look at the next (which may be in another leaf).
  template <class F>
  void each_overlap(VaRange r, F&& f) {
    for (Pos p = first_overlap(r.lo()); p.valid(); p = next(p)) {
      Vma& v = rec(p);
      if (v.start >= r.hi() || !f(v) || v.end >= r.hi()) return;
    }
  }

  // A free record slot of l (which has one), as close as possible to slot
  // near: records of neighbouring VMAs then share cache lines.
  static int free_slot_near(const Leaf* l, int near) {
    const unsigned free = ~static_cast<unsigned>(l->used) & ((1u << kLeafCap) - 1u);
    const unsigned above = free & (~0u << near);
    if (above != 0) return __builtin_ctz(above);
    return 31 - __builtin_clz(free);
  }
  // Puts vs[0..k) at indices i..i+k of leaf l, which has room for them.
  // Their records go next to the record of index i - 1 (or i).
  static void leaf_put_n(Leaf* l, int i, const Vma* vs, int k) {
    assert(l->n + k <= kLeafCap && i <= l->n);
    const int tail = l->n - i;
    if (tail > 0) {
      std::memmove(&l->keys[i + k], &l->keys[i], sizeof(l->keys[0]) * tail);
      std::memmove(&l->slot[i + k], &l->slot[i], sizeof(l->slot[0]) * tail);
    }
    int near = l->n == 0 ? 0 : l->slot[i > 0 ? i - 1 : i + k];
    for (int j = 0; j < k; ++j) {
      const int s = free_slot_near(l, near);
      l->keys[i + j] = vs[j].start;
      l->slot[i + j] = static_cast<std::uint8_t>(s);
      l->recs[s] = vs[j];
      l->used = static_cast<std::uint16_t>(l->used | (1u << s));
      near = s;
    }
    l->n = static_cast<std::uint8_t>(l->n + k);
  }
  // Puts v at index i of leaf l, which has room.
  static void leaf_put(Leaf* l, int i, const Vma& v) { leaf_put_n(l, i, &v, 1); }
  // Removes index i of leaf l.
  static void leaf_remove(Leaf* l, int i) {
    assert(i < l->n);
    l->used = static_cast<std::uint16_t>(l->used & ~(1u << l->slot[i]));
    std::memmove(&l->keys[i], &l->keys[i + 1], sizeof(l->keys[0]) * (l->n - i - 1));
    std::memmove(&l->slot[i], &l->slot[i + 1], sizeof(l->slot[0]) * (l->n - i - 1));
    --l->n;
    l->keys[l->n] = kNoKey;
  }
  // Moves the records [from, n) of src to the end of dst (which has room).
  static void leaf_move_tail(Leaf* src, int from, Leaf* dst) {
    for (int i = from; i < src->n; ++i) leaf_put(dst, dst->n, src->recs[src->slot[i]]);
    for (int i = from; i < src->n; ++i) {
      src->used = static_cast<std::uint16_t>(src->used & ~(1u << src->slot[i]));
      src->keys[i] = kNoKey;
    }
    src->n = static_cast<std::uint8_t>(from);
  }

  // Inserts (sep, right) after child ci of path level h, splitting inner
  // nodes upwards (and growing a new root) as needed. An append (right is
  // the new last leaf of the tree) leaves full inner nodes full and starts
  // the next one with the new child alone: bulk-bound trees then have inner
  // nodes of 64 children rather than 32, half the inner bytes that every
  // random lookup at a million VMAs wants to find in the cache.
  void insert_child(PathStep* path, int h, std::uint64_t sep, void* right, bool append) {
    for (; h >= 0; --h) {
      Inner* in = path[h].node;
      const int ci = path[h].ci;
      if (in->n < kInnerCap) {
        inner_put(in, ci, sep, right);
        return;
      }
      // Split: the kInnerCap + 1 children with the new one after child ci,
      // and their kInnerCap separators (keys[j] between kids[j], kids[j + 1]).
      const int n = static_cast<int>(in->n);
      void* kids[kInnerCap + 1];
      std::uint64_t keys[kInnerCap];
      for (int c = 0; c <= ci; ++c) kids[c] = in->child[c];
      kids[ci + 1] = right;
      for (int c = ci + 1; c < n; ++c) kids[c + 1] = in->child[c];
      for (int k = 0; k < ci; ++k) keys[k] = in->keys[k];
      keys[ci] = sep;
      for (int k = ci; k < n - 1; ++k) keys[k + 1] = in->keys[k];
      // Children kept in `in`: half, or all of the old ones on an append.
      assert(!append || ci == n - 1);
      const int left = append ? n : (kInnerCap + 1) / 2;
      Inner* r = new_inner();
      std::fill(std::begin(in->keys), std::end(in->keys), kNoKey);
      for (int c = 0; c < left; ++c) in->child[c] = kids[c];
      for (int k = 0; k < left - 1; ++k) in->keys[k] = keys[k];
      in->n = static_cast<std::uint32_t>(left);
      for (int c = left; c <= n; ++c) r->child[c - left] = kids[c];
      for (int k = left; k < n; ++k) r->keys[k - left] = keys[k];
      r->n = static_cast<std::uint32_t>(n + 1 - left);
      sep = keys[left - 1];
      right = r;
    }
    // The root split: a new root above it.
    Inner* nr = new_inner();
    nr->child[0] = root;
    nr->child[1] = right;
    nr->keys[0] = sep;
    nr->n = 2;
    root = nr;
    ++height;
  }
  static void inner_put(Inner* in, int ci, std::uint64_t sep, void* right) {
    const int n = static_cast<int>(in->n);
    std::memmove(&in->child[ci + 2], &in->child[ci + 1], sizeof(void*) * (n - ci - 1));
    std::memmove(&in->keys[ci + 1], &in->keys[ci], sizeof(std::uint64_t) * (n - 1 - ci));
    in->child[ci + 1] = right;
    in->keys[ci] = sep;
    ++in->n;
  }
  // Removes child ci (>= 1) and the separator below it.
  static void inner_remove(Inner* in, int ci) {
    assert(ci >= 1 && ci < static_cast<int>(in->n));
    const int n = static_cast<int>(in->n);
    std::memmove(&in->child[ci], &in->child[ci + 1], sizeof(void*) * (n - ci - 1));
    std::memmove(&in->keys[ci - 1], &in->keys[ci], sizeof(std::uint64_t) * (n - 1 - ci));
    --in->n;
    in->keys[in->n - 1] = kNoKey;
  }

  // Whether a key at index i of leaf l goes after every key of the tree.
  static bool is_append(const Leaf* l, int i) { return l->next == nullptr && i == l->n; }

  // Room for v (going to index i of the full leaf l, child `at.ci` of
  // at.node) made by moving one key to a sibling under the same parent that
  // has two free slots or more, instead of a leaf split. Without it, a
  // leaf that overflowed once stays two half-full leaves after the VMAs
  // are bound back whole: the random splits and rebinds of the madvise
  // benchmark grew a 64 K VM from 5,462 leaves to 7,638 (and its inner
  // nodes from 89 to twice that), past what the L3 cache holds. Only the
  // separator between the two siblings moves; every key stays inside the
  // parent's range, so no other bound changes. Returns an invalid
  // position when neither sibling has room.
  Pos insert_by_rotation(PathStep at, Leaf* l, int i, const Vma& v) {
    Inner* parent = at.node;
    const int ci = at.ci;
    if (ci + 1 < static_cast<int>(parent->n)) {
      auto* r = static_cast<Leaf*>(parent->child[ci + 1]);
      if (r->n <= kLeafCap - 2) {
        // l's last key becomes r's first and the separator between them.
        const int last = l->n - 1;
        const Vma moved = l->recs[l->slot[last]];
        leaf_remove(l, last);
        leaf_put(r, 0, moved);
        parent->keys[ci] = moved.start;
        l->hi = moved.start;
        if (v.start > moved.start) {
          const int j = count_le(r->keys, v.start);
          leaf_put(r, j, v);
          return {r, j};
        }
        leaf_put(l, i, v);
        return {l, i};
      }
    }
    if (ci > 0) {
      auto* left = static_cast<Leaf*>(parent->child[ci - 1]);
      if (left->n <= kLeafCap - 2) {
        // v itself, or l's first key, goes to the end of the left sibling;
        // l's new first key becomes the separator between them.
        Pos pos;
        if (i == 0) {
          leaf_put(left, left->n, v);
          pos = {left, left->n - 1};
        } else {
          const Vma moved = l->recs[l->slot[0]];
          leaf_remove(l, 0);
          leaf_put(left, left->n, moved);
          leaf_put(l, i - 1, v);
          pos = {l, i - 1};
        }
        parent->keys[ci - 1] = l->keys[0];
        left->hi = l->keys[0];
        return pos;
      }
    }
    return {};
  }

  // Inserts v by a descent, splitting as needed. Returns its position.
  Pos insert_slow(const Vma& v) {
    PathStep path[kMaxHeight];
    Leaf* l = descend(v.start, path);
    int i = count_le(l->keys, v.start);
    assert((i == 0 || l->keys[i - 1] != v.start) && "insert over an existing start");
    const bool append = is_append(l, i);
    if (l->n < (append ? kAppendFill : kLeafCap)) {
      leaf_put(l, i, v);
      return {l, i};
    }
    if (!append && height > 0) {
      if (const Pos at = insert_by_rotation(path[height - 1], l, i, v); at.valid()) return at;
    }
    Leaf* r = new_leaf();
    // An append starts the new leaf and leaves this one as it is.
    const int keep = append ? l->n : kLeafCap / 2;
    leaf_move_tail(l, keep, r);
    r->next = l->next;
    r->prev = l;
    r->hi = l->hi;
    if (l->next != nullptr) l->next->prev = r;
    l->next = r;
    Pos at;
    if (!append && i <= keep) {
      leaf_put(l, i, v);
      at = {l, i};
    } else {
      leaf_put(r, i - keep, v);
      at = {r, i - keep};
    }
    const std::uint64_t sep = r->keys[0];  // goes above them; l's new bound
    l->hi = sep;
    if (height == 0) {
      Inner* nr = new_inner();
      nr->child[0] = l;
      nr->child[1] = r;
      nr->keys[0] = sep;
      nr->n = 2;
      root = nr;
      height = 1;
    } else {
      insert_child(path, height - 1, sep, r, append);
    }
    return at;
  }

  // A node (child ci of parent) and the sibling it would merge with, as
  // (left, right, index of right in parent); right_ci 0: no sibling.
  template <class Node>
  struct MergePair {
    Node* left = nullptr;
    Node* right = nullptr;
    int right_ci = 0;
  };
  template <class Node>
  static MergePair<Node> merge_pair(Inner* parent, int ci, Node* self) {
    if (ci > 0) return {static_cast<Node*>(parent->child[ci - 1]), self, ci};
    if (parent->n > 1) return {self, static_cast<Node*>(parent->child[1]), 1};
    return {};
  }

  // After an erase from the leaf at the bottom of path: merges it with a
  // sibling when it fell to a quarter and both fit, then the inner nodes
  // upwards the same way, and drops a root with a single child.
  // Returns whether nodes merged (positions moved).
  bool rebalance(PathStep* path, Leaf* l) {
    if (height == 0 || l->n > kLeafCap / 4) return false;
    Inner* parent = path[height - 1].node;
    const MergePair<Leaf> lp = merge_pair(parent, path[height - 1].ci, l);
    if (lp.right_ci == 0) return false;
    Leaf* left = lp.left;
    Leaf* right = lp.right;
    const int right_ci = lp.right_ci;
    if (left->n + right->n > kLeafCap) return false;
    leaf_move_tail(right, 0, left);
    left->next = right->next;
    left->hi = right->hi;
    if (right->next != nullptr) right->next->prev = left;
    free_leaf(right);
    inner_remove(parent, right_ci);
    // Inner levels.
    for (int h = height - 1; h >= 1; --h) {
      Inner* in = path[h].node;
      if (in->n > kInnerCap / 4) break;
      Inner* up = path[h - 1].node;
      const MergePair<Inner> ip = merge_pair(up, path[h - 1].ci, in);
      if (ip.right_ci == 0) break;
      Inner* a = ip.left;
      Inner* b = ip.right;
      const int b_ci = ip.right_ci;
      if (a->n + b->n > kInnerCap) break;
      // a's children, then the separator from above, then b's.
      a->keys[a->n - 1] = up->keys[b_ci - 1];
      for (std::uint32_t c = 0; c < b->n; ++c) {
        a->child[a->n + c] = b->child[c];
        if (c + 1 < b->n) a->keys[a->n + c] = b->keys[c];
      }
      a->n += b->n;
      free_inner(b);
      inner_remove(up, b_ci);
    }
    while (height > 0 && static_cast<Inner*>(root)->n == 1) {
      Inner* old = static_cast<Inner*>(root);
      root = old->child[0];
      free_inner(old);
      --height;
    }
    return true;
  }

  void free_all(void* node, int h) {
    if (h == 0) {
      free_leaf(static_cast<Leaf*>(node));
      return;
    }
    auto* in = static_cast<Inner*>(node);
    for (std::uint32_t c = 0; c < in->n; ++c) free_all(in->child[c], h - 1);
    free_inner(in);
  }

  // Structure checks for check_invariants: keys within (lo, hi] bounds, fill
  // counts, padding, record bitmaps. Returns an error or empty.
  std::string check_node(const void* node, int h, std::uint64_t lo, std::uint64_t hi,
                         std::size_t* keys_seen, bool is_root) const {
    char buf[160];
    if (h == 0) {
      const auto* l = static_cast<const Leaf*>(node);
      // An empty leaf other than the root can remain as the only child of
      // its parent; the walks skip it.
      if (l->n > kLeafCap) return "leaf fill out of range";
      (void)is_root;
      std::uint16_t used = 0;
      for (int i = 0; i < kLeafCap; ++i) {
        if (i >= l->n) {
          if (l->keys[i] != kNoKey) return "leaf padding is not kNoKey";
          continue;
        }
        const std::uint64_t k = l->keys[i];
        if (k < lo || k >= hi || (i > 0 && k <= l->keys[i - 1])) {
          std::snprintf(buf, sizeof buf, "leaf key 0x%llx out of order or bounds",
                        static_cast<unsigned long long>(k));
          return buf;
        }
        if (l->slot[i] >= kLeafCap || (used & (1u << l->slot[i])) != 0) {
          return "leaf record slot reused";
        }
        used = static_cast<std::uint16_t>(used | (1u << l->slot[i]));
        if (l->recs[l->slot[i]].start != k) {
          std::snprintf(buf, sizeof buf, "index key 0x%llx != vma start 0x%llx",
                        static_cast<unsigned long long>(k),
                        static_cast<unsigned long long>(l->recs[l->slot[i]].start));
          return buf;
        }
      }
      if (used != l->used) return "leaf record bitmap mismatch";
      if (l->hi != hi) return "leaf bound is not the separator above it";
      *keys_seen += l->n;
      return {};
    }
    const auto* in = static_cast<const Inner*>(node);
    if (in->n > kInnerCap || in->n < (is_root ? 2u : 1u)) return "inner fill out of range";
    for (std::uint32_t c = 0; c + 1 < kInnerCap; ++c) {
      if (c + 1 >= in->n && in->keys[c] != kNoKey) return "inner padding is not kNoKey";
    }
    for (std::uint32_t c = 0; c < in->n; ++c) {
      const std::uint64_t clo = c == 0 ? lo : in->keys[c - 1];
      const std::uint64_t chi = c + 1 == in->n ? hi : in->keys[c];
      if (clo > chi) return "inner separators out of order";
      if (std::string e = check_node(in->child[c], h - 1, clo, chi, keys_seen, false); !e.empty()) {
        return e;
      }
    }
    return {};
  }
};

VmaTree::VmaTree() : impl_(std::make_unique<Impl>()) {}
VmaTree::~VmaTree() = default;
VmaTree::VmaTree(VmaTree&&) noexcept = default;
VmaTree& VmaTree::operator=(VmaTree&&) noexcept = default;

std::size_t VmaTree::size() const {
  return impl_->count;
}

std::optional<Vma> VmaTree::find(std::uint64_t addr) const {
  const Pos p = impl_->floor(addr);
  if (!p.valid()) return std::nullopt;
  const Vma& v = Impl::rec(p);
  if (addr < v.end) return v;
  return std::nullopt;
}

std::optional<Vma> VmaTree::at(std::uint64_t start) const {
  const Pos p = impl_->find_exact(start);
  if (!p.valid()) return std::nullopt;
  return Impl::rec(p);
}

void VmaTree::seek(std::uint64_t addr) {
  Impl& m = *impl_;
  const Pos p = m.floor(addr);
  m.finger = p.valid() ? p : m.begin();
}

void VmaTree::visit(VaRange r, FunctionRef<bool(const Vma&)> f) const {
  impl_->each_overlap(r, [&](const Vma& v) { return f(v); });
}

void VmaTree::visit_mut(VaRange r, FunctionRef<bool(Vma&)> f) {
  impl_->each_overlap(r, [&](Vma& v) {
#ifndef NDEBUG
    const Vma before = v;
#endif
    const bool go_on = f(v);
#ifndef NDEBUG
    assert(v.start == before.start && v.end == before.end && v.kind == before.kind &&
           v.bo == before.bo);
#endif
    return go_on;
  });
}

void VmaTree::visit_all(FunctionRef<bool(const Vma&)> f) const {
  for (Pos p = impl_->begin(); p.valid(); p = Impl::next(p)) {
    if (!f(Impl::rec(p))) return;
  }
}

void VmaTree::collect_mut(VaRange r, std::vector<Vma*>& out) {
  impl_->each_overlap(r, [&](Vma& v) {
    out.push_back(&v);
    return true;
  });
}

std::size_t VmaTree::count_overlaps(VaRange r) const {
  std::size_t n = 0;
  impl_->each_overlap(r, [&](const Vma&) {
    ++n;
    return true;
  });
  return n;
}

void VmaTree::insert(const Vma& v) {
  assert(v.start < v.end && v.start != kNoKey);
  Impl& m = *impl_;
  ++m.count;
  // Next to the finger, inside one leaf with room: no descent. At a leaf's
  // end, the leaf's bound (the separator above) says whether v belongs in
  // this leaf or the next.
  const Pos f = m.floor(v.start);
  if (f.valid() && v.start < f.leaf->hi &&
      f.leaf->n < (Impl::is_append(f.leaf, f.i + 1) ? kAppendFill : kLeafCap)) {
    assert(Impl::key(f) != v.start && "insert over an existing start");
    Impl::leaf_put(f.leaf, f.i + 1, v);
    m.finger = {f.leaf, f.i + 1};
    return;
  }
  m.finger = m.insert_slow(v);
}

void VmaTree::erase(std::uint64_t start) {
  Impl& m = *impl_;
  PathStep path[kMaxHeight];
  Leaf* l = m.descend(start, path);
  const int i = count_le(l->keys, start) - 1;
  if (i < 0 || l->keys[i] != start) precondition_failed("erase of a start that is not in the tree");
  Impl::leaf_remove(l, i);
  --m.count;
  // Without a merge the following VMA is at the same index.
  const bool merged = m.rebalance(path, l);
  m.finger = (!merged && i < l->n) ? Pos{l, i} : Pos{};
}

void VmaTree::replace(const Vma& v) {
  Impl& m = *impl_;
  const Pos p = m.find_exact(v.start);
  if (!p.valid()) precondition_failed("replace of a start that is not in the tree");
  assert(v.start < v.end);
  Impl::rec(p) = v;
  m.finger = p;
}

void VmaTree::replace_split(const Vma* pieces, int n) {
  assert(n >= 1 && n <= 3);
  Impl& m = *impl_;
  replace(pieces[0]);  // leaves the finger on the old (now first) piece
  const Pos p = m.finger;
  // The pieces go after the old key in its leaf when that leaf has room and
  // they are below the leaf's bound (the separator above it; see insert()).
  if (p.leaf->n + n - 1 <= kLeafCap && pieces[n - 1].start < p.leaf->hi) {
    Impl::leaf_put_n(p.leaf, p.i + 1, pieces + 1, n - 1);
    m.count += static_cast<std::size_t>(n - 1);
    m.finger = {p.leaf, p.i + n - 1};
    return;
  }
  for (int k = 1; k < n; ++k) insert(pieces[k]);  // a leaf split: the general path
}

void VmaTree::clear() {
  Impl& m = *impl_;
  m.free_all(m.root, m.height);
  m.reset();
}

std::size_t VmaTree::leaf_count() const {
  return impl_->leaves;
}

std::size_t VmaTree::inner_count() const {
  return impl_->inners;
}

std::size_t VmaTree::memory_bytes() const {
  // Mapped, not just in use: the arena's free blocks and unused tail count.
  return impl_->arena.mapped();
}

std::string VmaTree::check_invariants(std::uint64_t va_end) const {
  const Impl& m = *impl_;
  std::size_t seen = 0;
  if (std::string e = m.check_node(m.root, m.height, 0, kNoKey, &seen, true); !e.empty()) {
    return e;
  }
  if (seen != m.count) return "tree size does not match its leaves";
  std::uint64_t prev_end = 0;
  bool first = true;
  std::size_t chained = 0;
  for (const Leaf* l = m.first; l != nullptr; l = l->next) {
    if (l->next != nullptr && l->next->prev != l) return "leaf chain broken";
    for (int i = 0; i < l->n; ++i) {
      const Vma& v = l->recs[l->slot[i]];
      if (v.start >= v.end) return "empty or inverted vma " + to_string(v);
      if (v.end > va_end) return "vma outside the VA space " + to_string(v);
      if (!first && v.start < prev_end) return "overlapping vma " + to_string(v);
      if ((v.kind == VmaKind::kBo) != (v.bo != 0)) {
        return "bo id does not match kind " + to_string(v);
      }
      prev_end = v.end;
      first = false;
      ++chained;
    }
  }
  if (chained != m.count) return "leaf chain does not hold every vma";
  return {};
}

}  // namespace drm_sim
