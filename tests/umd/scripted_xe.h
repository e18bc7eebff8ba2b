// tests/umd/scripted_xe.h — a FakeBackend scripted as a minimal xe device.
//
// Answers DRM_IOCTL_VERSION ("xe" or another name), DEVICE_QUERY CONFIG and
// MEM_REGIONS (two-call protocol) from a config and a region list given by
// the test, VM_CREATE with vm id 1 and GEM_CREATE with handles 1, 2, ... —
// enough to open a umd::Device and create objects without the simulator,
// e.g. for a small-BAR device no built-in profile describes.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "umd_test_util.h"

namespace umd_test {

struct ScriptedXe {
  std::string driver = "xe";
  std::uint16_t device_id = 0xe20b;
  std::uint64_t config_flags =
      DRM_XE_QUERY_CONFIG_FLAG_HAS_VRAM | DRM_XE_QUERY_CONFIG_FLAG_HAS_CPU_ADDR_MIRROR;
  std::vector<drm_xe_mem_region> regions;
  std::uint32_t next_handle = 1;

  static drm_xe_mem_region region(std::uint16_t cls, std::uint16_t instance, std::uint64_t size,
                                  std::uint64_t visible = 0, std::uint32_t page = 4096) {
    drm_xe_mem_region r{};
    r.mem_class = cls;
    r.instance = instance;
    r.min_page_size = page;
    r.total_size = size;
    r.cpu_visible_size = visible;
    return r;
  }

  void install(FakeBackend& fake) {
    fake.on(DRM_IOCTL_VERSION, [this](void* p) {
      auto* v = static_cast<drm_version*>(p);
      if (v->name != nullptr && v->name_len > 0) {
        std::memcpy(v->name, driver.data(), std::min<std::size_t>(v->name_len, driver.size()));
      }
      v->name_len = driver.size();
      return 0;
    });
    fake.on(DRM_IOCTL_XE_DEVICE_QUERY, [this](void* p) {
      auto* q = static_cast<drm_xe_device_query*>(p);
      std::vector<std::byte> blob;
      if (q->query == DRM_XE_DEVICE_QUERY_CONFIG) {
        blob.resize(sizeof(drm_xe_query_config) + 5 * sizeof(std::uint64_t));
        auto* c = reinterpret_cast<drm_xe_query_config*>(blob.data());
        c->num_params = 5;
        c->info[DRM_XE_QUERY_CONFIG_REV_AND_DEVICE_ID] = device_id;
        c->info[DRM_XE_QUERY_CONFIG_FLAGS] = config_flags;
        c->info[DRM_XE_QUERY_CONFIG_VA_BITS] = 48;
        c->info[DRM_XE_QUERY_CONFIG_MIN_ALIGNMENT] = 4096;
      } else if (q->query == DRM_XE_DEVICE_QUERY_MEM_REGIONS) {
        blob.resize(sizeof(drm_xe_query_mem_regions) + regions.size() * sizeof(drm_xe_mem_region));
        auto* m = reinterpret_cast<drm_xe_query_mem_regions*>(blob.data());
        m->num_mem_regions = static_cast<std::uint32_t>(regions.size());
        for (std::size_t i = 0; i < regions.size(); ++i) m->mem_regions[i] = regions[i];
      } else {
        return -EINVAL;
      }
      if (q->size == 0) {
        q->size = static_cast<std::uint32_t>(blob.size());
        return 0;
      }
      if (q->size != blob.size()) return -EINVAL;
      std::memcpy(reinterpret_cast<void*>(q->data), blob.data(), blob.size());  // NOLINT
      return 0;
    });
    fake.on(DRM_IOCTL_XE_VM_CREATE, [](void* p) {
      static_cast<drm_xe_vm_create*>(p)->vm_id = 1;
      return 0;
    });
    fake.on(DRM_IOCTL_XE_GEM_CREATE, [this](void* p) {
      static_cast<drm_xe_gem_create*>(p)->handle = next_handle++;
      return 0;
    });
  }
};

}  // namespace umd_test
