// CPU access to buffer objects through their CPU mappings: GEM_MMAP_OFFSET's
// fake offset mapped into the simulated process with
// DRM_SIM_CPU_MMAP_MAP_BO, then CPU reads, writes and atomics (MEM_ACCESS
// with vm_id 0) that see the BO's content wherever it lives, on a discrete
// and an integrated profile in both backing modes; the spec §3 rule that a
// VRAM BO whose BO-wide atomic attribute is CPU or GLOBAL moves to system
// memory on the next CPU touch (and DEVICE/UNDEFINED do not); the errnos of
// MAP_BO and of CPU accesses to purged BOs; the mapping's reference on the
// BO; and content kept across eviction with CPU accesses interleaved.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "tests/unit/bo_test_util.h"

namespace drm_sim_test {
namespace {

constexpr std::uint64_t kVa = 0x40000000;    // GPU VA of the BO (2 MiB aligned)
constexpr std::uint64_t kCpu = 0x200000000;  // where the process maps it

struct Config {
  const char* backing;
  bool integrated;
};

std::ostream& operator<<(std::ostream& os, const Config& c) {
  return os << c.backing << (c.integrated ? "_integrated" : "_discrete");
}

std::string config_name(const ::testing::TestParamInfo<Config>& i) {
  return std::string(i.param.backing) + (i.param.integrated ? "Integrated" : "Discrete");
}

std::size_t bo_count(BoSim& s) {
  std::lock_guard<std::mutex> g(s.device().bo_mutex());
  return s.device().bo_count_locked();
}

std::size_t mapping_count(BoSim& s) {
  return drm_sim::file_from_fd(s.fd())->cpu_bo_mapping_count();
}

// --- round trips on every profile and backing mode ---

class BoCpuRoundTripTest : public ::testing::TestWithParam<Config> {
 protected:
  BoCpuRoundTripTest() : s_(GetParam().backing, kFaultVm, "6.18", GetParam().integrated) {}
  bool discrete() const { return !GetParam().integrated; }
  // VRAM and system memory on the discrete part (so every atomic value is
  // allowed), system memory on the integrated one.
  std::uint32_t local_bo(std::uint64_t size) {
    return discrete() ? make_bo(s_.fd(), size, kVram0 | kSysmem, DRM_XE_GEM_CPU_CACHING_WC)
                      : s_.sys_bo(size);
  }
  // A BO bound at kVa and mapped at kCpu.
  std::uint32_t bound_and_mapped(std::uint64_t size) {
    const std::uint32_t bo = local_bo(size);
    EXPECT_EQ(s_.bind_bo(bo, kVa, size), 0);
    EXPECT_EQ(s_.cpu_map_bo(kCpu, size, s_.mmap_offset(bo)), 0);
    return bo;
  }

