// uapi 7.0 multi-device placement (spec §7): a preferred location naming
// another device's fd places a mirror VMA's pages in that device's VRAM,
// migration_policy decides whether pages already in a peer's VRAM move
// (ALL_PAGES) or stay and are mapped remotely (ONLY_SYSTEM_PAGES), the peer's
// memory pressure evicts them home intact, and closing the peer device
// sends them home. Two `small`-sized data-mode devices in one interconnect
// group; every page's bytes are checked.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"

namespace drm_sim {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kBase = 512 * kMiB;  // 2 MiB aligned

// Writes a profile: the `small` part (32 MiB VRAM, data backing) with uapi 7.0
// in interconnect group `group`. Returns its path.
std::string peer_profile(const char* group) {
  const std::string json = std::string(R"({
  "name": "peer-small-)") + group +
                           R"(",
  "pci_device_id": "0xE20B", "pci_revision": 0, "va_bits": 48, "num_tiles": 1,
  "uapi": "7.0", "backing": "data", "interconnect_group": ")" +
                           group + R"(",
  "features": { "discrete": true, "has_usm": true, "device_atomics_on_smem": false,
                "needs_64k_vram": false },
  "regions": [
    { "class": "system", "instance": 0, "tile": 0, "size": "64MiB", "min_page_size": 4096 },
    { "class": "vram",   "instance": 1, "tile": 0, "size": "32MiB", "min_page_size": 4096 }
  ],
  "pat": [1, 2, 2, 1, 2, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 1, 1, 2, 2]
})";
  char path[] = "/tmp/drm_sim_peer_profile_XXXXXX.json";
  const int fd = mkstemps(path, 5);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, json.data(), json.size()), static_cast<ssize_t>(json.size()));
  close(fd);
  return path;
}

