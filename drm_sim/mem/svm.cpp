// Shared virtual memory: CPU mappings, page residency, GPU faults and the
// migrations between system memory and VRAM (spec §7).
#include "drm_sim/mem/svm.h"

#include <absl/container/btree_map.h>
#include <absl/container/inlined_vector.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>

namespace drm_sim {

namespace {

constexpr std::uint64_t kPage = kPage4K;

std::byte* map_anonymous(std::uint64_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                 -1, 0);
  return p == MAP_FAILED ? nullptr : static_cast<std::byte*>(p);
}

// Devices of one interconnect group share a memory mutex (svm.h, Locking).
std::shared_ptr<std::mutex> memory_mutex_for(const std::string& group) {
  if (group.empty()) return std::make_shared<std::mutex>();
  // Leaked on purpose: devices may be destroyed during static destruction.
  static auto* reg_mu = new std::mutex;
  static auto* reg = new std::map<std::string, std::weak_ptr<std::mutex>>;
  std::lock_guard<std::mutex> g(*reg_mu);
  std::weak_ptr<std::mutex>& slot = (*reg)[group];
  if (auto m = slot.lock()) return m;
  auto m = std::make_shared<std::mutex>();
  slot = m;
  return m;
}

}  // namespace

// ---------------------------------------------------------------- DeviceMemory

DeviceMemory::DeviceMemory(const Profile& profile, FaultPlan& plan)
    : profile_(profile),
      plan_(plan),
      mu_(memory_mutex_for(profile.interconnect_group)),
      tiles_(profile.num_tiles),
      copy_(profile.timing) {
  for (std::size_t t = 0; t < tiles_.size(); ++t) {
    if (const MemRegionDesc* r = profile.vram_for_tile(static_cast<std::uint16_t>(t))) {
      tiles_[t].size = r->size;
    }
  }
}

DeviceMemory::~DeviceMemory() {
  {
    // This device's own files are gone; chunks left here belong to files of
    // peer devices (uapi 7.0 placement): their pages go home to system memory.
    std::lock_guard<std::mutex> g(*mu_);
    while (!lru_.empty()) {
      const std::size_t before = lru_.size();
      lru_.front().owner->evict_chunk_locked(lru_.begin());
      if (lru_.size() == before) lru_.pop_front();  // not the owner's any more
    }
  }
  for (Tile& t : tiles_) {
    if (t.data != nullptr) munmap(t.data, t.size);
  }
}

MemStats DeviceMemory::stats() {
  std::lock_guard<std::mutex> g(*mu_);
  MemStats s = stats_;
  s.sim_time_ns = clock_.now().ns();
  return s;
}

std::uint64_t DeviceMemory::vram_used(std::uint16_t tile) {
  std::lock_guard<std::mutex> g(*mu_);
  if (tile >= tiles_.size() || !tiles_[tile].alloc) return 0;
  return tiles_[tile].alloc->used().v;
}

Status DeviceMemory::ensure_tile_locked(std::uint16_t tile) {
  if (tile >= tiles_.size() || tiles_[tile].size == 0) return Status::err(EINVAL);
  Tile& t = tiles_[tile];
  if (t.alloc) return Status::ok();
  const MemRegionDesc* r = profile_.vram_for_tile(tile);
  auto a = BuddyAllocator::make(Bytes{r->size}, Bytes{r->min_page_size}, &plan_);
  if (!a) return a.status();
  if (profile_.backing == BackingMode::kData) {
    t.data = map_anonymous(t.size);
    if (t.data == nullptr) return Status::err(ENOMEM);
  }
  t.alloc.emplace(std::move(*a));
  return Status::ok();
}

Result<DeviceMemory::ChunkRef> DeviceMemory::alloc_chunk_locked(ChunkOwner* owner,
                                                                std::uint64_t addr,
                                                                std::uint64_t size,
                                                                std::uint16_t tile,
                                                                bool consult_plan) {
  if (tile >= tiles_.size() || !tiles_[tile].alloc) DRM_SIM_TRY(ensure_tile_locked(tile));
  BuddyAllocator& alloc = *tiles_[tile].alloc;
  for (;;) {
    FaultPlan* const plan = alloc.fault_plan();
    if (!consult_plan) alloc.set_fault_plan(nullptr);
    auto b = alloc.alloc(Bytes{size});
    alloc.set_fault_plan(plan);
    if (b) {
      const Chunk c{owner, this, addr, size, tile, b->offset.v};
      if (spare_.empty()) return lru_.insert(lru_.end(), c);
      const ChunkRef node = spare_.begin();
      *node = c;
      lru_.splice(lru_.end(), spare_, node);
      return node;
    }
    if (b.status().error() != ENOSPC) return b.status();
    // Purge before evict: discard a purgeable chunk of this tile if any.
    if (purgeable_hint_ > 0) {
      // A purge may free several chunks (a whole BO): stop walking after it.
      bool purged = false;
      for (auto c = lru_.begin(); !purged && c != lru_.end();) {
        const auto next = std::next(c);
        purged = c->tile == tile && c->owner->purge_chunk_locked(c);
        c = next;
      }
      if (purged) continue;
    }
    // Evict the least recently used chunk of this tile and retry.
    auto victim =
        std::find_if(lru_.begin(), lru_.end(), [&](const Chunk& c) { return c.tile == tile; });
    if (victim == lru_.end()) return Status::err(ENOMEM);
    ++stats_.evictions;
    victim->owner->evict_chunk_locked(victim);
  }
}

void DeviceMemory::free_chunk_locked(ChunkRef c) {
  Tile& t = tiles_[c->tile];
  [[maybe_unused]] const Status s = t.alloc->free(VramOffset{c->vram_offset});
  // Data mode keeps freed VRAM's host pages (bounded by the VRAM size): the
  // next migration into them then costs a memcpy, not host page faults.
  spare_.splice(spare_.end(), lru_, c);  // the node is reused, not freed
}

void DeviceMemory::touch_locked(ChunkRef c) {
  lru_.splice(lru_.end(), lru_, c);
}

std::byte* DeviceMemory::vram_bytes_locked(std::uint16_t tile, std::uint64_t offset) {
  return tiles_[tile].data + offset;
}

// -------------------------------------------------------------------- SvmSpace