  BoSim s_;
};

TEST_P(BoCpuRoundTripTest, GpuWriteIsReadByTheCpuWhereTheBoLives) {
  // given a 4 MiB BO bound and mapped, and the GPU's writes in both chunks
  const std::uint32_t bo = bound_and_mapped(4 * kMiB);
  ASSERT_EQ(s_.gpu_store(kVa + 5 * kPage, 0x1111), 0);
  ASSERT_EQ(s_.gpu_store(kVa + 2 * kMiB + 9 * kPage, 0x2222), 0);
  const drm_sim_mem_stats before = s_.stats();
  // when the CPU reads them through the mapping
  int rc = 1;
  EXPECT_EQ(s_.cpu_load(kCpu + 5 * kPage, &rc), 0x1111u);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(s_.cpu_load(kCpu + 2 * kMiB + 9 * kPage), 0x2222u);
  EXPECT_EQ(s_.cpu_load(kCpu + 6 * kPage), 0u);  // never written
  // then the BO did not move: VRAM read in place on the discrete part
  const drm_sim_mem_stats after = s_.stats();
  EXPECT_EQ(after.migrations_to_sys, before.migrations_to_sys);
  EXPECT_EQ(after.cpu_faults, before.cpu_faults);
  EXPECT_EQ(s_.device().bos().vram_bytes(s_.bo_id(bo)), discrete() ? 4 * kMiB : 0);
}

TEST_P(BoCpuRoundTripTest, CpuWriteIsReadByTheGpu) {
  // given a BO bound, mapped and populated by a GPU access
  const std::uint32_t bo = bound_and_mapped(2 * kMiB);
  ASSERT_EQ(s_.gpu_store(kVa, 1), 0);
  const std::uint64_t faults = s_.stats().gpu_faults;
  // when the CPU writes a page and adds to it atomically
  ASSERT_EQ(s_.cpu_store(kCpu + 3 * kPage, 40), 0);
  std::vector<Access> add{{kCpu + 3 * kPage, DRM_SIM_ACCESS_ATOMIC, 2, 0, 0}};
  ASSERT_EQ(s_.run(0, add), 0);
  EXPECT_EQ(add[0].value, 40u);  // the old content
  // then the GPU reads the sum through its existing mapping (no new fault)
  EXPECT_EQ(s_.gpu_load(kVa + 3 * kPage), 42u);
  EXPECT_EQ(s_.stats().gpu_faults, faults);
  EXPECT_EQ(s_.device().bos().page_info(s_.bo_id(bo), 3 * kPage)->in_vram, discrete());
}

TEST_P(BoCpuRoundTripTest, CpuFirstTouchPopulatesTheBoAndTheGpuSeesIt) {
  // given a BO never touched by the GPU (a fault-mode VM populates nothing at bind)
  const std::uint32_t bo = bound_and_mapped(2 * kMiB);
  ASSERT_FALSE(s_.device().bos().page_info(s_.bo_id(bo), 0)->populated);
  // when the CPU writes it first
  ASSERT_EQ(s_.cpu_store(kCpu + kPage, 9), 0);
  // then it is populated where a bind would put it, and the GPU reads the value
  const auto pi = s_.device().bos().page_info(s_.bo_id(bo), kPage);
  ASSERT_TRUE(pi.has_value());
  EXPECT_TRUE(pi->populated);
  EXPECT_EQ(pi->in_vram, discrete());
  EXPECT_EQ(s_.gpu_load(kVa + kPage), 9u);
}

TEST_P(BoCpuRoundTripTest, AMappingAtAnOffsetShowsTheBoFromThatOffset) {
  // given a 4 MiB BO, its second half mapped alone
  const std::uint32_t bo = local_bo(4 * kMiB);
  ASSERT_EQ(s_.bind_bo(bo, kVa, 4 * kMiB), 0);
  ASSERT_EQ(s_.cpu_map_bo(kCpu, 2 * kMiB, s_.mmap_offset(bo) + 2 * kMiB), 0);
  // when the GPU writes BO offset 2 MiB + 1 page
  ASSERT_EQ(s_.gpu_store(kVa + 2 * kMiB + kPage, 0xab), 0);
  // then the mapping shows it at its own offset 1 page
  EXPECT_EQ(s_.cpu_load(kCpu + kPage), 0xabu);
  // and the end of the mapping is the end of the process's memory there
  int rc = 0;
  s_.cpu_load(kCpu + 2 * kMiB, &rc);
  EXPECT_EQ(rc, -EFAULT);
}

TEST_P(BoCpuRoundTripTest, CpuAndGpuAtomicsOnOneBoWordAddUp) {
  const std::uint32_t bo = bound_and_mapped(2 * kMiB);
  (void)bo;
  for (int i = 0; i < 5; ++i) {
    Access g{kVa + 8 * kPage, DRM_SIM_ACCESS_ATOMIC, 1, 0, 0};
    ASSERT_EQ(s_.gpu(g), 0);
    std::vector<Access> c{{kCpu + 8 * kPage, DRM_SIM_ACCESS_ATOMIC, 10, 0, 0}};
    ASSERT_EQ(s_.run(0, c), 0);
  }
  EXPECT_EQ(s_.cpu_load(kCpu + 8 * kPage), 55u);
  EXPECT_EQ(s_.gpu_load(kVa + 8 * kPage), 55u);
}

INSTANTIATE_TEST_SUITE_P(Profiles, BoCpuRoundTripTest,
                         ::testing::Values(Config{"data", false}, Config{"tag", false},
                                           Config{"data", true}, Config{"tag", true}),
                         config_name);

// --- the spec §3 ATOMIC rule (discrete: the BO can be in VRAM) ---

struct AtomicCase {
  const char* backing;
  std::uint32_t atomic;
  bool migrates;
};

std::ostream& operator<<(std::ostream& os, const AtomicCase& c) {
  return os << c.backing << "_atomic" << c.atomic;
}

class BoCpuAtomicRuleTest : public ::testing::TestWithParam<AtomicCase> {};

TEST_P(BoCpuAtomicRuleTest, CpuTouchAfterMadviseAtomicMovesTheBoOnlyForCpuAndGlobal) {
  // given a 4 MiB VRAM+system BO bound, written by the GPU (both chunks in
  // VRAM), mapped by the CPU, and an event recorder
  const AtomicCase c = GetParam();
  BoSim s(c.backing, kFaultVm);
  drm_sim::EventRecorder events;
  s.device().set_event_sink(&events);
  const std::uint32_t bo = make_bo(s.fd(), 4 * kMiB, kVram0 | kSysmem, DRM_XE_GEM_CPU_CACHING_WC);
  const std::uint32_t id = s.bo_id(bo);
  ASSERT_EQ(s.bind_bo(bo, kVa, 4 * kMiB), 0);
  ASSERT_EQ(s.gpu_store(kVa + kPage, 0x51), 0);
  ASSERT_EQ(s.gpu_store(kVa + 2 * kMiB + kPage, 0x52), 0);
  ASSERT_EQ(s.cpu_map_bo(kCpu, 4 * kMiB, s.mmap_offset(bo)), 0);
  ASSERT_EQ(s.device().bos().vram_bytes(id), 4 * kMiB);
  // when madvise sets the BO's atomic attribute (through a part of its VMA:
  // it is BO-wide) and the CPU touches the first chunk
  ASSERT_EQ(s.madvise_atomic(kVa, kPage, c.atomic), 0);
  // (a changed attribute zapped the VMA's GPU PTEs: the GPU maps both
  // chunks again, in place)
  ASSERT_EQ(s.gpu_load(kVa + kPage), 0x51u);
  ASSERT_EQ(s.gpu_load(kVa + 2 * kMiB + kPage), 0x52u);
  ASSERT_EQ(s.device().bos().vram_bytes(id), 4 * kMiB);
  events.take();
  const drm_sim_mem_stats before = s.stats();
  int rc = 1;
  const std::uint64_t seen = s.cpu_load(kCpu + kPage, &rc);
  // then the content is there either way
  ASSERT_EQ(rc, 0);
  EXPECT_EQ(seen, 0x51u);
  EXPECT_EQ(s.cpu_load(kCpu + 2 * kMiB + kPage), 0x52u);
  const drm_sim_mem_stats after = s.stats();
  std::size_t to_sys = 0;
  for (const drm_sim::Event& e : events.take()) {
    if (e.type != drm_sim::EventType::kMigrateToSys) continue;
    ++to_sys;
    EXPECT_EQ(e.bo, id);
  }
  if (c.migrates) {
    // the whole BO moved to system memory once: one CPU fault, two chunk
    // copies (events, counters, time), the GPU's PTEs of it zapped
    EXPECT_EQ(s.device().bos().vram_bytes(id), 0u);
    EXPECT_EQ(after.cpu_faults, before.cpu_faults + 1);
    EXPECT_EQ(after.migrations_to_sys, before.migrations_to_sys + 2);
    EXPECT_EQ(after.bytes_to_sys, before.bytes_to_sys + 4 * kMiB);
    EXPECT_EQ(after.gpu_invalidations, before.gpu_invalidations + 2);
    EXPECT_GT(after.sim_time_ns, before.sim_time_ns);
    EXPECT_EQ(to_sys, 2u);
    // and the next GPU access faults (its mapping went with the move)
    EXPECT_EQ(s.gpu_load(kVa + kPage), 0x51u);
    EXPECT_EQ(s.stats().gpu_faults, after.gpu_faults + 1);
  } else {
    EXPECT_EQ(s.device().bos().vram_bytes(id), 4 * kMiB);
    EXPECT_EQ(after.cpu_faults, before.cpu_faults);
    EXPECT_EQ(after.migrations_to_sys, before.migrations_to_sys);
    EXPECT_EQ(after.gpu_invalidations, before.gpu_invalidations);
    EXPECT_EQ(to_sys, 0u);
    EXPECT_EQ(s.gpu_load(kVa + kPage), 0x51u);
    EXPECT_EQ(s.stats().gpu_faults, after.gpu_faults);
  }
  s.device().set_event_sink(nullptr);
}

TEST_P(BoCpuAtomicRuleTest, AGpuAtomicThatBringsTheBoBackIsUndoneByTheNextCpuTouch) {
  // given a BO first touched (populated) by the CPU after madvise ATOMIC
  const AtomicCase c = GetParam();
  BoSim s(c.backing, kFaultVm);
  const std::uint32_t bo = make_bo(s.fd(), 2 * kMiB, kVram0 | kSysmem, DRM_XE_GEM_CPU_CACHING_WC);
  const std::uint32_t id = s.bo_id(bo);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  ASSERT_EQ(s.cpu_map_bo(kCpu, 2 * kMiB, s.mmap_offset(bo)), 0);
  ASSERT_EQ(s.madvise_atomic(kVa, 2 * kMiB, c.atomic), 0);
  ASSERT_EQ(s.cpu_store(kCpu, 7), 0);
  // (CPU and GLOBAL populate it in system memory, the others in VRAM)
  EXPECT_EQ(s.device().bos().vram_bytes(id), c.migrates ? 0u : 2 * kMiB);
  // when a GPU atomic runs: GLOBAL, DEVICE and UNDEFINED want VRAM for it,
  // CPU forbids it on a discrete part
  Access g{kVa, DRM_SIM_ACCESS_ATOMIC, 1, 0, 0};
  const int rc = s.gpu(g);
  const std::uint64_t faults = s.stats().cpu_faults;
  if (c.atomic == DRM_XE_ATOMIC_CPU) {
    // then nothing moved and the CPU reads its own value without a fault
    EXPECT_EQ(rc, -EACCES);
    EXPECT_EQ(s.device().bos().vram_bytes(id), 0u);
    EXPECT_EQ(s.cpu_load(kCpu), 7u);
    EXPECT_EQ(s.stats().cpu_faults, faults);
    return;
  }
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(s.device().bos().vram_bytes(id), 2 * kMiB);
  // then the next CPU touch finds it where the rule says
  EXPECT_EQ(s.cpu_load(kCpu), 8u);
  EXPECT_EQ(s.device().bos().vram_bytes(id), c.migrates ? 0u : 2 * kMiB);
  EXPECT_EQ(s.stats().cpu_faults, faults + (c.migrates ? 1 : 0));
}

INSTANTIATE_TEST_SUITE_P(Values, BoCpuAtomicRuleTest,
                         ::testing::Values(AtomicCase{"data", DRM_XE_ATOMIC_CPU, true},
                                           AtomicCase{"data", DRM_XE_ATOMIC_GLOBAL, true},
                                           AtomicCase{"data", DRM_XE_ATOMIC_DEVICE, false},
                                           AtomicCase{"data", DRM_XE_ATOMIC_UNDEFINED, false},
                                           AtomicCase{"tag", DRM_XE_ATOMIC_CPU, true},
                                           AtomicCase{"tag", DRM_XE_ATOMIC_GLOBAL, true},
                                           AtomicCase{"tag", DRM_XE_ATOMIC_DEVICE, false},
                                           AtomicCase{"tag", DRM_XE_ATOMIC_UNDEFINED, false}),
                         [](const ::testing::TestParamInfo<AtomicCase>& i) {
                           return std::string(i.param.backing) + "Atomic" +
                                  std::to_string(i.param.atomic);
                         });

// --- errnos, lifetime, eviction (discrete, both backings) ---

class BoCpuMapTest : public ::testing::TestWithParam<const char*> {
 protected:
  std::string backing() const { return GetParam(); }
};

TEST_P(BoCpuMapTest, MapBoRejectsMalformedAndForeignOffsetsWithEinval) {
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.vram_bo(4 * kMiB);
  const std::uint64_t off = s.mmap_offset(bo);
  ASSERT_NE(off, 0u);
  EXPECT_EQ(s.cpu_map_bo(kCpu, 0, off), -EINVAL);                    // empty
  EXPECT_EQ(s.cpu_map_bo(kCpu, kPage + 1, off), -EINVAL);            // unaligned size
  EXPECT_EQ(s.cpu_map_bo(kCpu + 1, kPage, off), -EINVAL);            // unaligned address
  EXPECT_EQ(s.cpu_map_bo(kCpu, kPage, off + 8), -EINVAL);            // unaligned offset
  EXPECT_EQ(s.cpu_map_bo(kCpu, 4 * kMiB + kPage, off), -EINVAL);     // past the BO's end
  EXPECT_EQ(s.cpu_map_bo(kCpu, 2 * kMiB, off + 3 * kMiB), -EINVAL);  // offset + size past it
  EXPECT_EQ(s.cpu_map_bo(kCpu, kPage, off + 4 * kMiB), -EINVAL);     // offset at the end
  EXPECT_EQ(s.cpu_map_bo(kCpu, kPage, 0), -EINVAL);                  // no BO there
  EXPECT_EQ(s.cpu_map_bo(kCpu, kPage, off + (std::uint64_t{1} << 40)), -EINVAL);  // unknown
  // another file's BO (another device here): its fake offset names no BO
  // this file holds a handle to
  BoSim other(backing(), kFaultVm);
  std::uint32_t theirs = 0;
  for (int i = 0; i < 4; ++i) theirs = other.vram_bo(2 * kMiB);
  const std::uint64_t their_off = other.mmap_offset(theirs);
  ASSERT_EQ(other.cpu_map_bo(kCpu, kPage, their_off), 0);
  EXPECT_EQ(s.cpu_map_bo(kCpu, kPage, their_off), -EINVAL);
  // a closed handle's BO
  const std::uint32_t closed = s.vram_bo(2 * kMiB);
  const std::uint64_t closed_off = s.mmap_offset(closed);
  ASSERT_EQ(gem_close(s.fd(), closed), 0);
  EXPECT_EQ(s.cpu_map_bo(kCpu, kPage, closed_off), -EINVAL);
  // fields an op does not use
  drm_sim_cpu_mmap m{};
  m.addr = kCpu;
  m.size = kPage;
  m.op = DRM_SIM_CPU_MMAP_MAP;
  m.mmap_offset = off;
  EXPECT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_SIM_CPU_MMAP, &m), -EINVAL);
  m.op = DRM_SIM_CPU_MMAP_MAP_BO;
  m.reserved = 1;
  EXPECT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_SIM_CPU_MMAP, &m), -EINVAL);
  // nothing was mapped by any of these, and a correct call still works
  EXPECT_EQ(mapping_count(s), 0u);
  EXPECT_EQ(s.cpu_map_bo(kCpu, 4 * kMiB, off), 0);
  EXPECT_EQ(mapping_count(s), 1u);
}

