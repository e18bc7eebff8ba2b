// VmaTree: absl::btree_map<start, slot> over a chunked slab of Vma records.
// absl's B-tree (not std::map) keeps ~15 keys per 256-byte node, so a lookup
// among 1 M VMAs touches ~5 nodes instead of ~20 red-black nodes.
#include "drm_sim/vm/vma_tree.h"

#include <absl/container/btree_map.h>

#include <cassert>
#include <cstdio>
#include <memory>
#include <type_traits>
#include <vector>

#include "drm_sim/core/node_arena.h"

namespace drm_sim {
namespace {

// Hands the B-tree's nodes out of the tree's NodeArena (huge pages at a
// million VMAs), which also counts the bytes in use.
template <typename T>
struct ArenaAlloc {
  using value_type = T;
  NodeArena* arena = nullptr;
  explicit ArenaAlloc(NodeArena* a) : arena(a) {}
  template <typename U>
  ArenaAlloc(const ArenaAlloc<U>& o) : arena(o.arena) {}  // NOLINT
  T* allocate(std::size_t n) { return static_cast<T*>(arena->allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) { arena->deallocate(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const ArenaAlloc<U>& o) const {
    return arena == o.arena;
  }
};

// A plain comparator (not std::less<uint64_t>) makes absl use binary rather
// than linear search inside a node: fewer instructions per lookup.
struct VaLess {
  bool operator()(std::uint64_t a, std::uint64_t b) const { return a < b; }
};

constexpr std::uint32_t kChunkShift = 12;  // 4096 records per slab chunk
constexpr std::uint32_t kChunkSize = 1u << kChunkShift;
static_assert(std::is_trivially_destructible_v<Vma>, "slab records are never destroyed");
static_assert(alignof(Vma) <= 64, "the arena aligns blocks to 64 bytes");

using Alloc = ArenaAlloc<std::pair<const std::uint64_t, std::uint32_t>>;
using Index = absl::btree_map<std::uint64_t, std::uint32_t, VaLess, Alloc>;
using Iter = Index::iterator;

}  // namespace

// The index maps start -> slot of the record holding the VMA. A "finger"
// remembers one valid index position, kept by every mutation (insert returns
// the new position, erase the following one), so that the sequence a madvise
// or bind does at one place (look up, cut, insert the pieces next to it,
// collect) costs one B-tree descent instead of five: each step first checks
// whether the finger already brackets its address.
struct VmaTree::Impl {
  NodeArena arena;  // declared first: destroyed after the index and chunks
  Index index{VaLess(), Alloc(&arena)};
  std::vector<Vma*> chunks;  // slabs of kChunkSize records, in the arena
  std::vector<std::uint32_t> free_slots;
  std::uint32_t next_slot = 0;
  Iter finger = index.end();

