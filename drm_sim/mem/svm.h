// drm_sim/mem/svm.h — shared virtual memory: the simulated process address
// space behind CPU-address-mirror VMAs, where its pages live (system memory
// or a tile's VRAM), and GPU faults that move them.
//
//   CPU mapping  [------------------------------------------)   SvmSpace (per file)
//   pages         s s s s V V V V s s s s s s s s s s s s s s     s: system, V: VRAM chunk
//   GPU ranges   (vm 1)   [=======)                               populated chunks with PTEs
//
// DeviceMemory (one per device) owns the VRAM allocators (a BuddyAllocator per
// tile, created on first use), VRAM contents in data mode, the LRU of VRAM
// chunks used for eviction, the simulated clock and copy engine, and the
// statistics. SvmSpace (one per DrmFile) owns the CPU mappings, each page's
// state (16 bytes: content tag, VRAM page, location), the index of its VRAM
// chunks and every VM's GPU ranges over it. 4 KiB chunks and 4 KiB GPU
// ranges are kept in per-page tables of their mapping, created with the
// mapping's first one (8 bytes per page for chunks, 1 byte per page per VM
// for ranges); larger ones in B-trees.
//
// Locking: one memory mutex (DeviceMemory::mutex()) guards DeviceMemory and
// every SvmSpace of the device. Devices of one non-empty interconnect group
// share a single memory mutex, so a file's pages can live in a peer device's
// VRAM (uapi 7.0 devmem_fd placement) and either device's eviction can move
// them. Callers that also hold a VM lock take it first (VM lock -> memory
// mutex). Public SvmSpace members take the mutex.
// Errors (positive errno): EINVAL bad CPU ranges, EEXIST overlapping CPU map,
// EFAULT access outside any CPU mapping (a CPU or GPU segmentation fault),
// EACCES GPU atomic forbidden by the atomic policy, EPERM write to a
// read-only VMA, ENOMEM VRAM exhausted with nothing evictable.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "drm_sim/core/status.h"
#include "drm_sim/core/types.h"
#include "drm_sim/fault/placement.h"
#include "drm_sim/mem/buddy_allocator.h"
#include "drm_sim/mem/timing.h"
#include "drm_sim/profile/profile.h"
#include "drm_sim/sync/fault_plan.h"
#include "drm_sim/vm/events.h"

namespace drm_sim {

class SvmSpace;
class ChunkOwner;

struct MemStats {
  std::uint64_t gpu_accesses = 0;
  std::uint64_t gpu_faults = 0;  // accesses that had no usable GPU mapping
  std::uint64_t cpu_faults = 0;  // CPU touches of VRAM pages (and of CPU/GLOBAL-atomic VRAM BOs)
  std::uint64_t migrations_to_vram = 0;
  std::uint64_t migrations_to_sys = 0;
  std::uint64_t bytes_to_vram = 0;
  std::uint64_t bytes_to_sys = 0;
  std::uint64_t evictions = 0;          // VRAM chunks evicted under pressure
  std::uint64_t gpu_invalidations = 0;  // GPU ranges dropped (PTE zaps)
  std::uint64_t remote_accesses = 0;    // GPU accesses to system memory over the link
  std::uint64_t purges = 0;             // purgeable (7.1) BOs whose backing was discarded
  std::int64_t sim_time_ns = 0;
};

class DeviceMemory {
 public:
  DeviceMemory(const Profile& profile, FaultPlan& plan);
  ~DeviceMemory();
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;

  // Shared by every device of this device's interconnect group.
  std::mutex& mutex() { return *mu_; }
  MemStats stats();
  // Bytes of VRAM in use on `tile` (DEVICE_QUERY's `used`).
  std::uint64_t vram_used(std::uint16_t tile);