struct SvmSpace::VmRanges {
  absl::btree_map<std::uint64_t, GpuRange> tree;  // ranges of two or more pages, by start
  std::uint64_t pages = 0;                        // 4 KiB ranges: in the mappings' page_ranges
};

struct SvmSpace::Index {
  // B-trees: few allocations and cache misses on the fault path.
  absl::btree_map<std::uint64_t, DeviceMemory::ChunkRef> chunks;  // VRAM chunks by addr, but:
  std::uint64_t page_chunks = 0;          // 4 KiB VRAM chunks: in their Mapping::page_chunks
  std::map<std::uint32_t, VmRanges> gpu;  // vm -> GPU ranges
  std::vector<DeviceMemory*> peers;       // PageState::dev k names peers[k-1]
  std::map<std::uint32_t, std::map<std::uint64_t, UserptrPte>> userptr;  // vm -> GPU start -> PTE
};

struct SvmSpace::RangeLookup {
  VmRanges* ranges = nullptr;
  // ranges->tree.upper_bound(addr); unset when a 4 KiB range covers addr.
  absl::btree_map<std::uint64_t, GpuRange>::iterator above;
};

[[gnu::always_inline]] inline std::uint8_t* SvmSpace::page_range_tiles(Mapping& m,
                                                                       std::uint32_t vm) {
  for (Mapping::PageRanges& pr : m.page_ranges) {
    if (pr.vm == vm) return pr.tiles.data();
  }
  return nullptr;
}

std::uint8_t* SvmSpace::page_range_tiles_create(Mapping& m, std::uint32_t vm) {
  if (std::uint8_t* t = page_range_tiles(m, vm)) return t;
  m.page_ranges.push_back(Mapping::PageRanges{vm, std::vector<std::uint8_t>(m.pages.size(), 0)});
  return m.page_ranges.back().tiles.data();
}

std::uint64_t SvmSpace::drop_ranges_locked(std::uint32_t vm, VmRanges& vr, VaRange r,
                                           std::uint32_t* tiles, Mapping* m,
                                           std::uint64_t map_start) {
  std::uint64_t n = 0;
  auto& ranges = vr.tree;
  if (!ranges.empty()) {
    auto it = ranges.upper_bound(r.lo());
    if (it != ranges.begin() && std::prev(it)->second.end > r.lo()) --it;
    while (it != ranges.end() && it->first < r.hi()) {
      *tiles |= it->second.pte_tiles;
      it = ranges.erase(it);
      ++n;
    }
  }
  if (vr.pages == 0) return n;
  // 4 KiB ranges: the pages of r in each mapping it overlaps.
  auto drop_in = [&](Mapping& mp, std::uint64_t start) {
    std::uint8_t* const t = page_range_tiles(mp, vm);
    if (t == nullptr) return;
    const std::uint64_t lo = std::max(start, r.lo() & ~(kPage - 1));
    const std::uint64_t hi = std::min(mp.end, r.hi());
    for (std::uint64_t a = lo; a < hi && vr.pages != 0; a += kPage) {
      std::uint8_t& b = t[(a - start) / kPage];
      if (b != 0) {
        *tiles |= b;
        b = 0;
        --vr.pages;
        ++n;
      }
    }
  };
  if (m != nullptr && map_start <= r.lo() && r.hi() <= m->end) {
    drop_in(*m, map_start);
    return n;
  }
  auto it = maps_.upper_bound(r.lo());
  if (it != maps_.begin() && std::prev(it)->second.end > r.lo()) --it;
  for (; it != maps_.end() && it->first < r.hi(); ++it) drop_in(it->second, it->first);
  return n;
}

void SvmSpace::set_range_locked(VmRanges& vr, std::uint32_t vm, VaRange chunk, std::uint8_t tiles,
                                Mapping& m, std::uint64_t map_start) {
  if (chunk.size().v != kPage) {
    vr.tree.insert_or_assign(chunk.lo(), GpuRange{chunk.hi(), tiles});
    return;
  }
  std::uint8_t& t = page_range_tiles_create(m, vm)[(chunk.lo() - map_start) / kPage];
  if (t == 0) ++vr.pages;
  t = tiles;
}

DeviceMemory& SvmSpace::device_of_locked(const PageState& ps) {
  return ps.dev == 0 ? mem_ : *ix_->peers[ps.dev - 1u];
}

std::uint16_t SvmSpace::peer_slot_locked(DeviceMemory* dev) {
  if (dev == nullptr || dev == &mem_) return 0;
  auto& p = ix_->peers;
  const auto it = std::find(p.begin(), p.end(), dev);
  if (it != p.end()) return static_cast<std::uint16_t>(it - p.begin() + 1);
  p.push_back(dev);
  return static_cast<std::uint16_t>(p.size());
}

bool SvmSpace::placed_locked(const PageState& ps, const FaultVma& vma, const Placement& where) {
  // ONLY_SYSTEM_PAGES: pages in another device's VRAM stay there, mapped remotely.
  if (ps.in_vram != 0 && ps.dev != 0 && vma.attrs.migration_policy == 1) return true;
  if (!where.vram) return ps.in_vram == 0;
  return ps.in_vram != 0 && ps.tile == where.tile &&
         &device_of_locked(ps) == (where.peer != nullptr ? where.peer : &mem_);
}

