// uapi 7.1 purgeable BOs under memory pressure (spec §8): a BO whose every
// VMA is DONTNEED is discarded instead of evicted (purge before evict), the
// purged state is sticky, retained_ptr reports 0 for purged memory, a GPU
// access to purged memory fails with -EACCES, and purges are counted in the
// statistics (C++ and uapi) and reported as events.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "tests/unit/bo_test_util.h"

namespace drm_sim_test {
namespace {

constexpr std::uint64_t kVa = 0x40000000;
constexpr std::uint64_t kHalf = kSmallVram / 2;

class BoPurgeTest : public ::testing::TestWithParam<const char*> {
 protected:
  BoPurgeTest() : s_(GetParam(), kFaultVm, "7.1") {}

  // Purgeable state of [start, start+range); *retained gets the answer when given.
  int advise(std::uint64_t start, std::uint64_t range, std::uint32_t state,
             std::uint32_t* retained = nullptr) {
    drm_xe_madvise m{};
    m.vm_id = s_.vm();
    m.start = start;
    m.range = range;
    m.type = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
    m.purge_state_val.val = state;
    if (retained != nullptr) {
      *retained = 0;
      m.purge_state_val.retained_ptr = reinterpret_cast<std::uintptr_t>(retained);
    }
    return drm_sim_ioctl(s_.fd(), DRM_IOCTL_XE_MADVISE, &m);
  }
  // Touches every 2 MiB chunk of [va, va+size) with a store of `content`.
  void fill(std::uint64_t va, std::uint64_t size, std::uint64_t content) {
    for (std::uint64_t off = 0; off < size; off += 2 * kMiB) {
      ASSERT_EQ(s_.gpu_store(va + off, content + off), 0) << "at " << off;
    }
  }
  // A: half the VRAM, bound at kVa and filled; B: the other half plus 2 MiB
  // (bound after A, at kVa + 64 MiB), so filling B needs A's room.
  void bind_a_and_b() {
    a_ = s_.vram_bo(kHalf);
    b_ = s_.vram_bo(kHalf + 2 * kMiB);
    ASSERT_EQ(s_.bind_bo(a_, kVa, kHalf), 0);
    ASSERT_EQ(s_.bind_bo(b_, kVa + 64 * kMiB, kHalf + 2 * kMiB), 0);
    fill(kVa, kHalf, 100);
  }

