// umd/kmd/restarting_kmd.h — the UMD's one restart loop around a KmdBackend.
//
// Policies (what happens when an attempt returns -EINTR or -EAGAIN):
//   kLibdrm   restart at once, forever — what libdrm's drmIoctl() does;
//   kBounded  restart at most max_restarts times, sleeping initial_backoff,
//             then 2x, 4x ... (capped at max_backoff) before each restart;
//             then give up and return the last -EINTR/-EAGAIN;
//   kRaw      never restart: EINTR (and EAGAIN) reach the caller.
// Every other result is returned as is. Before each restart the argument
// bytes (_IOC_SIZE of the request) are put back as they were before the
// first attempt, so the restart is the identical call even when a failed
// attempt wrote into an in/out struct.
//
// Owns: the counters; the backend is borrowed and must outlive this object.
// Locking: call() may run concurrently from several threads; the counters
// are atomics (a snapshot may mix two concurrent calls). The sleep function
// is called without any lock held.
// Errors: call() returns the backend's 0 or -errno after the policy.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "umd/kmd/kmd_backend.h"

namespace drm_sim::umd {

enum class RestartPolicy : std::uint8_t { kLibdrm, kBounded, kRaw };

const char* to_string(RestartPolicy p);

struct RestartOptions {
  RestartPolicy policy = RestartPolicy::kLibdrm;
  std::uint32_t max_restarts = 8;                  // kBounded only
  std::chrono::microseconds initial_backoff{50};   // kBounded only
  std::chrono::microseconds max_backoff{100'000};  // kBounded only
};

// A snapshot of what the loop has done since construction or reset.
struct RestartCounters {
  std::uint64_t calls = 0;                     // call() invocations
  std::uint64_t attempts = 0;                  // backend ioctls issued
  std::uint64_t restarts = 0;                  // attempts beyond the first of a call
  std::uint64_t eintr_seen = 0;                // attempts that returned -EINTR
  std::uint64_t eagain_seen = 0;               // attempts that returned -EAGAIN
  std::uint64_t gave_up = 0;                   // kBounded calls that ran out of restarts
  std::chrono::microseconds backoff_total{0};  // time asked of the sleep function
};

class RestartingKmd {
 public:
  using SleepFn = std::function<void(std::chrono::microseconds)>;

  // sleep defaults to std::this_thread::sleep_for; tests pass a recorder.
  RestartingKmd(KmdBackend& backend, RestartOptions options, SleepFn sleep = {});

  // Issues request through the backend under the policy: 0 or -errno.
  int call(unsigned long request, void* arg);

  const RestartOptions& options() const { return options_; }
  KmdBackend& backend() { return backend_; }
  RestartCounters counters() const;
  void reset_counters();

 private:
  bool should_restart(int rc, std::uint32_t restarts_so_far) const;
  std::chrono::microseconds backoff_before(std::uint32_t restart_number) const;

  KmdBackend& backend_;
  RestartOptions options_;
  SleepFn sleep_;
  std::atomic<std::uint64_t> calls_{0};
  std::atomic<std::uint64_t> attempts_{0};
  std::atomic<std::uint64_t> restarts_{0};
  std::atomic<std::uint64_t> eintr_{0};
  std::atomic<std::uint64_t> eagain_{0};
  std::atomic<std::uint64_t> gave_up_{0};
  std::atomic<std::int64_t> backoff_us_{0};
};

}  // namespace drm_sim::umd
