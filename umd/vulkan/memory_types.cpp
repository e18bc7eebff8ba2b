// MEM_REGIONS -> VkPhysicalDeviceMemoryProperties (the table in memory_types.h).
#include "umd/vulkan/memory_types.h"

#include <cinttypes>
#include <cstdio>
#include <vector>

namespace drm_sim::umd::vk {

namespace {

constexpr VkMemoryPropertyFlags kDeviceLocal = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
constexpr VkMemoryPropertyFlags kHostCoherent =
    VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
constexpr VkMemoryPropertyFlags kHostCached = kHostCoherent | VK_MEMORY_PROPERTY_HOST_CACHED_BIT;

class Builder {
 public:
  explicit Builder(MemoryTable& t) : t_(t) {}

  std::uint32_t heap(VkDeviceSize size, VkMemoryHeapFlags flags) {
    auto& p = t_.properties;
    p.memoryHeaps[p.memoryHeapCount] = VkMemoryHeap{size, flags};
    return p.memoryHeapCount++;
  }
  bool type(VkMemoryPropertyFlags flags, std::uint32_t heap, const TypeBacking& b) {
    auto& p = t_.properties;
    if (p.memoryTypeCount == VK_MAX_MEMORY_TYPES) return false;
    p.memoryTypes[p.memoryTypeCount] = VkMemoryType{flags, heap};
    t_.backing[p.memoryTypeCount] = b;
    ++p.memoryTypeCount;
    return true;
  }

 private:
  MemoryTable& t_;
};

TypeBacking backing_of(const MemRegion& r, CpuCaching caching, bool small_bar = false) {
  return TypeBacking{r.instance, r.mem_class, caching, small_bar, r.min_page_size};
}

}  // namespace

int MemoryTable::find_type(VkMemoryPropertyFlags required, int heap) const {
  for (std::uint32_t i = 0; i < properties.memoryTypeCount; ++i) {
    const VkMemoryType& t = properties.memoryTypes[i];
    if ((t.propertyFlags & required) != required) continue;
    if (heap >= 0 && t.heapIndex != static_cast<std::uint32_t>(heap)) continue;
    return static_cast<int>(i);
  }
  return -1;
}

Expected<MemoryTable> build_memory_table(std::span<const MemRegion> regions) {
  const MemRegion* sys = nullptr;
  std::vector<const MemRegion*> vram;
  for (const auto& r : regions) {
    if (r.mem_class == MemClass::kSystem && sys == nullptr) sys = &r;
    if (r.mem_class == MemClass::kVram) vram.push_back(&r);
  }
  if (sys == nullptr || vram.size() > VK_MAX_MEMORY_HEAPS / 2 - 1) {
    return Result::kInvalidArgument;
  }
  MemoryTable t;
  t.system_instance = sys->instance;
  t.system_min_page_size = sys->min_page_size;
  t.discrete = !vram.empty();
  Builder b(t);
  bool ok = true;

  if (!t.discrete) {
    const std::uint32_t h = b.heap(sys->total_size, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT);
    ok = ok && b.type(kDeviceLocal, h, backing_of(*sys, CpuCaching::kWriteCombined));
    ok =
        ok && b.type(kDeviceLocal | kHostCoherent, h, backing_of(*sys, CpuCaching::kWriteCombined));
    ok = ok && b.type(kDeviceLocal | kHostCached, h, backing_of(*sys, CpuCaching::kWriteBack));
    if (!ok) return Result::kInvalidArgument;
    return t;
  }

  // VRAM heaps: the whole region, or (small BAR) the part the CPU cannot see.
  std::vector<std::uint32_t> vram_heap(vram.size());
  for (std::size_t i = 0; i < vram.size(); ++i) {
    const MemRegion& r = *vram[i];
    const bool small_bar = r.cpu_visible_size < r.total_size;
    vram_heap[i] = b.heap(small_bar ? r.total_size - r.cpu_visible_size : r.total_size,
                          VK_MEMORY_HEAP_DEVICE_LOCAL_BIT);
  }
  const std::uint32_t sys_heap = b.heap(sys->total_size, 0);
  for (std::size_t i = 0; i < vram.size(); ++i) {
    ok = ok && b.type(kDeviceLocal, vram_heap[i], backing_of(*vram[i], CpuCaching::kWriteCombined));
  }
  ok = ok && b.type(kHostCoherent, sys_heap, backing_of(*sys, CpuCaching::kWriteCombined));
  ok = ok && b.type(kHostCached, sys_heap, backing_of(*sys, CpuCaching::kWriteBack));
  for (std::size_t i = 0; i < vram.size(); ++i) {
    const MemRegion& r = *vram[i];
    const bool small_bar = r.cpu_visible_size < r.total_size;
    std::uint32_t heap = vram_heap[i];
    if (small_bar) {
      if (r.cpu_visible_size == 0) continue;  // nothing the CPU can map
      heap = b.heap(r.cpu_visible_size, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT);
    }
    ok = ok && b.type(kDeviceLocal | kHostCoherent, heap,
                      backing_of(r, CpuCaching::kWriteCombined, small_bar));
  }
  if (!ok) return Result::kInvalidArgument;
  return t;
}

std::string memory_flags_string(VkMemoryPropertyFlags f) {
  static constexpr struct {
    VkMemoryPropertyFlags bit;
    const char* name;
  } kNames[] = {
      {VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, "DEVICE_LOCAL"},
      {VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, "HOST_VISIBLE"},
      {VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, "HOST_COHERENT"},
      {VK_MEMORY_PROPERTY_HOST_CACHED_BIT, "HOST_CACHED"},
      {VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT, "LAZILY_ALLOCATED"},
      {VK_MEMORY_PROPERTY_PROTECTED_BIT, "PROTECTED"},
  };
  std::string s;
  for (const auto& n : kNames) {
    if ((f & n.bit) == 0) continue;
    if (!s.empty()) s += '|';
    s += n.name;
  }
  return s.empty() ? "0" : s;
}

std::string to_string(const MemoryTable& t) {
  std::string s;
  char buf[160];
  const auto& p = t.properties;
  for (std::uint32_t i = 0; i < p.memoryHeapCount; ++i) {
    std::snprintf(
        buf, sizeof buf, "heap %u: %" PRIu64 " MiB%s\n", i,
        static_cast<std::uint64_t>(p.memoryHeaps[i].size >> 20),
        (p.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? " DEVICE_LOCAL" : "");
    s += buf;
  }
  for (std::uint32_t i = 0; i < p.memoryTypeCount; ++i) {
    const TypeBacking& b = t.backing[i];
    std::snprintf(
        buf, sizeof buf, "type %u: heap %u %s -> region %u (%s) %s\n", i,
        p.memoryTypes[i].heapIndex, memory_flags_string(p.memoryTypes[i].propertyFlags).c_str(),
        static_cast<unsigned>(b.region_instance),
        b.mem_class == MemClass::kVram ? (b.small_bar ? "vram, visible" : "vram") : "system",
        b.cpu_caching == CpuCaching::kWriteBack ? "WB" : "WC");
    s += buf;
  }
  return s;
}

}  // namespace drm_sim::umd::vk
