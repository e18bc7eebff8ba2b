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
  bool operator==(const CountingAlloc<U>& o) const { return bytes == o.bytes; }
};

// A plain comparator (not std::less<uint64_t>) makes absl use binary rather
// than linear search inside a node: fewer instructions per lookup.
struct VaLess {
  bool operator()(std::uint64_t a, std::uint64_t b) const { return a < b; }
};

constexpr std::uint32_t kChunkShift = 12;  // 4096 records per slab chunk
constexpr std::uint32_t kChunkSize = 1u << kChunkShift;

}  // namespace

struct VmaTree::Impl {
  std::size_t tree_bytes = 0;
  absl::btree_map<std::uint64_t, std::uint32_t, VaLess,
                  CountingAlloc<std::pair<const std::uint64_t, std::uint32_t>>>
      index{VaLess(), CountingAlloc<std::pair<const std::uint64_t, std::uint32_t>>(&tree_bytes)};
  std::vector<std::unique_ptr<Vma[]>> chunks;
  std::vector<std::uint32_t> free_slots;
  std::uint32_t next_slot = 0;

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
      chunks.push_back(std::make_unique<Vma[]>(kChunkSize));
    }
    return next_slot++;
  }
  // First index entry whose VMA overlaps [lo, ...).
  auto first_overlap(std::uint64_t lo) const {
    auto it = index.upper_bound(lo);
    if (it != index.begin()) {
      auto p = std::prev(it);
      if (rec(p->second).end > lo) return p;
    }
    return it;
  }
};

VmaTree::VmaTree() : impl_(std::make_unique<Impl>()) {}
VmaTree::~VmaTree() = default;
VmaTree::VmaTree(VmaTree&&) noexcept = default;
VmaTree& VmaTree::operator=(VmaTree&&) noexcept = default;

std::size_t VmaTree::size() const { return impl_->index.size(); }

std::optional<Vma> VmaTree::find(std::uint64_t addr) const {
  auto it = impl_->index.upper_bound(addr);
  if (it == impl_->index.begin()) return std::nullopt;
  --it;
  const Vma& v = impl_->rec(it->second);
  if (addr < v.end) return v;
  return std::nullopt;
}

std::optional<Vma> VmaTree::at(std::uint64_t start) const {
  auto it = impl_->index.find(start);
  if (it == impl_->index.end()) return std::nullopt;
  return impl_->rec(it->second);
}

void VmaTree::visit(VaRange r, FunctionRef<bool(const Vma&)> f) const {
  for (auto it = impl_->first_overlap(r.lo()); it != impl_->index.end() && it->first < r.hi();
       ++it) {
    if (!f(impl_->rec(it->second))) return;
  }
}

void VmaTree::visit_mut(VaRange r, FunctionRef<bool(Vma&)> f) {
  for (auto it = impl_->first_overlap(r.lo()); it != impl_->index.end() && it->first < r.hi();
       ++it) {
    Vma& v = impl_->rec(it->second);
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
  for (const auto& [start, slot] : impl_->index) {
    if (!f(impl_->rec(slot))) return;
  }
}

void VmaTree::collect_mut(VaRange r, std::vector<Vma*>& out) {
  for (auto it = impl_->first_overlap(r.lo()); it != impl_->index.end() && it->first < r.hi();
       ++it) {
    out.push_back(&impl_->rec(it->second));
  }
}

std::size_t VmaTree::count_overlaps(VaRange r) const {
  std::size_t n = 0;
  for (auto it = impl_->first_overlap(r.lo()); it != impl_->index.end() && it->first < r.hi();
       ++it) {
    ++n;
  }
  return n;
}

void VmaTree::insert(const Vma& v) {
  assert(v.start < v.end);
  const std::uint32_t slot = impl_->alloc_slot();
  impl_->rec(slot) = v;
  [[maybe_unused]] const auto [it, inserted] = impl_->index.emplace(v.start, slot);
  assert(inserted);
}

void VmaTree::erase(std::uint64_t start) {
  auto it = impl_->index.find(start);
  assert(it != impl_->index.end());
  impl_->free_slots.push_back(it->second);
  impl_->index.erase(it);
}

void VmaTree::replace(const Vma& v) {
  auto it = impl_->index.find(v.start);
  assert(it != impl_->index.end() && v.start < v.end);
  impl_->rec(it->second) = v;
}

void VmaTree::clear() {
  impl_->index.clear();
  impl_->chunks.clear();
  impl_->free_slots.clear();
  impl_->next_slot = 0;
}

std::size_t VmaTree::memory_bytes() const {
  return impl_->tree_bytes + impl_->chunks.size() * kChunkSize * sizeof(Vma) +
         impl_->chunks.capacity() * sizeof(void*) +
         impl_->free_slots.capacity() * sizeof(std::uint32_t);
}

std::string VmaTree::check_invariants(std::uint64_t va_end) const {
  std::uint64_t prev_end = 0;
  bool first = true;
  char buf[160];
  for (const auto& [start, slot] : impl_->index) {
    const Vma& v = impl_->rec(slot);
    if (v.start != start) {
      std::snprintf(buf, sizeof buf, "index key 0x%llx != vma start 0x%llx",
                    static_cast<unsigned long long>(start), static_cast<unsigned long long>(v.start));
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
