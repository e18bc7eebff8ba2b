// The restart loop: one place, bounded or not, counted.
#include "umd/kmd/restarting_kmd.h"

#include <asm/ioctl.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

namespace drm_sim::umd {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
}

const char* to_string(RestartPolicy p) {
  switch (p) {
    case RestartPolicy::kLibdrm:
      return "libdrm";
    case RestartPolicy::kBounded:
      return "bounded";
    case RestartPolicy::kRaw:
      return "raw";
  }
  return "?";
}

RestartingKmd::RestartingKmd(KmdBackend& backend, RestartOptions options, SleepFn sleep)
    : backend_(backend), options_(options), sleep_(std::move(sleep)) {
  if (!sleep_) sleep_ = [](std::chrono::microseconds d) { std::this_thread::sleep_for(d); };
}

bool RestartingKmd::should_restart(int rc, std::uint32_t restarts_so_far) const {
  if (rc != -EINTR && rc != -EAGAIN) return false;
  switch (options_.policy) {
    case RestartPolicy::kLibdrm:
      return true;
    case RestartPolicy::kBounded:
      return restarts_so_far < options_.max_restarts;
    case RestartPolicy::kRaw:
      return false;
  }
  return false;
}

std::chrono::microseconds RestartingKmd::backoff_before(std::uint32_t restart_number) const {
  // restart_number is 1-based: initial, 2x initial, 4x initial ... capped.
  auto d = options_.initial_backoff;
  for (std::uint32_t i = 1; i < restart_number && d < options_.max_backoff; ++i) d *= 2;
  return d < options_.max_backoff ? d : options_.max_backoff;
}

int RestartingKmd::call(unsigned long request, void* arg) {
  calls_.fetch_add(1, kRelaxed);
  // The argument as it was before the first attempt, for identical restarts.
  const std::size_t size = arg != nullptr ? _IOC_SIZE(request) : 0;
  std::vector<unsigned char> original;
  std::uint32_t restarts = 0;
  for (;;) {
    attempts_.fetch_add(1, kRelaxed);
    if (restarts == 0 && size > 0 && options_.policy != RestartPolicy::kRaw) {
      original.assign(static_cast<unsigned char*>(arg), static_cast<unsigned char*>(arg) + size);
    }
    const int rc = backend_.ioctl(request, arg);
    if (rc == -EINTR) eintr_.fetch_add(1, kRelaxed);
    if (rc == -EAGAIN) eagain_.fetch_add(1, kRelaxed);
    if (!should_restart(rc, restarts)) {
      if ((rc == -EINTR || rc == -EAGAIN) && options_.policy == RestartPolicy::kBounded) {
        gave_up_.fetch_add(1, kRelaxed);
      }
      return rc;
    }
    ++restarts;
    restarts_.fetch_add(1, kRelaxed);
    if (options_.policy == RestartPolicy::kBounded) {
      const auto d = backoff_before(restarts);
      backoff_us_.fetch_add(d.count(), kRelaxed);
      sleep_(d);
    }
    if (size > 0) std::memcpy(arg, original.data(), size);
  }
}

RestartCounters RestartingKmd::counters() const {
  RestartCounters c;
  c.calls = calls_.load(kRelaxed);
  c.attempts = attempts_.load(kRelaxed);
  c.restarts = restarts_.load(kRelaxed);
  c.eintr_seen = eintr_.load(kRelaxed);
  c.eagain_seen = eagain_.load(kRelaxed);
  c.gave_up = gave_up_.load(kRelaxed);
  c.backoff_total = std::chrono::microseconds(backoff_us_.load(kRelaxed));
  return c;
}

void RestartingKmd::reset_counters() {
  calls_.store(0, kRelaxed);
  attempts_.store(0, kRelaxed);
  restarts_.store(0, kRelaxed);
  eintr_.store(0, kRelaxed);
  eagain_.store(0, kRelaxed);
  gave_up_.store(0, kRelaxed);
  backoff_us_.store(0, kRelaxed);
}

}  // namespace drm_sim::umd
