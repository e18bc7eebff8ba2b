// Buffer-object residency: chunks of BO backing in system memory or VRAM,
// GPU accesses through BO VMAs, eviction and purging (spec §3, §7, §8).
#include "drm_sim/mem/bo_store.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

namespace drm_sim {

namespace {

constexpr std::uint64_t kPage = kPage4K;
constexpr std::uint8_t kAtomicGlobal = 2;  // DRM_XE_ATOMIC_GLOBAL
constexpr std::uint8_t kAtomicCpu = 3;     // DRM_XE_ATOMIC_CPU

std::uint8_t tile_bit(std::uint16_t tile) {
  return static_cast<std::uint8_t>(1u << tile);
}

}  // namespace

BoStore::BoStore(DeviceMemory& mem, const Profile& profile, const std::atomic<EventSink*>& sink)
    : mem_(mem), profile_(profile), sink_(sink) {}

BoStore::~BoStore() {
  std::lock_guard<std::mutex> g(mem_.mutex());
  for (auto& [id, b] : bos_) free_backing_locked(b);
  bos_.clear();
}

void BoStore::add(std::uint32_t bo, std::uint64_t size, std::uint32_t placement) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  Backing& b = bos_[bo];
  b.size = size;
  b.placement = placement;
  b.chunks.resize(size / kChunk + (size % kChunk != 0 ? 1 : 0));  // no overflow near 2^64
}

void BoStore::remove(std::uint32_t bo) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  auto it = bos_.find(bo);
  if (it == bos_.end()) return;
  set_purgeable_locked(it->second, false);
  free_backing_locked(it->second);
  bos_.erase(it);
}

void BoStore::set_purgeable(std::uint32_t bo, bool purgeable) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  if (Backing* b = find_locked(bo)) set_purgeable_locked(*b, purgeable);
}

void BoStore::set_purgeable_locked(Backing& b, bool purgeable) {
  if (b.purgeable == purgeable) return;
  b.purgeable = purgeable;
  mem_.add_purgeable_hint_locked(purgeable ? 1 : -1);
}

bool BoStore::purged(std::uint32_t bo) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  const Backing* b = find_locked(bo);
  return b != nullptr && b->purged;
}

BoStore::Backing* BoStore::find_locked(std::uint32_t bo) {
  auto it = bos_.find(bo);
  return it == bos_.end() ? nullptr : &it->second;
}

std::uint64_t BoStore::chunk_size(const Backing& b, std::uint64_t index) const {
  return std::min(kChunk, b.size - index * kChunk);
}

