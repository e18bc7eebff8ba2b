// drm_sim/vm/vm.h — one GPU VM: its VMAs, VM_BIND, madvise and the attribute query.
//
// The ioctl layer validates user arguments and resolves handles; Vm then does
// what xe does under its VM lock (spec §3–§6): plan the drm_gpuvm ops, apply
// them, set attributes, invalidate.
//
// Owns: its VmaTree (every VMA), counters, a reference on its file's SvmSpace, and one VMA
// reference on each BO it maps (held in the Device's BO table). Locking: every public member takes
// the VM lock itself: bind and madvise write-killable, query read-interruptible, inspection
// read-uninterruptible. Lock order: VM lock -> Device::bo_mutex. Errors (positive errno in Status):
// EINTR (signal at a wait), ENOENT (VM closed), EINVAL (range outside the VA space, placement
// rules), ENOMEM (allocation failure), EBUSY (binding a purgeable BO), ENOSPC (query buffer too
// small), EFAULT (PREFETCH of a mirror range without CPU pages), EINVAL
// (PREFETCH of a BO into a region outside its placement), EACCES (PREFETCH of
// a purged BO, uapi 7.1).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "drm_sim/core/function_ref.h"
#include "drm_sim/device/device.h"
#include "drm_sim/sync/sim_lock.h"
#include "drm_sim/vm/events.h"
#include "drm_sim/vm/gpuvm_plan.h"
#include "drm_sim/vm/vma_tree.h"

namespace drm_sim {

enum class BindOpKind : std::uint8_t {  // values of DRM_XE_VM_BIND_OP_*
  kMap = 0,
  kUnmap = 1,
  kMapUserptr = 2,
  kUnmapAll = 3,
  kPrefetch = 4,
};

// One validated bind op. For MAP kinds `map` describes the new VMA; for UNMAP
// and PREFETCH only map.range is used; for UNMAP_ALL only map.bo.
struct BindOp {
  BindOpKind op = BindOpKind::kMap;
  MapRequest map;
  std::uint32_t prefetch_region = 0;
};

enum class MadviseType : std::uint32_t {  // values of DRM_XE_MEM_RANGE_ATTR_*
  kPreferredLoc = 0,
  kAtomic = 1,
  kPat = 2,
  kPurgeableState = 3,  // uapi 7.1
};

// A validated madvise (spec §3 steps 1–3 already passed).
struct MadviseRequest {
  std::uint64_t start = 0;
  std::uint64_t range = 0;
  MadviseType type = MadviseType::kPat;
  std::int32_t devmem_fd = 0;
  std::uint16_t migration_policy = 0;
  std::uint16_t region_instance = 0;
  std::uint32_t value = 0;         // atomic / pat / purge state
  std::uint64_t retained_ptr = 0;  // 7.1, user pointer to a u32 (0 = none)
};

class Vm {
 public:
  Vm(std::shared_ptr<Device> dev, std::shared_ptr<SvmSpace> svm, std::uint32_t id,
     std::uint32_t create_flags);
  ~Vm();
  Vm(const Vm&) = delete;
  Vm& operator=(const Vm&) = delete;

  std::uint32_t id() const { return id_; }
  std::uint32_t create_flags() const { return flags_; }
  bool fault_mode() const;
  Device& device() { return *dev_; }

  // VM_BIND: all-or-nothing over the array. On any error, including EINTR,
  // the VM is exactly as before the call.
  Status bind(std::span<const BindOp> ops);

  // DRM_IOCTL_XE_MADVISE from step 4 on. resolve_devmem runs at step 6 (only
  // for PREFERRED_LOC with devmem_fd > 0). Nothing is undone after the split.
  Status madvise(const MadviseRequest& req, FunctionRef<Status()> resolve_devmem);

  // Attribute query: VMAs overlapping [start, start+range) with full bounds.
  // max == 0: only counts (into *count). Otherwise fills out with up to max
  // VMAs; ENOSPC when more overlap.
  Status query(std::uint64_t start, std::uint64_t range, std::size_t max, std::size_t* count,
               std::vector<Vma>* out);

  // A batch of GPU accesses from `tile` (simulator extension): each goes
  // through the GPU fault path of its VMA (spec §7). Stops at the first
  // failing access and returns its errno; results[i] gets each access's
  // status. EFAULT: no VMA (or no CPU mapping behind a mirror VMA), EPERM:
  // write/atomic to a READONLY VMA, EACCES: atomic policy or purged BO
  // memory (7.1), ENOMEM: VRAM exhausted, EINVAL: tile out of range. BO VMAs
  // go through the device's BoStore, userptr VMAs through the file's
  // SvmSpace (the process's pages).
  Status gpu_access(std::span<MemAccess> accesses, std::uint16_t tile, std::span<int> results);