  // --- everything below: caller holds mutex() ---
  struct Chunk {
    ChunkOwner* owner;   // an SvmSpace (maybe a peer device's file) or a BoStore
    DeviceMemory* home;  // the device whose VRAM holds the chunk
    std::uint64_t addr;  // owner's key: SVM: CPU/GPU address of the first page;
                         // BO: BoStore::chunk_key(bo id, chunk index)
    std::uint64_t size;
    std::uint16_t tile;
    std::uint64_t vram_offset;
  };
  using ChunkRef = std::list<Chunk>::iterator;
  // Allocates VRAM for a chunk. When the tile is full it first discards
  // purgeable chunks (uapi 7.1 DONTNEED BOs: purge before evict), then evicts
  // least-recently-used chunks of this device's VRAM to system memory,
  // whichever owner (SvmSpace or BoStore) holds them.
  // consult_plan false: the FaultPlan's allocation failures do not apply
  // (BO pages populated by a bind, so that injected failures keep targeting
  // the bind's own allocations).
  Result<ChunkRef> alloc_chunk_locked(ChunkOwner* owner, std::uint64_t addr, std::uint64_t size,
                                      std::uint16_t tile, bool consult_plan = true);
  void free_chunk_locked(ChunkRef c);
  void touch_locked(ChunkRef c);  // most recently used
  std::byte* vram_bytes_locked(std::uint16_t tile, std::uint64_t offset);
  MemStats& stats_locked() { return stats_; }
  CopyEngine& copy_engine_locked() { return copy_; }
  SimClock& clock() { return clock_; }
  const Profile& profile() const { return profile_; }
  FaultPlan& plan() { return plan_; }
  // Owners holding purgeable VRAM chunks adjust this hint, so that an
  // allocation under pressure only looks for purgeable chunks when some exist.
  void add_purgeable_hint_locked(std::int64_t delta) { purgeable_hint_ += delta; }

 private:
  struct Tile {
    std::optional<BuddyAllocator> alloc;
    std::byte* data = nullptr;  // data mode: VRAM contents (lazily mapped)
    std::uint64_t size = 0;
  };
  Status ensure_tile_locked(std::uint16_t tile);

  const Profile& profile_;
  FaultPlan& plan_;
  std::shared_ptr<std::mutex> mu_;  // per interconnect group (or per device)
  std::vector<Tile> tiles_;
  std::list<Chunk> lru_;    // front = least recently used
  std::list<Chunk> spare_;  // freed nodes, reused by the next allocation (no malloc)
  std::int64_t purgeable_hint_ = 0;
  SimClock clock_;
  CopyEngine copy_;
  MemStats stats_;
};

// What DeviceMemory's LRU asks of whoever owns a VRAM chunk. Called with the
// memory mutex held; neither call may allocate VRAM.
class ChunkOwner {
 public:
  virtual ~ChunkOwner() = default;
  // Moves the chunk's pages to system memory (content kept), zaps the GPU
  // mappings of it and frees the chunk (DeviceMemory::free_chunk_locked).
  virtual void evict_chunk_locked(DeviceMemory::ChunkRef c) = 0;
  // Purge before evict (uapi 7.1): if the chunk's content may be discarded,
  // discards it (and frees the chunk) and returns true.
  virtual bool purge_chunk_locked(DeviceMemory::ChunkRef) { return false; }
};

// One GPU or CPU access. In data mode WRITE copies `size` bytes from data,
// READ copies them to data, ATOMIC adds `value` to the 8-byte word at addr
// and returns the old word in `value`. In tag mode each page's content is a
// 64-bit tag: WRITE sets every touched page's tag to `value`, READ returns
// the tag of the page at addr in `value`, ATOMIC adds `value` to that tag.
struct MemAccess {
  std::uint64_t addr = 0;
  std::uint32_t size = 0;
  AccessKind kind = AccessKind::kRead;
  std::uint64_t value = 0;
  std::byte* data = nullptr;
};

// The access itself, once its page is found (SvmSpace and BoStore share
// these). Tag mode: a on the page's tag. Data mode: a on the bytes at
// `bytes`; `align_off` is the offset an ATOMIC must be 8-byte aligned at.
// Errors: EFAULT for READ/WRITE without data, EINVAL for an ATOMIC that is
// not 8 bytes at an 8-byte aligned offset.
void apply_tag_access(MemAccess& a, std::uint64_t& tag);
Status apply_byte_access(MemAccess& a, std::byte* bytes, std::uint64_t align_off);

// The VMA facts a GPU fault needs (copied out under the VM lock).
struct FaultVma {
  VaRange range;
  MemAttrs attrs;
  bool readonly = false;
  // uapi 7.0: the device named by attrs.devmem_fd when it is a peer (another
  // device of the interconnect group; the caller keeps it alive), and the
  // tile of its region_instance. Null: the fd names this device (then
  // peer_tile is the region's tile here) or nothing any more (closed fd:
  // the faulting tile's VRAM).
  DeviceMemory* peer = nullptr;
  std::uint16_t peer_tile = 0;
  bool fd_is_self = false;
};

class SvmSpace final : public ChunkOwner {
 public:
  SvmSpace(DeviceMemory& mem, const Profile& profile);
  ~SvmSpace() override;
  SvmSpace(const SvmSpace&) = delete;
  SvmSpace& operator=(const SvmSpace&) = delete;

