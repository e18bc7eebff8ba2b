// tests/concurrency/watchdog.h — turns a deadlock into a test failure.
//
// Each worker thread owns a ThreadState slot and records what it is doing
// (an op name and an iteration count) before every call into the driver. A
// Watchdog thread waits for the test to finish; if the deadline passes first
// it prints every worker's last recorded state and aborts the process, so
// CTest reports a failure with the threads' state instead of a timeout.
// Owns: the watchdog thread. Locking: ThreadState fields are atomics.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace drm_sim_test {

struct ThreadState {
  std::atomic<const char*> op{"idle"};
  std::atomic<unsigned long> iteration{0};
};

class Watchdog {
 public:
  Watchdog(std::vector<ThreadState>& states, std::chrono::seconds deadline)
      : states_(states), thread_([this, deadline] { run(deadline); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> g(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void run(std::chrono::seconds deadline) {
    std::unique_lock<std::mutex> g(mu_);
    if (cv_.wait_for(g, deadline, [this] { return done_; })) return;
    std::fprintf(stderr, "watchdog: no progress after %lld s; threads:\n",
                 static_cast<long long>(deadline.count()));
    for (std::size_t i = 0; i < states_.size(); ++i) {
      std::fprintf(stderr, "  thread %zu: in %s, iteration %lu\n", i, states_[i].op.load(),
                   states_[i].iteration.load());
    }
    std::fflush(stderr);
    std::abort();
  }

  std::vector<ThreadState>& states_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace drm_sim_test
