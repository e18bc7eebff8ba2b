// drm_sim/sync/sim_lock.h — the driver's sleeping locks with kernel wait kinds.
//
// SimRwLock models a kernel rw_semaphore: lock_write/lock_read take a
// WaitKind (killable, interruptible or uninterruptible) and ask the device's
// FaultPlan before blocking, so an injected or pending signal turns into
// EINTR exactly where the kernel would return it. When the lock is contended
// a killable or interruptible acquisition blocks in block_until()
// (signal_wait.h), so a real POSIX signal arriving meanwhile interrupts it;
// an uninterruptible one blocks in the mutex and ignores signals.
//
// Owns: a std::shared_mutex. Locking: it is the lock. Errors: EINTR only.
#pragma once

#include <shared_mutex>

#include "drm_sim/sync/fault_plan.h"
#include "drm_sim/sync/signal_wait.h"

namespace drm_sim {

class SimRwLock {
 public:
  Status lock_write(WaitKind kind, FaultPlan& plan) {
    DRM_SIM_TRY(plan.on_wait(kind));
    if (mu_.try_lock()) return Status::ok();
    if (kind == WaitKind::kUninterruptible) {
      mu_.lock();
      return Status::ok();
    }
    return block_until([this] { return mu_.try_lock(); }, kind, plan);
  }
  Status lock_read(WaitKind kind, FaultPlan& plan) {
    DRM_SIM_TRY(plan.on_wait(kind));
    if (mu_.try_lock_shared()) return Status::ok();
    if (kind == WaitKind::kUninterruptible) {
      mu_.lock_shared();
      return Status::ok();
    }
    return block_until([this] { return mu_.try_lock_shared(); }, kind, plan);
  }
  void unlock_write() { mu_.unlock(); }
  void unlock_read() { mu_.unlock_shared(); }
  std::shared_mutex& native() { return mu_; }

 private:
  std::shared_mutex mu_;
};

// RAII holders for a lock already taken with lock_write/lock_read.
class WriteHeld {
 public:
  explicit WriteHeld(SimRwLock& l) : l_(l) {}
  ~WriteHeld() { l_.unlock_write(); }
  WriteHeld(const WriteHeld&) = delete;
  WriteHeld& operator=(const WriteHeld&) = delete;

 private:
  SimRwLock& l_;
};
class ReadHeld {
 public:
  explicit ReadHeld(SimRwLock& l) : l_(l) {}
  ~ReadHeld() { l_.unlock_read(); }
  ReadHeld(const ReadHeld&) = delete;
  ReadHeld& operator=(const ReadHeld&) = delete;

 private:
  SimRwLock& l_;
};

}  // namespace drm_sim
