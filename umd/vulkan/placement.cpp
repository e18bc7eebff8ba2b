// The placement rules of placement.h.
#include "umd/vulkan/placement.h"

#include <algorithm>

namespace drm_sim::umd::vk {

namespace {

constexpr std::uint64_t kSvmPage = 4096;
constexpr std::uint64_t kMinBoVaAlignment = std::uint64_t{64} * 1024;

std::uint64_t round_up(std::uint64_t v, std::uint64_t a) {
  return (v + a - 1) / a * a;
}

}  // namespace

Expected<PlacementPlan> plan_placement(const MemoryTable& table, const AllocationRequest& req,
                                       const PlacementContext& ctx) {
  if (req.memory_type_index >= table.type_count() || req.size == 0 ||
      !(req.priority >= 0.0f && req.priority <= 1.0f)) {
    return Result::kInvalidArgument;
  }
  const TypeBacking& t = table.backing[req.memory_type_index];
  const VkMemoryPropertyFlags flags = table.flags(req.memory_type_index);
  const bool host_visible = (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) != 0;
  const bool vram = t.mem_class == MemClass::kVram;
  const bool low = req.priority < kLowPriority;

  PlacementPlan p;
  if (vram && req.pageable_device_local && ctx.fault_mode_vm && ctx.cpu_addr_mirror) {
    p.backing = Backing::kSvmMirror;
    p.size = round_up(req.size, kSvmPage);
    p.va_alignment = kSvmPage;
    p.pat_index = ctx.pat.cached_coherent;  // CPU pages: snooped
    p.advice.push_back(low ? PreferredLocation::system() : PreferredLocation::device());
    return p;
  }

  p.backing = Backing::kBufferObject;
  GemCreateDesc& g = p.gem;
  std::uint32_t page = t.min_page_size;
  if (vram) {
    g.placement = region_bit(t.region_instance);
    if (req.pageable_device_local || low) {
      g.placement |= region_bit(table.system_instance);
      page = std::max(page, table.system_min_page_size);
    }
    g.cpu_caching = CpuCaching::kWriteCombined;  // VRAM-capable BOs must be WC
    g.needs_visible_vram = host_visible && t.small_bar;
  } else {
    g.placement = region_bit(t.region_instance);
    g.cpu_caching = t.cpu_caching;
  }
  p.size = round_up(req.size, page);
  g.size = p.size;
  p.va_alignment = std::max<std::uint64_t>(kMinBoVaAlignment, page);
  p.pat_index =
      g.cpu_caching == CpuCaching::kWriteBack ? ctx.pat.cached_coherent : ctx.pat.write_combining;
  return p;
}

}  // namespace drm_sim::umd::vk
