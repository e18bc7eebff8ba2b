// Shared virtual memory through the uapi: CPU mappings, GPU faults on
// CPU-address-mirror VMAs, placement by preferred location and atomic
// policy, migration both ways, eviction under VRAM oversubscription with
// every page's content checked, madvise splits evicting straddling chunks,
// and the timing model on a simple streaming run (spec §7, §9).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"
#include "drm_sim/mem/timing.h"

namespace drm_sim {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kBase = 256 * kMiB;  // 2 MiB aligned

// A drm_sim file with one fault-mode VM; helpers speak the uapi.
class Svm {
 public:
  explicit Svm(const char* profile) {
    fd_ = drm_sim_open(profile);
    EXPECT_GE(fd_, 0) << profile;
    drm_xe_vm_create c{};
    c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_CREATE, &c), 0);
    vm_ = c.vm_id;
  }
  ~Svm() { close(fd_); }
  Svm(const Svm&) = delete;
  Svm& operator=(const Svm&) = delete;

  int cpu_mmap(std::uint64_t addr, std::uint64_t size, std::uint32_t op) {
    drm_sim_cpu_mmap m{};
    m.addr = addr;
    m.size = size;
    m.op = op;
    return drm_sim_ioctl(fd_, DRM_IOCTL_SIM_CPU_MMAP, &m);
  }
  int bind_mirror(std::uint64_t addr, std::uint64_t size, std::uint32_t extra_flags = 0) {
    drm_xe_vm_bind b{};
    b.vm_id = vm_;
    b.num_binds = 1;
    b.bind.addr = addr;
    b.bind.range = size;
    b.bind.op = DRM_XE_VM_BIND_OP_MAP;
    b.bind.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR | extra_flags;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_BIND, &b);
  }
  int madvise(std::uint64_t start, std::uint64_t range, std::uint32_t type, std::uint32_t val) {
    drm_xe_madvise m{};
    m.vm_id = vm_;
    m.start = start;
    m.range = range;
    m.type = type;
    if (type == DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC) {
      m.preferred_mem_loc.devmem_fd = val;
    } else {
      m.atomic.val = val;  // same offset as pat_index.val
    }
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_MADVISE, &m);
  }
  // One access; vm 0 = the CPU. Returns the ioctl result; value in/out.
  int access(std::uint32_t vm, std::uint64_t addr, std::uint32_t op, std::uint64_t& value,
             void* data = nullptr, std::uint32_t size = 8, std::uint16_t tile = 0) {
    drm_sim_mem_access a{};
    a.addr = addr;
    a.size = size;
    a.op = op;
    a.value = value;
    a.data = reinterpret_cast<std::uintptr_t>(data);
    drm_sim_mem_access_batch b{};
    b.vm_id = vm;
    b.tile = tile;
    b.num = 1;
    b.accesses = reinterpret_cast<std::uintptr_t>(&a);
    const int r = drm_sim_ioctl(fd_, DRM_IOCTL_SIM_MEM_ACCESS, &b);
    value = a.value;
    return r;
  }
  int gpu(std::uint64_t addr, std::uint32_t op, std::uint64_t& value, std::uint16_t tile = 0) {
    return access(vm_, addr, op, value, nullptr, 8, tile);
  }
  drm_sim_mem_stats mem_stats() {
    drm_sim_mem_stats s{};
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_SIM_MEM_STATS, &s), 0);
    return s;
  }
  drm_sim_vm_stats vm_stats() {
    drm_sim_vm_stats s{};
    s.vm_id = vm_;
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_SIM_VM_STATS, &s), 0);
    return s;
  }
  bool in_vram(std::uint64_t addr) {
    auto pi = file_from_fd(fd_)->svm().page_info(addr);
    return pi && pi->in_vram;
  }
  std::vector<VaRange> gpu_ranges() { return file_from_fd(fd_)->svm().gpu_ranges(vm_); }
  int fd() const { return fd_; }
  std::uint32_t vm() const { return vm_; }

 private:
  int fd_ = -1;
  std::uint32_t vm_ = 0;
};