namespace {

// uapi 7.0: a preferred location naming a device fd becomes that device's
// VRAM (a peer's, or this device's own when the fd names it); a closed fd
// falls back to the faulting tile's VRAM.
Placement resolve_devmem(Placement where, const FaultVma& vma, std::uint16_t tile) {
  if (!where.vram || where.device_fd <= 0) return where;
  where.device_fd = 0;
  if (vma.peer != nullptr) {
    where.peer = vma.peer;
    where.tile = vma.peer_tile;
  } else {
    where.tile = vma.fd_is_self ? vma.peer_tile : tile;
  }
  return where;
}

// The 4 KiB GPU ranges that can bound the chunk of a fault at addr (which no
// range covers), added to near: the nearest below and above addr inside the
// 2 MiB block around it, clipped to vma and cpu, when the 64 KiB block
// around addr fits them (else only a 4 KiB chunk can, whatever is near).
// pt: one byte per page of the mapping cpu, non-zero where a range starts.
// Leaves near sorted.
void near_page_ranges(const std::uint8_t* pt, std::uint64_t addr, VaRange vma, VaRange cpu,
                      absl::InlinedVector<VaRange, 4>& near) {
  const std::uint64_t lo64 = addr & ~(kPage64K - 1);
  if (lo64 + kPage64K < lo64) return;
  const VaRange b64 = VaRange::from_bounds(lo64, lo64 + kPage64K);
  if (!vma.contains(b64) || !cpu.contains(b64)) return;
  const std::uint64_t lo2m = addr & ~(kPage2M - 1);
  const std::uint64_t hi2m = lo2m + kPage2M > lo2m ? lo2m + kPage2M : cpu.hi();
  const std::uint64_t lo = std::max({lo2m, vma.lo(), cpu.lo()});
  const std::uint64_t hi = std::min({hi2m, vma.hi(), cpu.hi()});
  const std::uint64_t page_lo = addr & ~(kPage - 1);
  const std::size_t before = near.size();
  for (std::uint64_t a = page_lo; a > lo;) {
    a -= kPage;
    if (pt[(a - cpu.lo()) / kPage] != 0) {
      near.push_back(VaRange::from_bounds(a, a + kPage));
      break;
    }
  }
  for (std::uint64_t a = page_lo + kPage; a < hi; a += kPage) {
    if (pt[(a - cpu.lo()) / kPage] != 0) {
      near.push_back(VaRange::from_bounds(a, a + kPage));
      break;
    }
  }
  if (near.size() != before) {
    std::sort(near.begin(), near.end(),
              [](const VaRange& x, const VaRange& y) { return x.lo() < y.lo(); });
  }
}

}  // namespace

SvmSpace::SvmSpace(DeviceMemory& mem, const Profile& profile)
    : mem_(mem), profile_(profile), ix_(std::make_unique<Index>()) {}

SvmSpace::~SvmSpace() {
  std::lock_guard<std::mutex> g(mem_.mutex());
  for (auto& [addr, ref] : ix_->chunks) ref->home->free_chunk_locked(ref);
  ix_->chunks.clear();
  for (auto& [start, m] : maps_) {
    if (m.page_chunks.empty()) continue;
    for (std::size_t i = 0; i < m.pages.size(); ++i) {
      if (m.pages[i].in_vram == kInPageChunk) {
        m.page_chunks[i]->home->free_chunk_locked(m.page_chunks[i]);
      }
    }
  }
  ix_->page_chunks = 0;
  for (auto& [start, m] : maps_) {
    if (m.data != nullptr) munmap(m.data, m.end - start);
  }
}

Status SvmSpace::cpu_map(std::uint64_t addr, std::uint64_t size) {
  if (size == 0 || !is_aligned(addr, kPage) || !is_aligned(size, kPage) || addr + size < addr) {
    return Status::err(EINVAL);
  }
  std::lock_guard<std::mutex> g(mem_.mutex());
  auto it = maps_.lower_bound(addr + size);
  if (it != maps_.begin() && std::prev(it)->second.end > addr) return Status::err(EEXIST);
  Mapping m;
  m.end = addr + size;
  m.pages.resize(size / kPage);
  if (profile_.backing == BackingMode::kData) {
    m.data = map_anonymous(size);
    if (m.data == nullptr) return Status::err(ENOMEM);
  }
  maps_.emplace(addr, std::move(m));
  return Status::ok();
}

Result<std::vector<VaRange>> SvmSpace::cpu_unmap(std::uint64_t addr, std::uint64_t size) {
  if (size == 0 || !is_aligned(addr, kPage) || !is_aligned(size, kPage) || addr + size < addr) {
    return Status::err(EINVAL);
  }
  std::lock_guard<std::mutex> g(mem_.mutex());
  const std::uint64_t end = addr + size;
  std::vector<VaRange> gone;
  for (std::uint64_t from = addr;;) {
    auto it = maps_.upper_bound(from);
    if (it != maps_.begin() && std::prev(it)->second.end > from) --it;
    if (it == maps_.end() || it->first >= end) break;
    const std::uint64_t ms = it->first;
    const std::uint64_t lo = std::max(ms, addr);
    const std::uint64_t hi = std::min(it->second.end, end);
    const VaRange cut = VaRange::from_bounds(lo, hi);
    gone.push_back(cut);
    // The GPU loses its view of the range; VRAM chunks touching it go back
    // to system memory while the mapping still exists, so the pieces that
    // stay mapped keep their content.
    invalidate_all_vms_locked(cut, &it->second, ms);
    invalidate_userptr_locked(cut);
    evict_overlapping_locked(cut);
    Mapping m = std::move(it->second);
    maps_.erase(it);
    // Keep the pieces below and above the cut.
    // (The cut holds no VRAM chunk or GPU range any more: its part of
    // page_chunks and page_ranges goes.)
    const auto lo_page = static_cast<std::ptrdiff_t>((lo - ms) / kPage);
    const auto hi_page = static_cast<std::ptrdiff_t>((hi - ms) / kPage);
    if (ms < lo) {
      Mapping below;
      below.end = lo;
      below.pages.assign(m.pages.begin(), m.pages.begin() + lo_page);
      below.data = m.data;
      if (!m.page_chunks.empty()) {
        below.page_chunks.assign(m.page_chunks.begin(), m.page_chunks.begin() + lo_page);
      }
      for (const Mapping::PageRanges& pr : m.page_ranges) {
        below.page_ranges.push_back(Mapping::PageRanges{
            pr.vm, std::vector<std::uint8_t>(pr.tiles.begin(), pr.tiles.begin() + lo_page)});
      }
      maps_.emplace(ms, std::move(below));
    }
    if (hi < m.end) {
      Mapping above;
      above.end = m.end;
      above.pages.assign(m.pages.begin() + hi_page, m.pages.end());
      above.data = m.data == nullptr ? nullptr : m.data + (hi - ms);
      if (!m.page_chunks.empty()) {
        above.page_chunks.assign(m.page_chunks.begin() + hi_page, m.page_chunks.end());
      }
      for (const Mapping::PageRanges& pr : m.page_ranges) {
        above.page_ranges.push_back(Mapping::PageRanges{
            pr.vm, std::vector<std::uint8_t>(pr.tiles.begin() + hi_page, pr.tiles.end())});
      }
      maps_.emplace(hi, std::move(above));
    }
    if (m.data != nullptr) munmap(m.data + (lo - ms), hi - lo);
    from = hi;
  }
  return gone;
}

