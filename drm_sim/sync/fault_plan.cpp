#include "drm_sim/sync/fault_plan.h"

#include <algorithm>
#include <cmath>

namespace drm_sim {

namespace {
// initial-exec: no __tls_get_addr call on every wait (the library is linked
// or preloaded, never dlopen()ed late).
__attribute__((tls_model("initial-exec"))) thread_local PendingSignal t_signal;

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
}  // namespace

PendingSignal& current_signal() {
  return t_signal;
}
void raise_pending(int signo, bool fatal) {
  if (!t_signal.pending) t_signal.signo = signo;
  t_signal.pending = true;
  t_signal.fatal = t_signal.fatal || fatal;
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

bool FaultPlan::random_fires(std::uint64_t seed, std::uint64_t n, std::uint32_t ppm) {
  if (ppm >= kPpmOne) return true;
  return splitmix64(splitmix64(seed) ^ n) % kPpmOne < ppm;
}

void FaultPlan::signal_at_wait(std::uint64_t k, bool fatal) {
  signal_fatal_.store(fatal, std::memory_order_relaxed);
  signal_at_.store(k == 0 ? 0 : waits() + k, std::memory_order_relaxed);
}

void FaultPlan::signal_every_wait(bool fatal) {
  signal_fatal_.store(fatal, std::memory_order_relaxed);
  signal_every_.store(true, std::memory_order_relaxed);
}

void FaultPlan::signal_random(std::uint32_t ppm, std::uint64_t seed, bool fatal) {
  signal_fatal_.store(fatal, std::memory_order_relaxed);
  random_seed_.store(seed, std::memory_order_relaxed);
  random_base_.store(waits(), std::memory_order_relaxed);
  random_ppm_.store(std::min(ppm, kPpmOne), std::memory_order_relaxed);
}

void FaultPlan::signal_random(double p, std::uint64_t seed, bool fatal) {
  const double clamped = std::isnan(p) ? 0.0 : std::clamp(p, 0.0, 1.0);
  signal_random(static_cast<std::uint32_t>(std::lround(clamped * kPpmOne)), seed, fatal);
}

void FaultPlan::set_signal_number(int signo) {
  signo_.store(signo, std::memory_order_relaxed);
}

void FaultPlan::set_real_signals_fatal(bool fatal) {
  real_fatal_.store(fatal, std::memory_order_relaxed);
}

void FaultPlan::fail_alloc_at(std::uint64_t n) {
  fail_alloc_at_.store(n == 0 ? 0 : allocs() + n, std::memory_order_relaxed);
}

void FaultPlan::clear() {
  signal_at_.store(0, std::memory_order_relaxed);
  signal_every_.store(false, std::memory_order_relaxed);
  random_ppm_.store(0, std::memory_order_relaxed);
  fail_alloc_at_.store(0, std::memory_order_relaxed);
}

// A relaxed load and store instead of a fetch_add: a locked read-modify-write
// costs about 5 ns, several per ioctl, and while nothing is armed the count
// is only a statistic (exact for one thread at a time; see the header).
void FaultPlan::bump(std::atomic<std::uint64_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

Status FaultPlan::on_wait(WaitKind kind) {
  if (kind == WaitKind::kUninterruptible) return Status::ok();
  const std::uint32_t ppm = random_ppm_.load(std::memory_order_relaxed);
  if (ppm == 0 && signal_at_.load(std::memory_order_relaxed) == 0 &&
      !signal_every_.load(std::memory_order_relaxed)) {
    bump(waits_);  // no signal plan armed
    return signal_interrupts(kind) ? Status::err(EINTR) : Status::ok();
  }
  const std::uint64_t n = waits_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (signal_every_.load(std::memory_order_relaxed) ||
      signal_at_.load(std::memory_order_relaxed) == n ||
      (ppm != 0 && random_fires(random_seed_.load(std::memory_order_relaxed),
                                n - random_base_.load(std::memory_order_relaxed), ppm))) {
    raise_pending(signo_.load(std::memory_order_relaxed),
                  signal_fatal_.load(std::memory_order_relaxed));
    signals_.fetch_add(1, std::memory_order_relaxed);
  }
  return signal_interrupts(kind) ? Status::err(EINTR) : Status::ok();
}

Status FaultPlan::on_allocs(std::uint64_t count) {
  if (fail_alloc_at_.load(std::memory_order_relaxed) == 0) {
    allocs_.store(allocs_.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
    return Status::ok();
  }
  for (std::uint64_t i = 0; i < count; ++i) DRM_SIM_TRY(on_alloc());
  return Status::ok();
}

Status FaultPlan::on_alloc() {
  const std::uint64_t at = fail_alloc_at_.load(std::memory_order_relaxed);
  if (at == 0) {
    bump(allocs_);  // no failure armed
    return Status::ok();
  }
  const std::uint64_t n = allocs_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (at == n) {
    alloc_failures_.fetch_add(1, std::memory_order_relaxed);
    return Status::err(ENOMEM);
  }
  return Status::ok();
}

}  // namespace drm_sim