// A temporary profile file: `base` with its backing mode replaced.
std::string profile_with_backing(const char* base, const char* backing) {
  std::ifstream in(std::string(DRM_SIM_SOURCE_DIR) + "/profiles/" + base + ".json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string json = ss.str();
  const std::string from = json.find("\"backing\": \"data\"") != std::string::npos
                               ? "\"backing\": \"data\""
                               : "\"backing\": \"tag\"";
  json.replace(json.find(from), from.size(), std::string("\"backing\": \"") + backing + "\"");
  json.replace(json.find("\"name\": \""), 9, "\"name\": \"tmp-");
  char path[] = "/tmp/drm_sim_profile_XXXXXX.json";
  const int fd = mkstemps(path, 5);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, json.data(), json.size()), static_cast<ssize_t>(json.size()));
  close(fd);
  return path;
}

TEST(SvmTest, GpuFaultMigratesA2MiBChunkToTheFaultingTilesVram) {
  // given a CPU mapping of 8 MiB mirrored by the GPU, with a tag in page 5
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 8 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 8 * kMiB), 0);
  std::uint64_t v = 0xabc;
  ASSERT_EQ(s.access(0, kBase + 5 * kPage, DRM_SIM_ACCESS_WRITE, v), 0);
  // when the GPU reads page 5
  v = 0;
  ASSERT_EQ(s.gpu(kBase + 5 * kPage, DRM_SIM_ACCESS_READ, v), 0);
  // then it sees the CPU's content, and the 2 MiB around it moved to VRAM
  EXPECT_EQ(v, 0xabcu);
  EXPECT_TRUE(s.in_vram(kBase));
  EXPECT_TRUE(s.in_vram(kBase + 2 * kMiB - kPage));
  EXPECT_FALSE(s.in_vram(kBase + 2 * kMiB));
  const drm_sim_mem_stats st = s.mem_stats();
  EXPECT_EQ(st.gpu_faults, 1u);
  EXPECT_EQ(st.migrations_to_vram, 1u);
  EXPECT_EQ(st.bytes_to_vram, 2 * kMiB);
  EXPECT_EQ(st.vram_used[0], 2 * kMiB);
  EXPECT_EQ(s.gpu_ranges(), (std::vector<VaRange>{VaRange::from_bounds(kBase, kBase + 2 * kMiB)}));
}

TEST(SvmTest, ASecondAccessToAPopulatedChunkIsAHit) {
  // given a populated chunk
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
  std::uint64_t v = 0;
  ASSERT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_READ, v), 0);
  // when the GPU touches another page of it
  ASSERT_EQ(s.gpu(kBase + 100 * kPage, DRM_SIM_ACCESS_WRITE, v), 0);
  // then no new fault
  EXPECT_EQ(s.mem_stats().gpu_faults, 1u);
  EXPECT_EQ(s.mem_stats().gpu_accesses, 2u);
}

TEST(SvmTest, DefaultSystemKeepsPagesInSystemMemoryAndPullsVramPagesBack) {
  // given pages the GPU already pulled into VRAM
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
  std::uint64_t v = 7;
  ASSERT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_WRITE, v), 0);
  ASSERT_TRUE(s.in_vram(kBase));
  // when the range prefers system memory and the GPU touches it again
  ASSERT_EQ(s.madvise(kBase, 2 * kMiB, DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC,
                      static_cast<std::uint32_t>(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM)),
            0);
  v = 0;
  ASSERT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_READ, v), 0);
  // then the pages are back in system memory with their content
  EXPECT_FALSE(s.in_vram(kBase));
  EXPECT_EQ(v, 7u);
  EXPECT_EQ(s.mem_stats().migrations_to_sys, 1u);
  EXPECT_EQ(s.mem_stats().vram_used[0], 0u);
}

TEST(SvmTimingTest, GpuAccessesToSystemMemoryOnADiscretePartAreRemote) {
  // given a discrete part whose mirror range prefers system memory, faulted in
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
  ASSERT_EQ(s.madvise(kBase, 2 * kMiB, DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC,
                      static_cast<std::uint32_t>(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM)),
            0);
  std::uint64_t v = 0;
  ASSERT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_READ, v), 0);
  const drm_sim_mem_stats before = s.mem_stats();
  // when the GPU reads 10 more pages of it
  for (std::uint64_t i = 1; i <= 10; ++i)
    ASSERT_EQ(s.gpu(kBase + i * kPage, DRM_SIM_ACCESS_READ, v), 0);
  // then each read went over the host link: one remote access at its cost
  const drm_sim_mem_stats after = s.mem_stats();
  const TimingModel& t = file_from_fd(s.fd())->device().profile().timing;
  EXPECT_EQ(before.remote_accesses, 1u);  // the faulting access itself
  EXPECT_EQ(after.remote_accesses, 11u);
  EXPECT_EQ(after.gpu_faults, before.gpu_faults);
  EXPECT_EQ(after.sim_time_ns - before.sim_time_ns, 10 * remote_access_time(1, t).ns());
}

