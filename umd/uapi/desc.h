// umd/uapi/desc.h — the UMD's own descriptions of what it asks the driver.
//
// Plain values in the UMD's vocabulary (a GPU range, a preferred location,
// an atomic-access mode, a placement), independent of the uapi layout. The
// pure build_* functions of umd/uapi/build.h turn them into uapi structs, and
// the parse_* functions turn uapi replies back into these types.
// Owns: nothing beyond its fields. Locking: none (value types). Errors: none
// here; the builders do not validate (the driver does, with its errno).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace drm_sim::umd {

// A half-open range [start, start + size) of GPU (or, for SVM, CPU) VA.
struct GpuRange {
  std::uint64_t start = 0;
  std::uint64_t size = 0;
  std::uint64_t end() const { return start + size; }
  friend bool operator==(const GpuRange&, const GpuRange&) = default;
};

// Bit n of a placement mask is memory-region instance n.
constexpr std::uint32_t region_bit(std::uint32_t instance) {
  return 1u << instance;
}

// --- device query replies ----------------------------------------------------

enum class MemClass : std::uint16_t { kSystem = 0, kVram = 1 };

struct MemRegion {
  MemClass mem_class = MemClass::kSystem;
  std::uint16_t instance = 0;
  std::uint32_t min_page_size = 4096;
  std::uint64_t total_size = 0;
  std::uint64_t used = 0;
  std::uint64_t cpu_visible_size = 0;  // VRAM only
  std::uint64_t cpu_visible_used = 0;  // VRAM only
  friend bool operator==(const MemRegion&, const MemRegion&) = default;
};

struct DeviceConfig {
  std::uint16_t pci_device_id = 0;
  std::uint8_t pci_revision = 0;
  bool has_vram = false;
  bool has_cpu_addr_mirror = false;
  std::uint64_t min_alignment = 0;
  std::uint32_t va_bits = 0;
  std::uint32_t max_exec_queue_priority = 0;
  friend bool operator==(const DeviceConfig&, const DeviceConfig&) = default;
};

// --- GEM -----------------------------------------------------------------------

enum class CpuCaching : std::uint16_t { kWriteBack = 1, kWriteCombined = 2 };

struct GemCreateDesc {
  std::uint64_t size = 0;
  std::uint32_t placement = 0;  // region_bit(instance) | ...
  CpuCaching cpu_caching = CpuCaching::kWriteCombined;
  bool needs_visible_vram = false;
  bool defer_backing = false;
  bool scanout = false;
  std::uint32_t vm_id = 0;  // nonzero: private to that VM
  friend bool operator==(const GemCreateDesc&, const GemCreateDesc&) = default;
};

// --- VM --------------------------------------------------------------------------

enum class VmMode : std::uint8_t {
  kDmaFence,     // flags 0: classic submission with dma-fences
  kLongRunning,  // LR_MODE
  kFault,        // LR_MODE | FAULT_MODE: GPU page faults, SVM (CPU address mirror)
};

struct VmCreateDesc {
  VmMode mode = VmMode::kFault;
  bool scratch_page = false;  // not allowed with kFault
};

// Where a PREFETCH moves pages: a region instance, or "what madvise said".
struct PrefetchTarget {
  bool consult_preferred_location = true;
  std::uint32_t region_instance = 0;  // when !consult_preferred_location
  static PrefetchTarget preferred_location() { return {true, 0}; }
  static PrefetchTarget region(std::uint32_t instance) { return {false, instance}; }
};

enum class BindKind : std::uint8_t {
  kMapBo,       // bo at bo_offset -> range
  kMapUserptr,  // CPU memory at userptr -> range
  kMapNull,     // sparse: reads 0, writes dropped
  kMapMirror,   // CPU address mirror (SVM): range is a CPU VA range
  kUnmap,
  kUnmapAll,  // every mapping of bo
  kPrefetch,
};

struct BindOpDesc {
  BindKind kind = BindKind::kMapBo;
  GpuRange range;
  std::uint32_t bo = 0;         // kMapBo, kUnmapAll
  std::uint64_t bo_offset = 0;  // kMapBo
  std::uint64_t userptr = 0;    // kMapUserptr
  std::uint16_t pat_index = 0;  // map kinds
  bool readonly = false;
  bool immediate = false;
  bool autoreset = false;   // kMapMirror: MADVISE_AUTORESET
  PrefetchTarget prefetch;  // kPrefetch
};

// --- madvise -----------------------------------------------------------------------

enum class MigrationPolicy : std::uint16_t { kAllPages = 0, kOnlySystemPages = 1 };

struct PreferredLocation {
  enum class Kind : std::uint8_t {
    kDefaultDevice,  // VRAM of the faulting tile (the default)
    kSystem,         // system memory
    kDeviceFd,       // uapi 7.0: VRAM region_instance of the xe device devmem_fd
  };
  Kind kind = Kind::kDefaultDevice;
  MigrationPolicy migration = MigrationPolicy::kAllPages;
  int devmem_fd = 0;                  // kDeviceFd
  std::uint16_t region_instance = 0;  // kDeviceFd

  static PreferredLocation device(MigrationPolicy m = MigrationPolicy::kAllPages) {
    return {Kind::kDefaultDevice, m, 0, 0};
  }
  static PreferredLocation system(MigrationPolicy m = MigrationPolicy::kAllPages) {
    return {Kind::kSystem, m, 0, 0};
  }
  static PreferredLocation device_fd(int fd, std::uint16_t instance,
                                     MigrationPolicy m = MigrationPolicy::kAllPages) {
    return {Kind::kDeviceFd, m, fd, instance};
  }
  friend bool operator==(const PreferredLocation&, const PreferredLocation&) = default;
};

// Who may perform atomics on the range (the compute runtime's vocabulary).
enum class AtomicAccess : std::uint8_t {
  kNone,    // DRM_XE_ATOMIC_UNDEFINED
  kDevice,  // DRM_XE_ATOMIC_DEVICE
  kSystem,  // DRM_XE_ATOMIC_GLOBAL: device and CPU
  kHost,    // DRM_XE_ATOMIC_CPU
};

struct PatIndex {
  std::uint16_t value = 0;
  friend bool operator==(const PatIndex&, const PatIndex&) = default;
};

using MadviseAttribute = std::variant<PreferredLocation, AtomicAccess, PatIndex>;

struct MadviseDesc {
  GpuRange range;
  MadviseAttribute attribute;
  friend bool operator==(const MadviseDesc&, const MadviseDesc&) = default;
};

// One element of the attribute query: a whole VMA and its attributes.
struct MemRange {
  GpuRange range;
  PreferredLocation preferred;
  AtomicAccess atomic = AtomicAccess::kNone;
  std::uint16_t pat_index = 0;
  friend bool operator==(const MemRange&, const MemRange&) = default;
};

const char* to_string(AtomicAccess a);
std::string to_string(const MemRange& r);
std::string to_string(const std::vector<MemRange>& rs);

}  // namespace drm_sim::umd