  Vma& rec(std::uint32_t slot) { return chunks[slot >> kChunkShift][slot & (kChunkSize - 1)]; }
  const Vma& rec(std::uint32_t slot) const {
    return chunks[slot >> kChunkShift][slot & (kChunkSize - 1)];
  }
  std::uint32_t alloc_slot() {
    if (!free_slots.empty()) {
      const std::uint32_t s = free_slots.back();
      free_slots.pop_back();
      return s;
    }
    if ((next_slot >> kChunkShift) == chunks.size()) {
      chunks.reserve(chunks.size() + 1);
      auto* slab = static_cast<Vma*>(arena.allocate(kChunkSize * sizeof(Vma)));
      std::uninitialized_default_construct_n(slab, kChunkSize);
      chunks.push_back(slab);
    }
    return next_slot++;
  }
  // The first index position with start > addr, from the finger when it
  // brackets addr, else by a descent.
  Iter upper_bound(std::uint64_t addr) {
    Iter f = finger;
    if (f != index.end()) {
      if (f->first <= addr) {
        ++f;
        if (f == index.end() || f->first > addr) return f;
      } else if (f == index.begin() || std::prev(f)->first <= addr) {
        return f;
      }
    }
    return index.upper_bound(addr);
  }
  // The first position whose VMA overlaps [lo, ...), or end().
  Iter first_overlap(std::uint64_t lo) {
    Iter above = upper_bound(lo);
    if (above != index.begin()) {
      Iter below = std::prev(above);
      if (rec(below->second).end > lo) return below;
    }
    return above;
  }
  Iter find(std::uint64_t start) {
    if (finger != index.end() && finger->first == start) return finger;
    return index.find(start);
  }
  // Where a new start would go: the position after the finger when the
  // finger is below it, else the finger (absl checks the hint and falls back
  // to a descent when it is wrong).
  Iter hint_for(std::uint64_t start) {
    if (finger != index.end() && finger->first < start) return std::next(finger);
    return finger;
  }
};

VmaTree::VmaTree() : impl_(std::make_unique<Impl>()) {}
VmaTree::~VmaTree() = default;
VmaTree::VmaTree(VmaTree&&) noexcept = default;
VmaTree& VmaTree::operator=(VmaTree&&) noexcept = default;

std::size_t VmaTree::size() const {
  return impl_->index.size();
}

std::optional<Vma> VmaTree::find(std::uint64_t addr) const {
  Impl& m = *impl_;
  const Iter above = m.upper_bound(addr);
  if (above == m.index.begin()) return std::nullopt;
  const Vma& v = m.rec(std::prev(above)->second);
  if (addr < v.end) return v;
  return std::nullopt;
}

std::optional<Vma> VmaTree::at(std::uint64_t start) const {
  Impl& m = *impl_;
  const Iter it = m.find(start);
  if (it == m.index.end()) return std::nullopt;
  return m.rec(it->second);
}

void VmaTree::seek(std::uint64_t addr) {
  Impl& m = *impl_;
  Iter it = m.upper_bound(addr);
  if (it != m.index.begin()) --it;
  m.finger = it;
}

void VmaTree::visit(VaRange r, FunctionRef<bool(const Vma&)> f) const {
  Impl& m = *impl_;
  for (Iter it = m.first_overlap(r.lo()); it != m.index.end(); ++it) {
    const Vma& v = m.rec(it->second);
    if (v.start >= r.hi() || !f(v)) return;
  }
}

void VmaTree::visit_mut(VaRange r, FunctionRef<bool(Vma&)> f) {
  Impl& m = *impl_;
  for (Iter it = m.first_overlap(r.lo()); it != m.index.end(); ++it) {
    Vma& v = m.rec(it->second);
    if (v.start >= r.hi()) return;
#ifndef NDEBUG
    const Vma before = v;
#endif
    const bool go_on = f(v);
#ifndef NDEBUG
    assert(v.start == before.start && v.end == before.end && v.kind == before.kind &&
           v.bo == before.bo);
#endif
    if (!go_on) return;
  }
}

void VmaTree::visit_all(FunctionRef<bool(const Vma&)> f) const {
  const Impl& m = *impl_;
  for (const auto& [start, slot] : m.index) {
    if (!f(m.rec(slot))) return;
  }
}

void VmaTree::collect_mut(VaRange r, std::vector<Vma*>& out) {
  Impl& m = *impl_;
  for (Iter it = m.first_overlap(r.lo()); it != m.index.end(); ++it) {
    Vma& v = m.rec(it->second);
    if (v.start >= r.hi()) return;
    out.push_back(&v);
  }
}

std::size_t VmaTree::count_overlaps(VaRange r) const {
  Impl& m = *impl_;
  std::size_t n = 0;
  for (Iter it = m.first_overlap(r.lo()); it != m.index.end(); ++it) {
    if (m.rec(it->second).start >= r.hi()) break;
    ++n;
  }
  return n;
}

void VmaTree::insert(const Vma& v) {
  assert(v.start < v.end);
  Impl& m = *impl_;
  const std::uint32_t slot = m.alloc_slot();
  m.rec(slot) = v;
  const std::size_t before = m.index.size();
  m.finger = m.index.emplace_hint(m.hint_for(v.start), v.start, slot);
  assert(m.index.size() == before + 1 && "insert over an existing start");
  (void)before;
}

void VmaTree::erase(std::uint64_t start) {
  Impl& m = *impl_;
  const Iter it = m.find(start);
  assert(it != m.index.end());
  m.free_slots.push_back(it->second);
  m.finger = m.index.erase(it);
}

void VmaTree::replace(const Vma& v) {
  Impl& m = *impl_;
  const Iter it = m.find(v.start);
  assert(it != m.index.end() && v.start < v.end);
  m.rec(it->second) = v;
  m.finger = it;
}

void VmaTree::clear() {
  Impl& m = *impl_;
  m.index.clear();
  for (Vma* slab : m.chunks) m.arena.deallocate(slab, kChunkSize * sizeof(Vma));
  m.chunks.clear();
  m.free_slots.clear();
  m.next_slot = 0;
  m.finger = m.index.end();
}

std::size_t VmaTree::memory_bytes() const {
  // Mapped, not just in use: the arena's free blocks and unused tail count.
  return impl_->arena.mapped() + impl_->chunks.capacity() * sizeof(void*) +
         impl_->free_slots.capacity() * sizeof(std::uint32_t);
}

std::string VmaTree::check_invariants(std::uint64_t va_end) const {
  const Impl& m = *impl_;
  std::uint64_t prev_end = 0;
  bool first = true;
  char buf[160];
  for (const auto& [start, slot] : m.index) {
    const Vma& v = m.rec(slot);
    if (v.start != start) {
      std::snprintf(buf, sizeof buf, "index key 0x%llx != vma start 0x%llx",
                    static_cast<unsigned long long>(start),
                    static_cast<unsigned long long>(v.start));
      return buf;
    }
    if (v.start >= v.end) return "empty or inverted vma " + to_string(v);
    if (v.end > va_end) return "vma outside the VA space " + to_string(v);
    if (!first && v.start < prev_end) return "overlapping vma " + to_string(v);
    if ((v.kind == VmaKind::kBo) != (v.bo != 0)) return "bo id does not match kind " + to_string(v);
    prev_end = v.end;
    first = false;
  }
  return {};
}

}  // namespace drm_sim
