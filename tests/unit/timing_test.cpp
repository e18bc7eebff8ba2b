// tests/unit/timing_test.cpp — the timing model of spec §9: SimTime, the
// efficiency curve, transfer and batch times against their closed forms, the
// simulated clock and the copy engine queue.
#include "drm_sim/mem/timing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <type_traits>
#include <vector>

namespace drm_sim {
namespace {

constexpr std::uint64_t KiB = 1024;
constexpr std::uint64_t MiB = 1024 * KiB;

// The spec's formulas, written out independently of the library.
double eff(double kib, double k) {
  return 2.0 / std::numbers::pi * std::atan(k * kib);
}
double transfer_ns(double bytes, double gbps, double k) {
  return bytes / (gbps * eff(bytes / 1024.0, k));
}

TimingModel model_with_link(double gbps) {
  TimingModel t;
  t.host_link_gbps = gbps;
  return t;
}

// SimTime mixes with nothing but SimTime.
template <typename T>
concept AddsTo = requires(SimTime s, T x) {
  s + x;
};
static_assert(AddsTo<SimTime>);
static_assert(!AddsTo<std::int64_t>);
static_assert(!AddsTo<double>);
static_assert(!AddsTo<Bytes>);
static_assert(!std::is_convertible_v<std::int64_t, SimTime>);

TEST(TimingTest, SimTimeConvertsMicrosecondsAndRoundsToTheNearestNanosecond) {
  EXPECT_EQ(SimTime::from_us(45.0).ns(), 45000);
  EXPECT_EQ(SimTime::from_us(0.0014).ns(), 1);
  EXPECT_EQ(SimTime::from_us(0.0016).ns(), 2);
  EXPECT_EQ((SimTime::from_ns(1500) + SimTime::from_us(1.0)).us(), 2.5);
  EXPECT_LT(SimTime::from_ns(1), SimTime::from_ns(2));
}

TEST(TimingTest, EfficiencyMatchesTheSpecFiguresAt4KAnd64K) {
  const double k = TimingModel{}.efficiency_k;
  EXPECT_NEAR(transfer_efficiency(4.0, k), 0.18, 0.01);
  EXPECT_NEAR(transfer_efficiency(64.0, k), 0.87, 0.01);
}

TEST(TimingTest, EfficiencyGrowsWithSizeTowardsOne) {
  const double k = TimingModel{}.efficiency_k;
  EXPECT_LT(transfer_efficiency(4.0, k), transfer_efficiency(64.0, k));
  EXPECT_LT(transfer_efficiency(64.0, k), transfer_efficiency(2048.0, k));
  EXPECT_GT(transfer_efficiency(2048.0, k), 0.99);
  EXPECT_LT(transfer_efficiency(2048.0, k), 1.0);
}

TEST(TimingTest, TransferTimeIsBytesOverBandwidthTimesEfficiency) {
  // given: 2 MiB over a 24 GB/s link (24 bytes/ns)
  const double k = TimingModel{}.efficiency_k;

  // when
  const SimTime t = transfer_time(Bytes{2 * MiB}, 24.0, k);

  // then
  EXPECT_NEAR(static_cast<double>(t.ns()), transfer_ns(2.0 * MiB, 24.0, k), 0.5);
  EXPECT_EQ(transfer_time(Bytes{0}, 24.0, k).ns(), 0);
}

TEST(TimingTest, SmallTransfersCostFarMoreThanTheirShareOfBandwidth) {
  const double k = TimingModel{}.efficiency_k;
  const SimTime sixteen_4k = SimTime::from_ns(16 * transfer_time(Bytes{4 * KiB}, 24.0, k).ns());
  EXPECT_GT(sixteen_4k.ns(), 4 * transfer_time(Bytes{64 * KiB}, 24.0, k).ns());
}

TEST(TimingTest, MigrationBatchPaysOneDmaSetupPlusEveryTransfer) {
  // given
  const TimingModel t;
  const std::vector<Bytes> chunks = {Bytes{2 * MiB}, Bytes{64 * KiB}, Bytes{4 * KiB}};

  // when
  const SimTime batch = migration_batch_time(chunks, t);

  // then
  const double want = 5000.0 + transfer_ns(2.0 * MiB, 24.0, t.efficiency_k) +
                      transfer_ns(64.0 * KiB, 24.0, t.efficiency_k) +
                      transfer_ns(4.0 * KiB, 24.0, t.efficiency_k);
  EXPECT_NEAR(static_cast<double>(batch.ns()), want, 0.5);
  EXPECT_EQ(migration_batch_time({}, t).ns(), 0);
}

TEST(TimingTest, FaultWithoutMigrationCostsTheFaultLatencyOnly) {
  EXPECT_EQ(fault_service_time({}, TimingModel{}), SimTime::from_us(45.0));
}

TEST(TimingTest, FaultThatMovesPagesAddsOneMigrationBatch) {
  // given
  const TimingModel t;
  const std::vector<Bytes> chunks = {Bytes{2 * MiB}};

  // when
  const SimTime f = fault_service_time(chunks, t);

  // then
  const double want = 45000.0 + 5000.0 + transfer_ns(2.0 * MiB, 24.0, t.efficiency_k);
  EXPECT_NEAR(static_cast<double>(f.ns()), want, 0.5);
}

TEST(TimingTest, TlbInvalidationCostsPerRangePerTile) {
  EXPECT_EQ(tlb_invalidation_time(3, 2, TimingModel{}), SimTime::from_us(30.0));
  EXPECT_EQ(tlb_invalidation_time(0, 2, TimingModel{}).ns(), 0);
}

TEST(TimingTest, VramAccessRunsAtVramBandwidthAndRemoteAccessPerAccess) {
  const TimingModel t;  // 456 GB/s, 1000 ns per remote access
  EXPECT_EQ(vram_access_time(Bytes{456'000}, t).ns(), 1000);
  EXPECT_EQ(vram_access_time(Bytes{2 * MiB}, t).ns(), std::llround(2.0 * MiB / 456.0));
  EXPECT_EQ(remote_access_time(10, t), SimTime::from_us(10.0));
}

TEST(TimingTest, ClockStartsAtZeroAndOnlyMovesForward) {
  // given
  SimClock clock;
  EXPECT_EQ(clock.now().ns(), 0);

  // when / then
  EXPECT_EQ(clock.advance(SimTime::from_us(5.0)).ns(), 5000);
  EXPECT_EQ(clock.advance(SimTime{}).ns(), 5000);
  EXPECT_EQ(clock.advance_to(SimTime::from_ns(3000)).ns(), 5000);  // earlier: no move back
  EXPECT_EQ(clock.advance_to(SimTime::from_ns(8000)).ns(), 8000);
  EXPECT_EQ(clock.now().ns(), 8000);
}

// n equal 2 MiB jobs back to back: n * (dma_setup + size / (gbps * eff)).
void expect_stream_matches_closed_form(double gbps, int n) {
  // given
  const TimingModel t = model_with_link(gbps);
  CopyEngine engine(t);

  // when
  SimTime last;
  for (int i = 0; i < n; ++i) last = engine.submit({Bytes{2 * MiB}, CopyDirection::kHostToVram});

  // then
  const double want = n * (t.dma_setup_us * 1000.0 + transfer_ns(2.0 * MiB, gbps, t.efficiency_k));
  EXPECT_NEAR(static_cast<double>(last.ns()), std::round(want), 1.0) << gbps << " GB/s, n=" << n;
  EXPECT_EQ(engine.idle_at(), last);
  EXPECT_EQ(engine.jobs(), static_cast<std::uint64_t>(n));
  EXPECT_EQ(engine.bytes_moved(CopyDirection::kHostToVram),
            Bytes{static_cast<std::uint64_t>(n) * 2 * MiB});
}

TEST(TimingTest, StreamOf2MiBMigrationsAt24GBpsCompletesAtTheClosedForm) {
  for (int n : {1, 2, 7, 100, 4096}) expect_stream_matches_closed_form(24.0, n);
}

TEST(TimingTest, StreamOf2MiBMigrationsAt12GBpsCompletesAtTheClosedForm) {
  for (int n : {1, 2, 7, 100, 4096}) expect_stream_matches_closed_form(12.0, n);
}

TEST(TimingTest, CopyEngineCompletesJobsInSubmissionOrderBackToBack) {
  // given
  const TimingModel t;
  CopyEngine engine(t);

  // when: a large job, then a small one the other way
  const SimTime big = engine.submit({Bytes{2 * MiB}, CopyDirection::kHostToVram});
  const SimTime small = engine.submit({Bytes{4 * KiB}, CopyDirection::kVramToHost});

  // then: the small one waits for the big one
  EXPECT_LT(big, small);
  EXPECT_NEAR(static_cast<double>((small - big).ns()),
              5000.0 + transfer_ns(4.0 * KiB, 24.0, t.efficiency_k), 1.0);
  EXPECT_EQ(engine.bytes_moved(CopyDirection::kVramToHost), Bytes{4 * KiB});
}

TEST(TimingTest, CopyEngineIdleUntilAJobIsReadyStartsItThen) {
  // given: an engine that finished its only job at ~92.8 us
  const TimingModel t;
  CopyEngine engine(t);
  const SimTime first = engine.submit({Bytes{2 * MiB}, CopyDirection::kHostToVram});

  // when: the next job is ready only at 1 ms
  const SimTime ready = SimTime::from_us(1000.0);
  const SimTime second = engine.submit({Bytes{2 * MiB}, CopyDirection::kHostToVram}, ready);

  // then: it starts at 1 ms, not at the first job's completion
  EXPECT_EQ(second - ready, first);
}

TEST(TimingTest, CopyEngineJobReadyWhileBusyWaitsForTheEngine) {
  const TimingModel t;
  CopyEngine engine(t);
  const SimTime first = engine.submit({Bytes{2 * MiB}, CopyDirection::kHostToVram});
  const SimTime second =
      engine.submit({Bytes{2 * MiB}, CopyDirection::kHostToVram}, SimTime::from_ns(10));
  EXPECT_NEAR(static_cast<double>(second.ns()), 2.0 * static_cast<double>(first.ns()), 1.0);
}

}  // namespace
}  // namespace drm_sim
