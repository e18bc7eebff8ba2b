// GEM_CREATE on creation, GEM_CLOSE on destruction.
#include "umd/objects/buffer_object.h"

#include <utility>

#include "umd/uapi/build.h"

namespace drm_sim::umd {

Expected<BufferObject> BufferObject::create(Device& device, const GemCreateDesc& desc) {
  drm_xe_gem_create c = build_gem_create(desc);
  if (Result r = device.call(DRM_IOCTL_XE_GEM_CREATE, &c); r != Result::kSuccess) return r;
  return BufferObject(device, c.handle, desc);
}

BufferObject::BufferObject(BufferObject&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)),
      handle_(std::exchange(other.handle_, 0)),
      desc_(other.desc_) {}

BufferObject& BufferObject::operator=(BufferObject&& other) noexcept {
  if (this != &other) {
    release();
    device_ = std::exchange(other.device_, nullptr);
    handle_ = std::exchange(other.handle_, 0);
    desc_ = other.desc_;
  }
  return *this;
}

BufferObject::~BufferObject() {
  release();
}

void BufferObject::release() {
  if (device_ == nullptr || handle_ == 0) return;
  drm_gem_close c = build_gem_close(handle_);
  (void)device_->call(DRM_IOCTL_GEM_CLOSE, &c);
  handle_ = 0;
}

}  // namespace drm_sim::umd