  // The simulated process's anonymous mappings.
  Status cpu_map(std::uint64_t addr, std::uint64_t size);
  // Unmaps [addr, addr+size): GPU ranges over it are invalidated in every VM
  // and its VRAM freed. Holes are fine. Returns the unmapped extents.
  Result<std::vector<VaRange>> cpu_unmap(std::uint64_t addr, std::uint64_t size);
  // A CPU access: pages in VRAM move back to system memory first (HMM).
  Status cpu_access(MemAccess& a);
  // Whether any anonymous mapping overlaps r (BO mappings are not here:
  // DrmFile's CpuBoMappings; GPU accesses to them through mirror or userptr
  // VMAs fail with EFAULT like any unmapped address).
  bool cpu_mapped(VaRange r);

  // A GPU access by vm on tile through a mirror VMA: uses the GPU mapping
  // if one covers addr, else faults (chunk choice, placement, migration).
  Status gpu_access(std::uint32_t vm_id, const FaultVma& vma, std::uint16_t tile, MemAccess& a);

  // VM_BIND PREFETCH over a mirror VMA: populates every chunk of `range`
  // (inside vma) at `where` for `tile`, as faults would, without accessing.
  // EFAULT where the CPU mapping is missing.
  //
  // Faults and prefetch wait for each migration copy interruptibly (EINTR
  // from the device's FaultPlan or a pending signal). The wait is modelled
  // before the copy commits: an interrupted migration leaves its chunk
  // exactly as it was (pages, contents and GPU range), chunks populated
  // before it stay populated, and a restart converges on the same state.
  Status prefetch(std::uint32_t vm_id, const FaultVma& vma, VaRange range, std::uint16_t tile,
                  const Placement& where);

  // Userptr VMAs (MAP_USERPTR): the GPU range [vma.lo, vma.hi) maps the
  // process's memory at cpu_addr. Their GPU mappings are kept per VM and
  // tile like mirror ranges, and a CPU unmap of their pages invalidates them.
  struct UserptrVma {
    VaRange range;
    std::uint64_t cpu_addr = 0;
    bool readonly = false;
    bool fault_mode = false;  // else an invalidated mapping is revalidated silently
  };
  // The bind mapped it now (non-fault VM, or IMMEDIATE) on `tiles`.
  void userptr_bound(std::uint32_t vm_id, const UserptrVma& v, std::uint8_t tiles);
  // The VMA starting at gpu_start went away (or was cut, or madvise changed
  // it): forget its mapping. Returns the tiles that had it mapped.
  std::uint32_t userptr_unbound(std::uint32_t vm_id, std::uint64_t gpu_start);
  // A GPU access through a userptr VMA (a.addr is the GPU address): the
  // process's page, wherever it lives, without migrating it. EFAULT where the
  // process has no mapping, EPERM for writes to a READONLY VMA.
  Status userptr_access(std::uint32_t vm_id, const UserptrVma& v, std::uint16_t tile, MemAccess& a);

  // False until the first GPU range or VRAM chunk exists: VM paths that only
  // matter for populated memory (madvise splits and zaps) skip the memory
  // lock entirely while nothing was ever populated. Lock-free.
  bool ever_populated() const { return ever_populated_.load(std::memory_order_acquire); }

