#include "drm_sim/mem/timing.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numbers>

namespace drm_sim {

namespace {

// bytes / (gbps * eff): GB/s = bytes per ns.
double transfer_ns(Bytes bytes, double link_gbps, double k) {
  assert(link_gbps > 0.0 && k > 0.0);
  if (bytes.v == 0) return 0.0;
  const double b = static_cast<double>(bytes.v);
  return b / (link_gbps * transfer_efficiency(b / 1024.0, k));
}

double batch_ns(std::span<const Bytes> chunks, const TimingModel& t) {
  if (chunks.empty()) return 0.0;
  double ns = t.dma_setup_us * 1000.0;
  for (Bytes c : chunks) ns += transfer_ns(c, t.host_link_gbps, t.efficiency_k);
  return ns;
}

}  // namespace

std::int64_t SimTime::round_negative(double ns) {
  return std::llround(ns);
}

double transfer_efficiency(double kib, double k) {
  return 2.0 / std::numbers::pi * std::atan(k * kib);
}

SimTime transfer_time(Bytes bytes, double link_gbps, double k) {
  return SimTime::from_ns_rounded(transfer_ns(bytes, link_gbps, k));
}

SimTime migration_batch_time(std::span<const Bytes> chunks, const TimingModel& t) {
  return SimTime::from_ns_rounded(batch_ns(chunks, t));
}

SimTime fault_service_time(std::span<const Bytes> migrated_chunks, const TimingModel& t) {
  return SimTime::from_ns_rounded(t.fault_latency_us * 1000.0 + batch_ns(migrated_chunks, t));
}

SimTime tlb_invalidation_time(std::uint64_t ranges, std::uint32_t tiles, const TimingModel& t) {
  return SimTime::from_us(t.tlb_inval_us * static_cast<double>(ranges) *
                          static_cast<double>(tiles));
}

SimTime SimClock::advance_to(SimTime t) {
  std::int64_t cur = now_ns_.load(std::memory_order_acquire);
  while (cur < t.ns() && !now_ns_.compare_exchange_weak(cur, t.ns(), std::memory_order_acq_rel)) {
  }
  return SimTime::from_ns(cur < t.ns() ? t.ns() : cur);
}

[[gnu::always_inline]] inline double CopyEngine::transfer_ns(Bytes bytes) {
  const bool pow2 = bytes.v != 0 && (bytes.v & (bytes.v - 1)) == 0;
  double* memo = pow2 ? &pow2_ns_[__builtin_ctzll(bytes.v)] : nullptr;
  if (memo != nullptr && *memo != 0.0) return *memo;
  const double ns = drm_sim::transfer_ns(bytes, timing_.host_link_gbps, timing_.efficiency_k);
  if (memo != nullptr) *memo = ns;
  return ns;
}

SimTime CopyEngine::submit(const CopyJob& job, SimTime ready) {
  const double start = std::max(tail_ns_, static_cast<double>(ready.ns()));
  // One batch of one chunk: dma_setup plus its transfer (batch_ns's sum).
  tail_ns_ = start + (timing_.dma_setup_us * 1000.0 + transfer_ns(job.bytes));
  ++jobs_;
  bytes_[static_cast<int>(job.direction)] = bytes_[static_cast<int>(job.direction)] + job.bytes;
  return SimTime::from_ns_rounded(tail_ns_);
}

SimTime CopyEngine::idle_at() const {
  return SimTime::from_ns_rounded(tail_ns_);
}

}  // namespace drm_sim
