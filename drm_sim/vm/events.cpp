#include "drm_sim/vm/events.h"

#include <cstdio>

namespace drm_sim {

const char* to_string(EventType t) {
  switch (t) {
    case EventType::kOpMap:
      return "map";
    case EventType::kOpUnmap:
      return "unmap";
    case EventType::kPteZap:
      return "pte_zap";
    case EventType::kTlbInval:
      return "tlb_inval";
    case EventType::kAttrChanged:
      return "attr_changed";
    case EventType::kAttrSkipped:
      return "attr_skipped";
    case EventType::kGpuFault:
      return "gpu_fault";
    case EventType::kMigrateToVram:
      return "migrate_to_vram";
    case EventType::kMigrateToSys:
      return "migrate_to_sys";
    case EventType::kEvict:
      return "evict";
    case EventType::kPurge:
      return "purge";
  }
  return "?";
}

std::string to_string(const Event& e) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "vm%u %s [0x%llx,0x%llx) tile=%u tiles=0x%x", e.vm_id,
                to_string(e.type), static_cast<unsigned long long>(e.start),
                static_cast<unsigned long long>(e.end), e.tile, e.tile_mask);
  std::string out = buf;
  if (e.bo != 0) out += " bo=" + std::to_string(e.bo);
  return out;
}

}  // namespace drm_sim
