// Several threads on several files and VMs issuing binds, madvise and
// queries at once; afterwards every VM invariant holds and each VM's layout
// is the one its own thread's sequence produces.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"

namespace {

constexpr std::uint64_t kPage = 4096;

int bind_mirror(int fd, std::uint32_t vm, std::uint64_t addr, std::uint64_t range) {
  drm_xe_vm_bind b{};
  b.vm_id = vm;
  b.num_binds = 1;
  b.bind.addr = addr;
  b.bind.range = range;
  b.bind.op = DRM_XE_VM_BIND_OP_MAP;
  b.bind.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
  return drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_BIND, &b);
}

int madvise_pat(int fd, std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                std::uint32_t pat) {
  drm_xe_madvise m{};
  m.vm_id = vm;
  m.start = start;
  m.range = range;
  m.type = DRM_XE_MEM_RANGE_ATTR_PAT;
  m.pat_index.val = pat;
  return drm_sim_ioctl(fd, DRM_IOCTL_XE_MADVISE, &m);
}

std::uint32_t count_vmas(int fd, std::uint32_t vm) {
  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = vm;
  q.start = 0;
  q.range = 1ull << 40;
  EXPECT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q), 0);
  return q.num_mem_ranges;
}

std::uint32_t create_fault_vm(int fd) {
  drm_xe_vm_create c{};
  c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
  EXPECT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &c), 0);
  return c.vm_id;
}

// Each thread: bind 64 separate mirror VMAs, split each in three by madvise.
void worker(int fd, std::uint32_t vm, std::atomic<int>& failures) {
  for (std::uint64_t i = 0; i < 64; ++i) {
    const std::uint64_t base = (1 + i * 8) * kPage;
    if (bind_mirror(fd, vm, base, 4 * kPage) != 0) ++failures;
    if (madvise_pat(fd, vm, base + kPage, kPage, 1) != 0) ++failures;
    if (count_vmas(fd, vm) == 0) ++failures;
  }
}

TEST(VmConcurrencyTest, ThreadsOnSeparateFilesKeepTheirOwnLayouts) {
  // given four files, one VM each
  std::vector<int> fds;
  std::vector<std::uint32_t> vms;
  for (int i = 0; i < 4; ++i) {
    fds.push_back(drm_sim_open(nullptr));
    ASSERT_GE(fds.back(), 0);
    vms.push_back(create_fault_vm(fds.back()));
  }
  // when each thread binds and advises in its own VM
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(worker, fds[i], vms[i], std::ref(failures));
  for (auto& t : threads) t.join();
  // then nothing failed and each VM has 64 VMAs split in three
  EXPECT_EQ(failures.load(), 0);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(count_vmas(fds[i], vms[i]), 64u * 3u);
    EXPECT_EQ(drm_sim::file_from_fd(fds[i])->vm(vms[i])->check_invariants(), "");
    close(fds[i]);
  }
}

TEST(VmConcurrencyTest, ThreadsSharingOneVmSerialiseOnTheVmLock) {
  // given one VM shared by four threads working in disjoint address ranges
  const int fd = drm_sim_open(nullptr);
  ASSERT_GE(fd, 0);
  const std::uint32_t vm = create_fault_vm(fd);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < 64; ++i) {
        const std::uint64_t base = ((static_cast<std::uint64_t>(t) << 20) + 1 + i * 8) * kPage;
        if (bind_mirror(fd, vm, base, 4 * kPage) != 0) ++failures;
        if (madvise_pat(fd, vm, base + kPage, kPage, 1) != 0) ++failures;
        if (count_vmas(fd, vm) == 0) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  // then every split landed and the tree is consistent
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(count_vmas(fd, vm), 4u * 64u * 3u);
  EXPECT_EQ(drm_sim::file_from_fd(fd)->vm(vm)->check_invariants(), "");
  close(fd);
}

}  // namespace
