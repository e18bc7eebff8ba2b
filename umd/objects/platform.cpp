// PCI id -> graphics family -> PAT indices (xe_pat.c: xe2_pat_table, xehpc_pat_table).
#include "umd/objects/platform.h"

namespace drm_sim::umd {

GraphicsFamily family_of(std::uint16_t pci_device_id) {
  // Ponte Vecchio ids are 0x0BD0..0x0BDB (include/drm/intel/pciids.h).
  if ((pci_device_id & 0xfff0) == 0x0bd0) return GraphicsFamily::kXeHpc;
  return GraphicsFamily::kXe2;  // Battlemage 0xE20x/0xE21x, Lunar Lake 0x64xx, and the default
}

PatConfig pat_config_for(std::uint16_t pci_device_id) {
  switch (family_of(pci_device_id)) {
    case GraphicsFamily::kXeHpc:
      return PatConfig{1, 3};  // 1: WC; 3: WB 1-way coherent
    case GraphicsFamily::kXe2:
      return PatConfig{6, 1};  // 6: WC, no coherency; 1: WB 1-way
  }
  return PatConfig{6, 1};
}

}  // namespace drm_sim::umd
