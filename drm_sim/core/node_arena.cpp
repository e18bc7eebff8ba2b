#include "drm_sim/core/node_arena.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <new>

#include "drm_sim/core/sanitizers.h"

// Under AddressSanitizer a freed block is poisoned and a handed-out one
// unpoisoned, as malloc does: a use after free is reported, and poison left
// by the block's previous user (absl's B-tree poisons its unused node slots)
// does not outlive the block.
#if defined(DRM_SIM_ASAN)
#include <sanitizer/asan_interface.h>
#define DRM_SIM_ARENA_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define DRM_SIM_ARENA_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define DRM_SIM_ARENA_POISON(p, n) ((void)(p), (void)(n))
#define DRM_SIM_ARENA_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace drm_sim {
namespace {

constexpr std::size_t kFirstRegion = std::size_t{64} * 1024;
constexpr std::size_t kHugePage = std::size_t{2} * 1024 * 1024;
constexpr std::size_t kHugeFrom = std::size_t{4} * 1024 * 1024;   // regions this large use THP
constexpr std::size_t kMaxRegion = std::size_t{8} * 1024 * 1024;  // bounds the unused tail

}  // namespace

NodeArena::~NodeArena() {
  for (const Region& r : regions_) {
    DRM_SIM_ARENA_UNPOISON(r.base, r.size);  // no stale poison for the next mapping here
    munmap(r.base, r.size);
  }
}

void* NodeArena::carve(std::size_t rounded) {
  if (static_cast<std::size_t>(limit_ - cursor_) < rounded) {
    // The old tail (less than one block) is abandoned; regions grow so that
    // it stays a small fraction of what is mapped.
    std::size_t size = regions_.empty() ? kFirstRegion : std::min(mapped_, kMaxRegion);
    size = std::max(size, rounded);
    const bool huge = size >= kHugeFrom;
    // Over-map by one huge page to align the region on a 2 MiB boundary.
    const std::size_t map = huge ? size + kHugePage : size;
    void* m = mmap(nullptr, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::bad_alloc();
    char* base = static_cast<char*>(m);
    if (huge) {
      const auto addr = reinterpret_cast<std::uintptr_t>(base);
      const std::uintptr_t aligned = (addr + kHugePage - 1) & ~(kHugePage - 1);
      const std::size_t head = aligned - addr;
      if (head != 0) munmap(base, head);
      if (kHugePage - head != 0) munmap(base + head + size, kHugePage - head);
      base += head;
      // Advisory: without THP the region still works with 4 KiB pages.
      madvise(base, size, MADV_HUGEPAGE);
    }
    regions_.push_back({base, size});
    mapped_ += size;
    cursor_ = base;
    limit_ = base + size;
  }
  char* p = cursor_;
  cursor_ += rounded;
  DRM_SIM_ARENA_UNPOISON(p, rounded);
  return p;
}

void* NodeArena::allocate(std::size_t bytes) {
  const std::size_t c = class_of(std::max<std::size_t>(bytes, 1));
  if (c >= free_.size()) free_.resize(c + 1, nullptr);
  void* p = nullptr;
  if (free_[c] != nullptr) {
    FreeBlock* b = free_[c];
    DRM_SIM_ARENA_UNPOISON(b, c * 64);
    free_[c] = b->next;
    p = b;
  } else {
    p = carve(c * 64);
  }
  in_use_ += c * 64;
  return p;
}

void NodeArena::deallocate(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  const std::size_t c = class_of(std::max<std::size_t>(bytes, 1));
  DRM_SIM_ARENA_UNPOISON(p, c * 64);
  auto* b = static_cast<FreeBlock*>(p);
  b->next = free_[c];
  free_[c] = b;
  DRM_SIM_ARENA_POISON(p, c * 64);
  in_use_ -= c * 64;
}

}  // namespace drm_sim
