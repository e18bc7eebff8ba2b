// BO and userptr residency through the uapi (spec §7): BO backing in VRAM or
// system memory in both backing modes, population at bind (non-fault VMs)
// or on the first GPU access (fault-mode VMs, counted and reported as
// events), VRAM accounting in DEVICE_QUERY, GPU accesses to BO and userptr
// VMAs, READONLY, per-tile mappings, the atomic policy on BOs, PREFETCH of
// BO ranges, and integrity of every page under 2x and 4x VRAM
// oversubscription with BOs alone and BOs mixed with SVM.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "drm_sim/mem/timing.h"
#include "tests/unit/bo_test_util.h"

namespace drm_sim_test {
namespace {

constexpr std::uint64_t kVa = 0x40000000;    // GPU VA of the first BO (2 MiB aligned)
constexpr std::uint64_t kCpu = 0x100000000;  // process memory behind mirrors and userptrs
constexpr std::uint32_t kLrVm = DRM_XE_VM_CREATE_FLAG_LR_MODE;

class BoResidencyTest : public ::testing::TestWithParam<const char*> {
 protected:
  std::string backing() const { return GetParam(); }
};

TEST_P(BoResidencyTest, NonFaultVmPopulatesAVramBoAtBind) {
  // given a 4 MiB VRAM BO
  BoSim s(backing(), kLrVm);
  const std::uint32_t bo = s.vram_bo(4 * kMiB);
  ASSERT_EQ(s.vram_used(), 0u);
  // when a non-fault VM binds it
  ASSERT_EQ(s.bind_bo(bo, kVa, 4 * kMiB), 0);
  // then its pages are in VRAM now, accounted in DEVICE_QUERY, and the
  // first GPU access is no fault
  EXPECT_EQ(s.vram_used(), 4 * kMiB);
  const auto pi = s.device().bos().page_info(s.bo_id(bo), 3 * kMiB);
  ASSERT_TRUE(pi.has_value());
  EXPECT_TRUE(pi->populated);
  EXPECT_TRUE(pi->in_vram);
  ASSERT_EQ(s.gpu_store(kVa + 3 * kMiB, 0x1234), 0);
  EXPECT_EQ(s.stats().gpu_faults, 0u);
  EXPECT_EQ(s.gpu_load(kVa + 3 * kMiB), 0x1234u);
}

TEST_P(BoResidencyTest, FaultVmPopulatesTheChunkOnTheFirstGpuAccess) {
  // given a 4 MiB VRAM BO bound in a fault-mode VM, and an event recorder
  BoSim s(backing(), kFaultVm);
  drm_sim::EventRecorder events;
  s.device().set_event_sink(&events);
  const std::uint32_t bo = s.vram_bo(4 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 4 * kMiB), 0);
  EXPECT_EQ(s.vram_used(), 0u);
  // when the GPU writes into its second 2 MiB, then touches it again
  ASSERT_EQ(s.gpu_store(kVa + 2 * kMiB + 5 * kPage, 77), 0);
  EXPECT_EQ(s.gpu_load(kVa + 2 * kMiB + 5 * kPage), 77u);
  // then one fault populated that chunk only, reported on the sink
  const drm_sim_mem_stats st = s.stats();
  EXPECT_EQ(st.gpu_faults, 1u);
  EXPECT_EQ(st.gpu_accesses, 2u);
  EXPECT_EQ(s.vram_used(), 2 * kMiB);
  EXPECT_FALSE(s.device().bos().page_info(s.bo_id(bo), 0)->populated);
  EXPECT_EQ(events.count(drm_sim::EventType::kGpuFault), 1u);
  s.device().set_event_sink(nullptr);
}

TEST_P(BoResidencyTest, TwoVmasOfOneBoSeeTheSameBytes) {
  // given one BO bound twice, the second VMA at BO offset 1 MiB
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.vram_bo(4 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 4 * kMiB), 0);
  ASSERT_EQ(s.bind_bo(bo, kVa + 16 * kMiB, 2 * kMiB, 1 * kMiB), 0);
  // when the GPU writes through the first VMA
  ASSERT_EQ(s.gpu_store(kVa + 1 * kMiB + 3 * kPage, 0xfeed), 0);
  // then the second VMA reads it at the matching offset
  EXPECT_EQ(s.gpu_load(kVa + 16 * kMiB + 3 * kPage), 0xfeedu);
  EXPECT_EQ(s.gpu_load(kVa + 16 * kMiB + 4 * kPage), 0u);
}