  // Drops vm's GPU ranges overlapping r (PTE zap); pages stay where they are.
  // Returns the tiles whose PTEs were zapped.
  std::uint32_t invalidate(std::uint32_t vm_id, VaRange r);
  // madvise split at `at`: a GPU range straddling it is dropped and its
  // pages evicted to system memory (spec §4).
  void split_at(std::uint32_t vm_id, std::uint64_t at);
  // A VM went away: drop all its GPU ranges.
  void forget_vm(std::uint32_t vm_id);

  // Inspection (tests): where the page at addr lives; nullopt outside mappings.
  struct PageInfo {
    bool in_vram;
    std::uint16_t tile;
    DeviceMemory* device;  // whose VRAM (in_vram only): this device's or a peer's
  };
  std::optional<PageInfo> page_info(std::uint64_t addr);
  // Inspection (tests): the content of the page holding addr, read where it
  // lives without moving it or touching the LRU: tag backing sets *tag, data
  // backing copies the page's 4 KiB into out (out.size() == 4096, else only
  // *tag is set). False outside mappings.
  bool peek_page(std::uint64_t addr, std::uint64_t* tag, std::span<std::byte> out);
  // GPU ranges of a VM, in address order.
  std::vector<VaRange> gpu_ranges(std::uint32_t vm_id);

  // --- caller holds the memory mutex ---
  void evict_chunk_locked(DeviceMemory::ChunkRef c) override;  // VRAM -> system

  // Where GPU faults and chunk migrations of this address space are
  // reported (kGpuFault, kMigrateToVram, kMigrateToSys, kEvict with bo 0 and
  // [start,end) the VA range), called with the memory mutex held. The slot
  // (the device's) must outlive this object; unset: no events.
  void set_event_sink(const std::atomic<EventSink*>* slot) { sink_ = slot; }

 private:
  void emit_locked(EventType type, std::uint32_t vm, VaRange r, std::uint32_t tile) const;
  void chunk_to_sys_locked(std::uint64_t chunk_addr, EventType why);
  const std::atomic<EventSink*>* sink_ = nullptr;
  // PageState::in_vram: 0 in system memory, else in VRAM and indexed by
  // size: kInChunk (a chunk of two or more pages, Index::chunks) or
  // kInPageChunk (a 4 KiB chunk, its mapping's page_chunks).
  static constexpr std::uint8_t kInChunk = 1;
  static constexpr std::uint8_t kInPageChunk = 2;
  struct PageState {  // 16 bytes per page
    std::uint64_t tag = 0;
    std::uint32_t vram_page = 0;  // page index within the tile's VRAM
    std::uint8_t in_vram = 0;     // 0, kInChunk or kInPageChunk
    std::uint8_t tile = 0;
    std::uint16_t dev = 0;  // VRAM of: 0 this device, k peer k-1 (Index::peers)
  };
  static_assert(sizeof(PageState) == 16);
  struct Mapping {
    std::uint64_t end = 0;
    std::vector<PageState> pages;
    std::byte* data = nullptr;  // data mode: the process's bytes
    // Per page: the 4 KiB VRAM chunk holding it, valid where the page's
    // in_vram is kInPageChunk. Empty until the mapping's first such chunk.
    std::vector<DeviceMemory::ChunkRef> page_chunks;
    // Per VM with 4 KiB GPU ranges here (few: searched in order): per page,
    // the PTE tiles of vm's 4 KiB GPU range over it, 0 for none.
    struct PageRanges {
      std::uint32_t vm;
      std::vector<std::uint8_t> tiles;
    };
    std::vector<PageRanges> page_ranges;
  };
  struct GpuRange {
    std::uint64_t end;
    std::uint8_t pte_tiles;
  };
  struct UserptrPte {  // one userptr VMA's GPU mapping
    std::uint64_t end;
    std::uint64_t cpu_addr;
    std::uint8_t pte_tiles;
  };
  void invalidate_userptr_locked(VaRange cpu);