  BoSim s_;
  std::uint32_t a_ = 0;
  std::uint32_t b_ = 0;
};

TEST_P(BoPurgeTest, ADontneedBoIsDiscardedInsteadOfEvictedUnderPressure) {
  // given A resident and DONTNEED, and an event recorder
  bind_a_and_b();
  drm_sim::EventRecorder events;
  s_.device().set_event_sink(&events);
  ASSERT_EQ(advise(kVa, kHalf, DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  // when B needs more than the free half of VRAM
  fill(kVa + 64 * kMiB, kHalf + 2 * kMiB, 200);
  // then A was purged as a whole, nothing was evicted, and B is all in VRAM
  const drm_sim_mem_stats st = s_.stats();
  EXPECT_EQ(st.purges, 1u);
  EXPECT_EQ(st.evictions, 0u);
  EXPECT_EQ(st.migrations_to_sys, 0u);
  EXPECT_EQ(s_.device().memory().stats().purges, 1u);
  EXPECT_EQ(events.count(drm_sim::EventType::kPurge), 1u);
  EXPECT_EQ(events.count(drm_sim::EventType::kEvict), 0u);
  EXPECT_TRUE(s_.device().bos().purged(s_.bo_id(a_)));
  EXPECT_EQ(s_.device().bos().vram_bytes(s_.bo_id(a_)), 0u);
  EXPECT_EQ(s_.vram_used(), kHalf + 2 * kMiB);
  s_.device().set_event_sink(nullptr);
}

TEST_P(BoPurgeTest, AGpuAccessToPurgedMemoryFailsWithEacces) {
  // given A purged
  bind_a_and_b();
  ASSERT_EQ(advise(kVa, kHalf, DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  fill(kVa + 64 * kMiB, kHalf + 2 * kMiB, 200);
  ASSERT_EQ(s_.stats().purges, 1u);
  // when the GPU reads or writes it
  int rc = 0;
  s_.gpu_load(kVa, &rc);
  // then
  EXPECT_EQ(rc, -EACCES);
  EXPECT_EQ(s_.gpu_store(kVa + kPage, 1), -EACCES);
}

TEST_P(BoPurgeTest, PurgedIsStickyAndRetainedReportsZero) {
  // given A purged
  bind_a_and_b();
  ASSERT_EQ(advise(kVa, kHalf, DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  fill(kVa + 64 * kMiB, kHalf + 2 * kMiB, 200);
  ASSERT_EQ(s_.stats().purges, 1u);
  // when it is marked WILLNEED again
  std::uint32_t retained = 7;
  ASSERT_EQ(advise(kVa, kHalf, DRM_XE_VMA_PURGEABLE_STATE_WILLNEED, &retained), 0);
  // then retained says purged, and the content does not come back
  EXPECT_EQ(retained, 0u);
  EXPECT_EQ(s_.gpu_store(kVa, 1), -EACCES);
  EXPECT_TRUE(s_.device().bos().purged(s_.bo_id(a_)));
  ASSERT_EQ(advise(kVa, kHalf, DRM_XE_VMA_PURGEABLE_STATE_DONTNEED, &retained), 0);
  EXPECT_EQ(retained, 0u);
}

TEST_P(BoPurgeTest, AWillneedBoIsEvictedWithItsContentNotPurged) {
  // given A resident and WILLNEED (the default)
  bind_a_and_b();
  // when B needs A's room
  fill(kVa + 64 * kMiB, kHalf + 2 * kMiB, 200);
  // then A lost one chunk to system memory, with its content
  const drm_sim_mem_stats st = s_.stats();
  EXPECT_EQ(st.purges, 0u);
  EXPECT_EQ(st.evictions, 1u);
  for (std::uint64_t off = 0; off < kHalf; off += 2 * kMiB) {
    EXPECT_EQ(s_.gpu_load(kVa + off), 100 + off) << "at " << off;
  }
  std::uint32_t retained = 0;
  ASSERT_EQ(advise(kVa, kHalf, DRM_XE_VMA_PURGEABLE_STATE_WILLNEED, &retained), 0);
  EXPECT_EQ(retained, 1u);
}

TEST_P(BoPurgeTest, WithoutPressureADontneedBoKeepsItsContent) {
  // given A resident and DONTNEED, nothing else needing VRAM
  bind_a_and_b();
  std::uint32_t retained = 0;
  ASSERT_EQ(advise(kVa, kHalf, DRM_XE_VMA_PURGEABLE_STATE_DONTNEED, &retained), 0);
  EXPECT_EQ(retained, 1u);
  // when the GPU reads it back (allowed while not purged)
  EXPECT_EQ(s_.gpu_load(kVa + 2 * kMiB), 100 + 2 * kMiB);
  // then nothing was purged, and WILLNEED reports it retained
  ASSERT_EQ(advise(kVa, kHalf, DRM_XE_VMA_PURGEABLE_STATE_WILLNEED, &retained), 0);
  EXPECT_EQ(retained, 1u);
  EXPECT_EQ(s_.stats().purges, 0u);
}

TEST_P(BoPurgeTest, ABoWithOneWillneedVmaIsEvictedNotPurged) {
  // given A mapped twice, only the first VMA DONTNEED
  bind_a_and_b();
  ASSERT_EQ(s_.bind_bo(a_, kVa + 256 * kMiB, kHalf), 0);
  ASSERT_EQ(advise(kVa, kHalf, DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  // when B needs A's room
  fill(kVa + 64 * kMiB, kHalf + 2 * kMiB, 200);
  // then A is not purgeable: evicted, content kept
  EXPECT_EQ(s_.stats().purges, 0u);
  EXPECT_EQ(s_.stats().evictions, 1u);
  EXPECT_EQ(s_.gpu_load(kVa + 256 * kMiB), 100u);
}

TEST_P(BoPurgeTest, ClosingAPurgeableBoForgetsIt) {
  // given A DONTNEED, then unbound and closed (no longer purgeable, then freed)
  bind_a_and_b();
  ASSERT_EQ(advise(kVa, kHalf, DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  ASSERT_EQ(bind(s_.fd(), s_.vm(), unmap(kVa, kHalf)), 0);
  ASSERT_EQ(gem_close(s_.fd(), a_), 0);
  // when B fills VRAM
  fill(kVa + 64 * kMiB, kHalf + 2 * kMiB, 200);
  // then A's VRAM was simply free: neither purged nor evicted
  EXPECT_EQ(s_.stats().purges, 0u);
  EXPECT_EQ(s_.stats().evictions, 0u);
}

TEST_P(BoPurgeTest, APurgeableBoThatOutgrowsVramPurgesItselfAndTheFaultGetsEacces) {
  // given one DONTNEED BO larger than VRAM, its first 32 MiB resident
  // (DEFER_BACKING: without it a VRAM-only BO larger than VRAM is refused)
  drm_xe_gem_create c = gem_args(kSmallVram + 2 * kMiB, kVram0, DRM_XE_GEM_CPU_CACHING_WC);
  c.flags = DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING;
  ASSERT_EQ(gem_create(s_.fd(), &c), 0);
  const std::uint32_t big = c.handle;
  ASSERT_EQ(s_.bind_bo(big, kVa, kSmallVram + 2 * kMiB), 0);
  fill(kVa, kSmallVram, 1);
  ASSERT_EQ(advise(kVa, kSmallVram + 2 * kMiB, DRM_XE_VMA_PURGEABLE_STATE_DONTNEED), 0);
  // when its last chunk faults and needs room
  // then the only purgeable BO - itself - is discarded, and the fault fails
  EXPECT_EQ(s_.gpu_store(kVa + kSmallVram, 1), -EACCES);
  EXPECT_EQ(s_.stats().purges, 1u);
  EXPECT_EQ(s_.vram_used(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Backing, BoPurgeTest, ::testing::Values("data", "tag"),
                         [](const auto& i) { return std::string(i.param); });

}  // namespace
}  // namespace drm_sim_test
