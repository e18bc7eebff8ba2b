// drm_sim/sync/fault_plan.h — injected interruptions and allocation failures.
//
// A FaultPlan is handed to a device; its locks, allocators and copy engine ask
// it before every wait or allocation. It says "the k-th interruptible or
// killable wait gets a signal (fatal or not)" or "the n-th allocation fails".
// A delivered signal stays pending for the calling thread until the ioctl
// returns (end_syscall()), as a real signal stays pending until the return to
// user space: a non-fatal signal interrupts interruptible waits only, a fatal
// one also killable waits; uninterruptible waits ignore both.
//
// Owns: counters and the plan. Locking: internally synchronised (atomics and
// a mutex); safe to call from any thread. Errors: on_wait() returns EINTR,
// on_alloc() ENOMEM; nothing else fails.
#pragma once

#include <atomic>
#include <cstdint>

#include "drm_sim/core/status.h"

namespace drm_sim {

enum class WaitKind : std::uint8_t { kUninterruptible = 0, kKillable = 1, kInterruptible = 2 };

class FaultPlan {
 public:
  // Signal at the k-th (1-based, counted from this call) killable or
  // interruptible wait. k == 0 disarms.
  void signal_at_wait(std::uint64_t k, bool fatal);
  // Signal at every killable or interruptible wait until clear().
  void signal_every_wait(bool fatal);
  // Fail the n-th (1-based, counted from this call) allocation. 0 disarms.
  void fail_alloc_at(std::uint64_t n);
  void clear();

  // Driver hooks.
  Status on_wait(WaitKind kind);
  Status on_alloc();

  std::uint64_t waits() const { return waits_.load(std::memory_order_relaxed); }
  std::uint64_t allocs() const { return allocs_.load(std::memory_order_relaxed); }
  std::uint64_t signals_delivered() const { return signals_.load(std::memory_order_relaxed); }
  std::uint64_t allocs_failed() const { return alloc_failures_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> waits_{0};
  std::atomic<std::uint64_t> allocs_{0};
  std::atomic<std::uint64_t> signals_{0};
  std::atomic<std::uint64_t> alloc_failures_{0};
  std::atomic<std::uint64_t> signal_at_{0};  // absolute wait number, 0 = none
  std::atomic<bool> signal_fatal_{false};
  std::atomic<bool> signal_every_{false};
  std::atomic<std::uint64_t> fail_alloc_at_{0};  // absolute alloc number, 0 = none
};

// The calling thread's pending signal.
struct PendingSignal {
  bool pending = false;
  bool fatal = false;
};
PendingSignal& current_signal();
// Marks the end of an ioctl: a pending signal is delivered (and cleared).
void end_syscall();
// Whether the calling thread has a pending signal that interrupts `kind`.
bool signal_interrupts(WaitKind kind);

}  // namespace drm_sim
