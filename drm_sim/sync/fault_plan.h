// drm_sim/sync/fault_plan.h — the signal model: injected interruptions and
// allocation failures.
//
// A FaultPlan is handed to a device; its locks, allocators and copy engine ask
// it before every wait or allocation. It says "the k-th interruptible or
// killable wait gets a signal (fatal or not)", "every such wait does", "each
// does with probability p from a seeded PRNG", or "the n-th allocation
// fails". A delivered signal stays pending for the calling thread until the
// ioctl returns (end_syscall()), as a real signal stays pending until the
// return to user space: a non-fatal signal interrupts interruptible waits
// only, a fatal one also killable waits; uninterruptible waits ignore both.
//
// Real POSIX signals are the other source of pending signals: a wait that
// really blocks (sync/signal_wait.h) notices a signal that arrives meanwhile
// and records it here, with its number, exactly like an injected one.
//
// Injected signals model a signal number (default SIGINT): in the device's
// -ERESTARTSYS mode (SignalReturn) the front door restarts the ioctl when that
// signal's current handler has SA_RESTART, as the kernel's signal delivery
// does. Real signals carry their own number.
//
// The random plan is counter-based: whether the n-th wait since arming gets a
// signal is a pure function of (seed, n), so a seed replays the same pattern
// whatever the threads' interleaving does to the rest of the program.
//
// Owns: counters and the plan. Locking: internally synchronised (atomics);
// safe to call from any thread. While a signal plan (or an allocation
// failure) is armed, every wait (allocation) takes a unique number from an
// atomic read-modify-write. While none is armed the counters are statistics
// bumped with a plain relaxed load and store, which costs far less: exact
// when one thread at a time waits, while waits in several threads at once
// may be counted once. Errors: on_wait() returns EINTR, on_alloc() ENOMEM;
// nothing else fails.
#pragma once

#include <atomic>
#include <csignal>
#include <cstdint>

#include "drm_sim/core/status.h"

namespace drm_sim {

enum class WaitKind : std::uint8_t { kUninterruptible = 0, kKillable = 1, kInterruptible = 2 };

// What an interrupted ioctl returns (a per-device choice, Device).
//   kEintr       upstream xe: -EINTR, always; user space restarts (drmIoctl).
//   kRestartSys  the wait returns -ERESTARTSYS: the front door restarts the
//                ioctl transparently when the signal's handler has SA_RESTART,
//                else returns -EINTR (fatal signals: always -EINTR).
enum class SignalReturn : std::uint8_t { kEintr = 0, kRestartSys = 1 };

class FaultPlan {
 public:
  static constexpr std::uint32_t kPpmOne = 1'000'000;  // probability 1 in millionths

  // Signal at the k-th (1-based, counted from this call) killable or
  // interruptible wait. k == 0 disarms.
  void signal_at_wait(std::uint64_t k, bool fatal);
  // Signal at every killable or interruptible wait until clear().
  void signal_every_wait(bool fatal);
  // Signal at each killable or interruptible wait with probability
  // ppm / 1,000,000 (clamped), decided by a PRNG seeded with `seed` over the
  // wait's number counted from this call. ppm == 0 disarms.
  void signal_random(std::uint32_t ppm, std::uint64_t seed, bool fatal);
  void signal_random(double p, std::uint64_t seed, bool fatal);
  // The signal number injected signals model (for SA_RESTART); default SIGINT.
  void set_signal_number(int signo);
  int signal_number() const { return signo_.load(std::memory_order_relaxed); }
  // Real signals with a handler are non-fatal unless this says otherwise
  // (a signal whose disposition is default-terminate is always fatal).
  void set_real_signals_fatal(bool fatal);
  bool real_signals_fatal() const { return real_fatal_.load(std::memory_order_relaxed); }
  // Fail the n-th (1-based, counted from this call) allocation. 0 disarms.
  void fail_alloc_at(std::uint64_t n);
  // Disarms every injected signal and allocation failure (the signal number
  // and the real-signal setting stay).
  void clear();

  // Driver hooks.
  Status on_wait(WaitKind kind);
  Status on_alloc();
  // count allocations in a row, as count calls of on_alloc() (stops at the
  // first that fails), with one check of the plan while none is armed.
  Status on_allocs(std::uint64_t count);
  // A real signal noticed by a blocking wait (sync/signal_wait.cpp).
  void note_real_signal() { real_signals_.fetch_add(1, std::memory_order_relaxed); }
  // The front door restarted an ioctl transparently (-ERESTARTSYS mode).
  void note_transparent_restart() { restarts_.fetch_add(1, std::memory_order_relaxed); }

  std::uint64_t waits() const { return waits_.load(std::memory_order_relaxed); }
  std::uint64_t allocs() const { return allocs_.load(std::memory_order_relaxed); }
  std::uint64_t signals_delivered() const { return signals_.load(std::memory_order_relaxed); }
  std::uint64_t allocs_failed() const { return alloc_failures_.load(std::memory_order_relaxed); }
  std::uint64_t real_signals() const { return real_signals_.load(std::memory_order_relaxed); }
  std::uint64_t transparent_restarts() const { return restarts_.load(std::memory_order_relaxed); }

  // The random plan's decision for the n-th wait since arming (pure).
  static bool random_fires(std::uint64_t seed, std::uint64_t n, std::uint32_t ppm);

 private:
  static void bump(std::atomic<std::uint64_t>& counter);

  std::atomic<std::uint64_t> waits_{0};
  std::atomic<std::uint64_t> allocs_{0};
  std::atomic<std::uint64_t> signals_{0};
  std::atomic<std::uint64_t> alloc_failures_{0};
  std::atomic<std::uint64_t> real_signals_{0};
  std::atomic<std::uint64_t> restarts_{0};
  std::atomic<std::uint64_t> signal_at_{0};  // absolute wait number, 0 = none
  std::atomic<bool> signal_fatal_{false};
  std::atomic<bool> signal_every_{false};
  std::atomic<std::uint32_t> random_ppm_{0};  // 0 = random plan off
  std::atomic<std::uint64_t> random_seed_{0};
  std::atomic<std::uint64_t> random_base_{0};  // waits() when armed
  std::atomic<int> signo_{SIGINT};
  std::atomic<bool> real_fatal_{false};
  std::atomic<std::uint64_t> fail_alloc_at_{0};  // absolute alloc number, 0 = none
};

// The calling thread's pending signal.
struct PendingSignal {
  bool pending = false;
  bool fatal = false;
  int signo = 0;  // the (modelled or real) signal number; 0 when none
};
PendingSignal& current_signal();
// Marks a signal pending for the calling thread (a fatal one stays fatal).
void raise_pending(int signo, bool fatal);
// Marks the end of an ioctl: a pending signal is delivered (and cleared).
void end_syscall();
// Whether the calling thread has a pending signal that interrupts `kind`.
bool signal_interrupts(WaitKind kind);

}  // namespace drm_sim