// One drm_sim file with a fault-mode VM and an 8 MiB mirrored CPU mapping.
class Gpu {
 public:
  explicit Gpu(const std::string& profile, int same_device_as = -1) {
    fd_ = same_device_as >= 0 ? drm_sim_open_file(same_device_as) : drm_sim_open(profile.c_str());
    EXPECT_GE(fd_, 0);
    drm_xe_vm_create c{};
    c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_CREATE, &c), 0);
    vm_ = c.vm_id;
    drm_sim_cpu_mmap m{};
    m.addr = kBase;
    m.size = 8 * kMiB;
    m.op = DRM_SIM_CPU_MMAP_MAP;
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_SIM_CPU_MMAP, &m), 0);
    drm_xe_vm_bind b{};
    b.vm_id = vm_;
    b.num_binds = 1;
    b.bind.addr = kBase;
    b.bind.range = 8 * kMiB;
    b.bind.op = DRM_XE_VM_BIND_OP_MAP;
    b.bind.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_BIND, &b), 0);
  }
  ~Gpu() { close_fd(); }
  Gpu(const Gpu&) = delete;
  Gpu& operator=(const Gpu&) = delete;

  void close_fd() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int prefer(std::int32_t devmem_fd, std::uint16_t region, std::uint16_t policy,
             std::uint64_t start = kBase, std::uint64_t range = 8 * kMiB) {
    drm_xe_madvise a{};
    a.vm_id = vm_;
    a.start = start;
    a.range = range;
    a.type = DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC;
    a.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(devmem_fd);
    a.preferred_mem_loc.region_instance = region;
    a.preferred_mem_loc.migration_policy = policy;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_MADVISE, &a);
  }
  // One 8-byte access at addr; vm 0 = the CPU.
  int access(bool gpu, std::uint64_t addr, std::uint32_t op, std::uint64_t* data) {
    drm_sim_mem_access a{};
    a.addr = addr;
    a.size = 8;
    a.op = op;
    a.data = reinterpret_cast<std::uintptr_t>(data);
    drm_sim_mem_access_batch b{};
    b.vm_id = gpu ? vm_ : 0;
    b.num = 1;
    b.accesses = reinterpret_cast<std::uintptr_t>(&a);
    return drm_sim_ioctl(fd_, DRM_IOCTL_SIM_MEM_ACCESS, &b);
  }
  std::uint64_t gpu_read(std::uint64_t addr) {
    std::uint64_t v = 0;
    EXPECT_EQ(access(true, addr, DRM_SIM_ACCESS_READ, &v), 0) << std::hex << addr;
    return v;
  }
  std::uint64_t cpu_read(std::uint64_t addr) {
    std::uint64_t v = 0;
    EXPECT_EQ(access(false, addr, DRM_SIM_ACCESS_READ, &v), 0) << std::hex << addr;
    return v;
  }
  // Writes a distinct word into every page of [kBase, kBase + 8 MiB).
  void fill(std::uint64_t salt) {
    for (std::uint64_t a = kBase; a < kBase + 8 * kMiB; a += kPage) {
      std::uint64_t v = a ^ salt;
      ASSERT_EQ(access(false, a, DRM_SIM_ACCESS_WRITE, &v), 0);
    }
  }
  // Every page still holds what fill(salt) wrote (read by the CPU).
  void expect_filled(std::uint64_t salt) {
    for (std::uint64_t a = kBase; a < kBase + 8 * kMiB; a += kPage) {
      ASSERT_EQ(cpu_read(a), a ^ salt) << std::hex << a;
    }
  }
  drm_sim_mem_stats stats() {
    drm_sim_mem_stats s{};
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_SIM_MEM_STATS, &s), 0);
    return s;
  }
  // Whose VRAM holds the page: nullptr for system memory.
  DeviceMemory* home_of(std::uint64_t addr) {
    auto pi = file_from_fd(fd_)->svm().page_info(addr);
    EXPECT_TRUE(pi.has_value());
    return pi && pi->in_vram ? pi->device : nullptr;
  }
  DeviceMemory* memory() { return &file_from_fd(fd_)->device().memory(); }
  std::uint64_t vram_used() { return stats().vram_used[0]; }
  int prefetch(std::uint64_t addr, std::uint64_t range, std::uint32_t region) {
    drm_xe_vm_bind b{};
    b.vm_id = vm_;
    b.num_binds = 1;
    b.bind.addr = addr;
    b.bind.range = range;
    b.bind.op = DRM_XE_VM_BIND_OP_PREFETCH;
    b.bind.prefetch_mem_region_instance = region;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_BIND, &b);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::uint32_t vm_ = 0;
};

class PeerPlacementTest : public ::testing::Test {
 protected:
  void SetUp() override { profile_ = peer_profile("peer-test"); }
  void TearDown() override { std::remove(profile_.c_str()); }
  std::string profile_;
};

TEST_F(PeerPlacementTest, AFaultPlacesPagesInThePeersVramAndReadsThemRemotely) {
  // given device A preferring device B's VRAM (region 1) for its mirror VMA
  Gpu a(profile_);
  Gpu b(profile_);
  a.fill(0x1111);
  ASSERT_EQ(a.prefer(b.fd(), 1, DRM_XE_MIGRATE_ALL_PAGES), 0);
  const drm_sim_mem_stats before = a.stats();
  // when A's GPU reads the first word of every page
  for (std::uint64_t p = kBase; p < kBase + 8 * kMiB; p += kPage) {
    ASSERT_EQ(a.gpu_read(p), p ^ 0x1111) << std::hex << p;
  }
  // then the pages live in B's VRAM: B's VRAM is in use, A's is not
  EXPECT_EQ(a.home_of(kBase), b.memory());
  EXPECT_EQ(a.home_of(kBase + 8 * kMiB - kPage), b.memory());
  EXPECT_EQ(b.vram_used(), 8 * kMiB);
  EXPECT_EQ(a.vram_used(), 0u);
  // and every access went over the interconnect (remote), 4 chunks migrated
  const drm_sim_mem_stats after = a.stats();
  EXPECT_EQ(after.remote_accesses - before.remote_accesses, 8 * kMiB / kPage);
  EXPECT_EQ(after.migrations_to_vram - before.migrations_to_vram, 4u);
  a.expect_filled(0x1111);
}