TEST_P(BoResidencyTest, GpuAtomicsAddToBoContent) {
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.vram_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  ASSERT_EQ(s.gpu_store(kVa + kPage, 40), 0);
  // when two atomics add 1 and 2
  Access a{kVa + kPage, DRM_SIM_ACCESS_ATOMIC, 1, 0, 0};
  ASSERT_EQ(s.gpu(a), 0);
  EXPECT_EQ(a.value, 40u);  // the old content
  Access b{kVa + kPage, DRM_SIM_ACCESS_ATOMIC, 2, 0, 0};
  ASSERT_EQ(s.gpu(b), 0);
  // then
  EXPECT_EQ(s.gpu_load(kVa + kPage), 43u);
}

TEST_P(BoResidencyTest, SystemMemoryBoStaysOutOfVramAndIsAccessedRemotely) {
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.sys_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  ASSERT_EQ(s.gpu_store(kVa, 5), 0);
  EXPECT_EQ(s.gpu_load(kVa), 5u);
  EXPECT_EQ(s.vram_used(), 0u);
  EXPECT_FALSE(s.device().bos().page_info(s.bo_id(bo), 0)->in_vram);
  EXPECT_EQ(s.stats().remote_accesses, 2u);  // a discrete part reaches it over the link
}

TEST_P(BoResidencyTest, WritesToAReadonlyBoVmaFailWithEperm) {
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.vram_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB, 0, DRM_XE_VM_BIND_FLAG_READONLY), 0);
  EXPECT_EQ(s.gpu_store(kVa, 1), -EPERM);
  Access a{kVa, DRM_SIM_ACCESS_ATOMIC, 1, 0, 0};
  EXPECT_EQ(s.gpu(a), -EPERM);
  int rc = 1;
  EXPECT_EQ(s.gpu_load(kVa, &rc), 0u);
  EXPECT_EQ(rc, 0);
}

TEST_P(BoResidencyTest, AccessPastTheVmaEndIsAGpuSegfault) {
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.vram_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  EXPECT_EQ(s.gpu_store(kVa + 2 * kMiB, 1), -EFAULT);
}

TEST_P(BoResidencyTest, UserptrVmaReadsAndWritesTheProcessMemory) {
  // given process memory with a word written by the CPU, mapped by a
  // userptr VMA at another GPU address
  BoSim s(backing(), kFaultVm);
  drm_sim_cpu_mmap m{};
  m.addr = kCpu;
  m.size = 2 * kMiB;
  m.op = DRM_SIM_CPU_MMAP_MAP;
  ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_SIM_CPU_MMAP, &m), 0);
  std::vector<Access> cpu{{kCpu + 7 * kPage, DRM_SIM_ACCESS_WRITE, 0x77, 0x77, 0}};
  ASSERT_EQ(s.run(0, cpu), 0);
  ASSERT_EQ(bind(s.fd(), s.vm(), map_userptr(kCpu, kVa, 2 * kMiB)), 0);
  // when the GPU reads that page and writes the next one
  const std::uint64_t seen = s.gpu_load(kVa + 7 * kPage);
  ASSERT_EQ(s.gpu_store(kVa + 8 * kPage, 0x88), 0);
  // then it saw the CPU's word, and the CPU sees the GPU's
  EXPECT_EQ(seen, 0x77u);
  std::vector<Access> back{{kCpu + 8 * kPage, DRM_SIM_ACCESS_READ, 0, 0, 0}};
  ASSERT_EQ(s.run(0, back), 0);
  EXPECT_EQ(s.data() ? back[0].word : back[0].value, 0x88u);
  // one fault mapped the userptr for tile 0; nothing went to VRAM
  EXPECT_EQ(s.stats().gpu_faults, 1u);
  EXPECT_EQ(s.vram_used(), 0u);
}