TEST(SvmTimingTest, VramAndIntegratedSystemMemoryAccessesAreLocal) {
  for (const char* profile : {"b580", "integrated"}) {
    // given a range faulted where the part puts it by default (VRAM on a
    // discrete part, system memory on an integrated one)
    Svm s(profile);
    ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
    ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
    std::uint64_t v = 0;
    // when the GPU reads it
    for (std::uint64_t i = 0; i < 10; ++i)
      ASSERT_EQ(s.gpu(kBase + i * kPage, DRM_SIM_ACCESS_READ, v), 0);
    // then no access was remote
    EXPECT_EQ(s.mem_stats().remote_accesses, 0u) << profile;
  }
}

TEST(SvmTest, ChangingAPopulatedMirrorVmaZapsItsGpuRangesAndInvalidatesTheTlb) {
  // given a populated mirror VMA
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
  std::uint64_t v = 0;
  ASSERT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_READ, v), 0);
  // when its PAT changes
  ASSERT_EQ(s.madvise(kBase, 2 * kMiB, DRM_XE_MEM_RANGE_ATTR_PAT, 1), 0);
  // then one PTE zap, one TLB invalidation, no GPU range left
  EXPECT_EQ(s.vm_stats().pte_zaps, 1u);
  EXPECT_EQ(s.vm_stats().tlb_invalidations, 1u);
  EXPECT_TRUE(s.gpu_ranges().empty());
}

TEST(SvmTest, MadviseSplitEvictsTheChunkStraddlingTheNewBoundary) {
  // given a 2 MiB chunk in VRAM
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
  std::uint64_t v = 42;
  ASSERT_EQ(s.gpu(kBase + 10 * kPage, DRM_SIM_ACCESS_WRITE, v), 0);
  ASSERT_TRUE(s.in_vram(kBase));
  // when madvise cuts the VMA inside the chunk (same value: no attribute change)
  ASSERT_EQ(s.madvise(kBase + kPage, kPage, DRM_XE_MEM_RANGE_ATTR_PAT, 0), 0);
  // then the chunk went back to system memory, content intact, unmapped from the GPU
  EXPECT_FALSE(s.in_vram(kBase));
  EXPECT_TRUE(s.gpu_ranges().empty());
  v = 0;
  ASSERT_EQ(s.access(0, kBase + 10 * kPage, DRM_SIM_ACCESS_READ, v), 0);
  EXPECT_EQ(v, 42u);
  // and the next fault in the cut piece gets a smaller chunk
  ASSERT_EQ(s.gpu(kBase + 2 * kPage, DRM_SIM_ACCESS_READ, v), 0);
  EXPECT_EQ(s.gpu_ranges(),
            (std::vector<VaRange>{VaRange::from_bounds(kBase + 2 * kPage, kBase + 3 * kPage)}));
}

TEST(SvmTest, ACpuTouchOfAVramPageMigratesItBack) {
  // given a chunk in VRAM
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
  std::uint64_t v = 5;
  ASSERT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_ATOMIC, v), 0);
  ASSERT_TRUE(s.in_vram(kBase));
  // when the CPU reads it
  v = 0;
  ASSERT_EQ(s.access(0, kBase, DRM_SIM_ACCESS_READ, v), 0);
  // then it is back in system memory, with the GPU's atomic result, and unmapped from the GPU
  EXPECT_EQ(v, 5u);
  EXPECT_FALSE(s.in_vram(kBase));
  EXPECT_EQ(s.mem_stats().cpu_faults, 1u);
  EXPECT_TRUE(s.gpu_ranges().empty());
}