TEST_P(BoCpuMapTest, BoAndAnonymousMappingsNeverOverlap) {
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.vram_bo(2 * kMiB);
  const std::uint64_t off = s.mmap_offset(bo);
  ASSERT_EQ(s.cpu_map(kCpu, 2 * kMiB), 0);
  EXPECT_EQ(s.cpu_map_bo(kCpu + kMiB, 2 * kMiB, off), -EEXIST);
  ASSERT_EQ(s.cpu_map_bo(kCpu + 2 * kMiB, 2 * kMiB, off), 0);
  EXPECT_EQ(s.cpu_map(kCpu + 3 * kMiB, kPage), -EEXIST);
  EXPECT_EQ(s.cpu_map_bo(kCpu + 3 * kMiB, kPage, off), -EEXIST);
  // the anonymous part and the BO part are different memory
  ASSERT_EQ(s.cpu_store(kCpu + 2 * kMiB - kPage, 1), 0);
  ASSERT_EQ(s.cpu_store(kCpu + 2 * kMiB, 2), 0);
  EXPECT_EQ(s.cpu_load(kCpu + 2 * kMiB - kPage), 1u);
  EXPECT_EQ(s.cpu_load(kCpu + 2 * kMiB), 2u);
}

TEST_P(BoCpuMapTest, ADontneedBoCannotBeMappedWithEbusy) {
  // given a uapi 7.1 device and a BO whose only VMA is DONTNEED
  BoSim s(backing(), kFaultVm, "7.1");
  const std::uint32_t bo = s.vram_bo(2 * kMiB);
  const std::uint64_t off = s.mmap_offset(bo);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  drm_xe_madvise m{};
  m.vm_id = s.vm();
  m.start = kVa;
  m.range = 2 * kMiB;
  m.type = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
  m.purge_state_val.val = DRM_XE_VMA_PURGEABLE_STATE_DONTNEED;
  ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_XE_MADVISE, &m), 0);
  // then mapping it fails with -EBUSY (spec §8), and works again once WILLNEED
  EXPECT_EQ(s.cpu_map_bo(kCpu, 2 * kMiB, off), -EBUSY);
  EXPECT_EQ(mapping_count(s), 0u);
  m.purge_state_val.val = DRM_XE_VMA_PURGEABLE_STATE_WILLNEED;
  ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_XE_MADVISE, &m), 0);
  EXPECT_EQ(s.cpu_map_bo(kCpu, 2 * kMiB, off), 0);
}

