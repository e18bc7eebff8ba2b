// drm_sim/mem/timing.h — simulated time and the timing model of spec §9.
//
// Owns: SimTime (a duration or instant in integer nanoseconds), the pure
// timing functions over a TimingModel, a per-device SimClock and the
// CopyEngine queue model. No wall-clock time is read anywhere.
//
// Units: bandwidths in GB/s with GB = 1e9 bytes, so 1 GB/s = 1 byte/ns and
// bytes / gbps is nanoseconds. Sizes for the efficiency curve in KiB
// (bytes / 1024). Every function computes in double nanoseconds and rounds to
// the nearest ns once per returned value; the copy engine keeps its queue
// tail unrounded so that a stream of n jobs does not accumulate n roundings.
//
//   one migration batch:  | dma_setup | chunk 0 transfer | chunk 1 transfer | ...
//   transfer(bytes)     = bytes / (link_gbps * eff(bytes / 1024))
//   eff(KiB)            = (2 / pi) * atan(k * KiB)       (0.18 at 4 KiB, 0.87 at 64 KiB)
//
// Locking: the free functions and SimTime are pure. SimClock is internally
// synchronised (one atomic) and never moves backwards. CopyEngine is not
// thread-safe; the migration engine's lock guards it.
// Errors: none; preconditions (positive bandwidth, non-negative durations)
// are asserted.
#pragma once

#include <atomic>
#include <cassert>
#include <compare>
#include <cstdint>
#include <span>

#include "drm_sim/core/types.h"
#include "drm_sim/profile/profile.h"

namespace drm_sim {

// Simulated nanoseconds. Arithmetic only with another SimTime: a duration
// plus a duration, an instant plus a duration, an instant minus an instant.
class SimTime {
 public:
  constexpr SimTime() = default;
  static constexpr SimTime from_ns(std::int64_t ns) { return SimTime(ns); }
  // Rounded to the nearest nanosecond (halves away from zero, as llround).
  static SimTime from_us(double us) { return from_ns_rounded(us * 1000.0); }
  static SimTime from_ns_rounded(double ns) {
    // The fault and access paths round once per access: an add and a
    // truncation instead of a libm call for the (usual) non-negative values.
    return SimTime(
        ns >= 0.0 ? static_cast<std::int64_t>(ns + 0.5)  // NOLINT(bugprone-incorrect-roundings)
                  : round_negative(ns));
  }

  constexpr std::int64_t ns() const { return ns_; }
  constexpr double us() const { return static_cast<double>(ns_) / 1000.0; }

  constexpr auto operator<=>(const SimTime&) const = default;
  constexpr SimTime operator+(SimTime o) const { return SimTime(ns_ + o.ns_); }
  constexpr SimTime operator-(SimTime o) const { return SimTime(ns_ - o.ns_); }
  constexpr SimTime& operator+=(SimTime o) {
    ns_ += o.ns_;
    return *this;
  }
  constexpr SimTime& operator-=(SimTime o) {
    ns_ -= o.ns_;
    return *this;
  }

 private:
  constexpr explicit SimTime(std::int64_t ns) : ns_(ns) {}
  static std::int64_t round_negative(double ns);
  std::int64_t ns_ = 0;
};

// eff(KiB) = (2/pi) * atan(k * KiB), in [0, 1): the fraction of the link's
// bandwidth a transfer of that size achieves (per-transfer overheads).
double transfer_efficiency(double kib, double k);

// One transfer of `bytes` over a link of `link_gbps` GB/s:
// bytes / (link_gbps * eff(bytes / 1024)). Zero bytes take zero time.
SimTime transfer_time(Bytes bytes, double link_gbps, double k);

// One migration batch over the host link: one dma_setup plus the transfer of
// every chunk. An empty batch costs nothing (no DMA is set up).
SimTime migration_batch_time(std::span<const Bytes> chunks, const TimingModel& t);

// A GPU fault: fault_latency, plus one migration batch of `migrated_chunks`
// when pages move (none when the pages are already in place).
SimTime fault_service_time(std::span<const Bytes> migrated_chunks, const TimingModel& t);

// tlb_inval_us per range per tile.
SimTime tlb_invalidation_time(std::uint64_t ranges, std::uint32_t tiles, const TimingModel& t);

// The GPU reading or writing `bytes` of its local VRAM: bytes / vram_gbps.
// Inline: every GPU access that hits pays it.
inline SimTime vram_access_time(Bytes bytes, const TimingModel& t) {
  assert(t.vram_gbps > 0.0);
  return SimTime::from_ns_rounded(static_cast<double>(bytes.v) / t.vram_gbps);
}

// `accesses` remote accesses (over the link, no migration): remote_access_ns each.
inline SimTime remote_access_time(std::uint64_t accesses, const TimingModel& t) {
  return SimTime::from_ns_rounded(t.remote_access_ns * static_cast<double>(accesses));
}

// A device's simulated clock: starts at 0, moves only forward.
class SimClock {
 public:
  SimTime now() const { return SimTime::from_ns(now_ns_.load(std::memory_order_acquire)); }
  // Moves the clock forward by d (d >= 0); returns the new time. A zero
  // step (a small VRAM access rounds to 0 ns) skips the atomic add.
  SimTime advance(SimTime d) {
    assert(d.ns() >= 0);
    if (d.ns() == 0) return now();
    return SimTime::from_ns(now_ns_.fetch_add(d.ns(), std::memory_order_acq_rel) + d.ns());
  }
  // Moves the clock to t if t is later; returns the (possibly unchanged) time.
  SimTime advance_to(SimTime t);

 private:
  std::atomic<std::int64_t> now_ns_{0};
};

enum class CopyDirection : std::uint8_t { kHostToVram = 0, kVramToHost = 1 };

struct CopyJob {
  Bytes bytes;
  CopyDirection direction = CopyDirection::kHostToVram;
};

// One copy engine: jobs run back to back in submission order, each one a
// migration batch of one chunk over the host link (dma_setup plus the
// transfer; both directions at host_link_gbps). A job starts when it is
// ready and the engine is free, so a stream of n equal jobs ready at 0
// completes at n * (dma_setup + bytes / (link_gbps * eff)).
class CopyEngine {
 public:
  explicit CopyEngine(const TimingModel& t) : timing_(t) {}

  // Queues `job`, ready at `ready`; returns when it completes.
  SimTime submit(const CopyJob& job, SimTime ready = SimTime{});
  // When the last queued job completes (0 before any job).
  SimTime idle_at() const;
  std::uint64_t jobs() const { return jobs_; }
  Bytes bytes_moved(CopyDirection d) const { return bytes_[static_cast<int>(d)]; }

 private:
  // The transfer time of a power-of-two job (the fault path's 4 KiB, 64 KiB
  // and 2 MiB chunks), computed once per size: the efficiency curve's atan
  // is the costliest part of a small migration's bookkeeping.
  double transfer_ns(Bytes bytes);

  TimingModel timing_;
  double pow2_ns_[64] = {};  // by log2(bytes); 0 = not computed yet
  double tail_ns_ = 0.0;     // unrounded completion of the last job
  std::uint64_t jobs_ = 0;
  Bytes bytes_[2];
};

}  // namespace drm_sim