template <class F>
void SvmSpace::for_each_page_chunk_locked(VaRange r, F&& f) {
  if (ix_->page_chunks == 0) return;
  auto it = maps_.upper_bound(r.lo());
  if (it != maps_.begin() && std::prev(it)->second.end > r.lo()) --it;
  for (; it != maps_.end() && it->first < r.hi(); ++it) {
    const Mapping& m = it->second;
    if (m.page_chunks.empty()) continue;
    const std::uint64_t lo = std::max(it->first, r.lo() & ~(kPage - 1));
    const std::uint64_t hi = std::min(m.end, r.hi());
    for (std::uint64_t a = lo; a < hi; a += kPage) {
      if (m.pages[(a - it->first) / kPage].in_vram == kInPageChunk) f(a);
    }
  }
}

void SvmSpace::evict_overlapping_locked(VaRange r) {
  // Chunks are disjoint: only the last one starting at or below r.lo() can
  // reach into r from below.
  absl::InlinedVector<std::uint64_t, 8> victims;
  auto c = ix_->chunks.upper_bound(r.lo());
  if (c != ix_->chunks.begin()) {
    const auto below = std::prev(c);
    if (below->first + below->second->size > r.lo()) victims.push_back(below->first);
  }
  for (; c != ix_->chunks.end() && c->first < r.hi(); ++c) victims.push_back(c->first);
  // 4 KiB chunks too, all in address order.
  const std::size_t larger = victims.size();
  for_each_page_chunk_locked(r, [&](std::uint64_t a) { victims.push_back(a); });
  if (larger != 0 && victims.size() != larger) {
    std::inplace_merge(victims.begin(), victims.begin() + static_cast<std::ptrdiff_t>(larger),
                       victims.end());
  }
  for (const std::uint64_t cs : victims) migrate_chunk_to_sys_locked(cs);
}

SvmSpace::Mapping* SvmSpace::mapping_of_locked(std::uint64_t addr, std::uint64_t* map_start) {
  auto it = maps_.upper_bound(addr);
  if (it == maps_.begin()) return nullptr;
  --it;
  if (addr >= it->second.end) return nullptr;
  if (map_start != nullptr) *map_start = it->first;
  return &it->second;
}

SvmSpace::PageState* SvmSpace::page_locked(std::uint64_t addr) {
  std::uint64_t start = 0;
  Mapping* m = mapping_of_locked(addr, &start);
  return m == nullptr ? nullptr : &m->pages[(addr - start) / kPage];
}

[[gnu::always_inline]] inline DeviceMemory::ChunkRef SvmSpace::chunk_of_locked(
    Mapping& m, std::uint64_t map_start, std::uint64_t addr) {
  const std::uint64_t page = (addr - map_start) / kPage;
  if (m.pages[page].in_vram == kInPageChunk) return m.page_chunks[page];
  return std::prev(ix_->chunks.upper_bound(addr))->second;
}

[[gnu::always_inline]] inline DeviceMemory::ChunkRef SvmSpace::take_chunk_locked(
    Mapping& m, std::uint64_t map_start, std::uint64_t addr) {
  const std::uint64_t page = (addr - map_start) / kPage;
  if (m.pages[page].in_vram == kInPageChunk) {
    --ix_->page_chunks;
    return m.page_chunks[page];
  }
  const auto c = std::prev(ix_->chunks.upper_bound(addr));
  const DeviceMemory::ChunkRef ref = c->second;
  ix_->chunks.erase(c);
  return ref;
}

namespace {

// apply_tag_access, inlined into SvmSpace's access paths.
[[gnu::always_inline]] inline void tag_access(MemAccess& a, std::uint64_t& tag) {
  switch (a.kind) {
    case AccessKind::kRead:
      a.value = tag;
      break;
    case AccessKind::kWrite:
      tag = a.value;
      break;
    case AccessKind::kAtomic: {
      const std::uint64_t old = tag;
      tag = old + a.value;
      a.value = old;
      break;
    }
  }
}

}  // namespace

void apply_tag_access(MemAccess& a, std::uint64_t& tag) {
  tag_access(a, tag);
}

Status apply_byte_access(MemAccess& a, std::byte* bytes, std::uint64_t align_off) {
  switch (a.kind) {
    case AccessKind::kRead:
      if (a.data == nullptr) return Status::err(EFAULT);
      std::memcpy(a.data, bytes, a.size);
      break;
    case AccessKind::kWrite:
      if (a.data == nullptr) return Status::err(EFAULT);
      std::memcpy(bytes, a.data, a.size);
      break;
    case AccessKind::kAtomic: {
      if (a.size != 8 || (align_off & 7) != 0) return Status::err(EINVAL);
      std::uint64_t old = 0;
      std::memcpy(&old, bytes, 8);
      const std::uint64_t sum = old + a.value;
      std::memcpy(bytes, &sum, 8);
      a.value = old;
      break;
    }
  }
  return Status::ok();
}

Status SvmSpace::do_access_locked(MemAccess& a) {
  std::uint64_t map_start = 0;
  Mapping* m = mapping_of_locked(a.addr, &map_start);
  if (m == nullptr) return Status::err(EFAULT);
  return do_access_locked(a, *m, map_start);
}

Status SvmSpace::do_access_locked(MemAccess& a, Mapping& m, std::uint64_t map_start) {
  if (a.size == 0 || (a.addr & (kPage - 1)) + a.size > kPage) return Status::err(EINVAL);
  PageState* ps = &m.pages[(a.addr - map_start) / kPage];
  const std::uint64_t off = a.addr & (kPage - 1);
  if (profile_.backing == BackingMode::kTag) {
    tag_access(a, ps->tag);
    return Status::ok();
  }
  std::byte* bytes = ps->in_vram != 0 ? device_of_locked(*ps).vram_bytes_locked(
                                            ps->tile, std::uint64_t{ps->vram_page} * kPage) +
                                            off
                                      : m.data + (a.addr - map_start);
  return apply_byte_access(a, bytes, off);
}

