// umd/vulkan/placement.h — a Vulkan allocation request -> how to back it.
//
// plan_placement() is the pure mapping (table in umd/README.md):
//   inputs   the memory type (its flags and backing), the size,
//            VkMemoryPriorityAllocateInfoEXT::priority in [0, 1],
//            whether VK_EXT_pageable_device_local_memory is enabled, and
//            whether the VM is in fault mode;
//   output   a GEM BO (placement mask, cpu_caching, flags, bind PAT) or an
//            SVM mirror (bind PAT), plus the madvise attributes applied to
//            the whole allocation after its bind.
// Rules: VRAM types with pageable memory on a fault-mode VM of a device with
// CPU_ADDR_MIRROR support become SVM mirrors preferring VRAM (DEFAULT_DEVICE), or system memory
// when the priority is low (< kLowPriority); other VRAM types are BOs in that VRAM region, which
// may also fall back to system memory when pageable or low priority; system types are system BOs,
// WB when HOST_CACHED, else WC. Owns: nothing. Locking: none (pure). Errors: kInvalidArgument for a
// type index out of range, a zero size or a priority outside [0, 1].
#pragma once

#include <vector>

#include "umd/core/expected.h"
#include "umd/objects/platform.h"
#include "umd/uapi/desc.h"
#include "umd/vulkan/memory_types.h"

namespace drm_sim::umd::vk {

inline constexpr float kDefaultPriority = 0.5f;  // Vulkan's default priority
inline constexpr float kLowPriority = 0.25f;     // below this: prefer system memory

struct AllocationRequest {
  std::uint32_t memory_type_index = 0;
  std::uint64_t size = 0;
  float priority = kDefaultPriority;   // VkMemoryPriorityAllocateInfoEXT
  bool pageable_device_local = false;  // VK_EXT_pageable_device_local_memory enabled
};

struct PlacementContext {
  bool fault_mode_vm = false;
  bool cpu_addr_mirror = false;  // CONFIG flag HAS_CPU_ADDR_MIRROR
  PatConfig pat;
};

enum class Backing : std::uint8_t { kBufferObject, kSvmMirror };

struct PlacementPlan {
  Backing backing = Backing::kBufferObject;
  std::uint64_t size = 0;                // rounded to the backing's page size
  std::uint64_t va_alignment = 0;        // GPU VA alignment of the bind
  GemCreateDesc gem;                     // kBufferObject only
  std::uint16_t pat_index = 0;           // of the BO bind or the mirror bind
  std::vector<MadviseAttribute> advice;  // madvise over the whole allocation, in order
};

Expected<PlacementPlan> plan_placement(const MemoryTable& table, const AllocationRequest& req,
                                       const PlacementContext& ctx);

}  // namespace drm_sim::umd::vk