TEST_P(BoCpuMapTest, CpuAccessToAPurgedBoFailsWithEfault) {
  // given a mapped BO A filling half the VRAM, then DONTNEED, and a BO B
  // whose population needs A's room (uapi 7.1)
  BoSim s(backing(), kFaultVm, "7.1");
  const std::uint64_t half = kSmallVram / 2;
  const std::uint32_t a = s.vram_bo(half);
  const std::uint32_t b = s.vram_bo(half + 2 * kMiB);
  ASSERT_EQ(s.bind_bo(a, kVa, half), 0);
  ASSERT_EQ(s.bind_bo(b, kVa + 64 * kMiB, half + 2 * kMiB), 0);
  ASSERT_EQ(s.cpu_map_bo(kCpu, half, s.mmap_offset(a)), 0);
  for (std::uint64_t off = 0; off < half; off += 2 * kMiB) {
    ASSERT_EQ(s.gpu_store(kVa + off, 100 + off), 0);
  }
  EXPECT_EQ(s.cpu_load(kCpu + 2 * kMiB), 100u + 2 * kMiB);
  drm_xe_madvise m{};
  m.vm_id = s.vm();
  m.start = kVa;
  m.range = half;
  m.type = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
  m.purge_state_val.val = DRM_XE_VMA_PURGEABLE_STATE_DONTNEED;
  ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_XE_MADVISE, &m), 0);
  // when B is filled, A is purged
  for (std::uint64_t off = 0; off < half + 2 * kMiB; off += 2 * kMiB) {
    ASSERT_EQ(s.gpu_store(kVa + 64 * kMiB + off, 1), 0);
  }
  ASSERT_TRUE(s.device().bos().purged(s.bo_id(a)));
  // then the CPU's reads, writes and atomics through the mapping fault
  int rc = 0;
  s.cpu_load(kCpu + 2 * kMiB, &rc);
  EXPECT_EQ(rc, -EFAULT);
  EXPECT_EQ(s.cpu_store(kCpu, 5), -EFAULT);
  std::vector<Access> add{{kCpu, DRM_SIM_ACCESS_ATOMIC, 1, 0, 0}};
  EXPECT_EQ(s.run(0, add), -EFAULT);
  EXPECT_EQ(add[0].result, -EFAULT);
}