int prefetch(Svm& s, std::uint64_t addr, std::uint64_t size, std::uint32_t region) {
  drm_xe_vm_bind b{};
  b.vm_id = s.vm();
  b.num_binds = 1;
  b.bind.addr = addr;
  b.bind.range = size;
  b.bind.op = DRM_XE_VM_BIND_OP_PREFETCH;
  b.bind.prefetch_mem_region_instance = region;
  return drm_sim_ioctl(s.fd(), DRM_IOCTL_XE_VM_BIND, &b);
}

TEST(SvmPrefetchTest, PrefetchToVramPopulatesEveryChunkWithoutAFault) {
  // given a CPU-mapped mirror range
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 4 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 4 * kMiB), 0);
  // when it is prefetched to VRAM region 1
  ASSERT_EQ(prefetch(s, kBase, 4 * kMiB, 1), 0);
  // then both 2 MiB chunks are in VRAM and mapped, and a GPU access is a hit
  EXPECT_TRUE(s.in_vram(kBase));
  EXPECT_TRUE(s.in_vram(kBase + 4 * kMiB - kPage));
  EXPECT_EQ(s.gpu_ranges().size(), 2u);
  std::uint64_t v = 0;
  ASSERT_EQ(s.gpu(kBase + kMiB, DRM_SIM_ACCESS_READ, v), 0);
  EXPECT_EQ(s.mem_stats().gpu_faults, 0u);
}

TEST(SvmPrefetchTest, PrefetchWithConsultFollowsThePreferredLocation) {
  // given a range in VRAM whose preferred location becomes system memory
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
  ASSERT_EQ(prefetch(s, kBase, 2 * kMiB, 1), 0);
  ASSERT_TRUE(s.in_vram(kBase));
  ASSERT_EQ(s.madvise(kBase, 2 * kMiB, DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC,
                      static_cast<std::uint32_t>(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM)),
            0);
  // when prefetched with CONSULT_MEM_ADVISE_PREF_LOC
  ASSERT_EQ(
      prefetch(s, kBase, 2 * kMiB, static_cast<std::uint32_t>(DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC)),
      0);
  // then the pages are back in system memory
  EXPECT_FALSE(s.in_vram(kBase));
  EXPECT_EQ(s.mem_stats().vram_used[0], 0u);
}

TEST(SvmPrefetchTest, PrefetchToRegionZeroPullsPagesToSystemMemory) {
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
  ASSERT_EQ(prefetch(s, kBase, 2 * kMiB, 1), 0);
  ASSERT_EQ(prefetch(s, kBase, 2 * kMiB, 0), 0);
  EXPECT_FALSE(s.in_vram(kBase));
}

// The VMA layout as "[lo,hi) pat=N" lines, in MiB from kBase.
std::string layout(Svm& s) {
  std::string out;
  for (const Vma& v : file_from_fd(s.fd())->vm(s.vm())->vmas()) {
    out += "[" + std::to_string((v.start - kBase) / kMiB) + "," +
           std::to_string((v.end - kBase) / kMiB) + ") pat=" + std::to_string(v.attrs.pat) + "\n";
  }
  return out;
}

TEST(SvmAutoresetTest, UnmappedPartReturnsToPostBindAttributes) {
  // given an autoreset mirror VMA [0,8M) advised to PAT 1
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 8 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 8 * kMiB, DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET), 0);
  ASSERT_EQ(s.madvise(kBase, 8 * kMiB, DRM_XE_MEM_RANGE_ATTR_PAT, 1), 0);
  // when the CPU unmaps [2M,4M)
  ASSERT_EQ(s.cpu_mmap(kBase + 2 * kMiB, 2 * kMiB, DRM_SIM_CPU_MMAP_UNMAP), 0);
  // then that part is cut out with its post-bind attributes; the advised
  // neighbours keep theirs and do not merge with it
  EXPECT_EQ(layout(s), "[0,2) pat=1\n[2,4) pat=0\n[4,8) pat=1\n");
}