void SvmSpace::invalidate_all_vms_locked(VaRange r, Mapping* m, std::uint64_t map_start) {
  std::uint32_t tiles = 0;
  for (auto& [vm, vr] : ix_->gpu) {
    mem_.stats_locked().gpu_invalidations += drop_ranges_locked(vm, vr, r, &tiles, m, map_start);
  }
}

Status SvmSpace::migrate_to_vram_locked(VaRange chunk, DeviceMemory& target, std::uint16_t tile,
                                        Mapping* m, std::uint64_t map_start) {
  PageState* ps = &m->pages[(chunk.lo() - map_start) / kPage];
  const std::uint64_t n = chunk.size().v / kPage;
  // Pages already in a VRAM chunk that is not exactly this one go home
  // first. Every page of an indexed VRAM chunk is marked in_vram, so a small
  // chunk whose pages all sit in system memory overlaps none: its pages are
  // checked instead of the chunk index.
  constexpr std::uint64_t kScanPages = 16;
  if (n > kScanPages ||
      std::any_of(ps, ps + n, [](const PageState& p) { return p.in_vram != 0; })) {
    evict_overlapping_locked(chunk);
  }
  const std::uint16_t slot = &target == &mem_ ? 0 : peer_slot_locked(&target);
  auto ref = target.alloc_chunk_locked(this, chunk.lo(), chunk.size().v, tile);
  if (!ref) return ref.status();
  const std::uint64_t first_vram_page = (*ref)->vram_offset / kPage;
  if (profile_.backing == BackingMode::kData) {
    // Every page is in system memory now: one contiguous copy.
    std::memcpy(target.vram_bytes_locked(tile, (*ref)->vram_offset),
                m->data + (chunk.lo() - map_start), chunk.size().v);
  }
  // (kInChunk stays a constant in the loop over a larger chunk's pages.)
  const auto mark = [&](std::uint8_t where) {
    for (std::uint64_t i = 0; i < n; ++i) {
      ps[i].in_vram = where;
      ps[i].tile = static_cast<std::uint8_t>(tile);
      ps[i].vram_page = static_cast<std::uint32_t>(first_vram_page + i);
      ps[i].dev = slot;
    }
  };
  if (n == 1) {
    mark(kInPageChunk);
  } else {
    mark(kInChunk);
  }
  if (n == 1) {
    if (m->page_chunks.empty()) m->page_chunks.resize(m->pages.size());
    m->page_chunks[(chunk.lo() - map_start) / kPage] = *ref;
    ++ix_->page_chunks;
  } else {
    ix_->chunks.emplace(chunk.lo(), *ref);
  }
  // The caller drops the GPU ranges over the chunk (their PTEs pointed at
  // the system pages).
  MemStats& st = mem_.stats_locked();
  ++st.migrations_to_vram;
  st.bytes_to_vram += chunk.size().v;
  emit_locked(EventType::kMigrateToVram, 0, chunk, tile);
  const SimTime done = mem_.copy_engine_locked().submit(
      CopyJob{chunk.size(), CopyDirection::kHostToVram}, mem_.clock().now());
  mem_.clock().advance_to(done);
  return Status::ok();
}

void SvmSpace::emit_locked(EventType type, std::uint32_t vm, VaRange r, std::uint32_t tile) const {
  EventSink* s = sink_ != nullptr ? sink_->load(std::memory_order_acquire) : nullptr;
  if (s == nullptr) return;
  Event e{type, vm, r.lo(), r.hi(), tile, 0};
  s->on_event(e);
}

void SvmSpace::migrate_chunk_to_sys_locked(std::uint64_t chunk_addr) {
  chunk_to_sys_locked(chunk_addr, EventType::kMigrateToSys);
}

void SvmSpace::chunk_to_sys_locked(std::uint64_t chunk_addr, EventType why) {
  std::uint64_t map_start = 0;
  Mapping* m = mapping_of_locked(chunk_addr, &map_start);
  if (m != nullptr && (chunk_addr & (kPage - 1)) == 0 &&
      m->pages[(chunk_addr - map_start) / kPage].in_vram == kInPageChunk) {
    unindexed_chunk_to_sys_locked(take_chunk_locked(*m, map_start, chunk_addr), why, m, map_start);
    return;
  }
  auto it = ix_->chunks.find(chunk_addr);
  if (it == ix_->chunks.end()) return;
  const DeviceMemory::ChunkRef ref = it->second;
  ix_->chunks.erase(it);
  unindexed_chunk_to_sys_locked(ref, why, m, map_start);
}

void SvmSpace::unindexed_chunk_to_sys_locked(DeviceMemory::ChunkRef ref, EventType why, Mapping* m,
                                             std::uint64_t map_start) {
  const std::uint64_t chunk_addr = ref->addr;
  const std::uint64_t size = ref->size;
  if (m != nullptr) {
    // The chunk's pages are one contiguous VRAM block: one copy back.
    if (profile_.backing == BackingMode::kData) {
      std::memcpy(m->data + (chunk_addr - map_start),
                  ref->home->vram_bytes_locked(ref->tile, ref->vram_offset), size);
    }
    PageState* ps = &m->pages[(chunk_addr - map_start) / kPage];
    for (std::uint64_t i = 0; i < size / kPage; ++i) {
      ps[i].in_vram = 0;
      ps[i].dev = 0;
    }
  }
  invalidate_all_vms_locked(VaRange::from_bounds(chunk_addr, chunk_addr + size), m, map_start);
  MemStats& st = mem_.stats_locked();
  ++st.migrations_to_sys;
  st.bytes_to_sys += size;
  emit_locked(why, 0, VaRange::from_bounds(chunk_addr, chunk_addr + size), ref->tile);
  const SimTime done = mem_.copy_engine_locked().submit(
      CopyJob{Bytes{size}, CopyDirection::kVramToHost}, mem_.clock().now());
  mem_.clock().advance_to(done);
  ref->home->free_chunk_locked(ref);
}

void SvmSpace::evict_chunk_locked(DeviceMemory::ChunkRef c) {
  chunk_to_sys_locked(c->addr, EventType::kEvict);
}

