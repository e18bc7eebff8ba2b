#include "drm_sim/device/file.h"

namespace drm_sim {

namespace {
constexpr std::size_t kMaxVmsPerFile = 1u << 16;
constexpr std::size_t kMaxHandlesPerFile = 1u << 20;
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
    vm_ids_.release(id);
  }
  vm->close();  // in-flight ioctls holding a reference see ENOENT
  return Status::ok();
}

std::shared_ptr<Vm> DrmFile::vm(std::uint32_t id) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = vms_.find(id);
  return it == vms_.end() ? nullptr : it->second;
}

std::vector<std::uint32_t> DrmFile::vm_ids() {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<std::uint32_t> ids;
  ids.reserve(vms_.size());
  for (const auto& [id, vm] : vms_) ids.push_back(id);
  return ids;
}

void DrmFile::release() {
  std::unordered_map<std::uint32_t, std::shared_ptr<Vm>> vms;
  std::unordered_map<std::uint32_t, std::uint32_t> handles;
  {
    std::lock_guard<std::mutex> g(mu_);
    vms.swap(vms_);
    handles.swap(handles_);
  }
  for (auto& [id, vm] : vms) vm->close();
  std::lock_guard<std::mutex> bg(dev_->bo_mutex());
  for (const auto& [h, bo] : handles) dev_->put_handle_ref_locked(bo);
}

}  // namespace drm_sim
