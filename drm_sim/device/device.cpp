#include "drm_sim/device/device.h"

#include <cassert>
#include <cstdio>
#include <cstdlib>

namespace drm_sim {

namespace {
std::atomic<std::uint32_t> g_next_instance{1};
constexpr std::size_t kMaxBos = 1u << 20;
}  // namespace

Device::Device(Profile profile)
    : profile_(std::move(profile)), instance_(g_next_instance.fetch_add(1)) {}

Result<std::uint32_t> Device::create_bo_locked(Bo desc) {
  if (bos_.size() >= kMaxBos) return Status::err(ENOMEM);
  DRM_SIM_TRY(plan_.on_alloc());
  desc.id = next_bo_id_++;
  desc.handle_refs = 1;
  desc.mmap_offset = static_cast<std::uint64_t>(desc.id) << 32;
  const std::uint32_t id = desc.id;
  bos_.emplace(id, desc);
  bos().add(id, desc.size, desc.placement);
  return id;
}

Bo* Device::bo_locked(std::uint32_t id) {
  auto it = bos_.find(id);
  return it == bos_.end() ? nullptr : &it->second;
}

Bo& Device::referenced_bo_locked(std::uint32_t id, const char* what) {
  Bo* b = bo_locked(id);
  if (b == nullptr) {
    std::fprintf(stderr, "drm_sim: Device: %s of BO %u, which does not exist\n", what, id);
    std::abort();
  }
  return *b;
}

void Device::get_vma_ref_locked(std::uint32_t id, bool dontneed) {
  Bo& b = referenced_bo_locked(id, "VMA reference");
  ++b.vma_refs;
  b.dontneed_refs += dontneed ? 1 : 0;
  note_purgeable_locked(b);
}

void Device::change_dontneed_locked(std::uint32_t id, int delta) {
  Bo& b = referenced_bo_locked(id, "DONTNEED change");
  b.dontneed_refs = static_cast<std::uint32_t>(static_cast<std::int64_t>(b.dontneed_refs) + delta);
  note_purgeable_locked(b);
}

void Device::note_purgeable_locked(Bo& b) {
  if (b.purgeable() == b.purgeable_noted) return;
  b.purgeable_noted = b.purgeable();
  bos().set_purgeable(b.id, b.purgeable_noted);
}

void Device::put_vma_ref_locked(std::uint32_t id, bool dontneed) {
  Bo& b = referenced_bo_locked(id, "VMA unreference");
  assert(b.vma_refs > 0);
  --b.vma_refs;
  b.dontneed_refs -= dontneed ? 1 : 0;
  note_purgeable_locked(b);
  maybe_free_locked(id);
}

void Device::put_handle_ref_locked(std::uint32_t id) {
  Bo& b = referenced_bo_locked(id, "handle unreference");
  assert(b.handle_refs > 0);
  --b.handle_refs;
  maybe_free_locked(id);
}

void Device::get_cpu_map_ref_locked(std::uint32_t id) {
  ++referenced_bo_locked(id, "CPU map reference").cpu_map_refs;
}

void Device::put_cpu_map_ref_locked(std::uint32_t id) {
  Bo& b = referenced_bo_locked(id, "CPU map unreference");
  assert(b.cpu_map_refs > 0);
  --b.cpu_map_refs;
  maybe_free_locked(id);
}

void Device::pin_locked(std::uint32_t id) {
  ++referenced_bo_locked(id, "pin").pins;
}

void Device::unpin_locked(std::uint32_t id) {
  Bo& b = referenced_bo_locked(id, "unpin");
  assert(b.pins > 0);
  --b.pins;
  maybe_free_locked(id);
}

void Device::maybe_free_locked(std::uint32_t id) {
  auto it = bos_.find(id);
  if (it != bos_.end() && it->second.handle_refs == 0 && it->second.vma_refs == 0 &&
      it->second.cpu_map_refs == 0 && it->second.pins == 0) {
    bos().remove(id);
    bos_.erase(it);
  }
}

}  // namespace drm_sim