Status SvmSpace::cpu_access(MemAccess& a) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  std::uint64_t map_start = 0;
  Mapping* m = mapping_of_locked(a.addr, &map_start);
  if (m == nullptr) return Status::err(EFAULT);
  if (m->pages[(a.addr - map_start) / kPage].in_vram != 0) {
    // HMM: a CPU touch of a device page migrates it (its chunk) back. A
    // chunk lies in one mapping: m.
    ++mem_.stats_locked().cpu_faults;
    unindexed_chunk_to_sys_locked(take_chunk_locked(*m, map_start, a.addr),
                                  EventType::kMigrateToSys, m, map_start);
  }
  return do_access_locked(a, *m, map_start);
}

bool SvmSpace::cpu_mapped(VaRange r) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  auto it = maps_.lower_bound(r.hi());
  return it != maps_.begin() && std::prev(it)->second.end > r.lo();
}

Status SvmSpace::gpu_access(std::uint32_t vm_id, const FaultVma& vma, std::uint16_t tile,
                            MemAccess& a) {
  if (a.kind != AccessKind::kRead && vma.readonly) return Status::err(EPERM);
  if (!vma.range.contains(
          VaRange::from_bounds(a.addr, a.addr + std::max<std::uint32_t>(a.size, 1)))) {
    return Status::err(EFAULT);
  }
  auto want = decide_placement(vma.attrs, a.kind, profile_, tile);
  if (!want) return want.status();
  const Placement where = resolve_devmem(*want, vma, tile);
  std::lock_guard<std::mutex> g(mem_.mutex());
  MemStats& st = mem_.stats_locked();
  ++st.gpu_accesses;
  std::uint64_t map_start = 0;
  Mapping* m = mapping_of_locked(a.addr, &map_start);
  if (m == nullptr) return Status::err(EFAULT);  // GPU segmentation fault
  const std::uint64_t page = (a.addr - map_start) / kPage;
  PageState* ps = &m->pages[page];
  VmRanges& vmr = ix_->gpu[vm_id];
  RangeLookup seen{&vmr, {}};
  std::uint32_t pte_tiles = 0;  // of the range covering a.addr
  const std::uint8_t* const pt = vmr.pages != 0 ? page_range_tiles(*m, vm_id) : nullptr;
  if (pt != nullptr && pt[page] != 0) {
    pte_tiles = pt[page];
  } else {
    auto& ranges = vmr.tree;
    const auto r = seen.above = ranges.upper_bound(a.addr);
    if (r != ranges.begin() && std::prev(r)->second.end > a.addr) {
      pte_tiles = std::prev(r)->second.pte_tiles;
    }
  }
  const bool mapped = (pte_tiles & (1u << tile)) != 0;
  if (mapped && placed_locked(*ps, vma, where)) {
    if (ps->in_vram != 0) {
      const DeviceMemory::ChunkRef c = chunk_of_locked(*m, map_start, a.addr);
      c->home->touch_locked(c);
    }
    charge_access_locked(*ps, a.size);
    return do_access_locked(a, *m, map_start);
  }
  // The fault path.
  ++st.gpu_faults;
  emit_locked(EventType::kGpuFault, vm_id,
              VaRange::from_bounds(a.addr, a.addr + std::max<std::uint64_t>(a.size, 1)), tile);
  mem_.clock().advance(SimTime::from_us(profile_.timing.fault_latency_us));
  auto populated = populate_locked(vm_id, vma, tile, a.addr, where, m, map_start, &seen);
  if (!populated) return populated.status();
  charge_access_locked(*ps, a.size);  // the mapping and its page array stay put
  return do_access_locked(a, *m, map_start);
}

void SvmSpace::charge_access_locked(const PageState& ps, std::uint32_t size) {
  // A discrete GPU reaches system memory over the host link, and a peer's
  // VRAM over the interconnect (remote accesses); its own VRAM, and an
  // integrated part's system memory, are local.
  if ((ps.in_vram == 0 && profile_.features.discrete) || (ps.in_vram != 0 && ps.dev != 0)) {
    ++mem_.stats_locked().remote_accesses;
    mem_.clock().advance(remote_access_time(1, profile_.timing));
  } else {
    mem_.clock().advance(vram_access_time(Bytes{size}, profile_.timing));
  }
}

bool SvmSpace::overlaps_vram_chunk_locked(VaRange r) {
  auto c = ix_->chunks.lower_bound(r.lo());
  if (c != ix_->chunks.begin() && std::prev(c)->first + std::prev(c)->second->size > r.lo()) {
    return true;
  }
  if (c != ix_->chunks.end() && c->first < r.hi()) return true;
  bool any = false;
  for_each_page_chunk_locked(r, [&](std::uint64_t) { any = true; });
  return any;
}

