// Blocking waits interrupted by real POSIX signals (design in signal_wait.h).
#include "drm_sim/sync/signal_wait.h"

#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <ctime>

namespace drm_sim {

namespace {

constexpr int kSyncSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS};
constexpr int kSpins = 64;  // try_acquire + sched_yield before the signal-aware sleep

enum class Effect { kNone, kHandler, kFatal };

// What delivering signo now would do (its current disposition).
Effect effect_of(int signo) {
  struct sigaction sa {};
  if (sigaction(signo, nullptr, &sa) != 0) return Effect::kNone;
  if ((sa.sa_flags & SA_SIGINFO) == 0 && sa.sa_handler == SIG_IGN) return Effect::kNone;
  if ((sa.sa_flags & SA_SIGINFO) != 0 || sa.sa_handler != SIG_DFL) return Effect::kHandler;
  switch (signo) {  // SIG_DFL
    case SIGCHLD:
    case SIGURG:
    case SIGWINCH:
    case SIGCONT:
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU:
    case SIGSTOP:
      return Effect::kNone;  // ignore or stop: no wake-up with -EINTR
    default:
      return Effect::kFatal;
  }
}

struct Noticed {
  int signo = 0;
  bool fatal = false;
};

// The first signal pending for this thread that `caller_mask` lets through
// and that acts; real_fatal makes handled signals fatal.
Noticed pending_signal(const sigset_t& caller_mask, bool real_fatal) {
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0) return {};
  for (int s = 1; s < NSIG; ++s) {
    if (sigismember(&pending, s) != 1 || sigismember(&caller_mask, s) == 1) continue;
    switch (effect_of(s)) {
      case Effect::kNone:
        continue;
      case Effect::kHandler:
        return {s, real_fatal};
      case Effect::kFatal:
        return {s, true};
    }
  }
  return {};
}

bool interrupts(const Noticed& n, WaitKind kind) {
  if (n.signo == 0) return false;
  return kind == WaitKind::kInterruptible || (kind == WaitKind::kKillable && n.fatal);
}

}  // namespace

Status block_until(FunctionRef<bool()> try_acquire, WaitKind kind, FaultPlan& plan) {
  for (int i = 0; i < kSpins; ++i) {
    if (try_acquire()) return Status::ok();
    sched_yield();
  }
  sigset_t block;
  sigfillset(&block);
  for (const int s : kSyncSignals) sigdelset(&block, s);
  sigset_t caller;
  pthread_sigmask(SIG_BLOCK, &block, &caller);
  // The signals this wait listens for: those the caller let through.
  sigset_t listen;
  sigemptyset(&listen);
  for (int s = 1; s < NSIG; ++s) {
    if (sigismember(&block, s) == 1 && sigismember(&caller, s) == 0) sigaddset(&listen, s);
  }
  const bool real_fatal = plan.real_signals_fatal();
  const pid_t pid = getpid();
  const auto tid = static_cast<pid_t>(syscall(SYS_gettid));
  bool acquired = false;
  Noticed seen;
  long sleep_ns = 20'000;
  for (;;) {
    if (try_acquire()) {
      acquired = true;
      break;
    }
    seen = pending_signal(caller, real_fatal);
    if (interrupts(seen, kind)) break;
    // Sleep until a listened-for signal arrives (sigtimedwait makes this
    // thread a candidate for process-directed signals too) or the timeout
    // polls the lock again. A dequeued signal is queued back to this thread
    // with its siginfo, so the handler later sees it unchanged; signals
    // already pending are not listened for (no busy loop on them).
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    sigset_t wait_set = listen;
    for (int s = 1; s < NSIG; ++s) {
      if (sigismember(&pending, s) == 1) sigdelset(&wait_set, s);
    }
    const timespec ts{0, sleep_ns};
    siginfo_t info{};
    const int got = sigtimedwait(&wait_set, &info, &ts);
    if (got > 0) syscall(SYS_rt_tgsigqueueinfo, pid, tid, got, &info);
    sleep_ns = std::min(sleep_ns * 2, 1'000'000L);
  }
  // A signal that did not interrupt (killable wait, non-fatal) is delivered
  // now too and stays pending for the rest of the ioctl.
  if (acquired) seen = pending_signal(caller, real_fatal);
  if (seen.signo != 0) {
    raise_pending(seen.signo, seen.fatal);
    plan.note_real_signal();
  }
  pthread_sigmask(SIG_SETMASK, &caller, nullptr);  // handlers run here
  return acquired ? Status::ok() : Status::err(EINTR);
}

}  // namespace drm_sim