TEST_P(BoCpuMapTest, GemCloseOfAMappedBoKeepsItAliveUntilTheLastPieceIsUnmapped) {
  // given a BO written by the CPU through a mapping, then its handle closed
  BoSim s(backing(), kFaultVm);
  const std::size_t bos_before = bo_count(s);
  const std::uint32_t bo = s.vram_bo(4 * kMiB);
  const std::uint32_t id = s.bo_id(bo);
  ASSERT_EQ(s.cpu_map_bo(kCpu, 4 * kMiB, s.mmap_offset(bo)), 0);
  ASSERT_EQ(s.cpu_store(kCpu + kPage, 0x77), 0);
  ASSERT_EQ(s.cpu_store(kCpu + 3 * kMiB, 0x78), 0);
  ASSERT_EQ(gem_close(s.fd(), bo), 0);
  // then the mapping still reaches it (the mapping holds a reference)
  EXPECT_EQ(bo_count(s), bos_before + 1);
  EXPECT_EQ(s.cpu_load(kCpu + kPage), 0x77u);
  // when the middle is unmapped: two pieces, each still the BO
  ASSERT_EQ(s.cpu_unmap(kCpu + kMiB, 2 * kMiB), 0);
  EXPECT_EQ(mapping_count(s), 2u);
  EXPECT_EQ(s.cpu_load(kCpu + 3 * kMiB), 0x78u);
  int rc = 0;
  s.cpu_load(kCpu + 2 * kMiB, &rc);
  EXPECT_EQ(rc, -EFAULT);
  ASSERT_EQ(s.cpu_unmap(kCpu, kMiB), 0);
  EXPECT_EQ(bo_count(s), bos_before + 1);
  EXPECT_TRUE(s.device().bos().page_info(id, 0).has_value());
  // and once the last piece goes, so does the BO and its backing
  ASSERT_EQ(s.cpu_unmap(kCpu, 8 * kMiB), 0);
  EXPECT_EQ(mapping_count(s), 0u);
  EXPECT_EQ(bo_count(s), bos_before);
  EXPECT_FALSE(s.device().bos().page_info(id, 0).has_value());
  EXPECT_EQ(s.vram_used(), 0u);
}