std::byte* BoStore::sys_locked(Backing& b) {
  if (b.sys == nullptr) {
    void* p = mmap(nullptr, b.size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    b.sys = p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
  }
  return b.sys;
}

void BoStore::free_backing_locked(Backing& b) {
  for (ChunkState& c : b.chunks) {
    if (c.in_vram) c.vram->home->free_chunk_locked(c.vram);
    c = ChunkState{};
  }
  if (b.sys != nullptr) munmap(b.sys, b.size);
  b.sys = nullptr;
}

void BoStore::emit_locked(EventType type, std::uint32_t vm, std::uint32_t bo, std::uint64_t start,
                          std::uint64_t end, std::uint32_t tile) const {
  EventSink* s = sink_.load(std::memory_order_acquire);
  if (s == nullptr) return;
  Event e{type, vm, start, end, tile, 0};
  e.bo = bo;
  s->on_event(e);
}

void BoStore::zap_locked(std::uint32_t bo, ChunkState& c) {
  (void)bo;
  mem_.stats_locked().gpu_invalidations += c.ptes.size();
  c.ptes.clear();
}

Status BoStore::place_locked(std::uint32_t bo, Backing& b, std::uint64_t index, bool vram,
                             std::uint16_t tile, bool consult_plan) {
  ChunkState& c = b.chunks[index];
  const std::uint64_t size = chunk_size(b, index);
  const std::uint64_t off = index * kChunk;
  const bool data = profile_.backing == BackingMode::kData;
  if (c.populated && c.in_vram == vram && (!vram || c.vram->tile == tile)) return Status::ok();
  if (!vram) {
    if (c.in_vram) {
      to_sys_locked(bo, b, index, EventType::kMigrateToSys);
    } else {  // first population, in system memory: zero pages
      if (data && sys_locked(b) == nullptr) return Status::err(ENOMEM);
      if (!data) c.tags.assign(size / kPage, 0);
      c.populated = true;
    }
    return Status::ok();
  }
  // Into VRAM: allocate first (may evict or purge other chunks, even this BO's).
  auto ref = mem_.alloc_chunk_locked(this, chunk_key(bo, index), size, tile, consult_plan);
  if (!ref) return ref.status();
  if (b.purged) {  // purged while making room for itself
    mem_.free_chunk_locked(*ref);
    return Status::err(EACCES);
  }
  std::byte* dst = data ? mem_.vram_bytes_locked(tile, (*ref)->vram_offset) : nullptr;
  if (c.in_vram) {  // VRAM of another tile: move it across
    if (data) std::memcpy(dst, mem_.vram_bytes_locked(c.vram->tile, c.vram->vram_offset), size);
    c.vram->home->free_chunk_locked(c.vram);
  } else if (c.populated) {  // system memory -> VRAM
    if (data) std::memcpy(dst, b.sys + off, size);
    MemStats& st = mem_.stats_locked();
    ++st.migrations_to_vram;
    st.bytes_to_vram += size;
    const SimTime done = mem_.copy_engine_locked().submit(
        CopyJob{Bytes{size}, CopyDirection::kHostToVram}, mem_.clock().now());
    mem_.clock().advance_to(done);
    emit_locked(EventType::kMigrateToVram, 0, bo, off, off + size, tile);
  } else {  // first population: cleared VRAM
    if (data) std::memset(dst, 0, size);
    if (!data) c.tags.assign(size / kPage, 0);
  }
  zap_locked(bo, c);  // PTEs pointed at the old pages
  c.populated = true;
  c.in_vram = true;
  c.vram = *ref;
  return Status::ok();
}

void BoStore::to_sys_locked(std::uint32_t bo, Backing& b, std::uint64_t index, EventType why) {
  ChunkState& c = b.chunks[index];
  const std::uint64_t size = chunk_size(b, index);
  const std::uint64_t off = index * kChunk;
  const DeviceMemory::ChunkRef ref = c.vram;
  if (profile_.backing == BackingMode::kData) {
    // Host memory for the copy is mapped with MAP_NORESERVE: a failure here
    // is the host being out of address space, which the simulator does not survive.
    std::byte* sys = sys_locked(b);
    if (sys == nullptr) std::abort();
    std::memcpy(sys + off, mem_.vram_bytes_locked(ref->tile, ref->vram_offset), size);
  }
  zap_locked(bo, c);
  c.in_vram = false;
  MemStats& st = mem_.stats_locked();
  ++st.migrations_to_sys;
  st.bytes_to_sys += size;
  const SimTime done = mem_.copy_engine_locked().submit(
      CopyJob{Bytes{size}, CopyDirection::kVramToHost}, mem_.clock().now());
  mem_.clock().advance_to(done);
  emit_locked(why, 0, bo, off, off + size, ref->tile);
  ref->home->free_chunk_locked(ref);
}

void BoStore::discard_locked(std::uint32_t bo, Backing& b) {
  for (ChunkState& c : b.chunks) zap_locked(bo, c);
  free_backing_locked(b);
  b.purged = true;
  set_purgeable_locked(b, false);  // nothing left to discard
  ++mem_.stats_locked().purges;
  emit_locked(EventType::kPurge, 0, bo, 0, b.size, 0);
}

void BoStore::evict_chunk_locked(DeviceMemory::ChunkRef c) {
  const auto bo = static_cast<std::uint32_t>(c->addr >> 32);
  const std::uint64_t index = c->addr & 0xffffffffu;
  Backing* b = find_locked(bo);
  if (b == nullptr) return;
  to_sys_locked(bo, *b, index, EventType::kEvict);
}

bool BoStore::purge_chunk_locked(DeviceMemory::ChunkRef c) {
  const auto bo = static_cast<std::uint32_t>(c->addr >> 32);
  Backing* b = find_locked(bo);
  if (b == nullptr || !b->purgeable) return false;
  discard_locked(bo, *b);
  return true;
}

Status BoStore::populate(std::uint32_t vm_id, std::uint32_t bo, std::uint64_t offset,
                         std::uint64_t size, std::uint8_t tiles) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  Backing* b = find_locked(bo);
  if (b == nullptr || offset + size > b->size) return Status::err(EFAULT);
  if (b->purged || size == 0) return Status::ok();
  auto want = decide_bo_placement(b->placement, 0, AccessKind::kRead, profile_, 0);
  if (!want) return want.status();
  for (std::uint64_t i = offset / kChunk; i * kChunk < offset + size; ++i) {
    DRM_SIM_TRY(place_locked(bo, *b, i, want->vram, want->tile, /*consult_plan=*/false));
    ChunkState& c = b->chunks[i];
    auto p =
        std::find_if(c.ptes.begin(), c.ptes.end(), [&](const Pte& x) { return x.vm == vm_id; });
    if (p == c.ptes.end()) {
      c.ptes.push_back(Pte{vm_id, tiles});
    } else {
      p->tiles = static_cast<std::uint8_t>(p->tiles | tiles);
    }
  }
  return Status::ok();
}