TEST_P(BoResidencyTest, UserptrOverUnmappedProcessMemoryFaultsAndCpuUnmapInvalidates) {
  BoSim s(backing(), kLrVm);
  drm_sim_cpu_mmap m{};
  m.addr = kCpu;
  m.size = 2 * kMiB;
  m.op = DRM_SIM_CPU_MMAP_MAP;
  ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_SIM_CPU_MMAP, &m), 0);
  ASSERT_EQ(bind(s.fd(), s.vm(), map_userptr(kCpu, kVa, 4 * kMiB)), 0);
  ASSERT_EQ(s.gpu_store(kVa, 1), 0);
  // the second half has no process memory behind it
  EXPECT_EQ(s.gpu_store(kVa + 2 * kMiB, 1), -EFAULT);
  // when the CPU unmaps the first half, the GPU's view of it goes too
  const std::uint64_t inval = s.stats().gpu_invalidations;
  m.op = DRM_SIM_CPU_MMAP_UNMAP;
  ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_SIM_CPU_MMAP, &m), 0);
  EXPECT_EQ(s.stats().gpu_invalidations, inval + 1);
  EXPECT_EQ(s.gpu_store(kVa, 1), -EFAULT);
}

TEST_P(BoResidencyTest, WritesToAReadonlyUserptrFailWithEperm) {
  BoSim s(backing(), kFaultVm);
  drm_sim_cpu_mmap m{};
  m.addr = kCpu;
  m.size = 2 * kMiB;
  m.op = DRM_SIM_CPU_MMAP_MAP;
  ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_SIM_CPU_MMAP, &m), 0);
  drm_xe_vm_bind_op o = map_userptr(kCpu, kVa, 2 * kMiB);
  o.flags = DRM_XE_VM_BIND_FLAG_READONLY;
  ASSERT_EQ(bind(s.fd(), s.vm(), o), 0);
  EXPECT_EQ(s.gpu_store(kVa, 1), -EPERM);
}

TEST_P(BoResidencyTest, UnbindDropsTheMappingAndARebindFaultsAgainWithContentKept) {
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.vram_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  ASSERT_EQ(s.gpu_store(kVa + kPage, 9), 0);
  ASSERT_EQ(bind(s.fd(), s.vm(), unmap(kVa, 2 * kMiB)), 0);
  ASSERT_EQ(s.bind_bo(bo, kVa + 4 * kMiB, 2 * kMiB), 0);
  EXPECT_EQ(s.gpu_load(kVa + 4 * kMiB + kPage), 9u);
  EXPECT_EQ(s.stats().gpu_faults, 2u);
}

TEST_P(BoResidencyTest, ClosingTheLastReferenceFreesTheBosVram) {
  BoSim s(backing(), kLrVm);
  const std::uint32_t bo = s.vram_bo(4 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 4 * kMiB), 0);
  ASSERT_EQ(s.vram_used(), 4 * kMiB);
  ASSERT_EQ(bind(s.fd(), s.vm(), unmap(kVa, 4 * kMiB)), 0);
  EXPECT_EQ(s.vram_used(), 4 * kMiB);  // the handle still holds it
  ASSERT_EQ(gem_close(s.fd(), bo), 0);
  EXPECT_EQ(s.vram_used(), 0u);
}

TEST_P(BoResidencyTest, MadviseOfAFaultedBoVmaZapsItsMappingsAndTheNextAccessFaults) {
  // given a BO VMA the GPU faulted in on tile 0
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.vram_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  ASSERT_EQ(s.gpu_store(kVa, 6), 0);
  // when madvise changes its PAT
  ASSERT_EQ(madvise_pat(s.fd(), s.vm(), kVa, 2 * kMiB, kB580PatCoherent2), 0);
  // then one PTE zap on tile 0, one TLB invalidation, and a new fault
  const drm_sim_vm_stats vs = vm_stats(s.fd(), s.vm());
  EXPECT_EQ(vs.pte_zaps, 1u);
  EXPECT_EQ(vs.tlb_invalidations, 1u);
  EXPECT_EQ(s.gpu_load(kVa), 6u);
  EXPECT_EQ(s.stats().gpu_faults, 2u);
  // and the access mapped it again: the next change zaps it again
  ASSERT_EQ(madvise_pat(s.fd(), s.vm(), kVa, 2 * kMiB, kB580PatCoherent), 0);
  EXPECT_EQ(vm_stats(s.fd(), s.vm()).pte_zaps, 2u);
}