TEST_F(PeerPlacementTest, AllPagesMovesPeerPagesToTheNewPreferredLocation) {
  // given A's pages in B's VRAM
  Gpu a(profile_);
  Gpu b(profile_);
  a.fill(0x2222);
  ASSERT_EQ(a.prefer(b.fd(), 1, DRM_XE_MIGRATE_ALL_PAGES), 0);
  ASSERT_EQ(a.gpu_read(kBase), kBase ^ 0x2222);
  ASSERT_EQ(a.home_of(kBase), b.memory());
  // when the preference becomes A's own VRAM with ALL_PAGES and A's GPU reads
  ASSERT_EQ(a.prefer(DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE, 0, DRM_XE_MIGRATE_ALL_PAGES), 0);
  EXPECT_EQ(a.gpu_read(kBase + 8), 0u);  // word 1 was never written
  // then the chunk moved from B's VRAM to A's, content intact
  EXPECT_EQ(a.home_of(kBase), a.memory());
  EXPECT_EQ(b.vram_used(), 0u);
  EXPECT_EQ(a.vram_used(), 2 * kMiB);
  EXPECT_EQ(a.gpu_read(kBase), kBase ^ 0x2222);
  a.expect_filled(0x2222);
}

TEST_F(PeerPlacementTest, OnlySystemPagesLeavesPeerPagesInPlaceAndMovesSystemPages) {
  // given A's first 2 MiB in B's VRAM, the rest in system memory
  Gpu a(profile_);
  Gpu b(profile_);
  a.fill(0x3333);
  ASSERT_EQ(a.prefer(b.fd(), 1, DRM_XE_MIGRATE_ALL_PAGES, kBase, 2 * kMiB), 0);
  ASSERT_EQ(a.gpu_read(kBase), kBase ^ 0x3333);
  ASSERT_EQ(a.home_of(kBase), b.memory());
  // when A prefers its own VRAM with ONLY_SYSTEM_PAGES and reads both parts
  ASSERT_EQ(a.prefer(DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE, 0, DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES), 0);
  const drm_sim_mem_stats before = a.stats();
  EXPECT_EQ(a.gpu_read(kBase + kPage), (kBase + kPage) ^ 0x3333);
  EXPECT_EQ(a.gpu_read(kBase + 4 * kMiB), (kBase + 4 * kMiB) ^ 0x3333);
  const drm_sim_mem_stats after = a.stats();
  // then the peer's chunk stayed in B and is read remotely; the system
  // pages moved into A's VRAM (one migration, one remote access)
  EXPECT_EQ(a.home_of(kBase), b.memory());
  EXPECT_EQ(a.home_of(kBase + 4 * kMiB), a.memory());
  EXPECT_EQ(after.migrations_to_vram - before.migrations_to_vram, 1u);
  EXPECT_EQ(after.remote_accesses - before.remote_accesses, 1u);
  EXPECT_EQ(b.vram_used(), 2 * kMiB);
  a.expect_filled(0x3333);
}

