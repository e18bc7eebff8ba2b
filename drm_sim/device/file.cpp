#include "drm_sim/device/file.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "drm_sim/core/last_lookup.h"

namespace drm_sim {

namespace {
constexpr std::size_t kMaxVmsPerFile = 1u << 16;
constexpr std::size_t kMaxHandlesPerFile = 1u << 20;

bool valid_cpu_range(std::uint64_t addr, std::uint64_t size) {
  return size != 0 && is_aligned(addr, kPage4K) && is_aligned(size, kPage4K) && addr + size > addr;
}

// Bumped (under the file's mutex, after the change) whenever any file's VM
// table changes or a file is released: a VM looked up under an unchanged
// generation is still what its file's table holds.
std::atomic<std::uint64_t> g_vm_tables{0};

// The calling thread's last VM lookup.
__attribute__((tls_model(
    "initial-exec"))) thread_local LastLookup<std::pair<const DrmFile*, std::uint32_t>, Vm>
    t_last_vm;

void vm_tables_changed() {
  g_vm_tables.fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace

std::uint32_t LowestFreeId::alloc() {
  if (!freed_.empty()) {
    const std::uint32_t id = *freed_.begin();
    freed_.erase(freed_.begin());
    return id;
  }
  return next_++;
}

void LowestFreeId::release(std::uint32_t id) {
  if (id + 1 == next_) {
    --next_;
    // Fold freed ids at the top back into next_.
    while (!freed_.empty() && *freed_.rbegin() + 1 == next_) {
      freed_.erase(std::prev(freed_.end()));
      --next_;
    }
  } else {
    freed_.insert(id);
  }
}

DrmFile::DrmFile(std::shared_ptr<Device> dev)
    : dev_(std::move(dev)), svm_(std::make_shared<SvmSpace>(dev_->memory(), dev_->profile())) {
  svm_->set_event_sink(&dev_->event_sink_slot());
}

DrmFile::~DrmFile() {
  release();
}

Result<std::uint32_t> DrmFile::create_bo(const Bo& desc) {
  std::lock_guard<std::mutex> g(mu_);
  if (handles_.size() >= kMaxHandlesPerFile) return Status::err(ENOMEM);
  Bo b = desc;
  b.owner_file = this;
  std::uint32_t id = 0;
  {
    std::lock_guard<std::mutex> bg(dev_->bo_mutex());
    auto r = dev_->create_bo_locked(b);
    if (!r) return r.status();
    id = *r;
  }
  const std::uint32_t handle = handle_ids_.alloc();
  handles_.emplace(handle, id);
  return handle;
}

Result<std::uint32_t> DrmFile::bo_of(std::uint32_t handle) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = handles_.find(handle);
  if (it == handles_.end()) return Status::err(ENOENT);
  return it->second;
}

Status DrmFile::close_handle(std::uint32_t handle) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = handles_.find(handle);
  if (it == handles_.end()) return Status::err(ENOENT);
  {
    std::lock_guard<std::mutex> bg(dev_->bo_mutex());
    dev_->put_handle_ref_locked(it->second);
  }
  handles_.erase(it);
  handle_ids_.release(handle);
  return Status::ok();
}

std::size_t DrmFile::handle_count() {
  std::lock_guard<std::mutex> g(mu_);
  return handles_.size();
}

Result<std::uint32_t> DrmFile::create_vm(std::uint32_t flags) {
  std::lock_guard<std::mutex> g(mu_);
  if (vms_.size() >= kMaxVmsPerFile) return Status::err(ENOMEM);
  DRM_SIM_TRY(dev_->plan().on_alloc());
  const std::uint32_t id = vm_ids_.alloc();
  vms_.emplace(id, std::make_shared<Vm>(dev_, svm_, id, flags));
  vm_tables_changed();
  return id;
}

Status DrmFile::destroy_vm(std::uint32_t id) {
  std::shared_ptr<Vm> vm;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = vms_.find(id);
    if (it == vms_.end()) return Status::err(ENOENT);
    vm = std::move(it->second);
    vms_.erase(it);
    vm_tables_changed();
    vm_ids_.release(id);
  }
  vm->close();  // in-flight ioctls holding a reference see ENOENT
  return Status::ok();
}

std::shared_ptr<Vm> DrmFile::vm(std::uint32_t id) {
  const std::uint64_t gen = g_vm_tables.load(std::memory_order_acquire);
  return t_last_vm.get({this, id}, gen, [&]() -> std::shared_ptr<Vm> {
    std::lock_guard<std::mutex> g(mu_);
    auto it = vms_.find(id);
    return it == vms_.end() ? nullptr : it->second;
  });
}

std::vector<std::uint32_t> DrmFile::vm_ids() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::uint32_t> ids;
  ids.reserve(vms_.size());
  for (const auto& [id, vm] : vms_) ids.push_back(id);
  return ids;
}