TEST_P(BoResidencyTest, MadviseOfAnUnfaultedBoVmaZapsNothing) {
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.vram_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  ASSERT_EQ(madvise_pat(s.fd(), s.vm(), kVa, 2 * kMiB, kB580PatCoherent2), 0);
  EXPECT_EQ(vm_stats(s.fd(), s.vm()).pte_zaps, 0u);
  EXPECT_EQ(vm_stats(s.fd(), s.vm()).tlb_invalidations, 0u);
}

// ---------------------------------------------------- atomic policy, prefetch

int advise_atomic(BoSim& s, std::uint64_t start, std::uint64_t range, std::uint32_t val) {
  drm_xe_madvise m{};
  m.vm_id = s.vm();
  m.start = start;
  m.range = range;
  m.type = DRM_XE_MEM_RANGE_ATTR_ATOMIC;
  m.atomic.val = val;
  return drm_sim_ioctl(s.fd(), DRM_IOCTL_XE_MADVISE, &m);
}

int gpu_atomic(BoSim& s, std::uint64_t addr, std::uint64_t add) {
  Access a{addr, DRM_SIM_ACCESS_ATOMIC, add, 0, 0};
  return s.gpu(a);
}

TEST_P(BoResidencyTest, DeviceAtomicsOnASystemOnlyBoAreRejectedAtMadvise) {
  // spec §3 step 9: DEVICE needs VRAM in the BO's placement on this part
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.sys_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  EXPECT_EQ(advise_atomic(s, kVa, 2 * kMiB, DRM_XE_ATOMIC_DEVICE), -EINVAL);
}

TEST_P(BoResidencyTest, UndefinedAtomicsOnASystemOnlyBoWorkInSystemMemory) {
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.sys_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  ASSERT_EQ(gpu_atomic(s, kVa, 3), 0);
  EXPECT_EQ(s.gpu_load(kVa), 3u);
  EXPECT_EQ(s.vram_used(), 0u);
}

TEST_P(BoResidencyTest, GpuAtomicsUnderTheCpuPolicyFailWithEacces) {
  // given a BO that may live in system memory or VRAM, advised CPU atomics
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = make_bo(s.fd(), 2 * kMiB, kSysmem | kVram0, DRM_XE_GEM_CPU_CACHING_WC);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  ASSERT_EQ(advise_atomic(s, kVa, 2 * kMiB, DRM_XE_ATOMIC_CPU), 0);
  // when / then: GPU atomics fail, plain accesses work
  EXPECT_EQ(gpu_atomic(s, kVa, 1), -EACCES);
  EXPECT_EQ(s.gpu_store(kVa, 4), 0);
  EXPECT_EQ(s.gpu_load(kVa), 4u);
}

TEST_P(BoResidencyTest, AnAtomicMovesASystemResidentChunkToVramWhenThePlacementAllows) {
  // given a system-or-VRAM BO prefetched to system memory, with content
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = make_bo(s.fd(), 2 * kMiB, kSysmem | kVram0, DRM_XE_GEM_CPU_CACHING_WC);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  ASSERT_EQ(bind(s.fd(), s.vm(), prefetch(kVa, 2 * kMiB, 0)), 0);
  ASSERT_EQ(s.gpu_store(kVa + 8, 10), 0);
  // a plain access leaves it in system memory (its placement allows it there)
  EXPECT_EQ(s.gpu_load(kVa + 8), 10u);
  EXPECT_FALSE(s.device().bos().page_info(s.bo_id(bo), 0)->in_vram);
  EXPECT_EQ(s.vram_used(), 0u);
  // when the GPU does an atomic on it (UNDEFINED policy: VRAM)
  ASSERT_EQ(gpu_atomic(s, kVa + 8, 5), 0);
  // then the chunk moved to VRAM with its content
  EXPECT_TRUE(s.device().bos().page_info(s.bo_id(bo), 0)->in_vram);
  EXPECT_EQ(s.vram_used(), 2 * kMiB);
  EXPECT_EQ(s.gpu_load(kVa + 8), 15u);
  EXPECT_EQ(s.stats().migrations_to_vram, 1u);
}