TEST(SvmAutoresetTest, ResetPieceMergesWithDefaultAttributeMirrorNeighbours) {
  // given autoreset mirror A [0,4M) advised to PAT 1, then mirror B [4M,8M)
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 8 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 4 * kMiB, DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET), 0);
  ASSERT_EQ(s.madvise(kBase, 4 * kMiB, DRM_XE_MEM_RANGE_ATTR_PAT, 1), 0);
  ASSERT_EQ(s.bind_mirror(kBase + 4 * kMiB, 4 * kMiB), 0);
  ASSERT_EQ(layout(s), "[0,4) pat=1\n[4,8) pat=0\n");
  // when the CPU unmaps all of A
  ASSERT_EQ(s.cpu_mmap(kBase, 4 * kMiB, DRM_SIM_CPU_MMAP_UNMAP), 0);
  // then A is back to default attributes and merged with B
  EXPECT_EQ(layout(s), "[0,8) pat=0\n");
}

TEST(SvmAutoresetTest, MirrorVmasWithoutAutoresetKeepTheirAttributes) {
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 8 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 8 * kMiB), 0);
  ASSERT_EQ(s.madvise(kBase, 8 * kMiB, DRM_XE_MEM_RANGE_ATTR_PAT, 1), 0);
  ASSERT_EQ(s.cpu_mmap(kBase + 2 * kMiB, 2 * kMiB, DRM_SIM_CPU_MMAP_UNMAP), 0);
  EXPECT_EQ(layout(s), "[0,8) pat=1\n");
}

TEST(SvmTest, IntegratedPartsKeepEverythingInSystemMemory) {
  Svm s("integrated");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
  std::uint64_t v = 1;
  ASSERT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_ATOMIC, v), 0);
  EXPECT_FALSE(s.in_vram(kBase));
  EXPECT_EQ(s.mem_stats().migrations_to_vram, 0u);
}

TEST(SvmTest, GpuAtomicsUnderTheCpuAtomicPolicyFailWithEacces) {
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
  ASSERT_EQ(s.madvise(kBase, 2 * kMiB, DRM_XE_MEM_RANGE_ATTR_ATOMIC, DRM_XE_ATOMIC_CPU), 0);
  std::uint64_t v = 1;
  EXPECT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_ATOMIC, v), -EACCES);
  EXPECT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_READ, v), 0);  // plain reads still work
}

TEST(SvmTest, WritesThroughAReadOnlyMirrorFailWithEperm) {
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB, DRM_XE_VM_BIND_FLAG_READONLY), 0);
  std::uint64_t v = 1;
  EXPECT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_WRITE, v), -EPERM);
  EXPECT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_ATOMIC, v), -EPERM);
  EXPECT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_READ, v), 0);
}

// Regression (found by drm_sim_differential with the SVM ops): a read
// through a read-only NULL binding returned the caller's value instead of 0.
TEST(SvmTest, ReadsThroughAReadOnlyNullBindingReturnZero) {
  // given a read-only NULL (sparse) binding
  Svm s("b580");
  drm_xe_vm_bind b{};
  b.vm_id = s.vm();
  b.num_binds = 1;
  b.bind.addr = kBase;
  b.bind.range = 2 * kMiB;
  b.bind.op = DRM_XE_VM_BIND_OP_MAP;
  b.bind.flags = DRM_XE_VM_BIND_FLAG_NULL | DRM_XE_VM_BIND_FLAG_READONLY;
  ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_XE_VM_BIND, &b), 0);
  // when the GPU reads, writes and adds through it
  std::uint64_t v = 0x1234;
  EXPECT_EQ(s.gpu(kBase + 64, DRM_SIM_ACCESS_READ, v), 0);
  // then reads see zero, and writes and atomics are refused
  EXPECT_EQ(v, 0u);
  v = 7;
  EXPECT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_WRITE, v), -EPERM);
  EXPECT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_ATOMIC, v), -EPERM);
}

TEST(SvmTest, GpuAccessWithoutAVmaOrCpuMappingIsASegmentationFault) {
  Svm s("b580");
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);  // no CPU mapping behind it
  std::uint64_t v = 0;
  EXPECT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_READ, v), -EFAULT);
  EXPECT_EQ(s.gpu(kBase + 4 * kMiB, DRM_SIM_ACCESS_READ, v), -EFAULT);  // no VMA
}

