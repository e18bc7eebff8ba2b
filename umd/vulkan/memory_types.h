// umd/vulkan/memory_types.h — a Vulkan memory-type table from MEM_REGIONS.
//
// build_memory_table() turns the DEVICE_QUERY MEM_REGIONS answer into the
// VkPhysicalDeviceMemoryProperties a Vulkan driver on this device would
// report, plus what backs each type (region instance, CPU caching). Types are
// ordered as the Vulkan spec requires (a type whose flags are a strict subset
// of another's comes first).
//
//   discrete (VRAM regions V0..Vn-1, system S)     integrated (system S only)
//   heaps:  Vi  DEVICE_LOCAL  (one per VRAM region) S  DEVICE_LOCAL
//           S   0
//           Bi  DEVICE_LOCAL  (small BAR only: the CPU-visible part of Vi)
//   types:  DEVICE_LOCAL                 on Vi      DEVICE_LOCAL               WC
//           HOST_VISIBLE|COHERENT        on S   WC  DL|HOST_VISIBLE|COHERENT   WC
//           HOST_VISIBLE|COHERENT|CACHED on S   WB  DL|HV|COHERENT|CACHED      WB
//           DL|HOST_VISIBLE|COHERENT     on Vi (resizable BAR) or Bi     WC
//
// Owns: nothing. Locking: none (pure). Errors: kInvalidArgument when the
// regions have no system memory or more types than VK_MAX_MEMORY_TYPES.
#pragma once

#include <vulkan/vulkan_core.h>

#include <array>
#include <span>
#include <string>

#include "umd/core/expected.h"
#include "umd/uapi/desc.h"

namespace drm_sim::umd::vk {

// What stands behind one memory type.
struct TypeBacking {
  std::uint16_t region_instance = 0;  // the region of the type's heap
  MemClass mem_class = MemClass::kSystem;
  CpuCaching cpu_caching = CpuCaching::kWriteCombined;
  bool small_bar = false;  // the heap is the CPU-visible window of a VRAM region
  std::uint32_t min_page_size = 4096;
};

struct MemoryTable {
  VkPhysicalDeviceMemoryProperties properties{};
  std::array<TypeBacking, VK_MAX_MEMORY_TYPES> backing{};
  std::uint16_t system_instance = 0;
  std::uint32_t system_min_page_size = 4096;
  bool discrete = false;

  std::uint32_t type_count() const { return properties.memoryTypeCount; }
  VkMemoryPropertyFlags flags(std::uint32_t type) const {
    return properties.memoryTypes[type].propertyFlags;
  }
  // The first type whose flags include all of `required` and whose heap is
  // `heap` (any heap when heap < 0); -1 when none.
  int find_type(VkMemoryPropertyFlags required, int heap = -1) const;
};

Expected<MemoryTable> build_memory_table(std::span<const MemRegion> regions);

// "DEVICE_LOCAL|HOST_VISIBLE" ... ("0" for none).
std::string memory_flags_string(VkMemoryPropertyFlags f);
// One line per heap and per type, for tests and tools.
std::string to_string(const MemoryTable& t);

}  // namespace drm_sim::umd::vk