Status BoStore::prefetch(std::uint32_t vm_id, std::uint32_t bo, std::uint64_t offset,
                         std::uint64_t size, std::uint16_t tile, bool want_vram) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  Backing* b = find_locked(bo);
  if (b == nullptr || offset + size > b->size) return Status::err(EFAULT);
  if (b->purged) return Status::err(EACCES);
  auto pref = decide_bo_placement(b->placement, 0, AccessKind::kRead, profile_, tile);
  if (!pref) return pref.status();
  Placement where = *pref;
  // System memory only when the placement has it; VRAM only when it has VRAM.
  if (!want_vram && (b->placement & 1u) != 0) where.vram = false;
  for (std::uint64_t i = offset / kChunk; i * kChunk < offset + size; ++i) {
    const bool moves = !b->chunks[i].populated || b->chunks[i].in_vram != where.vram;
    if (moves) DRM_SIM_TRY(mem_.plan().on_wait(WaitKind::kInterruptible));
    DRM_SIM_TRY(place_locked(bo, *b, i, where.vram, where.tile));
    ChunkState& c = b->chunks[i];
    auto p =
        std::find_if(c.ptes.begin(), c.ptes.end(), [&](const Pte& x) { return x.vm == vm_id; });
    if (p == c.ptes.end()) {
      c.ptes.push_back(Pte{vm_id, tile_bit(tile)});
    } else {
      p->tiles = static_cast<std::uint8_t>(p->tiles | tile_bit(tile));
    }
  }
  return Status::ok();
}

void BoStore::charge_access_locked(bool in_vram, std::uint32_t size) {
  if (!in_vram && profile_.features.discrete) {
    ++mem_.stats_locked().remote_accesses;
    mem_.clock().advance(remote_access_time(1, profile_.timing));
  } else {
    mem_.clock().advance(vram_access_time(Bytes{size}, profile_.timing));
  }
}

Status BoStore::gpu_access(const BoGpuRef& ref, std::uint16_t tile, MemAccess& a) {
  if (a.kind != AccessKind::kRead && ref.readonly) return Status::err(EPERM);
  if (a.size == 0 || (ref.offset & (kPage - 1)) + a.size > kPage) return Status::err(EINVAL);
  std::lock_guard<std::mutex> g(mem_.mutex());
  Backing* b = find_locked(ref.bo);
  if (b == nullptr || ref.offset + a.size > b->size) return Status::err(EFAULT);
  MemStats& st = mem_.stats_locked();
  ++st.gpu_accesses;
  if (b->purged) return Status::err(EACCES);  // 7.1: the content is gone
  auto want = decide_bo_placement(b->placement, ref.atomic, a.kind, profile_, tile);
  if (!want) return want.status();
  const std::uint64_t index = ref.offset / kChunk;
  ChunkState* c = &b->chunks[index];
  const auto mapped = [&] {
    return std::any_of(c->ptes.begin(), c->ptes.end(), [&](const Pte& p) {
      return p.vm == ref.vm_id && (p.tiles & tile_bit(tile)) != 0;
    });
  };
  // A resident chunk stays where it is while its BO's placement allows it
  // there (as a validated TTM BO does); an atomic that needs VRAM moves it.
  const bool smem_allowed = (b->placement & 1u) != 0;
  const bool placed = c->populated && (c->in_vram || !want->vram ||
                                       (smem_allowed && a.kind != AccessKind::kAtomic));
  if (!(placed && mapped())) {
    if (ref.fault_mode) {
      ++st.gpu_faults;
      mem_.clock().advance(SimTime::from_us(profile_.timing.fault_latency_us));
      const std::uint64_t lo = index * kChunk;
      emit_locked(EventType::kGpuFault, ref.vm_id, ref.bo, lo, lo + chunk_size(*b, index), tile);
    }
    if (!placed) {
      // The wait for the migration copy (interruptible) comes before
      // anything moves, so an interrupted fault leaves the chunk as it was.
      if (ref.fault_mode && (want->vram || c->in_vram)) {
        DRM_SIM_TRY(mem_.plan().on_wait(WaitKind::kInterruptible));
      }
      Status s = Status::err(ENOMEM);
      for (int attempt = 0; attempt < 3 && !s.is_ok(); ++attempt) {  // xe retries 3 times
        s = place_locked(ref.bo, *b, index, want->vram, want->tile);
        if (s.error() == EACCES) break;  // purged meanwhile
      }
      DRM_SIM_TRY(s);
    }
    auto p = std::find_if(c->ptes.begin(), c->ptes.end(),
                          [&](const Pte& x) { return x.vm == ref.vm_id; });
    if (p == c->ptes.end()) {
      c->ptes.push_back(Pte{ref.vm_id, tile_bit(tile)});
    } else {
      p->tiles = static_cast<std::uint8_t>(p->tiles | tile_bit(tile));
    }
  } else if (c->in_vram) {
    c->vram->home->touch_locked(c->vram);
  }
  charge_access_locked(c->in_vram, a.size);
  return access_chunk_locked(*b, ref.offset, a);
}