Status DrmFile::cpu_map(std::uint64_t addr, std::uint64_t size) {
  std::unique_lock<std::shared_mutex> ml(cpu_bos_.lock());
  if (valid_cpu_range(addr, size) &&
      cpu_bos_.overlaps_locked(VaRange::from_bounds(addr, addr + size))) {
    return Status::err(EEXIST);
  }
  return svm_->cpu_map(addr, size);
}

Status DrmFile::cpu_map_bo(std::uint64_t addr, std::uint64_t size, std::uint64_t mmap_offset) {
  if (!valid_cpu_range(addr, size) || !is_aligned(mmap_offset, kPage4K)) {
    return Status::err(EINVAL);
  }
  const VaRange r = VaRange::from_bounds(addr, addr + size);
  std::unique_lock<std::shared_mutex> ml(cpu_bos_.lock());
  // The fake offset of BO `id` is id << 32 (Device::create_bo_locked); only
  // BOs this file holds a handle to may be mapped (drm_vma_node_allow).
  const auto id = static_cast<std::uint32_t>(mmap_offset >> 32);
  {
    std::lock_guard<std::mutex> g(mu_);
    if (std::none_of(handles_.begin(), handles_.end(),
                     [&](const auto& h) { return h.second == id; })) {
      return Status::err(EINVAL);
    }
  }
  if (cpu_bos_.overlaps_locked(r) || svm_->cpu_mapped(r)) {
    return Status::err(EEXIST);
  }
  std::lock_guard<std::mutex> bg(dev_->bo_mutex());
  const Bo* b = dev_->bo_locked(id);
  if (b == nullptr) {
    return Status::err(EINVAL);  // closed meanwhile
  }
  const std::uint64_t off = mmap_offset - b->mmap_offset;
  if (off >= b->size || size > b->size - off) {
    return Status::err(EINVAL);
  }
  if (b->purgeable()) {
    return Status::err(EBUSY);  // 7.1 DONTNEED (spec §8)
  }
  dev_->get_cpu_map_ref_locked(id);
  cpu_bos_.insert_locked(CpuBoMapping{r, id, off});
  return Status::ok();
}

void DrmFile::apply_ref_changes(const std::vector<CpuBoMappings::RefChange>& changes) {
  std::lock_guard<std::mutex> bg(dev_->bo_mutex());
  for (const auto& c : changes) {  // takes before drops: a cut BO never hits 0 between
    if (c.delta > 0) {
      dev_->get_cpu_map_ref_locked(c.bo);
    }
  }
  for (const auto& c : changes) {
    for (int i = 0; i < -c.delta; ++i) {
      dev_->put_cpu_map_ref_locked(c.bo);
    }
  }
}

Result<std::vector<VaRange>> DrmFile::cpu_unmap(std::uint64_t addr, std::uint64_t size) {
  if (!valid_cpu_range(addr, size)) {
    return Status::err(EINVAL);
  }
  std::unique_lock<std::shared_mutex> ml(cpu_bos_.lock());
  apply_ref_changes(cpu_bos_.remove_locked(VaRange::from_bounds(addr, addr + size)));
  return svm_->cpu_unmap(addr, size);
}

Status DrmFile::cpu_access(MemAccess& a) {
  std::shared_lock<std::shared_mutex> ml(cpu_bos_.lock());
  const std::optional<CpuBoMapping> m = cpu_bos_.find_locked(a.addr);
  if (!m) {
    return svm_->cpu_access(a);
  }
  std::uint8_t atomic = 0;
  {
    std::lock_guard<std::mutex> bg(dev_->bo_mutex());
    if (const Bo* b = dev_->bo_locked(m->bo)) {
      atomic = b->atomic;  // held by the mapping
    }
  }
  return dev_->bos().cpu_access(m->bo, m->bo_offset + (a.addr - m->range.lo()), atomic, a);
}

std::size_t DrmFile::cpu_bo_mapping_count() {
  std::shared_lock<std::shared_mutex> ml(cpu_bos_.lock());
  return cpu_bos_.size_locked();
}

void DrmFile::release() {
  std::unordered_map<std::uint32_t, std::shared_ptr<Vm>> vms;
  std::unordered_map<std::uint32_t, std::uint32_t> handles;
  {
    std::lock_guard<std::mutex> g(mu_);
    vms.swap(vms_);
    vm_tables_changed();
    handles.swap(handles_);
  }
  for (auto& [id, vm] : vms) vm->close();
  {
    std::unique_lock<std::shared_mutex> ml(cpu_bos_.lock());
    apply_ref_changes(cpu_bos_.clear_locked());
  }
  std::lock_guard<std::mutex> bg(dev_->bo_mutex());
  for (const auto& [h, bo] : handles) dev_->put_handle_ref_locked(bo);
}

}  // namespace drm_sim
