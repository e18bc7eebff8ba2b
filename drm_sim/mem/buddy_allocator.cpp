#include "drm_sim/mem/buddy_allocator.h"

#include <bit>
#include <cassert>

#include "drm_sim/sync/fault_plan.h"

namespace drm_sim {

namespace {

// head_[page]: 0 inside a block; at a block's first page kHead | order, plus
// kFree while the block is free.
constexpr std::uint8_t kHead = 0x80;
constexpr std::uint8_t kFree = 0x40;
constexpr std::uint8_t kOrderMask = 0x3f;

// 2^32 pages (16 TiB of 4 KiB pages): past this the metadata alone would be
// gigabytes; no simulated part comes close.
constexpr std::uint64_t kMaxPages = 1ull << 32;

constexpr std::uint8_t head_byte(unsigned order, bool free) {
  return static_cast<std::uint8_t>(kHead | (free ? kFree : 0) | order);
}

std::uint64_t words_for(std::uint64_t bits) {
  return (bits + 63) / 64;
}

std::string describe(const char* what, std::uint64_t page, unsigned order) {
  return std::string(what) + " (page " + std::to_string(page) + ", order " + std::to_string(order) +
         ")";
}

}  // namespace

// ---- FreeSet ---------------------------------------------------------------

// The bitmap and free-list steps below are inlined into alloc() and free()
// (they are only used in this file): a 4 KiB chunk's allocation is a few of
// them, and the calls were a noticeable part of its cost.

BuddyAllocator::FreeSet::FreeSet(std::uint64_t bits) {
  std::uint64_t n = bits;
  std::uint64_t total = 0;
  for (unsigned l = 0;; ++l) {
    assert(l < kMaxLevels);
    n = words_for(n);
    off_[l] = total;
    total += n;
    top_ = l;
    if (n <= 1) break;
  }
  words_.assign(total, 0);
}

[[gnu::always_inline]] inline bool BuddyAllocator::FreeSet::set(std::uint64_t i) {
  std::uint64_t* const w = words_.data();
  for (unsigned l = 0; l <= top_; ++l) {
    std::uint64_t& word = w[off_[l] + i / 64];
    const std::uint64_t old = word;
    word = old | (1ull << (i % 64));
    if (old != 0) return false;
    i /= 64;
  }
  return true;
}

[[gnu::always_inline]] inline bool BuddyAllocator::FreeSet::clear(std::uint64_t i) {
  std::uint64_t* const w = words_.data();
  for (unsigned l = 0; l <= top_; ++l) {
    std::uint64_t& word = w[off_[l] + i / 64];
    word &= ~(1ull << (i % 64));
    if (word != 0) return false;
    i /= 64;
  }
  return true;
}

bool BuddyAllocator::FreeSet::test(std::uint64_t i) const {
  return (words_[off_[0] + i / 64] >> (i % 64)) & 1;
}

[[gnu::always_inline]] inline std::uint64_t BuddyAllocator::FreeSet::find_first() const {
  assert(any());
  const std::uint64_t* const w = words_.data();
  std::uint64_t i = 0;
  for (unsigned l = top_ + 1; l-- > 0;) {
    i = i * 64 + static_cast<std::uint64_t>(std::countr_zero(w[off_[l] + i]));
  }
  return i;
}

std::uint64_t BuddyAllocator::FreeSet::count() const {
  const std::uint64_t end = top_ == 0 ? words_.size() : off_[1];
  std::uint64_t n = 0;
  for (std::uint64_t w = off_[0]; w < end; ++w) {
    n += static_cast<std::uint64_t>(std::popcount(words_[w]));
  }
  return n;
}

std::size_t BuddyAllocator::FreeSet::metadata_bytes() const {
  return words_.capacity() * sizeof(std::uint64_t);
}

std::string BuddyAllocator::FreeSet::check() const {
  for (unsigned l = 1; l <= top_; ++l) {
    for (std::uint64_t w = 0; w < off_[l] - off_[l - 1]; ++w) {
      const bool summary = (words_[off_[l] + w / 64] >> (w % 64)) & 1;
      if (summary != (words_[off_[l - 1] + w] != 0)) {
        return "free bitmap summary level " + std::to_string(l) + " disagrees at word " +
               std::to_string(w);
      }
    }
  }
  return "";
}

// ---- BuddyAllocator --------------------------------------------------------

Result<BuddyAllocator> BuddyAllocator::make(Bytes size, Bytes min_block, FaultPlan* faults) {
  if (min_block.v < kPage4K || !std::has_single_bit(min_block.v)) return Status::err(EINVAL);
  if (size.v < min_block.v) return Status::err(EINVAL);
  const std::uint64_t pages = size.v / min_block.v;
  if (pages > kMaxPages) return Status::err(EINVAL);
  return BuddyAllocator(pages, min_block.v, faults);
}

BuddyAllocator::BuddyAllocator(std::uint64_t pages, std::uint64_t min_block, FaultPlan* faults)
    : min_block_(min_block),
      min_shift_(static_cast<unsigned>(std::countr_zero(min_block))),
      pages_(pages),
      max_order_(static_cast<unsigned>(std::bit_width(pages) - 1)),
      faults_(faults),
      head_(pages, 0) {
  free_.reserve(max_order_ + 1);
  for (unsigned k = 0; k <= max_order_; ++k) free_.emplace_back(pages >> k);
  // Roots: the set bits of `pages`, largest first from offset 0. Each root
  // starts at a multiple of its own size (the sum of larger powers of two).
  std::uint64_t page = 0;
  for (unsigned k = max_order_ + 1; k-- > 0;) {
    if ((pages >> k) & 1) {
      push_free(page, k);
      page += 1ull << k;
    }
  }
}

[[gnu::always_inline]] inline void BuddyAllocator::push_free(std::uint64_t page, unsigned order) {
  head_[page] = head_byte(order, true);
  if (free_[order].set(page >> order)) free_orders_ |= 1ull << order;
}

[[gnu::always_inline]] inline void BuddyAllocator::pop_free(std::uint64_t page, unsigned order) {
  if (free_[order].clear(page >> order)) free_orders_ &= ~(1ull << order);
}

Result<BuddyBlock> BuddyAllocator::alloc(Bytes size, Bytes alignment) {
  if (size.v == 0) return Status::err(EINVAL);
  if (alignment.v != 0 && !std::has_single_bit(alignment.v)) return Status::err(EINVAL);
  if (size.v > max_block().v || alignment.v > max_block().v) return Status::err(EINVAL);
  std::uint64_t block = std::bit_ceil(size.v);
  if (alignment.v > block) block = alignment.v;
  if (min_block_ > block) block = min_block_;
  // block and min_block_ are powers of two, block >= min_block_.
  const auto want = static_cast<unsigned>(std::countr_zero(block)) - min_shift_;

  if (faults_ != nullptr) DRM_SIM_TRY(faults_->on_alloc());

  // The smallest order >= want with a free block.
  const std::uint64_t fits = free_orders_ >> want;
  if (fits == 0) return Status::err(ENOSPC);
  unsigned order = want + static_cast<unsigned>(std::countr_zero(fits));

  const std::uint64_t page = free_[order].find_first() << order;
  pop_free(page, order);
  while (order > want) {  // split: keep the lower half, free the upper buddy
    --order;
    push_free(page + (1ull << order), order);
  }
  head_[page] = head_byte(want, false);
  used_pages_ += 1ull << want;
  return BuddyBlock{VramOffset{page * min_block_}, Bytes{block}};
}

Status BuddyAllocator::free(VramOffset offset) {
  if ((offset.v & (min_block_ - 1)) != 0 || (offset.v >> min_shift_) >= pages_) {
    return Status::err(EINVAL);
  }
  std::uint64_t page = offset.v >> min_shift_;
  const std::uint8_t h = head_[page];
  if ((h & kHead) == 0 || (h & kFree) != 0) return Status::err(EINVAL);
  unsigned order = h & kOrderMask;
  used_pages_ -= 1ull << order;

  while (order < max_order_) {
    const std::uint64_t buddy = page ^ (1ull << order);
    // A buddy past the region's end means `page` heads its root: roots start
    // with bit `order` clear and nothing of that order follows them.
    if (buddy + (1ull << order) > pages_) break;
    if (head_[buddy] != head_byte(order, true)) break;
    pop_free(buddy, order);
    head_[buddy] = 0;
    head_[page] = 0;
    page &= ~(1ull << order);
    ++order;
  }
  push_free(page, order);
  return Status::ok();
}

Bytes BuddyAllocator::largest_free_block() const {
  if (free_orders_ == 0) return Bytes{0};
  return Bytes{min_block_ << (std::bit_width(free_orders_) - 1)};
}

std::size_t BuddyAllocator::root_count() const {
  return static_cast<std::size_t>(std::popcount(pages_));
}

std::uint64_t BuddyAllocator::free_block_count() const {
  std::uint64_t n = 0;
  for (const FreeSet& f : free_) n += f.count();
  return n;
}

std::size_t BuddyAllocator::metadata_bytes() const {
  std::size_t n = head_.capacity() + free_.capacity() * sizeof(FreeSet);
  for (const FreeSet& f : free_) n += f.metadata_bytes();
  return n;
}

std::string BuddyAllocator::check_invariants() const {
  std::vector<std::uint64_t> free_heads(max_order_ + 1, 0);
  std::uint64_t used = 0;
  std::uint64_t page = 0;
  while (page < pages_) {
    const std::uint8_t h = head_[page];
    if ((h & kHead) == 0) return "page " + std::to_string(page) + " is in no block";
    const unsigned order = h & kOrderMask;
    const std::uint64_t n = 1ull << order;
    if (order > max_order_) return describe("order above the largest root", page, order);
    if (page % n != 0) return describe("block not naturally aligned", page, order);
    // An aligned block inside [0, pages) lies inside exactly one root.
    if (page + n > pages_) return describe("block runs past the region", page, order);
    for (std::uint64_t p = page + 1; p < page + n; ++p) {
      if (head_[p] != 0) return describe("block overlaps another block", page, order);
    }
    const bool is_free = (h & kFree) != 0;
    if (free_[order].test(page >> order) != is_free) {
      return describe(is_free ? "free block missing from its free bitmap"
                              : "allocated block marked free in the bitmap",
                      page, order);
    }
    if (is_free) {
      ++free_heads[order];
      const std::uint64_t buddy = page ^ n;
      if (order < max_order_ && buddy + n <= pages_ && head_[buddy] == head_byte(order, true)) {
        return describe("free buddies left unmerged", page, order);
      }
    } else {
      used += n;
    }
    page += n;
  }
  for (unsigned k = 0; k <= max_order_; ++k) {
    if (free_[k].count() != free_heads[k]) {
      return "free bitmap of order " + std::to_string(k) + " holds " +
             std::to_string(free_[k].count()) + " blocks, the state map " +
             std::to_string(free_heads[k]);
    }
    std::string s = free_[k].check();
    if (!s.empty()) return "order " + std::to_string(k) + ": " + s;
    if (((free_orders_ >> k) & 1) != (free_heads[k] != 0 ? 1u : 0u)) {
      return "order " + std::to_string(k) + " is " + (free_heads[k] != 0 ? "not " : "") +
             "marked empty in the mask of orders with free blocks";
    }
  }
  if (used != used_pages_) {
    return "used() is " + std::to_string(used_pages_) + " pages, allocated blocks hold " +
           std::to_string(used);
  }
  return "";
}

}  // namespace drm_sim
