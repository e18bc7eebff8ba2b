// drm_sim/mem/bo_store.h — where the pages of buffer objects live: their
// backing in system memory or a tile's VRAM, their GPU mappings per VM and
// tile, GPU accesses through BO VMAs, eviction and (uapi 7.1) purging.
//
//   BO (size S)    [---------------|---------------|--------)   2 MiB chunks
//   chunk state     V (tile 0)      s (evicted)     - (never populated)
//   GPU PTEs        vm1: tiles 0x1  none            none
//
// A BO's backing is made of 2 MiB chunks (the last one shorter), each
// populated on first need (a bind on a non-fault VM, or a GPU fault) and
// then resident either in system memory or in one VRAM chunk taken from
// DeviceMemory, where it joins the same LRU as SVM chunks: under pressure it
// is evicted to system memory (content kept), or discarded when the BO is
// purgeable. Contents: data mode keeps real bytes (VRAM chunk bytes, or a
// per-BO system memory copy mapped on first use); tag mode keeps one 64-bit
// content tag per page (8 bytes of metadata per resident 4 KiB page).
//
// Owns: one Backing per BO of the device (added when the BO is created,
// removed when it is freed), and its VRAM chunks.
// Locking: the device's memory mutex (DeviceMemory::mutex()) guards
// everything; public members take it. Lock order: VM lock -> Device::bo_mutex
// -> memory mutex. Event sinks are called with the memory mutex held.
// Errors (positive errno): EFAULT access outside the BO or unknown BO, or a
// CPU access to purged memory (7.1; the kernel sends SIGBUS),
// EACCES GPU atomic forbidden by the BO's atomic policy and placement, or
// access to purged memory (7.1), EINVAL malformed access, ENOMEM VRAM
// exhausted with nothing evictable (or an injected allocation failure),
// EINTR a signal while waiting for a migration copy (GPU faults only).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "drm_sim/core/status.h"
#include "drm_sim/mem/svm.h"
#include "drm_sim/vm/events.h"

namespace drm_sim {

// A GPU access through a BO VMA, as the VM resolved it (under its lock).
struct BoGpuRef {
  std::uint32_t vm_id = 0;
  std::uint32_t bo = 0;
  std::uint64_t offset = 0;  // BO offset of the access (its page)
  std::uint8_t atomic = 0;   // the BO's atomic attribute (DRM_XE_ATOMIC_*)
  bool readonly = false;     // READONLY VMA
  bool fault_mode = false;   // the VM faults (else an unmapped chunk is rebound silently)
};

class BoStore final : public ChunkOwner {
 public:
  static constexpr std::uint64_t kChunk = 2ull << 20;

  BoStore(DeviceMemory& mem, const Profile& profile, const std::atomic<EventSink*>& sink);
  ~BoStore() override;
  BoStore(const BoStore&) = delete;
  BoStore& operator=(const BoStore&) = delete;

  // BO lifetime (the Device calls these with its bo_mutex held).
  void add(std::uint32_t bo, std::uint64_t size, std::uint32_t placement);
  void remove(std::uint32_t bo);
  // 7.1: every VMA mapping the BO is DONTNEED (or no longer).
  void set_purgeable(std::uint32_t bo, bool purgeable);
  // 7.1: the backing was discarded (sticky).
  bool purged(std::uint32_t bo);