TEST_P(BoResidencyTest, PrefetchMovesBoChunksBetweenRegionsAndMapsThem) {
  // given a system-or-VRAM BO in a fault-mode VM, never touched
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = make_bo(s.fd(), 4 * kMiB, kSysmem | kVram0, DRM_XE_GEM_CPU_CACHING_WC);
  ASSERT_EQ(s.bind_bo(bo, kVa, 4 * kMiB), 0);
  // when the first 2 MiB are prefetched to VRAM (region 1)
  ASSERT_EQ(bind(s.fd(), s.vm(), prefetch(kVa, 2 * kMiB, 1)), 0);
  // then they are resident and mapped: no fault on access
  EXPECT_EQ(s.vram_used(), 2 * kMiB);
  ASSERT_EQ(s.gpu_store(kVa + kPage, 21), 0);
  EXPECT_EQ(s.stats().gpu_faults, 0u);
  // and a prefetch to system memory moves them back, content kept
  ASSERT_EQ(bind(s.fd(), s.vm(), prefetch(kVa, 2 * kMiB, 0)), 0);
  EXPECT_EQ(s.vram_used(), 0u);
  EXPECT_EQ(s.gpu_load(kVa + kPage), 21u);
  // and CONSULT follows the BO's placement (VRAM first)
  ASSERT_EQ(bind(s.fd(), s.vm(), prefetch(kVa, 4 * kMiB, DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC)), 0);
  EXPECT_EQ(s.vram_used(), 4 * kMiB);
  EXPECT_EQ(s.gpu_load(kVa + kPage), 21u);
}

TEST_P(BoResidencyTest, PrefetchIntoARegionOutsideTheBosPlacementFailsWithEinval) {
  BoSim s(backing(), kFaultVm);
  const std::uint32_t bo = s.vram_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  EXPECT_EQ(bind(s.fd(), s.vm(), prefetch(kVa, 2 * kMiB, 0)), -EINVAL);
  EXPECT_EQ(s.vram_used(), 0u);
}

TEST_P(BoResidencyTest, PrefetchOfAUserptrMapsItWithoutAFault) {
  BoSim s(backing(), kFaultVm);
  drm_sim_cpu_mmap m{};
  m.addr = kCpu;
  m.size = 2 * kMiB;
  m.op = DRM_SIM_CPU_MMAP_MAP;
  ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_SIM_CPU_MMAP, &m), 0);
  ASSERT_EQ(bind(s.fd(), s.vm(), map_userptr(kCpu, kVa, 2 * kMiB)), 0);
  ASSERT_EQ(bind(s.fd(), s.vm(), prefetch(kVa, 2 * kMiB, 0)), 0);
  ASSERT_EQ(s.gpu_store(kVa, 1), 0);
  EXPECT_EQ(s.stats().gpu_faults, 0u);
}

INSTANTIATE_TEST_SUITE_P(Backing, BoResidencyTest, ::testing::Values("data", "tag"),
                         [](const auto& i) { return std::string(i.param); });

