// drm_sim/device/device.h — one simulated xe device: its profile, its buffer
// objects and its fault plan.
//
// Owns: the BO table (device-wide BO ids; per-file handles live in DrmFile;
// a BO is freed when no handle, VMA, CPU mapping or bind-array pin holds it),
// its memory (DeviceMemory: VRAM, residency LRU, simulated clock), where the
// BOs' pages live (BoStore: a backing per BO, from creation to free),
// the FaultPlan, the optional EventSink pointer (not owned).
// Locking: bo_mutex() guards every Bo. Lock order: Vm lock -> bo_mutex ->
// memory mutex (BoStore); DrmFile::mutex is never held while taking a Vm lock.
// Errors: create_bo() returns ENOMEM past the BO limit (or an injected
// allocation failure); lookups return nullptr for unknown ids.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "drm_sim/mem/bo_store.h"
#include "drm_sim/mem/svm.h"
#include "drm_sim/profile/profile.h"
#include "drm_sim/sync/fault_plan.h"
#include "drm_sim/vm/events.h"

namespace drm_sim {

struct Bo {
  std::uint32_t id = 0;
  std::uint64_t size = 0;
  std::uint32_t placement = 0;    // bit mask of region instances
  std::uint32_t flags = 0;        // DRM_XE_GEM_CREATE_FLAG_*
  std::uint16_t cpu_caching = 0;  // DRM_XE_GEM_CPU_CACHING_WB/WC
  std::uint32_t vm_id = 0;        // private to this VM of owner_file when non-zero
  const void* owner_file = nullptr;
  bool imported = false;
  std::uint8_t atomic = 0;           // BO-wide atomic attribute (madvise ATOMIC)
  bool cpu_mappings_zapped = false;  // VRAM BO set to CPU/GLOBAL atomics
  std::uint32_t handle_refs = 0;     // GEM handles naming it
  std::uint32_t vma_refs = 0;        // VMAs mapping it, in every VM
  std::uint32_t dontneed_refs = 0;   // of those, VMAs in DONTNEED state (7.1)
  std::uint32_t cpu_map_refs = 0;    // CPU mappings of it (DRM_SIM_CPU_MMAP_MAP_BO pieces)
  std::uint32_t pins = 0;         // held by an in-flight bind array (a rollback may map it again)
  bool purgeable_noted = false;   // purgeable() as last told to the BoStore
  std::uint64_t mmap_offset = 0;  // fake offset for GEM_MMAP_OFFSET

  // 7.1: purgeable when every VMA mapping it is DONTNEED.
  bool purgeable() const { return vma_refs > 0 && dontneed_refs == vma_refs; }
};

class Device {
 public:
  explicit Device(Profile profile);
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const Profile& profile() const { return profile_; }
  std::uint32_t instance() const { return instance_; }  // unique per process
  FaultPlan& plan() { return plan_; }
  // What an interrupted ioctl returns (fault_plan.h): upstream -EINTR by
  // default, or the -ERESTARTSYS model (transparent restart under SA_RESTART).
  void set_signal_return(SignalReturn r) { signal_return_.store(r, std::memory_order_relaxed); }
  SignalReturn signal_return() const { return signal_return_.load(std::memory_order_relaxed); }
  DeviceMemory& memory() { return memory_; }
  BoStore& bos() { return bo_store_; }

  void set_event_sink(EventSink* sink) { sink_.store(sink, std::memory_order_release); }
  EventSink* event_sink() const { return sink_.load(std::memory_order_acquire); }
  const std::atomic<EventSink*>& event_sink_slot() const { return sink_; }
  void emit(const Event& e) const {
    if (EventSink* s = event_sink()) s->on_event(e);
  }

  // Simulates hot-unplug: later multi-device lookups of it see ENODEV.
  void mark_gone() { gone_.store(true); }
  bool gone() const { return gone_.load(); }

  // --- buffer objects; caller holds bo_mutex() for everything below ---
  std::mutex& bo_mutex() { return bo_mu_; }
  Result<std::uint32_t> create_bo_locked(Bo desc);  // id; handle_refs = 1
  Bo* bo_locked(std::uint32_t id);
  void get_vma_ref_locked(std::uint32_t id, bool dontneed);
  void put_vma_ref_locked(std::uint32_t id, bool dontneed);
  // A VMA of the BO went DONTNEED (+1) or WILLNEED (-1) (uapi 7.1).
  void change_dontneed_locked(std::uint32_t id, int delta);
  void put_handle_ref_locked(std::uint32_t id);
  // A CPU mapping of the BO holds a reference (as an mmap holds the GEM
  // object): the BO outlives GEM_CLOSE of its last handle until unmapped.
  void get_cpu_map_ref_locked(std::uint32_t id);
  void put_cpu_map_ref_locked(std::uint32_t id);
  // Keeps a BO alive while a bind array that unmapped it may still roll back.
  void pin_locked(std::uint32_t id);
  void unpin_locked(std::uint32_t id);
  std::size_t bo_count_locked() const { return bos_.size(); }

 private:
  void maybe_free_locked(std::uint32_t id);
  // The BO a reference count change names. A missing BO is a caller bug
  // (something holds a reference to it): aborts with a message.
  Bo& referenced_bo_locked(std::uint32_t id, const char* what);
  void note_purgeable_locked(Bo& b);  // tells the BoStore when purgeable() flips

  Profile profile_;
  std::uint32_t instance_;
  FaultPlan plan_;
  DeviceMemory memory_{profile_, plan_};  // VRAM, residency, clock (after profile_, plan_)
  std::atomic<EventSink*> sink_{nullptr};
  BoStore bo_store_{memory_, profile_, sink_};  // after memory_ and sink_
  std::atomic<bool> gone_{false};
  std::atomic<SignalReturn> signal_return_{SignalReturn::kEintr};
  std::mutex bo_mu_;
  std::unordered_map<std::uint32_t, Bo> bos_;
  std::uint32_t next_bo_id_ = 1;
};

}  // namespace drm_sim
