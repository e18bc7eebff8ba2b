// VmaTree: absl::btree_map<start, slot> over a chunked slab of Vma records.
// absl's B-tree (not std::map) keeps ~15 keys per 256-byte node, so a lookup
// among 1 M VMAs touches ~5 nodes instead of ~20 red-black nodes.
#include "drm_sim/vm/vma_tree.h"

#include <absl/container/btree_map.h>

#include <cassert>
#include <cstdio>
#include <vector>

namespace drm_sim {
namespace {

std::size_t g_unused_counter = 0;

// Counts the bytes the B-tree allocates, so memory per VMA is measured.
template <typename T>
struct CountingAlloc {
  using value_type = T;
  std::size_t* bytes = &g_unused_counter;
  CountingAlloc() = default;
  explicit CountingAlloc(std::size_t* b) : bytes(b) {}
  template <typename U>
  CountingAlloc(const CountingAlloc<U>& o) : bytes(o.bytes) {}  // NOLINT
  T* allocate(std::size_t n) {
    *bytes += n * sizeof(T);
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) {
    *bytes -= n * sizeof(T);
    std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const CountingAlloc<U>& o) const {
    return bytes == o.bytes;
  }
};

// A plain comparator (not std::less<uint64_t>) makes absl use binary rather
// than linear search inside a node: fewer instructions per lookup.
struct VaLess {
  bool operator()(std::uint64_t a, std::uint64_t b) const { return a < b; }
};

constexpr std::uint32_t kChunkShift = 12;  // 4096 records per slab chunk
constexpr std::uint32_t kChunkSize = 1u << kChunkShift;
constexpr std::uint32_t kNil = ~0u;

// A VMA record: the value plus links to its address-order neighbours, so that
// walks follow links instead of B-tree iterators.
struct Rec {
  Vma v;
  std::uint32_t prev = kNil;
  std::uint32_t next = kNil;
};

}  // namespace

struct VmaTree::Impl {
  std::size_t tree_bytes = 0;
  absl::btree_map<std::uint64_t, std::uint32_t, VaLess,
                  CountingAlloc<std::pair<const std::uint64_t, std::uint32_t>>>
      index{VaLess(), CountingAlloc<std::pair<const std::uint64_t, std::uint32_t>>(&tree_bytes)};
  std::vector<std::unique_ptr<Rec[]>> chunks;
  std::vector<std::uint32_t> free_slots;
  std::uint32_t next_slot = 0;
  std::uint32_t head = kNil;  // lowest VMA
  std::uint32_t tail = kNil;  // highest VMA

