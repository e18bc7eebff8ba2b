// umd/objects/buffer_object.h — a GEM buffer object (DRM_IOCTL_XE_GEM_CREATE).
//
// Owns: the GEM handle, closed with DRM_IOCTL_GEM_CLOSE by the destructor
// (the driver keeps the memory while a VM still maps it). Borrows the
// Device, which must outlive it. Move-only: a moved-from object owns nothing.
// Locking: none inside. Errors: create() returns the driver's Result
// (kInvalidArgument for a placement/caching combination it refuses,
// kOutOfMemory ...).
#pragma once

#include "umd/core/expected.h"
#include "umd/objects/device.h"
#include "umd/uapi/desc.h"

namespace drm_sim::umd {

class BufferObject {
 public:
  static Expected<BufferObject> create(Device& device, const GemCreateDesc& desc);

  BufferObject(BufferObject&& other) noexcept;
  BufferObject& operator=(BufferObject&& other) noexcept;
  BufferObject(const BufferObject&) = delete;
  BufferObject& operator=(const BufferObject&) = delete;
  ~BufferObject();

  std::uint32_t handle() const { return handle_; }
  const GemCreateDesc& desc() const { return desc_; }
  std::uint64_t size() const { return desc_.size; }

 private:
  BufferObject(Device& device, std::uint32_t handle, const GemCreateDesc& desc)
      : device_(&device), handle_(handle), desc_(desc) {}
  void release();

  Device* device_ = nullptr;
  std::uint32_t handle_ = 0;
  GemCreateDesc desc_;
};

}  // namespace drm_sim::umd