TEST(BoResidencyTilesTest, EachTileMapsTheBoOnItsOwnFault) {
  // given a VRAM BO of tile 0 on a two-tile part, faulted in by tile 0
  ScopedFd fd = open_sim("pvc");
  const std::uint32_t vm = make_vm(fd.get(), kFaultVm);
  const std::uint32_t bo = make_bo(fd.get(), 2 * kMiB, kVram0, DRM_XE_GEM_CPU_CACHING_WC);
  ASSERT_EQ(bind(fd.get(), vm, map_bo(bo, kVa, 2 * kMiB, 0, kPvcPatCoherent)), 0);
  const auto access = [&](std::uint16_t tile) {
    drm_sim_mem_access a{};
    a.addr = kVa;
    a.size = 8;
    a.op = DRM_SIM_ACCESS_READ;
    drm_sim_mem_access_batch b{};
    b.vm_id = vm;
    b.tile = tile;
    b.num = 1;
    b.accesses = reinterpret_cast<std::uintptr_t>(&a);
    return drm_sim_ioctl(fd.get(), DRM_IOCTL_SIM_MEM_ACCESS, &b);
  };
  ASSERT_EQ(access(0), 0);
  // when tile 1 reads it twice, and tile 0 again
  ASSERT_EQ(access(1), 0);
  ASSERT_EQ(access(1), 0);
  ASSERT_EQ(access(0), 0);
  // then tile 1 faulted once (its own PTEs); the BO stayed in tile 0's VRAM
  drm_sim_mem_stats st{};
  ASSERT_EQ(drm_sim_ioctl(fd.get(), DRM_IOCTL_SIM_MEM_STATS, &st), 0);
  EXPECT_EQ(st.gpu_faults, 2u);
  EXPECT_EQ(st.vram_used[0], 2 * kMiB);
  EXPECT_EQ(st.vram_used[1], 0u);
}

// ------------------------------------------------------------ oversubscription

// What page p of the test holds after the CPU/GPU initial store.
std::uint64_t pattern(std::uint64_t p) {
  return p * 1000003u + 17;
}

// BOs (and, when mixed, an SVM range of the same size next to them) worth
// `factor` times the VRAM: every page stored, incremented twice by GPU
// atomics in two passes, then every page checked.
void run_bo_oversubscription(const std::string& backing, std::uint32_t vm_flags,
                             std::uint64_t factor, bool mixed) {
  BoSim s(backing, vm_flags);
  const std::uint64_t total = factor * kSmallVram;
  const std::uint64_t bo_bytes = mixed ? total / 2 : total;
  constexpr std::uint64_t kBoSize = 4 * kMiB;
  std::vector<std::uint64_t> pages;  // GPU address of every page under test
  for (std::uint64_t off = 0; off < bo_bytes; off += kBoSize) {
    const std::uint32_t bo = s.vram_bo(kBoSize);
    ASSERT_EQ(s.bind_bo(bo, kVa + off, kBoSize), 0) << "bind at " << off;
    for (std::uint64_t p = 0; p < kBoSize; p += kPage) pages.push_back(kVa + off + p);
  }
  if (mixed) {
    drm_sim_cpu_mmap m{};
    m.addr = kCpu;
    m.size = total - bo_bytes;
    m.op = DRM_SIM_CPU_MMAP_MAP;
    ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_SIM_CPU_MMAP, &m), 0);
    ASSERT_EQ(bind(s.fd(), s.vm(), map_mirror(kCpu, m.size)), 0);
    for (std::uint64_t p = 0; p < m.size; p += kPage) pages.push_back(kCpu + p);
  }
  // Stores, interleaving BO and SVM pages so both compete for VRAM.
  std::vector<Access> batch;
  for (std::size_t i = 0; i < pages.size(); ++i) {
    const std::size_t k = mixed ? (i % 2 == 0 ? i / 2 : pages.size() / 2 + i / 2) : i;
    batch.push_back({pages[k], DRM_SIM_ACCESS_WRITE, pattern(k), pattern(k), 0});
  }
  ASSERT_EQ(s.run(s.vm(), batch), 0);
  for (int pass = 0; pass < 2; ++pass) {
    for (Access& a : batch) {
      a.op = DRM_SIM_ACCESS_ATOMIC;
      a.value = 1;
    }
    ASSERT_EQ(s.run(s.vm(), batch), 0) << "pass " << pass;
  }
  for (Access& a : batch) {
    a.op = DRM_SIM_ACCESS_READ;
    a.value = 0;
    a.word = 0;
  }
  ASSERT_EQ(s.run(s.vm(), batch), 0);
  std::uint64_t bad = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const std::size_t k = mixed ? (i % 2 == 0 ? i / 2 : pages.size() / 2 + i / 2) : i;
    const std::uint64_t got = s.data() ? batch[i].word : batch[i].value;
    bad += got != pattern(k) + 2;
  }
  EXPECT_EQ(bad, 0u) << "of " << batch.size() << " pages";
  EXPECT_EQ(batch.size(), total / kPage);
  const drm_sim_mem_stats st = s.stats();
  EXPECT_GT(st.evictions, 0u);
  EXPECT_GT(st.migrations_to_sys, 0u);
  EXPECT_LE(s.vram_used(), kSmallVram);
  EXPECT_EQ(st.purges, 0u);
}