Result<VaRange> SvmSpace::populate_locked(std::uint32_t vm_id, const FaultVma& vma,
                                          std::uint16_t tile, std::uint64_t addr,
                                          const Placement& where, Mapping* m,
                                          std::uint64_t map_start, const RangeLookup* seen) {
  if (m == nullptr) m = mapping_of_locked(addr, &map_start);
  if (m == nullptr) return Status::err(EFAULT);  // GPU segmentation fault
  const std::uint64_t page = (addr - map_start) / kPage;
  const std::uint64_t page_lo = addr & ~(kPage - 1);
  const PageState& ps = m->pages[page];
  const bool placed = placed_locked(ps, vma, where);
  VmRanges& vmr = seen != nullptr ? *seen->ranges : ix_->gpu[vm_id];
  auto& ranges = vmr.tree;
  // vm_id's 4 KiB ranges in this mapping, and whether one covers addr.
  std::uint8_t* const pt = vmr.pages != 0 ? page_range_tiles(*m, vm_id) : nullptr;
  const bool page_range = pt != nullptr && pt[page] != 0;
  auto r = ranges.end();
  if (!page_range) r = seen != nullptr ? seen->above : ranges.upper_bound(addr);
  // Only erasures change vm_id's ranges until the insertion below: while
  // their count stays the same, r is still valid and marks where it goes.
  const std::size_t count = ranges.size();
  const auto covering = !page_range && r != ranges.begin() && std::prev(r)->second.end > addr
                            ? std::prev(r)
                            : ranges.end();
  const bool covered = page_range || covering != ranges.end();
  if (covered && placed) {
    // Populated (by another tile) and in the right place: map it here too.
    if (page_range) {
      pt[page] = static_cast<std::uint8_t>(pt[page] | (1u << tile));
      return VaRange::from_bounds(page_lo, page_lo + kPage);
    }
    covering->second.pte_tiles =
        static_cast<std::uint8_t>(covering->second.pte_tiles | (1u << tile));
    return VaRange::from_bounds(covering->first, covering->second.end);
  }
  VaRange chunk;
  if (page_range) {
    chunk = VaRange::from_bounds(page_lo, page_lo + kPage);  // re-place it
  } else if (covering != ranges.end()) {
    chunk = VaRange::from_bounds(covering->first, covering->second.end);  // re-place it
  } else {
    // Populated ranges bound the chunk; ranges are disjoint and candidate
    // chunks are aligned blocks around addr, so only the nearest range below
    // and the nearest above can limit it: in the B-tree, and among the
    // 4 KiB ranges (only inside a 2 MiB or 64 KiB candidate that fits).
    absl::InlinedVector<VaRange, 4> near;
    const auto above = r;
    if (above != ranges.begin()) {
      const auto below = std::prev(above);
      near.push_back(VaRange::from_bounds(below->first, below->second.end));
    }
    if (above != ranges.end()) {
      near.push_back(VaRange::from_bounds(above->first, above->second.end));
    }
    if (pt != nullptr) {
      near_page_ranges(pt, addr, vma.range, VaRange::from_bounds(map_start, m->end), near);
    }
    const std::uint64_t min_chunk =
        where.vram && profile_.features.needs_64k_vram ? kPage64K : kPage4K;
    auto c =
        choose_chunk(addr, vma.range, VaRange::from_bounds(map_start, m->end), near, min_chunk);
    if (!c) return c.status();
    chunk = *c;
    if (placed && ps.in_vram != 0 && ps.dev != 0) {
      // Already in a peer's VRAM chunk and staying there: map (the part of)
      // that chunk without moving anything. Both are aligned power-of-two
      // blocks around addr, so their intersection is the smaller one.
      const DeviceMemory::ChunkRef v = chunk_of_locked(*m, map_start, addr);
      const VaRange vr = VaRange::from_bounds(v->addr, v->addr + v->size);
      if (vr.size().v < chunk.size().v) chunk = vr;
      ever_populated_.store(true, std::memory_order_release);
      set_range_locked(vmr, vm_id, chunk, static_cast<std::uint8_t>(1u << tile), *m, map_start);
      return chunk;
    }
  }
  // The wait for the migration copy (interruptible), before anything moves.
  if (where.vram || overlaps_vram_chunk_locked(chunk)) {
    DRM_SIM_TRY(mem_.plan().on_wait(WaitKind::kInterruptible));
  }
  if (page_range) {
    pt[page] = 0;
    --vmr.pages;
  } else if (covering != ranges.end()) {
    ranges.erase(covering);
  }
  if (where.vram) {
    Status s = Status::err(ENOMEM);
    for (int attempt = 0; attempt < 3 && !s.is_ok(); ++attempt) {  // xe retries 3 times
      s = migrate_to_vram_locked(chunk, where.peer != nullptr ? *where.peer : mem_, where.tile, m,
                                 map_start);
    }
    DRM_SIM_TRY(s);
    // Other VMs' PTEs over the chunk pointed at its old pages. vm_id has no
    // range over it: the one re-placed was dropped above, and a new chunk
    // overlaps none of vm_id's ranges (choose_chunk), so it is not searched.
    std::uint32_t zapped = 0;
    for (auto& [vm, rs] : ix_->gpu) {
      if (vm != vm_id) {
        mem_.stats_locked().gpu_invalidations +=
            drop_ranges_locked(vm, rs, chunk, &zapped, m, map_start);
      }
    }
  } else {
    evict_overlapping_locked(chunk);
  }
  ever_populated_.store(true, std::memory_order_release);
  // ranges is still vm_id's (the VM map's nodes stay put; erasures above
  // only removed ranges inside it).
  const GpuRange g{chunk.hi(), static_cast<std::uint8_t>(1u << tile)};
  if (chunk.size().v == kPage) {
    set_range_locked(vmr, vm_id, chunk, g.pte_tiles, *m, map_start);
  } else if (!covered && ranges.size() == count) {
    ranges.insert(r, {chunk.lo(), g});  // nothing starts at chunk.lo(): r is its place
  } else {
    ranges.insert_or_assign(chunk.lo(), g);
  }
  return chunk;
}

Status SvmSpace::prefetch(std::uint32_t vm_id, const FaultVma& vma, VaRange range,
                          std::uint16_t tile, const Placement& where) {
  const Placement w = resolve_devmem(where, vma, tile);
  std::lock_guard<std::mutex> g(mem_.mutex());
  for (std::uint64_t addr = range.lo(); addr < range.hi();) {
    auto done = populate_locked(vm_id, vma, tile, addr, w);
    if (!done) return done.status();
    addr = done->hi();
  }
  return Status::ok();
}

std::uint32_t SvmSpace::invalidate(std::uint32_t vm_id, VaRange r) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  auto vit = ix_->gpu.find(vm_id);
  if (vit == ix_->gpu.end()) return 0;
  std::uint32_t tiles = 0;
  mem_.stats_locked().gpu_invalidations += drop_ranges_locked(vm_id, vit->second, r, &tiles);
  return tiles;
}

void SvmSpace::split_at(std::uint32_t vm_id, std::uint64_t at) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  auto vit = ix_->gpu.find(vm_id);
  if (vit != ix_->gpu.end()) {
    auto& ranges = vit->second.tree;
    auto it = ranges.upper_bound(at);
    if (it != ranges.begin() && std::prev(it)->first < at && std::prev(it)->second.end > at) {
      ranges.erase(std::prev(it));
      ++mem_.stats_locked().gpu_invalidations;
    }
    // A 4 KiB range straddles `at` only if `at` is not page aligned.
    std::uint64_t map_start = 0;
    Mapping* m = vit->second.pages != 0 && (at & (kPage - 1)) != 0
                     ? mapping_of_locked(at, &map_start)
                     : nullptr;
    std::uint8_t* const t = m != nullptr ? page_range_tiles(*m, vm_id) : nullptr;
    if (t != nullptr && t[(at - map_start) / kPage] != 0) {
      t[(at - map_start) / kPage] = 0;
      --vit->second.pages;
      ++mem_.stats_locked().gpu_invalidations;
    }
  }
  auto c = ix_->chunks.upper_bound(at);
  if (c != ix_->chunks.begin()) {
    --c;
    if (c->first < at && c->first + c->second->size > at) migrate_chunk_to_sys_locked(c->first);
  }
  // A 4 KiB chunk straddles `at` only if `at` is not page aligned.
  if ((at & (kPage - 1)) != 0) {
    for_each_page_chunk_locked(VaRange::from_bounds(at, at + 1),
                               [&](std::uint64_t a) { migrate_chunk_to_sys_locked(a); });
  }
}