TEST(SvmTest, CpuUnmapInvalidatesTheGpuRangesAndFreesVram) {
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 4 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 4 * kMiB), 0);
  std::uint64_t v = 0;
  ASSERT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_READ, v), 0);
  ASSERT_EQ(s.gpu(kBase + 2 * kMiB, DRM_SIM_ACCESS_READ, v), 0);
  // when the first 2 MiB are unmapped from the CPU
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_UNMAP), 0);
  // then only the second chunk stays mapped and in VRAM
  EXPECT_EQ(s.gpu_ranges(),
            (std::vector<VaRange>{VaRange::from_bounds(kBase + 2 * kMiB, kBase + 4 * kMiB)}));
  EXPECT_EQ(s.mem_stats().vram_used[0], 2 * kMiB);
  EXPECT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_READ, v), -EFAULT);
}

TEST(SvmTest, DeviceQueryReportsVramInUse) {
  Svm s("b580");
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * kMiB), 0);
  std::uint64_t v = 0;
  ASSERT_EQ(s.gpu(kBase, DRM_SIM_ACCESS_READ, v), 0);
  drm_xe_device_query q{};
  q.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_XE_DEVICE_QUERY, &q), 0);
  std::vector<unsigned char> blob(q.size);
  q.data = reinterpret_cast<std::uintptr_t>(blob.data());
  ASSERT_EQ(drm_sim_ioctl(s.fd(), DRM_IOCTL_XE_DEVICE_QUERY, &q), 0);
  const auto* regions = reinterpret_cast<const drm_xe_query_mem_regions*>(blob.data());
  std::uint64_t vram_used = 0;
  for (std::uint32_t i = 0; i < regions->num_mem_regions; ++i) {
    if (regions->mem_regions[i].mem_class == DRM_XE_MEM_REGION_CLASS_VRAM) {
      vram_used += regions->mem_regions[i].used;
    }
  }
  EXPECT_EQ(vram_used, 2 * kMiB);
}

// Integrity under oversubscription: every page written by the CPU, touched
// by the GPU (read-modify-write) in two passes over a range 2x or 4x the
// VRAM size, then checked by the CPU: nothing lost or corrupted.
void run_oversubscription(const std::string& profile, bool data_backed, std::uint64_t factor) {
  Svm s(profile.c_str());
  const std::uint64_t vram = 32 * kMiB;  // the small profile's VRAM
  const std::uint64_t size = factor * vram;
  const std::uint64_t pages = size / kPage;
  ASSERT_EQ(s.cpu_mmap(kBase, size, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, size), 0);
  for (std::uint64_t p = 0; p < pages; ++p) {
    std::uint64_t v = p * 1000003u;
    std::uint64_t word = v;
    ASSERT_EQ(s.access(0, kBase + p * kPage, DRM_SIM_ACCESS_WRITE, v, &word), 0);
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (std::uint64_t p = 0; p < pages; ++p) {
      std::uint64_t one = 1;
      ASSERT_EQ(s.gpu(kBase + p * kPage, DRM_SIM_ACCESS_ATOMIC, one), 0) << "page " << p;
    }
  }
  std::uint64_t bad = 0;
  for (std::uint64_t p = 0; p < pages; ++p) {
    std::uint64_t v = 0;
    std::uint64_t word = 0;
    ASSERT_EQ(s.access(0, kBase + p * kPage, DRM_SIM_ACCESS_READ, v, &word), 0);
    const std::uint64_t got = data_backed ? word : v;
    bad += got != p * 1000003u + 2;
  }
  EXPECT_EQ(bad, 0u);
  const drm_sim_mem_stats st = s.mem_stats();
  EXPECT_GT(st.evictions, 0u);
  EXPECT_LE(st.vram_used[0], vram);
}

TEST(SvmOversubscriptionTest, DataBackedTwiceTheVram) {
  run_oversubscription(profile_with_backing("small", "data"), true, 2);
}
TEST(SvmOversubscriptionTest, DataBackedFourTimesTheVram) {
  run_oversubscription(profile_with_backing("small", "data"), true, 4);
}
TEST(SvmOversubscriptionTest, TagBackedTwiceTheVram) {
  run_oversubscription(profile_with_backing("small", "tag"), false, 2);
}
TEST(SvmOversubscriptionTest, TagBackedFourTimesTheVram) {
  run_oversubscription(profile_with_backing("small", "tag"), false, 4);
}