  // The garbage collector after a CPU munmap of r (spec §7): mirror VMAs
  // bound with MADVISE_AUTORESET are cut at r's ends, the parts inside r
  // return to their post-bind attributes, and default-attribute mirror
  // neighbours merge (as xe rebinds them). Takes the VM lock uninterruptibly.
  //
  // r joins the VM's garbage-collection queue, which is then run in order.
  // Each range is all or nothing: an allocation failure (ENOMEM, injected
  // or the VMA limit) undoes that range's cuts and resets and leaves it and
  // every later range queued. The queue runs again at the start of the next
  // bind, madvise, query or GPU access batch of this VM (xe runs its
  // collector from the fault handler and a worker): bind, madvise and GPU
  // access fail with the collector's ENOMEM, changing nothing else, while it
  // cannot finish; a query then reports the VMAs as they are. Upstream xe
  // instead bans the VM when its collector fails (xe_vm_kill); drm_sim
  // keeps the work queued so that a reset is never lost and the VM lives.
  void cpu_unmapped(VaRange r);
  // Autoreset work still queued (inspection, tests).
  std::size_t gc_pending();

  // VM_DESTROY / file close: marks the VM closed and removes every VMA.
  void close();
  bool closed() const;

  // The ops a bind op would produce now (regression-test facility).
  GpuvmOps plan(const BindOp& op);

  // Inspection (read lock, uninterruptible).
  std::vector<Vma> vmas();
  std::size_t vma_count();
  std::size_t memory_bytes();
  VmCounters counters();
  std::string check_invariants();  // empty when every invariant holds

 private:
  struct Journal;
  Status apply_bind_op(const BindOp& op, Journal& j);
  Status prefetch(const BindOp& op);
  Status prefetch_bo(const Vma& v, VaRange r, std::uint32_t region);
  // The garbage collector (write lock held): runs the queue in order;
  // ENOMEM when a range could not be finished (it stays queued, undone).
  Status collect_garbage_locked();
  Status autoreset_locked(VaRange r, Journal& j);
  // Runs pending garbage collection before a read-locked call.
  Status collect_garbage();
  Status apply_ops(const GpuvmOps& ops, Journal* j);
  void insert_vma(const Vma& v, Journal* j);
  void erase_vma(const Vma& v, Journal* j);
  void replace_vma(const Vma& old, const Vma& v, Journal* j);
  // old gives way to pieces[0..n) that tile its range (a REMAP and the MAP
  // inside it): the same bookkeeping as replace_vma(old, pieces[0]) and
  // insert_vma of the rest, with one tree visit.
  void split_vma(const Vma& old, const Vma* pieces, int n, Journal* j);
  void note_inserted(const Vma& v, Journal* j);
  void note_replaced(const Vma& old, const Vma& v, Journal* j);
  std::uint32_t drop_mappings(const Vma& v);  // tiles whose mappings went
  Status bo_access(const Vma& v, std::uint16_t tile, MemAccess& a);
  void rollback(Journal& j);
  void release_pins(Journal& j);
  MapRequest widen_mirror(const MapRequest& req) const;
  void debug_check_invariants();

  std::shared_ptr<Device> dev_;
  std::shared_ptr<SvmSpace> svm_;
  const std::uint32_t id_;
  const std::uint32_t flags_;
  SimRwLock lock_;
  bool closed_ = false;  // guarded by lock_
  VmaTree tree_;         // guarded by lock_
  VmCounters counters_;  // guarded by lock_ (write)
  // CPU-unmapped ranges whose autoreset is still to run, oldest first
  // (guarded by lock_, write); gc_queued_ mirrors !gc_queue_.empty() for a
  // lock-free check on the read-locked paths.
  std::vector<VaRange> gc_queue_;
  std::atomic<bool> gc_queued_{false};
  std::atomic<std::uint64_t> queries_{0};
  // madvise scratch buffers, reused across calls (guarded by lock_, write).
  std::unique_ptr<Journal> scratch_journal_;  // bind's undo journal, reused (write lock)
  GpuvmOps scratch_ops_;
  std::vector<Vma*> scratch_vmas_;
  std::vector<std::uint32_t> scratch_bos_;
};

}  // namespace drm_sim