  Mapping* mapping_of_locked(std::uint64_t addr, std::uint64_t* map_start);
  PageState* page_locked(std::uint64_t addr);
  // The VRAM chunk holding addr, a page of m (starting at map_start) that is
  // in VRAM; take_chunk_locked also removes it from the chunk index.
  DeviceMemory::ChunkRef chunk_of_locked(Mapping& m, std::uint64_t map_start, std::uint64_t addr);
  DeviceMemory::ChunkRef take_chunk_locked(Mapping& m, std::uint64_t map_start, std::uint64_t addr);
  // Calls f(addr) for every 4 KiB VRAM chunk in r, in address order.
  template <class F>
  void for_each_page_chunk_locked(VaRange r, F&& f);
  // One VM's GPU ranges: larger ones in a B-tree, 4 KiB ones in the
  // mappings' page_ranges (defined in svm.cpp).
  struct VmRanges;
  // vm's 4 KiB range table in m (one byte per page), or null; the _create
  // variant adds it.
  static std::uint8_t* page_range_tiles(Mapping& m, std::uint32_t vm);
  static std::uint8_t* page_range_tiles_create(Mapping& m, std::uint32_t vm);
  // Drops vm's GPU ranges overlapping r; returns how many and ORs their PTE
  // tiles into *tiles. m (starting at map_start): the mapping holding r if
  // the caller has it, else null.
  std::uint64_t drop_ranges_locked(std::uint32_t vm, VmRanges& vr, VaRange r, std::uint32_t* tiles,
                                   Mapping* m = nullptr, std::uint64_t map_start = 0);
  // Maps chunk for vm with PTEs on `tiles` (a new range, or replacing the
  // one starting there); m (starting at map_start) holds the chunk.
  void set_range_locked(VmRanges& vr, std::uint32_t vm, VaRange chunk, std::uint8_t tiles,
                        Mapping& m, std::uint64_t map_start);
  // m: the mapping holding the chunk (a chunk lies in one mapping), starting
  // at map_start.
  Status migrate_to_vram_locked(VaRange chunk, DeviceMemory& target, std::uint16_t tile, Mapping* m,
                                std::uint64_t map_start);
  // Moves a VRAM chunk already removed from the chunk index to system memory
  // (m: the mapping holding it, starting at map_start; null if unmapped).
  void unindexed_chunk_to_sys_locked(DeviceMemory::ChunkRef ref, EventType why, Mapping* m,
                                     std::uint64_t map_start);
  DeviceMemory& device_of_locked(const PageState& ps);
  std::uint16_t peer_slot_locked(DeviceMemory* dev);  // 0 for this device
  // Whether the page already sits where `where` wants it, or (with
  // migration_policy ONLY_SYSTEM_PAGES) in a peer's VRAM, mapped remotely.
  bool placed_locked(const PageState& ps, const FaultVma& vma, const Placement& where);
  // vm's GPU ranges and the first one starting above an address, as a GPU
  // access found them (defined in svm.cpp).
  struct RangeLookup;
  // Makes the chunk around addr resident at `where` and mapped for `tile`;
  // returns the populated range. m: the mapping holding addr if the caller
  // has it (starting at map_start), else null; seen: vm_id's ranges looked
  // up at addr if the caller has them, else null.
  Result<VaRange> populate_locked(std::uint32_t vm_id, const FaultVma& vma, std::uint16_t tile,
                                  std::uint64_t addr, const Placement& where, Mapping* m = nullptr,
                                  std::uint64_t map_start = 0, const RangeLookup* seen = nullptr);
  void migrate_chunk_to_sys_locked(std::uint64_t chunk_addr);
  // Every VRAM chunk overlapping r goes back to system memory.
  void evict_overlapping_locked(VaRange r);
  bool overlaps_vram_chunk_locked(VaRange r);
  // m (starting at map_start): the mapping holding r if the caller has it.
  void invalidate_all_vms_locked(VaRange r, Mapping* m = nullptr, std::uint64_t map_start = 0);
  Status do_access_locked(MemAccess& a);
  // Advances the clock by one GPU access to the page (local or remote).
  void charge_access_locked(const PageState& ps, std::uint32_t size);
  Status do_access_locked(MemAccess& a, Mapping& m, std::uint64_t map_start);

  DeviceMemory& mem_;
  const Profile& profile_;
  std::map<std::uint64_t, Mapping> maps_;  // by start
  // VRAM chunks of two or more pages by address and every VM's GPU ranges:
  // B-trees (absl, a private dependency, hence defined in svm.cpp).
  struct Index;
  std::unique_ptr<Index> ix_;

  std::atomic<bool> ever_populated_{false};
};

}  // namespace drm_sim
