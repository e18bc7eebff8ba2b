// drm_sim/mem/buddy_allocator.h — the buddy allocator behind one VRAM region.
//
// Owns: the block metadata of one region of `size()` bytes, managed like the
// kernel's drm_buddy: power-of-two blocks from min_block (the region's minimum
// page size, 4 KiB or 64 KiB) up to the largest power of two that fits, each
// block naturally aligned (offset % size == 0). A size that is not a power of
// two is covered by several top-level roots, largest first:
//
//   region 12 MiB:  0        8 MiB    12 MiB
//                   [--------)[---)           roots: order 8 MiB, order 4 MiB
//   split 4 MiB:    [--------)[-)[-)          halves are buddies; freeing both
//                                             merges them back into the root
//
// Metadata: one byte per min_block page (order + state of the block that
// starts there, 0 inside a block) and, per order, a free bitmap with a 64-ary
// summary (find-first in O(log64 n)), plus one word with a bit per order
// that has a free block. About 1.25 bytes per managed page (measured by
// metadata_bytes(); 20 MiB for 64 GiB of 4 KiB pages).
// Cost: alloc is O(1) to pick the smallest order with a free block plus
// O(log64 n) per split; free is O(log64 n) per buddy merge.
//
// Locking: none; not thread-safe. The owning memory region's lock guards
// every call (const members under a read lock at least).
// Errors (positive errno in Status): make() EINVAL for a min_block that is not
// a power of two >= 4 KiB, a size below min_block or above 2^32 pages; alloc() EINVAL for a zero
// size, an alignment that is not 0 or a power of two, or a request larger than
// the largest root (it can never fit, evicting would not help); ENOMEM when
// the injected FaultPlan fails the allocation; ENOSPC when no free block is
// large enough (the caller evicts and retries). free() EINVAL for an offset
// that is not the start of an allocated block (misaligned, outside, inside a
// block, or already free). A failed call changes nothing.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "drm_sim/core/status.h"
#include "drm_sim/core/types.h"

namespace drm_sim {

class FaultPlan;

// A byte offset inside one memory region (a device physical address relative
// to the region's base). Offset + size is an offset; offset - offset a size.
struct VramOffset {
  std::uint64_t v = 0;
  constexpr VramOffset() = default;
  constexpr explicit VramOffset(std::uint64_t o) : v(o) {}
  constexpr auto operator<=>(const VramOffset&) const = default;
  constexpr VramOffset operator+(Bytes b) const { return VramOffset{v + b.v}; }
  constexpr Bytes operator-(VramOffset o) const { return Bytes{v - o.v}; }
};

// One allocated block: [offset, offset + size), size a power of two, offset a
// multiple of size.
struct BuddyBlock {
  VramOffset offset;
  Bytes size;
  constexpr bool operator==(const BuddyBlock&) const = default;
};

class BuddyAllocator {
 public:
  // A region of `size` bytes (rounded down to a multiple of min_block, as
  // drm_buddy_init does) in blocks of at least `min_block` bytes. `faults`,
  // when not null, is asked once per alloc() and must outlive the allocator.
  static Result<BuddyAllocator> make(Bytes size, Bytes min_block, FaultPlan* faults = nullptr);

  BuddyAllocator(BuddyAllocator&&) noexcept = default;
  BuddyAllocator& operator=(BuddyAllocator&&) noexcept = default;
  BuddyAllocator(const BuddyAllocator&) = delete;
  BuddyAllocator& operator=(const BuddyAllocator&) = delete;
  ~BuddyAllocator() = default;

  // One block of max(pow2_ceil(size), alignment, min_block) bytes; as in
  // drm_buddy, an alignment above the size enlarges the block, so the block is
  // aligned to its own size and hence to `alignment` (0 = no extra alignment).
  // Takes the lowest-addressed free block of the smallest order that fits,
  // splitting it down; the upper halves stay free.
  Result<BuddyBlock> alloc(Bytes size, Bytes alignment = Bytes{0});
  // The FaultPlan asked by alloc() (nullptr: none); not owned.
  FaultPlan* fault_plan() const { return faults_; }
  void set_fault_plan(FaultPlan* faults) { faults_ = faults; }
  // Frees the block that starts at `offset` and merges it with its free
  // buddies, up to its root.
  Status free(VramOffset offset);

  Bytes size() const { return Bytes{pages_ * min_block_}; }
  Bytes min_block() const { return Bytes{min_block_}; }
  Bytes used() const { return Bytes{used_pages_ * min_block_}; }
  Bytes available() const { return size() - used(); }
  // The size of the largest free block (0 when full): the largest request
  // that would succeed now without eviction.
  Bytes largest_free_block() const;
  // The size of the largest root: the largest request that can ever succeed.
  Bytes max_block() const { return Bytes{min_block_ << max_order_}; }
  std::size_t root_count() const;
  // Free blocks of every order (O(pages / 64)); root_count() when empty.
  std::uint64_t free_block_count() const;
  // Heap bytes held for metadata (capacities of the state map and bitmaps).
  std::size_t metadata_bytes() const;

  // "" when consistent: every page covered by exactly one block, each block
  // aligned and inside one root, free bitmaps and summaries equal to the
  // block states, no two free buddies left unmerged, used() equal to the
  // allocated blocks. Otherwise the first violation found. O(pages).
  std::string check_invariants() const;

 private:
  // The free blocks of one order: a bitmap (bit i = block i of that order is
  // free) with 64-ary summary levels above it, so find_first() visits one word
  // per level. The levels share one array, the bitmap first.
  class FreeSet {
   public:
    explicit FreeSet(std::uint64_t bits);
    // Each returns whether the set went from empty to not (set) or from not
    // empty to empty (clear).
    bool set(std::uint64_t i);
    bool clear(std::uint64_t i);
    bool test(std::uint64_t i) const;
    bool any() const { return words_[off_[top_]] != 0; }
    std::uint64_t find_first() const;  // precondition: any()
    std::uint64_t count() const;
    std::size_t metadata_bytes() const;
    std::string check() const;  // summaries match the level below

   private:
    // 2^32 bits need six levels (2^26, 2^20, 2^14, 2^8, 4 and 1 words).
    static constexpr unsigned kMaxLevels = 6;
    std::vector<std::uint64_t> words_;
    std::uint64_t off_[kMaxLevels] = {};  // first word of each level
    unsigned top_ = 0;                    // the last level: one word
  };

  BuddyAllocator(std::uint64_t pages, std::uint64_t min_block, FaultPlan* faults);
  void push_free(std::uint64_t page, unsigned order);
  void pop_free(std::uint64_t page, unsigned order);

  std::uint64_t min_block_ = 0;  // bytes, a power of two
  unsigned min_shift_ = 0;       // log2(min_block_)
  std::uint64_t pages_ = 0;      // region size in min_block pages
  unsigned max_order_ = 0;       // order of the largest root
  std::uint64_t used_pages_ = 0;
  std::uint64_t free_orders_ = 0;   // bit k: free_[k] holds a block (max_order_ <= 32)
  FaultPlan* faults_ = nullptr;     // not owned
  std::vector<std::uint8_t> head_;  // per page: kHead | kFree? | order, or 0
  std::vector<FreeSet> free_;       // per order
};

}  // namespace drm_sim