TEST_F(PeerPlacementTest, ThePeersOwnPressureEvictsPeerPagesHomeIntact) {
  // given all 8 MiB of A in B's VRAM (32 MiB)
  Gpu a(profile_);
  Gpu b(profile_);
  a.fill(0x4444);
  ASSERT_EQ(a.prefer(b.fd(), 1, DRM_XE_MIGRATE_ALL_PAGES), 0);
  for (std::uint64_t p = kBase; p < kBase + 8 * kMiB; p += 2 * kMiB) a.gpu_read(p);
  ASSERT_EQ(b.vram_used(), 8 * kMiB);
  // when B's own GPU faults 4 × 8 MiB of its own memory into its VRAM
  std::vector<std::unique_ptr<Gpu>> more;
  for (int i = 0; i < 3; ++i) more.push_back(std::make_unique<Gpu>(profile_, b.fd()));
  for (Gpu* g : {&b, more[0].get(), more[1].get(), more[2].get()}) {
    for (std::uint64_t p = kBase; p < kBase + 8 * kMiB; p += 2 * kMiB) g->gpu_read(p);
  }
  // then B evicted A's least recently used chunks to A's system memory
  EXPECT_EQ(a.home_of(kBase), nullptr);
  EXPECT_GT(b.stats().evictions, 0u);
  a.expect_filled(0x4444);
}

TEST_F(PeerPlacementTest, ClosingThePeerDeviceSendsItsPagesHomeAndPlacementFallsBackLocally) {
  // given A's pages in B's VRAM
  Gpu a(profile_);
  auto b = std::make_unique<Gpu>(profile_);
  a.fill(0x5555);
  ASSERT_EQ(a.prefer(b->fd(), 1, DRM_XE_MIGRATE_ALL_PAGES), 0);
  ASSERT_EQ(a.gpu_read(kBase), kBase ^ 0x5555);
  ASSERT_EQ(a.home_of(kBase), b->memory());
  // when B's only file (and so the device) goes away
  b.reset();
  // then A's pages are back in its system memory, intact
  EXPECT_EQ(a.home_of(kBase), nullptr);
  a.expect_filled(0x5555);
  // and a new fault with the stale fd places pages in A's own VRAM
  EXPECT_EQ(a.gpu_read(kBase), kBase ^ 0x5555);
  EXPECT_EQ(a.home_of(kBase), a.memory());
}

TEST_F(PeerPlacementTest, PrefetchConsultingTheAdvicePlacesInThePeer) {
  Gpu a(profile_);
  Gpu b(profile_);
  a.fill(0x6666);
  ASSERT_EQ(a.prefer(b.fd(), 1, DRM_XE_MIGRATE_ALL_PAGES), 0);
  // when A prefetches 4 MiB with DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC
  ASSERT_EQ(
      a.prefetch(kBase, 4 * kMiB, static_cast<std::uint32_t>(DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC)),
      0);
  // then those pages are in B's VRAM, the rest untouched
  EXPECT_EQ(a.home_of(kBase), b.memory());
  EXPECT_EQ(a.home_of(kBase + 4 * kMiB - kPage), b.memory());
  EXPECT_EQ(a.home_of(kBase + 4 * kMiB), nullptr);
  EXPECT_EQ(b.vram_used(), 4 * kMiB);
  a.expect_filled(0x6666);
}

TEST_F(PeerPlacementTest, AnFdNamingTheSameDeviceUsesItsOwnVram) {
  Gpu a(profile_);
  const int same = drm_sim_open_file(a.fd());
  ASSERT_GE(same, 0);
  a.fill(0x7777);
  ASSERT_EQ(a.prefer(same, 1, DRM_XE_MIGRATE_ALL_PAGES), 0);
  EXPECT_EQ(a.gpu_read(kBase), kBase ^ 0x7777);
  EXPECT_EQ(a.home_of(kBase), a.memory());
  EXPECT_EQ(a.stats().remote_accesses, 0u);
  close(same);
}

TEST(PeerPlacementGroupsTest, DevicesOfDifferentGroupsAreRejectedAtMadvise) {
  const std::string p1 = peer_profile("group-one");
  const std::string p2 = peer_profile("group-two");
  Gpu a(p1);
  Gpu b(p2);
  EXPECT_EQ(a.prefer(b.fd(), 1, DRM_XE_MIGRATE_ALL_PAGES), -ENOLINK);
  std::remove(p1.c_str());
  std::remove(p2.c_str());
}

}  // namespace
}  // namespace drm_sim