TEST(SvmTimingTest, StreamingFaultsCostLatencyPlusOneDmaBatchEach) {
  // given n 2 MiB chunks faulted into VRAM one after the other
  Svm s("b580");
  constexpr int kChunks = 8;
  ASSERT_EQ(s.cpu_mmap(kBase, kChunks * 2 * kMiB, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, kChunks * 2 * kMiB), 0);
  for (int i = 0; i < kChunks; ++i) {
    std::uint64_t v = 0;
    ASSERT_EQ(s.gpu(kBase + static_cast<std::uint64_t>(i) * 2 * kMiB, DRM_SIM_ACCESS_READ, v), 0);
  }
  // then simulated time = n x (fault latency + DMA setup + 2 MiB over the link)
  const TimingModel& t = file_from_fd(s.fd())->device().profile().timing;
  const Bytes chunk{2 * kMiB};
  const SimTime per = SimTime::from_us(t.fault_latency_us) +
                      migration_batch_time(std::span<const Bytes>(&chunk, 1), t);
  EXPECT_NEAR(static_cast<double>(s.mem_stats().sim_time_ns),
              static_cast<double>(per.ns()) * kChunks, kChunks * 2.0);
}

// Shared-virtual-memory residency reaches the device's event sink: a GPU
// fault, the chunk's migration to VRAM, a CPU touch sending it home, and
// evictions once the working set outgrows VRAM; each with its VA range.
TEST(SvmEventsTest, FaultsMigrationsAndEvictionsAreEvents) {
  Svm s(profile_with_backing("small", "tag").c_str());
  EventRecorder rec;
  file_from_fd(s.fd())->device().set_event_sink(&rec);
  const std::uint64_t vram = 32 * kMiB;  // the small profile's VRAM
  ASSERT_EQ(s.cpu_mmap(kBase, 2 * vram, DRM_SIM_CPU_MMAP_MAP), 0);
  ASSERT_EQ(s.bind_mirror(kBase, 2 * vram), 0);
  rec.take();  // the bind's own events
  std::uint64_t v = 7;
  ASSERT_EQ(s.gpu(kBase + kPage, DRM_SIM_ACCESS_WRITE, v), 0);
  std::vector<Event> ev = rec.take();
  std::string text;
  for (const Event& e : ev) text += to_string(e) + "\n";
  ASSERT_EQ(ev.size(), 2u) << text;
  EXPECT_EQ(ev[0].type, EventType::kGpuFault);
  EXPECT_EQ(ev[0].vm_id, s.vm());
  EXPECT_EQ(ev[0].start, kBase + kPage);
  EXPECT_EQ(ev[1].type, EventType::kMigrateToVram);
  EXPECT_EQ(ev[1].start, kBase);  // the 2 MiB chunk around the access
  EXPECT_EQ(ev[1].end, kBase + 2 * kMiB);
  EXPECT_EQ(ev[1].bo, 0u);
  // a second access to the resident page is a hit: no event
  ASSERT_EQ(s.gpu(kBase + 2 * kPage, DRM_SIM_ACCESS_READ, v), 0);
  EXPECT_TRUE(rec.take().empty());
  // the CPU touch sends the chunk home
  ASSERT_EQ(s.access(0, kBase + kPage, DRM_SIM_ACCESS_READ, v), 0);
  ev = rec.take();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, EventType::kMigrateToSys);
  EXPECT_EQ(ev[0].start, kBase);
  EXPECT_EQ(ev[0].end, kBase + 2 * kMiB);
  // twice the VRAM faulted in: evictions, as many as the stats count
  const std::uint64_t before = s.mem_stats().evictions;
  for (std::uint64_t a = kBase; a < kBase + 2 * vram; a += 2 * kMiB) {
    ASSERT_EQ(s.gpu(a, DRM_SIM_ACCESS_READ, v), 0);
  }
  std::uint64_t evicts = 0;
  for (const Event& e : rec.take()) evicts += e.type == EventType::kEvict;
  EXPECT_GT(evicts, 0u);
  EXPECT_EQ(evicts, s.mem_stats().evictions - before);
  file_from_fd(s.fd())->device().set_event_sink(nullptr);
}

}  // namespace
}  // namespace drm_sim
