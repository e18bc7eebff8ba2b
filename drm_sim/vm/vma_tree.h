// drm_sim/vm/vma_tree.h — the ordered set of a VM's VMAs.
//
// Owns: every Vma of one VM (by value). A B+tree keyed by start address
// keeps the VMA records in its leaves (16 per leaf, ~1 KiB; VMAs bound in
// address order fill a leaf to 12 only, leaving room for the two extra
// pieces of one madvise split; inner nodes have up to 64 children, and
// in-order appends fill them), so lookup,
// insertion and erase are O(log n), and the lookup, shortening and two
// inserts of one madvise split touch one leaf.
// Nodes live in a per-tree NodeArena (huge pages once it passes 4 MiB),
// which the tree releases only when it is destroyed. The tree remembers the
// position of its last lookup or change (see seek()), so the lookups and
// inserts of one bind or madvise at one place cost a single descent.
// Locking: none inside; the owning Vm's lock guards every call (read for
// const members, write for mutators).
// Errors: insert asserts that the new VMA overlaps none; erase and replace
// of a start that is not in the tree abort with a message (a caller bug
// that would otherwise corrupt the tree); check_invariants() reports
// structural violations as text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drm_sim/core/function_ref.h"
#include "drm_sim/vm/vma.h"

namespace drm_sim {

class VmaTree {
 public:
  VmaTree();
  ~VmaTree();
  VmaTree(VmaTree&&) noexcept;
  VmaTree& operator=(VmaTree&&) noexcept;
  VmaTree(const VmaTree&) = delete;
  VmaTree& operator=(const VmaTree&) = delete;

  std::size_t size() const;
  bool empty() const { return size() == 0; }

  // The VMA containing addr.
  std::optional<Vma> find(std::uint64_t addr) const;
  // The VMA that starts exactly at start.
  std::optional<Vma> at(std::uint64_t start) const;

  // Positions the tree at the VMA containing or preceding addr, so that the
  // following lookups, replaces and inserts near addr skip the descent. A
  // pure performance hint: results never depend on it. Writers only.
  void seek(std::uint64_t addr);

  // Visits VMAs overlapping r in address order; f returns false to stop.
  void visit(VaRange r, FunctionRef<bool(const Vma&)> f) const;
  // Same, with mutable access to attributes and flags. f must not change
  // start, end, kind or bo (asserted).
  void visit_mut(VaRange r, FunctionRef<bool(Vma&)> f);
  void visit_all(FunctionRef<bool(const Vma&)> f) const;
  // Appends pointers to the records of the VMAs overlapping r. They stay
  // valid until the next insert, erase or clear; callers may change a VMA's
  // attributes and flags through them, never its bounds, kind or bo.
  void collect_mut(VaRange r, std::vector<Vma*>& out);
  std::size_t count_overlaps(VaRange r) const;

  void insert(const Vma& v);
  void erase(std::uint64_t start);
  // Overwrites the VMA that starts at v.start with v (new end, attributes...)
  // in place: a REMAP that keeps the old start moves no key. The caller guarantees v overlaps no
  // other VMA.
  void replace(const Vma& v);
  // Replaces the VMA that starts at pieces[0].start by pieces (one to three
  // VMAs in address order that tile part or all of the old VMA's range, as
  // a split leaves it): one lookup and, when its leaf has room, one shift of
  // the leaf's keys. Aborts when no VMA starts at pieces[0].start.
  void replace_split(const Vma* pieces, int n);
  void clear();

  // Leaves in use (each holds up to 16 VMAs; in-order appends fill them to
  // 12, so that madvise splits next to their VMAs find room).
  std::size_t leaf_count() const;
  // Inner nodes in use (up to 64 children each; in-order appends fill them).
  std::size_t inner_count() const;

  // Host bytes mapped by the tree's arena for its nodes (records included):
  // the peak footprint, rounded up to the arena's regions.
  std::size_t memory_bytes() const;

  // Sorted, non-empty, non-overlapping, inside [0, va_end). Empty string = ok.
  std::string check_invariants(std::uint64_t va_end) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace drm_sim
