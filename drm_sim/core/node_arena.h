// drm_sim/core/node_arena.h — a pool of fixed-size blocks for the nodes of
// one large in-memory index (a VM's VMA tree), backed by transparent huge
// pages once the index grows past a few MiB.
//
// Why: a lookup among a million VMAs takes a handful of cache misses, and on
// a virtual machine each miss through 4 KiB pages also misses the TLB and
// walks two page tables. Packing the index into 2 MiB pages removes most of
// those walks (measured: a dependent random read over 80 MiB costs ~380 ns
// with 4 KiB pages and ~240 ns with huge pages on the project's VM).
//
// Blocks are carved from regions mapped with mmap: the first regions are
// small (64 KiB, doubling), from 4 MiB on each region is 2 MiB aligned and
// advised MADV_HUGEPAGE. A freed block goes to a free list of its size class
// (multiples of 64 bytes) and is reused by the next allocation of that
// class; regions are unmapped only when the arena is destroyed, so an index
// that shrinks keeps its peak footprint until its VM goes away.
//
// Owns: its regions. Locking: none inside; the owner's lock guards every
// call. Errors: allocate() throws std::bad_alloc when mmap fails, as
// operator new does (the callers' containers expect it).
#pragma once

#include <cstddef>
#include <vector>

namespace drm_sim {

class NodeArena {
 public:
  NodeArena() = default;
  ~NodeArena();
  NodeArena(const NodeArena&) = delete;
  NodeArena& operator=(const NodeArena&) = delete;

  // A block of at least `bytes` bytes, 64-byte aligned.
  void* allocate(std::size_t bytes);
  // Returns a block of allocate(bytes) for reuse.
  void deallocate(void* p, std::size_t bytes) noexcept;

  // Bytes in blocks handed out and not returned.
  std::size_t in_use() const { return in_use_; }
  // Bytes of address space mapped (what the arena costs at most).
  std::size_t mapped() const { return mapped_; }

 private:
  struct Region {
    void* base;
    std::size_t size;
  };
  struct FreeBlock {
    FreeBlock* next;
  };
  static std::size_t class_of(std::size_t bytes) { return (bytes + 63) / 64; }
  void* carve(std::size_t rounded);

  std::vector<Region> regions_;
  std::vector<FreeBlock*> free_;  // by size class
  char* cursor_ = nullptr;        // the unused tail of the newest region
  char* limit_ = nullptr;
  std::size_t in_use_ = 0;
  std::size_t mapped_ = 0;
};

}  // namespace drm_sim