struct OversubCase {
  const char* backing;
  std::uint64_t factor;
  bool mixed;
  bool fault_vm;
};

void PrintTo(const OversubCase& c, std::ostream* os) {
  *os << c.backing << " x" << c.factor << (c.mixed ? " mixed with SVM" : " BOs only")
      << (c.fault_vm ? ", fault-mode VM" : ", non-fault VM");
}

class BoOversubscriptionTest : public ::testing::TestWithParam<OversubCase> {};

TEST_P(BoOversubscriptionTest, EveryPageSurvivesEviction) {
  const OversubCase& c = GetParam();
  run_bo_oversubscription(c.backing, c.fault_vm ? kFaultVm : kLrVm, c.factor, c.mixed);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BoOversubscriptionTest,
    ::testing::Values(OversubCase{"data", 2, false, true}, OversubCase{"data", 4, false, true},
                      OversubCase{"tag", 2, false, true}, OversubCase{"tag", 4, false, true},
                      OversubCase{"data", 2, true, true}, OversubCase{"data", 4, true, true},
                      OversubCase{"tag", 2, true, true}, OversubCase{"tag", 4, true, true},
                      OversubCase{"data", 2, false, false}, OversubCase{"tag", 4, false, false}),
    [](const auto& i) {
      return std::string(i.param.backing) + "_x" + std::to_string(i.param.factor) +
             (i.param.mixed ? "_mixed_svm" : "_bos_only") +
             (i.param.fault_vm ? "_fault_vm" : "_non_fault_vm");
    });

TEST(BoEvictionTest, EvictionIsAnEventAndTheChunkComesBackOnTheNextFault) {
  // given VRAM filled by BO A, then BO B needing room
  BoSim s("tag", kFaultVm);
  drm_sim::EventRecorder events;
  s.device().set_event_sink(&events);
  const std::uint32_t a = s.vram_bo(kSmallVram);
  const std::uint32_t b = s.vram_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(a, kVa, kSmallVram), 0);
  ASSERT_EQ(s.bind_bo(b, kVa + kSmallVram, 2 * kMiB), 0);
  for (std::uint64_t off = 0; off < kSmallVram; off += 2 * kMiB) {
    ASSERT_EQ(s.gpu_store(kVa + off, off + 1), 0);
  }
  // when B faults in
  ASSERT_EQ(s.gpu_store(kVa + kSmallVram, 5), 0);
  // then A's least recently used chunk (its first) went to system memory
  EXPECT_EQ(events.count(drm_sim::EventType::kEvict), 1u);
  EXPECT_FALSE(s.device().bos().page_info(s.bo_id(a), 0)->in_vram);
  EXPECT_TRUE(s.device().bos().page_info(s.bo_id(a), 2 * kMiB)->in_vram);
  EXPECT_EQ(s.stats().evictions, 1u);
  // and reading it faults it back with its content
  EXPECT_EQ(s.gpu_load(kVa), 1u);
  EXPECT_TRUE(s.device().bos().page_info(s.bo_id(a), 0)->in_vram);
  EXPECT_EQ(events.count(drm_sim::EventType::kMigrateToVram), 1u);
  s.device().set_event_sink(nullptr);
}