TEST_P(BoCpuMapTest, ClosingTheFileReleasesItsBoMappings) {
  // given a BO whose only holder left is a CPU mapping
  auto s = std::make_unique<BoSim>(backing(), kFaultVm);
  const std::uint32_t bo = s->vram_bo(2 * kMiB);
  ASSERT_EQ(s->cpu_map_bo(kCpu, 2 * kMiB, s->mmap_offset(bo)), 0);
  ASSERT_EQ(gem_close(s->fd(), bo), 0);
  ASSERT_EQ(s->cpu_store(kCpu, 1), 0);
  auto dev = drm_sim::file_from_fd(s->fd())->device_ptr();
  {
    std::lock_guard<std::mutex> g(dev->bo_mutex());
    ASSERT_EQ(dev->bo_count_locked(), 1u);
  }
  // when the file is closed
  s.reset();
  // then the BO went with it
  std::lock_guard<std::mutex> g(dev->bo_mutex());
  EXPECT_EQ(dev->bo_count_locked(), 0u);
}

TEST_P(BoCpuMapTest, GpuMirrorAccessToABoMappingFailsWithEfault) {
  // given a BO mapped where a mirror VMA covers the process's address space
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.vram_bo(2 * kMiB);
  ASSERT_EQ(s.cpu_map_bo(kCpu, 2 * kMiB, s.mmap_offset(bo)), 0);
  ASSERT_EQ(s.cpu_store(kCpu, 3), 0);
  ASSERT_EQ(bind(s.fd(), s.vm(), map_mirror(kCpu, 4 * kMiB)), 0);
  // when the GPU reads and writes through the mirror there
  int rc = 0;
  s.gpu_load(kCpu, &rc);
  // then it is a GPU segmentation fault (only anonymous memory is mirrored)
  EXPECT_EQ(rc, -EFAULT);
  EXPECT_EQ(s.gpu_store(kCpu + kPage, 4), -EFAULT);
  // and nothing changed for the CPU
  EXPECT_EQ(s.cpu_load(kCpu), 3u);
  EXPECT_EQ(s.cpu_load(kCpu + kPage), 0u);
}

