// drm_sim/vm/events.h — the driver's observable events and counters.
//
// The VM and the BO residency store report what they do to an EventSink: ops
// applied, PTEs zapped, TLB invalidations, faults, migrations, evictions and
// purges. Tests assert on the
// trace; benchmarks turn it into a timeline.
//
// Owns: value types. Locking: a sink is called with the reporting VM's lock
// (residency events: the device's memory mutex) held; it must not call back
// into the driver. Errors: none.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace drm_sim {

enum class EventType : std::uint8_t {
  kOpMap,        // a VMA created by a MAP (or a REMAP piece)
  kOpUnmap,      // a VMA removed
  kPteZap,       // GPU PTEs of [start,end) zapped on the tiles in tile_mask
  kTlbInval,     // one range TLB invalidation over [start,end) on one tile
  kAttrChanged,  // a VMA's attribute changed by madvise
  kAttrSkipped,  // a VMA's attribute unchanged: skip invalidation
  // Residency: of BO pages (bo names the BO; [start,end) are BO offsets),
  // or of shared-virtual-memory pages (bo 0; [start,end) is the VA range):
  kGpuFault,       // a fault-mode VM's GPU access found no usable mapping (vm_id, tile)
  kMigrateToVram,  // a chunk moved from system memory to VRAM of `tile`
  kMigrateToSys,   // a chunk moved from VRAM of `tile` to system memory
  kEvict,          // a chunk evicted from VRAM of `tile` to system memory under pressure
  kPurge,          // a purgeable (7.1) BO's backing discarded under pressure
};

struct Event {
  EventType type;
  std::uint32_t vm_id = 0;
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint32_t tile = 0;       // kTlbInval
  std::uint32_t tile_mask = 0;  // kPteZap
  std::uint32_t bo = 0;         // residency events: the device-wide BO id
};

const char* to_string(EventType t);
std::string to_string(const Event& e);

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void on_event(const Event& e) = 0;
};

// A thread-safe sink that records every event (tests).
class EventRecorder final : public EventSink {
 public:
  void on_event(const Event& e) override {
    std::lock_guard<std::mutex> g(mu_);
    events_.push_back(e);
  }
  std::vector<Event> take() {
    std::lock_guard<std::mutex> g(mu_);
    return std::exchange(events_, {});
  }
  std::size_t count(EventType t) {
    std::lock_guard<std::mutex> g(mu_);
    std::size_t n = 0;
    for (const auto& e : events_) n += e.type == t;
    return n;
  }

 private:
  std::mutex mu_;
  std::vector<Event> events_;
};

// Per-VM counters, readable by programs (C++ API and the stats ioctl).
struct VmCounters {
  std::uint64_t binds = 0;              // bind ops executed
  std::uint64_t bind_rollbacks = 0;     // bind arrays rolled back
  std::uint64_t madvise_calls = 0;      // madvise ioctls that reached the VM
  std::uint64_t madvise_splits = 0;     // REMAPs planned by madvise
  std::uint64_t vmas_advised = 0;       // VMAs whose attribute changed
  std::uint64_t vmas_skipped = 0;       // VMAs marked skip-invalidation
  std::uint64_t pte_zaps = 0;           // VMAs whose PTEs were zapped
  std::uint64_t tlb_invalidations = 0;  // range TLB invalidations (per tile)
  std::uint64_t queries = 0;
};

}  // namespace drm_sim