  Rec& rec(std::uint32_t slot) { return chunks[slot >> kChunkShift][slot & (kChunkSize - 1)]; }
  const Rec& rec(std::uint32_t slot) const {
    return chunks[slot >> kChunkShift][slot & (kChunkSize - 1)];
  }
  std::uint32_t alloc_slot() {
    if (!free_slots.empty()) {
      const std::uint32_t s = free_slots.back();
      free_slots.pop_back();
      return s;
    }
    if ((next_slot >> kChunkShift) == chunks.size()) {
      chunks.push_back(std::make_unique<Rec[]>(kChunkSize));
    }
    return next_slot++;
  }
  // The record with the greatest start <= addr (kNil if none): the
  // predecessor of the first start > addr.
  std::uint32_t floor_slot(std::uint64_t addr) const {
    auto it = index.upper_bound(addr);
    return it == index.end() ? tail : rec(it->second).prev;
  }
  // The first record overlapping [lo, ...), or kNil.
  std::uint32_t first_overlap(std::uint64_t lo) const {
    auto it = index.upper_bound(lo);
    const std::uint32_t above = it == index.end() ? kNil : it->second;
    const std::uint32_t below = it == index.end() ? tail : rec(above).prev;
    if (below != kNil && rec(below).v.end > lo) return below;
    return above;
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
  const std::uint32_t s = impl_->floor_slot(addr);
  if (s == kNil) return std::nullopt;
  const Vma& v = impl_->rec(s).v;
  if (addr < v.end) return v;
  return std::nullopt;
}

std::optional<Vma> VmaTree::at(std::uint64_t start) const {
  auto it = impl_->index.find(start);
  if (it == impl_->index.end()) return std::nullopt;
  return impl_->rec(it->second).v;
}

void VmaTree::visit(VaRange r, FunctionRef<bool(const Vma&)> f) const {
  for (std::uint32_t s = impl_->first_overlap(r.lo()); s != kNil;) {
    const Rec& rc = impl_->rec(s);
    if (rc.v.start >= r.hi() || !f(rc.v)) return;
    s = rc.next;
  }
}

void VmaTree::visit_mut(VaRange r, FunctionRef<bool(Vma&)> f) {
  for (std::uint32_t s = impl_->first_overlap(r.lo()); s != kNil;) {
    Rec& rc = impl_->rec(s);
    if (rc.v.start >= r.hi()) return;
#ifndef NDEBUG
    const Vma before = rc.v;
#endif
    const bool go_on = f(rc.v);
#ifndef NDEBUG
    assert(rc.v.start == before.start && rc.v.end == before.end && rc.v.kind == before.kind &&
           rc.v.bo == before.bo);
#endif
    if (!go_on) return;
    s = rc.next;
  }
}

void VmaTree::visit_all(FunctionRef<bool(const Vma&)> f) const {
  for (std::uint32_t s = impl_->head; s != kNil; s = impl_->rec(s).next) {
    if (!f(impl_->rec(s).v)) return;
  }
}

void VmaTree::collect_mut(VaRange r, std::vector<Vma*>& out) {
  for (std::uint32_t s = impl_->first_overlap(r.lo()); s != kNil;) {
    Rec& rc = impl_->rec(s);
    if (rc.v.start >= r.hi()) return;
    out.push_back(&rc.v);
    s = rc.next;
  }
}

std::size_t VmaTree::count_overlaps(VaRange r) const {
  std::size_t n = 0;
  for (std::uint32_t s = impl_->first_overlap(r.lo()); s != kNil; s = impl_->rec(s).next) {
    if (impl_->rec(s).v.start >= r.hi()) break;
    ++n;
  }
  return n;
}

void VmaTree::insert(const Vma& v) {
  assert(v.start < v.end);
  Impl& m = *impl_;
  const std::uint32_t slot = m.alloc_slot();
  auto [it, inserted] = m.index.emplace(v.start, slot);
  assert(inserted);
  (void)inserted;
  ++it;
  const std::uint32_t next = it == m.index.end() ? kNil : it->second;
  const std::uint32_t prev = next == kNil ? m.tail : m.rec(next).prev;
  Rec& rc = m.rec(slot);
  rc.v = v;
  rc.prev = prev;
  rc.next = next;
  (prev == kNil ? m.head : m.rec(prev).next) = slot;
  (next == kNil ? m.tail : m.rec(next).prev) = slot;
}

void VmaTree::erase(std::uint64_t start) {
  Impl& m = *impl_;
  auto it = m.index.find(start);
  assert(it != m.index.end());
  const std::uint32_t slot = it->second;
  const Rec& rc = m.rec(slot);
  (rc.prev == kNil ? m.head : m.rec(rc.prev).next) = rc.next;
  (rc.next == kNil ? m.tail : m.rec(rc.next).prev) = rc.prev;
  m.free_slots.push_back(slot);
  m.index.erase(it);
}

void VmaTree::replace(const Vma& v) {
  auto it = impl_->index.find(v.start);
  assert(it != impl_->index.end() && v.start < v.end);
  impl_->rec(it->second).v = v;
}

void VmaTree::clear() {
  impl_->index.clear();
  impl_->chunks.clear();
  impl_->free_slots.clear();
  impl_->next_slot = 0;
  impl_->head = kNil;
  impl_->tail = kNil;
}

std::size_t VmaTree::memory_bytes() const {
  return impl_->tree_bytes + impl_->chunks.size() * kChunkSize * sizeof(Rec) +
         impl_->chunks.capacity() * sizeof(void*) +
         impl_->free_slots.capacity() * sizeof(std::uint32_t);
}

std::string VmaTree::check_invariants(std::uint64_t va_end) const {
  const Impl& m = *impl_;
  std::uint64_t prev_end = 0;
  std::uint32_t prev_slot = kNil;
  char buf[160];
  for (const auto& [start, slot] : m.index) {
    const Rec& rc = m.rec(slot);
    const Vma& v = rc.v;
    if (v.start != start) {
      std::snprintf(buf, sizeof buf, "index key 0x%llx != vma start 0x%llx",
                    static_cast<unsigned long long>(start),
                    static_cast<unsigned long long>(v.start));
      return buf;
    }
    if (v.start >= v.end) return "empty or inverted vma " + to_string(v);
    if (v.end > va_end) return "vma outside the VA space " + to_string(v);
    if (prev_slot != kNil && v.start < prev_end) return "overlapping vma " + to_string(v);
    if ((v.kind == VmaKind::kBo) != (v.bo != 0)) return "bo id does not match kind " + to_string(v);
    if (rc.prev != prev_slot) return "broken prev link at " + to_string(v);
    if (prev_slot != kNil && m.rec(prev_slot).next != slot)
      return "broken next link before " + to_string(v);
    if (prev_slot == kNil && m.head != slot) return "head link does not name the lowest vma";
    prev_end = v.end;
    prev_slot = slot;
  }
  if (m.tail != prev_slot) return "tail link does not name the highest vma";
  return {};
}

}  // namespace drm_sim