TEST(BoEvictionTest, EvictionZapsEveryVmsMappingOfTheChunk) {
  // given a BO mapped and faulted in by two fault-mode VMs of one file
  BoSim s("tag", kFaultVm);
  const std::uint32_t vm2 = make_vm(s.fd(), kFaultVm);
  const std::uint32_t a = s.vram_bo(kSmallVram);
  ASSERT_EQ(s.bind_bo(a, kVa, kSmallVram), 0);
  ASSERT_EQ(bind(s.fd(), vm2, map_bo(a, kVa, kSmallVram)), 0);
  for (std::uint64_t off = 0; off < kSmallVram; off += 2 * kMiB) {
    ASSERT_EQ(s.gpu_store(kVa + off, off + 1), 0);
  }
  std::vector<Access> read2{{kVa, DRM_SIM_ACCESS_READ, 0, 0, 0}};
  ASSERT_EQ(s.run(vm2, read2), 0);
  const drm_sim_mem_stats before = s.stats();
  // when another BO's fault evicts A's first chunk
  const std::uint32_t b = s.vram_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(b, kVa + kSmallVram, 2 * kMiB), 0);
  ASSERT_EQ(s.gpu_store(kVa + kSmallVram, 9), 0);
  // then both VMs' mappings of that chunk went, and both fault on it again
  const drm_sim_mem_stats after = s.stats();
  EXPECT_EQ(after.gpu_invalidations - before.gpu_invalidations, 2u);
  ASSERT_EQ(s.run(vm2, read2), 0);
  EXPECT_EQ(read2[0].value, 1u);
  EXPECT_EQ(s.gpu_load(kVa), 1u);
  EXPECT_EQ(s.stats().gpu_faults, after.gpu_faults + 2);
}

TEST(BoFaultInterruptTest, AnInterruptedFaultLeavesTheChunkUnpopulatedAndARetrySucceeds) {
  // given a VRAM BO in a fault-mode VM, and a signal at the second
  // interruptible wait (the first is the VM lock, the second the migration)
  BoSim s("data", kFaultVm);
  const std::uint32_t bo = s.vram_bo(2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 2 * kMiB), 0);
  ASSERT_EQ(fault_inject(s.fd(), DRM_SIM_FAULT_SIGNAL_AT_WAIT, 2), 0);
  // when the GPU writes it
  EXPECT_EQ(s.gpu_store(kVa, 3), -EINTR);
  // then nothing moved; the restarted access completes
  EXPECT_FALSE(s.device().bos().page_info(s.bo_id(bo), 0)->populated);
  EXPECT_EQ(s.vram_used(), 0u);
  ASSERT_EQ(s.gpu_store(kVa, 3), 0);
  EXPECT_EQ(s.gpu_load(kVa), 3u);
}

TEST(BoTimingTest, FirstTouchesCostFaultLatencyAndLocalAccessesOnly) {
  // given n untouched 2 MiB chunks of a VRAM BO in a fault-mode VM
  BoSim s("tag", kFaultVm);
  constexpr std::uint64_t kChunks = 4;
  const std::uint32_t bo = s.vram_bo(kChunks * 2 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, kChunks * 2 * kMiB), 0);
  const std::int64_t t0 = s.stats().sim_time_ns;
  // when the GPU stores 8 bytes into each (fresh VRAM: nothing is copied)
  for (std::uint64_t i = 0; i < kChunks; ++i) ASSERT_EQ(s.gpu_store(kVa + i * 2 * kMiB, i), 0);
  // then time = n x (fault latency + one local 8-byte access)
  const drm_sim::TimingModel& t = s.device().profile().timing;
  const drm_sim::SimTime per = drm_sim::SimTime::from_us(t.fault_latency_us) +
                               drm_sim::vram_access_time(drm_sim::Bytes{8}, t);
  EXPECT_NEAR(static_cast<double>(s.stats().sim_time_ns - t0),
              static_cast<double>(per.ns()) * kChunks, kChunks * 2.0);
  EXPECT_EQ(s.stats().migrations_to_vram, 0u);
}

TEST(BoMetadataTest, TagModeKeepsAtMost16BytesPerResidentPage) {
  BoSim s("tag", kFaultVm);
  const std::uint32_t bo = s.vram_bo(8 * kMiB);
  ASSERT_EQ(s.bind_bo(bo, kVa, 8 * kMiB), 0);
  for (std::uint64_t off = 0; off < 8 * kMiB; off += 2 * kMiB)
    ASSERT_EQ(s.gpu_store(kVa + off, 1), 0);
  const std::uint64_t pages = 8 * kMiB / kPage;
  EXPECT_LE(s.device().bos().metadata_bytes(s.bo_id(bo)), 16 * pages);
}

}  // namespace
}  // namespace drm_sim_test