TEST_P(BoCpuMapTest, ContentSurvivesEvictionWithCpuAccessesInterleaved) {
  // given four 16 MiB VRAM BOs (2x the 32 MiB of VRAM), bound and mapped
  BoSim s(backing(), kFaultVm);
  constexpr int kBos = 4;
  constexpr std::uint64_t kSize = 16 * kMiB;
  constexpr std::uint64_t kStride = 64 * kKiB;  // one page per 64 KiB
  std::vector<std::uint32_t> bos;
  for (int i = 0; i < kBos; ++i) {
    bos.push_back(s.vram_bo(kSize));
    ASSERT_EQ(s.bind_bo(bos.back(), kVa + i * kSize, kSize), 0);
    ASSERT_EQ(s.cpu_map_bo(kCpu + i * kSize, kSize, s.mmap_offset(bos.back())), 0);
  }
  const auto expect_at = [](int i, std::uint64_t off) {
    return 0x1000000ull * static_cast<std::uint64_t>(i + 1) + off;
  };
  // when the GPU writes even pages and the CPU odd pages, BO after BO, and
  // the CPU re-reads each BO's GPU pages right after (VRAM churns meanwhile)
  for (int i = 0; i < kBos; ++i) {
    std::vector<Access> gpu;
    std::vector<Access> cpu;
    for (std::uint64_t off = 0; off < kSize; off += kStride) {
      const bool by_gpu = (off / kStride) % 2 == 0;
      (by_gpu ? gpu : cpu)
          .push_back({(by_gpu ? kVa : kCpu) + i * kSize + off, DRM_SIM_ACCESS_WRITE,
                      expect_at(i, off), expect_at(i, off), 0});
    }
    ASSERT_EQ(s.run(s.vm(), gpu), 0);
    ASSERT_EQ(s.run(0, cpu), 0);
    for (std::uint64_t off = 0; off < kSize; off += 2 * kStride) {
      ASSERT_EQ(s.cpu_load(kCpu + i * kSize + off), expect_at(i, off)) << i << " " << off;
    }
  }
  // then VRAM was oversubscribed, and every page reads back from both sides
  EXPECT_GT(s.stats().evictions, 0u);
  for (int i = 0; i < kBos; ++i) {
    for (std::uint64_t off = 0; off < kSize; off += kStride) {
      ASSERT_EQ(s.cpu_load(kCpu + i * kSize + off), expect_at(i, off)) << i << " " << off;
      ASSERT_EQ(s.gpu_load(kVa + i * kSize + off), expect_at(i, off)) << i << " " << off;
    }
  }
  EXPECT_LE(s.vram_used(), kSmallVram);
}

INSTANTIATE_TEST_SUITE_P(Backing, BoCpuMapTest, ::testing::Values("data", "tag"));

}  // namespace
}  // namespace drm_sim_test