Status BoStore::access_chunk_locked(Backing& b, std::uint64_t offset, MemAccess& a) {
  const std::uint64_t index = offset / kChunk;
  ChunkState& c = b.chunks[index];
  const std::uint64_t in_chunk = offset - index * kChunk;
  if (profile_.backing == BackingMode::kTag) {
    apply_tag_access(a, c.tags[in_chunk / kPage]);
    return Status::ok();
  }
  std::byte* bytes = c.in_vram
                         ? mem_.vram_bytes_locked(c.vram->tile, c.vram->vram_offset) + in_chunk
                         : b.sys + offset;
  return apply_byte_access(a, bytes, offset);
}

Status BoStore::cpu_access(std::uint32_t bo, std::uint64_t offset, std::uint8_t atomic,
                           MemAccess& a) {
  if (a.size == 0 || (offset & (kPage - 1)) + a.size > kPage) {
    return Status::err(EINVAL);
  }
  std::lock_guard<std::mutex> g(mem_.mutex());
  Backing* b = find_locked(bo);
  if (b == nullptr || offset + a.size > b->size) {
    return Status::err(EFAULT);
  }
  if (b->purged) {
    return Status::err(EFAULT);  // SIGBUS: the content is gone
  }
  const bool smem_allowed = (b->placement & 1u) != 0;
  const bool cpu_atomics = atomic == kAtomicGlobal || atomic == kAtomicCpu;
  const bool to_smem = smem_allowed && cpu_atomics;
  if (to_smem) {
    const bool any_vram = std::any_of(b->chunks.begin(), b->chunks.end(),
                                      [](const ChunkState& c) { return c.in_vram; });
    if (any_vram) {  // the CPU fault handler moves the whole BO
      ++mem_.stats_locked().cpu_faults;
      for (std::uint64_t i = 0; i < b->chunks.size(); ++i) {
        if (b->chunks[i].in_vram) {
          to_sys_locked(bo, *b, i, EventType::kMigrateToSys);
        }
      }
    }
  }
  const std::uint64_t index = offset / kChunk;
  if (!b->chunks[index].populated) {
    auto want = decide_bo_placement(b->placement, 0, AccessKind::kRead, profile_, 0);
    if (!want) {
      return want.status();
    }
    Status s = place_locked(bo, *b, index, want->vram && !to_smem, want->tile);
    if (!s.is_ok() && s.error() == ENOMEM && want->vram && smem_allowed) {
      s = place_locked(bo, *b, index, /*vram=*/false, 0);  // no room in VRAM: system memory
    }
    if (s.error() == EACCES) {
      return Status::err(EFAULT);  // purged while making room
    }
    DRM_SIM_TRY(s);
  }
  return access_chunk_locked(*b, offset, a);
}

std::uint32_t BoStore::unmap_vm(std::uint32_t bo, std::uint32_t vm_id) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  Backing* b = find_locked(bo);
  if (b == nullptr) return 0;
  std::uint32_t tiles = 0;
  for (ChunkState& c : b->chunks) {
    std::erase_if(c.ptes, [&](const Pte& p) {
      if (p.vm == vm_id) tiles |= p.tiles;
      return p.vm == vm_id;
    });
  }
  return tiles;
}

std::optional<BoStore::PageInfo> BoStore::page_info(std::uint32_t bo, std::uint64_t offset) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  Backing* b = find_locked(bo);
  if (b == nullptr || offset >= b->size) return std::nullopt;
  const ChunkState& c = b->chunks[offset / kChunk];
  return PageInfo{c.populated, c.in_vram, c.in_vram ? c.vram->tile : std::uint16_t{0}};
}

std::uint64_t BoStore::vram_bytes(std::uint32_t bo) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  Backing* b = find_locked(bo);
  if (b == nullptr) return 0;
  std::uint64_t n = 0;
  for (std::uint64_t i = 0; i < b->chunks.size(); ++i) {
    if (b->chunks[i].in_vram) n += chunk_size(*b, i);
  }
  return n;
}

std::uint64_t BoStore::metadata_bytes(std::uint32_t bo) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  Backing* b = find_locked(bo);
  if (b == nullptr) return 0;
  std::uint64_t n = b->chunks.capacity() * sizeof(ChunkState);
  for (const ChunkState& c : b->chunks) {
    n += c.tags.capacity() * sizeof(std::uint64_t) + c.ptes.capacity() * sizeof(Pte);
  }
  return n;
}

}  // namespace drm_sim
