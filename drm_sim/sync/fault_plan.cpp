#include "drm_sim/sync/fault_plan.h"

namespace drm_sim {

namespace {
// initial-exec: no __tls_get_addr call on every wait (the library is linked
// or preloaded, never dlopen()ed late).
__attribute__((tls_model("initial-exec"))) thread_local PendingSignal t_signal;
}  // namespace

PendingSignal& current_signal() {
  return t_signal;
}
void end_syscall() {
  t_signal = PendingSignal{};
}

bool signal_interrupts(WaitKind kind) {
  if (!t_signal.pending) return false;
  switch (kind) {
    case WaitKind::kUninterruptible:
      return false;
    case WaitKind::kKillable:
      return t_signal.fatal;
    case WaitKind::kInterruptible:
      return true;
  }
  return false;
}

void FaultPlan::signal_at_wait(std::uint64_t k, bool fatal) {
  signal_fatal_.store(fatal, std::memory_order_relaxed);
  signal_at_.store(k == 0 ? 0 : waits() + k, std::memory_order_relaxed);
}

void FaultPlan::signal_every_wait(bool fatal) {
  signal_fatal_.store(fatal, std::memory_order_relaxed);
  signal_every_.store(true, std::memory_order_relaxed);
}

void FaultPlan::fail_alloc_at(std::uint64_t n) {
  fail_alloc_at_.store(n == 0 ? 0 : allocs() + n, std::memory_order_relaxed);
}

void FaultPlan::clear() {
  signal_at_.store(0, std::memory_order_relaxed);
  signal_every_.store(false, std::memory_order_relaxed);
  fail_alloc_at_.store(0, std::memory_order_relaxed);
}

Status FaultPlan::on_wait(WaitKind kind) {
  if (kind == WaitKind::kUninterruptible) return Status::ok();
  const std::uint64_t n = waits_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (signal_every_.load(std::memory_order_relaxed) ||
      signal_at_.load(std::memory_order_relaxed) == n) {
    t_signal.pending = true;
    t_signal.fatal = t_signal.fatal || signal_fatal_.load(std::memory_order_relaxed);
    signals_.fetch_add(1, std::memory_order_relaxed);
  }
  return signal_interrupts(kind) ? Status::err(EINTR) : Status::ok();
}

Status FaultPlan::on_alloc() {
  const std::uint64_t n = allocs_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (fail_alloc_at_.load(std::memory_order_relaxed) == n) {
    alloc_failures_.fetch_add(1, std::memory_order_relaxed);
    return Status::err(ENOMEM);
  }
  return Status::ok();
}

}  // namespace drm_sim