void SvmSpace::forget_vm(std::uint32_t vm_id) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  ix_->gpu.erase(vm_id);
  ix_->userptr.erase(vm_id);
  for (auto& [start, m] : maps_) {
    std::erase_if(m.page_ranges, [&](const Mapping::PageRanges& pr) { return pr.vm == vm_id; });
  }
}

void SvmSpace::invalidate_userptr_locked(VaRange cpu) {
  for (auto& [vm, ptes] : ix_->userptr) {
    for (auto it = ptes.begin(); it != ptes.end();) {
      const std::uint64_t lo = it->second.cpu_addr;
      const std::uint64_t hi = lo + (it->second.end - it->first);
      if (lo < cpu.hi() && cpu.lo() < hi) {
        it = ptes.erase(it);
        ++mem_.stats_locked().gpu_invalidations;
      } else {
        ++it;
      }
    }
  }
}

void SvmSpace::userptr_bound(std::uint32_t vm_id, const UserptrVma& v, std::uint8_t tiles) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  ix_->userptr[vm_id][v.range.lo()] = UserptrPte{v.range.hi(), v.cpu_addr, tiles};
}

std::uint32_t SvmSpace::userptr_unbound(std::uint32_t vm_id, std::uint64_t gpu_start) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  auto vit = ix_->userptr.find(vm_id);
  if (vit == ix_->userptr.end()) return 0;
  auto it = vit->second.find(gpu_start);
  if (it == vit->second.end()) return 0;
  const std::uint32_t tiles = it->second.pte_tiles;
  vit->second.erase(it);
  return tiles;
}

Status SvmSpace::userptr_access(std::uint32_t vm_id, const UserptrVma& v, std::uint16_t tile,
                                MemAccess& a) {
  if (a.kind != AccessKind::kRead && v.readonly) return Status::err(EPERM);
  if (!v.range.contains(
          VaRange::from_bounds(a.addr, a.addr + std::max<std::uint32_t>(a.size, 1)))) {
    return Status::err(EFAULT);
  }
  const std::uint64_t cpu = v.cpu_addr + (a.addr - v.range.lo());
  std::lock_guard<std::mutex> g(mem_.mutex());
  MemStats& st = mem_.stats_locked();
  ++st.gpu_accesses;
  std::uint64_t map_start = 0;
  Mapping* m = mapping_of_locked(cpu, &map_start);
  if (m == nullptr) return Status::err(EFAULT);  // no process memory behind it
  auto& ptes = ix_->userptr[vm_id];
  auto it = ptes.find(v.range.lo());
  const bool same =
      it != ptes.end() && it->second.end == v.range.hi() && it->second.cpu_addr == v.cpu_addr;
  if (!same || (it->second.pte_tiles & (1u << tile)) == 0) {
    // Pin the pages and map them: a GPU fault on fault-mode VMs, a silent
    // revalidation (the rebind worker) on others.
    if (v.fault_mode) {
      ++st.gpu_faults;
      mem_.clock().advance(SimTime::from_us(profile_.timing.fault_latency_us));
    }
    if (!same) {
      it = ptes.insert_or_assign(v.range.lo(), UserptrPte{v.range.hi(), v.cpu_addr, 0}).first;
    }
    it->second.pte_tiles = static_cast<std::uint8_t>(it->second.pte_tiles | (1u << tile));
  }
  const PageState& ps = m->pages[(cpu - map_start) / kPage];
  charge_access_locked(ps, a.size);
  const std::uint64_t gpu_addr = a.addr;
  a.addr = cpu;
  const Status s = do_access_locked(a, *m, map_start);
  a.addr = gpu_addr;
  return s;
}

std::optional<SvmSpace::PageInfo> SvmSpace::page_info(std::uint64_t addr) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  const PageState* ps = page_locked(addr);
  if (ps == nullptr) return std::nullopt;
  return PageInfo{ps->in_vram != 0, ps->tile, ps->in_vram != 0 ? &device_of_locked(*ps) : nullptr};
}

bool SvmSpace::peek_page(std::uint64_t addr, std::uint64_t* tag, std::span<std::byte> out) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  std::uint64_t map_start = 0;
  Mapping* m = mapping_of_locked(addr, &map_start);
  if (m == nullptr) return false;
  const std::uint64_t page = (addr - map_start) / kPage;
  const PageState& ps = m->pages[page];
  *tag = ps.tag;
  if (profile_.backing == BackingMode::kData && out.size() == kPage) {
    const std::byte* src = ps.in_vram != 0 ? device_of_locked(ps).vram_bytes_locked(
                                                 ps.tile, std::uint64_t{ps.vram_page} * kPage)
                                           : m->data + page * kPage;
    std::memcpy(out.data(), src, kPage);
  }
  return true;
}

std::vector<VaRange> SvmSpace::gpu_ranges(std::uint32_t vm_id) {
  std::lock_guard<std::mutex> g(mem_.mutex());
  std::vector<VaRange> out;
  auto vit = ix_->gpu.find(vm_id);
  if (vit == ix_->gpu.end()) return out;
  for (const auto& [start, r] : vit->second.tree) {
    out.push_back(VaRange::from_bounds(start, r.end));
  }
  if (vit->second.pages == 0) return out;
  const std::size_t larger = out.size();
  for (auto& [start, m] : maps_) {
    const std::uint8_t* const t = page_range_tiles(m, vm_id);
    for (std::size_t i = 0; t != nullptr && i < m.pages.size(); ++i) {
      if (t[i] != 0) {
        out.push_back(VaRange::from_bounds(start + i * kPage, start + (i + 1) * kPage));
      }
    }
  }
  std::inplace_merge(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(larger), out.end(),
                     [](const VaRange& a, const VaRange& b) { return a.lo() < b.lo(); });
  return out;
}

}  // namespace drm_sim
