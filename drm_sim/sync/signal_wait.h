// drm_sim/sync/signal_wait.h — blocking waits that real POSIX signals
// interrupt, as a kernel sleep notices signal_pending().
//
// The simulator cannot install the program's handlers, so it cannot learn
// from a handler that a signal arrived. Instead a wait that has to block does
// what the kernel does between set_current_state() and schedule(): it looks
// at the thread's pending signals itself.
//
//   1. Block every asynchronous signal for the calling thread (the
//      synchronous ones — SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT,
//      SIGSYS — stay deliverable; SIGKILL and SIGSTOP cannot be blocked).
//   2. Loop: try to acquire; else sigpending() — a signal that the caller had
//      unblocked and whose disposition would act on it is "pending" in the
//      kernel's sense; else sleep in sigtimedwait() on the signals the caller
//      let through (20 µs doubling to 1 ms, then poll the lock again). While
//      in sigtimedwait the thread is a candidate for process-directed signals
//      (kill, alarm, timers), as a sleeping task is; a signal it dequeues is
//      queued back to the thread with the same siginfo
//      (rt_tgsigqueueinfo), so it is pending again for the next check.
//   3. Restore the caller's mask. Pending signals are delivered right there,
//      inside pthread_sigmask(): the program's handler runs (with its original
//      siginfo), or a default-terminate signal ends the process — before the
//      ioctl returns, as with a real driver.
//
// No signal is lost and none is seen twice: from step 1 to step 3 a signal
// can only become pending, never be delivered. Which signals interrupt:
//   - a handler is installed: non-fatal (FaultPlan::set_real_signals_fatal
//     makes it fatal) — interrupts interruptible waits; a killable wait keeps
//     waiting and the signal is delivered when it ends;
//   - default disposition terminate/core: fatal — interrupts killable and
//     interruptible waits (the process then dies in step 3, like SIGKILL);
//   - ignored, default-ignore (SIGCHLD, SIGURG, SIGWINCH, SIGCONT) or
//     default-stop: never (the kernel discards or stops, it does not wake).
// A noticed signal is recorded as the thread's pending signal (fault_plan.h)
// with its number, so later interruptible waits of the same ioctl fail too
// and the -ERESTARTSYS front door can look at its SA_RESTART flag.
// Uninterruptible waits never get here: they block in the lock itself.
//
// Signals that arrive while the thread runs driver code without blocking are
// handled by the program at once and are not seen by the simulator (a kernel
// would see them at the next sleep or on the way out; nothing changes for a
// program except that such a signal does not interrupt the ioctl).
//
// Owns: nothing. Locking: none (per-thread state only). Errors: EINTR.
#pragma once

#include "drm_sim/core/function_ref.h"
#include "drm_sim/sync/fault_plan.h"

namespace drm_sim {

// Calls try_acquire until it returns true (Status ok) or a real signal that
// interrupts `kind` is pending (EINTR; try_acquire did not succeed). kind is
// killable or interruptible.
Status block_until(FunctionRef<bool()> try_acquire, WaitKind kind, FaultPlan& plan);

}  // namespace drm_sim