  // Populates [offset, offset+size) of the BO where its placement prefers
  // (its first VRAM region, else system memory) and maps it for vm on
  // `tiles` (VM_BIND on a non-fault VM, or with IMMEDIATE). A purged BO gets
  // no backing.
  Status populate(std::uint32_t vm_id, std::uint32_t bo, std::uint64_t offset, std::uint64_t size,
                  std::uint8_t tiles);
  // VM_BIND PREFETCH: [offset, offset+size) resident at `where` (system
  // memory, or VRAM of where.tile when the BO's placement has it; else
  // where the placement allows) and mapped for vm on tile.
  Status prefetch(std::uint32_t vm_id, std::uint32_t bo, std::uint64_t offset, std::uint64_t size,
                  std::uint16_t tile, bool want_vram);
  // One GPU access from `tile` (a.addr is ignored; ref.offset says where):
  // uses vm's mapping of the chunk when it exists on that tile and the chunk
  // sits where the access needs it; else faults (fault-mode VMs: counted,
  // fault latency, an event) or rebinds (other VMs), placing the chunk per
  // decide_bo_placement().
  Status gpu_access(const BoGpuRef& ref, std::uint16_t tile, MemAccess& a);
  // One CPU access at BO offset `offset` through a CPU mapping of the BO
  // (a.addr is ignored). The pages are used where they are (VRAM through the
  // BAR: nothing moves, no GPU mapping changes), except that when `atomic`
  // (the BO-wide attribute) is CPU or GLOBAL and the placement has system
  // memory, a touch that finds any chunk of the BO in VRAM is a CPU fault
  // (spec §3: such a BO lost its CPU mappings): every VRAM chunk of the BO
  // moves to system memory (cpu_faults, migrations_to_sys, kMigrateToSys
  // events, GPU PTEs of the moved chunks zapped, copy time charged). A chunk
  // never populated is populated where a bind would put it (system memory
  // under CPU/GLOBAL atomics).
  Status cpu_access(std::uint32_t bo, std::uint64_t offset, std::uint8_t atomic, MemAccess& a);
  // vm no longer maps the BO through some VMA, or madvise changed one: drop
  // vm's mappings of it (PTE zap). Returns the tiles that had any.
  std::uint32_t unmap_vm(std::uint32_t bo, std::uint32_t vm_id);

  // Inspection (tests).
  struct PageInfo {
    bool populated;
    bool in_vram;
    std::uint16_t tile;
  };
  std::optional<PageInfo> page_info(std::uint32_t bo, std::uint64_t offset);
  // Bytes of the BO resident in VRAM.
  std::uint64_t vram_bytes(std::uint32_t bo);
  // Host bytes of metadata held for the BO's pages (tags, chunk records).
  std::uint64_t metadata_bytes(std::uint32_t bo);

  // --- ChunkOwner (memory mutex held) ---
  void evict_chunk_locked(DeviceMemory::ChunkRef c) override;
  bool purge_chunk_locked(DeviceMemory::ChunkRef c) override;

  static std::uint64_t chunk_key(std::uint32_t bo, std::uint64_t index) {
    return (std::uint64_t{bo} << 32) | index;
  }

 private:
  struct Pte {
    std::uint32_t vm;
    std::uint8_t tiles;
  };
  struct ChunkState {
    bool populated = false;
    bool in_vram = false;
    DeviceMemory::ChunkRef vram{};    // valid while in_vram
    std::vector<std::uint64_t> tags;  // tag mode: one per page, once populated
    std::vector<Pte> ptes;            // GPU mappings of the chunk
  };
  struct Backing {
    std::uint64_t size = 0;
    std::uint32_t placement = 0;
    bool purgeable = false;
    bool purged = false;
    std::byte* sys = nullptr;  // data mode: system memory copy (size bytes), mapped on first use
    std::vector<ChunkState> chunks;
  };

  Backing* find_locked(std::uint32_t bo);
  std::uint64_t chunk_size(const Backing& b, std::uint64_t index) const;
  std::byte* sys_locked(Backing& b);  // nullptr: out of host memory
  // Makes chunk `index` resident in VRAM of `tile` (vram) or system memory.
  // consult_plan: whether injected allocation failures apply (not at bind).
  Status place_locked(std::uint32_t bo, Backing& b, std::uint64_t index, bool vram,
                      std::uint16_t tile, bool consult_plan = true);
  void to_sys_locked(std::uint32_t bo, Backing& b, std::uint64_t index, EventType why);
  void zap_locked(std::uint32_t bo, ChunkState& c);
  void discard_locked(std::uint32_t bo, Backing& b);
  void set_purgeable_locked(Backing& b, bool purgeable);
  void free_backing_locked(Backing& b);
  void emit_locked(EventType type, std::uint32_t vm, std::uint32_t bo, std::uint64_t start,
                   std::uint64_t end, std::uint32_t tile) const;
  void charge_access_locked(bool in_vram, std::uint32_t size);
  // The access itself on the populated chunk holding `offset`, where it is.
  Status access_chunk_locked(Backing& b, std::uint64_t offset, MemAccess& a);

  DeviceMemory& mem_;
  const Profile& profile_;
  const std::atomic<EventSink*>& sink_;
  std::unordered_map<std::uint32_t, Backing> bos_;
};

}  // namespace drm_sim
