// Many threads issuing every VM ioctl at once — binds (single and arrays),
// unbinds, madvise of each type, queries, GEM create/close, VM create/destroy
// and whole-file close — on shared and separate VMs. Afterwards every VM's
// invariants hold and no call returned anything but success or an errno
// the racing operations explain. A watchdog turns a deadlock into a failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "concurrency/concurrency_util.h"
#include "concurrency/watchdog.h"
#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"

namespace drm_sim_test {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kWindowPages = 512;  // small: operations collide often

struct Shared {
  int fd = -1;
  std::uint32_t vm = 0;
  std::atomic<int> unexpected{0};
};

drm_xe_vm_bind_op mirror_op(std::uint64_t page, std::uint64_t pages) {
  drm_xe_vm_bind_op o{};
  o.addr = page * kPage;
  o.range = pages * kPage;
  o.op = DRM_XE_VM_BIND_OP_MAP;
  o.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
  return o;
}

drm_xe_vm_bind_op null_op(std::uint64_t page, std::uint64_t pages) {
  drm_xe_vm_bind_op o{};
  o.addr = page * kPage;
  o.range = pages * kPage;
  o.op = DRM_XE_VM_BIND_OP_MAP;
  o.flags = DRM_XE_VM_BIND_FLAG_NULL;
  return o;
}

drm_xe_vm_bind_op unmap_op(std::uint64_t page, std::uint64_t pages) {
  drm_xe_vm_bind_op o{};
  o.addr = page * kPage;
  o.range = pages * kPage;
  o.op = DRM_XE_VM_BIND_OP_UNMAP;
  return o;
}

// One random operation on (fd, vm); returns the ioctl's result.
int random_op(std::mt19937& rng, int fd, std::uint32_t vm, ThreadState& st) {
  std::uniform_int_distribution<std::uint64_t> page(0, kWindowPages - 16);
  std::uniform_int_distribution<std::uint64_t> len(1, 16);
  const std::uint64_t p = page(rng);
  const std::uint64_t n = len(rng);
  switch (rng() % 8) {
    case 0:
      st.op = "bind mirror";
      return bind_one(fd, vm, mirror_op(p, n));
    case 1:
      st.op = "bind null";
      return bind_one(fd, vm, null_op(p, n));
    case 2:
      st.op = "unbind";
      return bind_one(fd, vm, unmap_op(p, n));
    case 3: {
      st.op = "bind array";
      drm_xe_vm_bind_op ops[3] = {mirror_op(p, n), unmap_op(p, 1), null_op(p + n, 1)};
      drm_xe_vm_bind b{};
      b.vm_id = vm;
      b.num_binds = 3;
      b.vector_of_binds = reinterpret_cast<std::uintptr_t>(ops);
      return drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_BIND, &b);
    }
    case 4:
    case 5: {
      st.op = "madvise";
      drm_xe_madvise m{};
      m.vm_id = vm;
      m.start = p * kPage;
      m.range = n * kPage;
      m.type = static_cast<std::uint32_t>(rng() % 3);
      if (m.type == DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC) {
        m.preferred_mem_loc.devmem_fd =
            static_cast<std::uint32_t>(rng() % 2 ? DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM : 0);
      } else if (m.type == DRM_XE_MEM_RANGE_ATTR_ATOMIC) {
        m.atomic.val = static_cast<std::uint32_t>(rng() % 4);
      } else {
        m.pat_index.val = static_cast<std::uint32_t>(rng() % 2);
      }
      return drm_sim_ioctl(fd, DRM_IOCTL_XE_MADVISE, &m);
    }
    case 6: {
      st.op = "query";
      drm_xe_vm_query_mem_range_attr q{};
      q.vm_id = vm;
      q.start = 0;
      q.range = kWindowPages * kPage;
      int r = drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
      if (r != 0 || q.num_mem_ranges == 0) return r;
      std::vector<drm_xe_mem_range_attr> v(q.num_mem_ranges);
      q.vector_of_mem_attr = reinterpret_cast<std::uintptr_t>(v.data());
      r = drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
      return r == -ENOSPC ? 0 : r;  // the layout grew between the two calls
    }
    default: {
      st.op = "gem create/close";
      drm_xe_gem_create c{};
      c.size = 64 * 1024;
      c.placement = 1;
      c.cpu_caching = DRM_XE_GEM_CPU_CACHING_WB;
      int r = drm_sim_ioctl(fd, DRM_IOCTL_XE_GEM_CREATE, &c);
      if (r != 0) return r;
      drm_gem_close g{};
      g.handle = c.handle;
      return drm_sim_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &g);
    }
  }
}

std::uint32_t create_fault_vm(int fd) {
  drm_xe_vm_create c{};
  c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
  EXPECT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &c), 0);
  return c.vm_id;
}

TEST(MixedOpsConcurrencyTest, EveryIoctlRacingOnSharedAndPrivateVmsKeepsInvariants) {
  // given one shared VM and one private file per thread
  constexpr int kThreads = 4;
  constexpr int kIterations = 1500;
  Shared shared;
  shared.fd = drm_sim_open(nullptr);
  ASSERT_GE(shared.fd, 0);
  shared.vm = create_fault_vm(shared.fd);
  std::vector<ThreadState> states(kThreads);
  std::vector<int> own_fds(kThreads);
  std::vector<std::uint32_t> own_vms(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    own_fds[t] = drm_sim_open_file(shared.fd);  // same device, own file
    ASSERT_GE(own_fds[t], 0);
    own_vms[t] = create_fault_vm(own_fds[t]);
  }
  // when every thread races random ioctls on the shared VM and its own
  {
    Watchdog dog(states, std::chrono::seconds(240));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::mt19937 rng(1234u + static_cast<unsigned>(t));
        for (int i = 0; i < kIterations; ++i) {
          states[t].iteration = static_cast<unsigned long>(i);
          const bool on_shared = rng() % 2 == 0;
          const int r = on_shared ? random_op(rng, shared.fd, shared.vm, states[t])
                                  : random_op(rng, own_fds[t], own_vms[t], states[t]);
          // -EINVAL: madvise ATOMIC placement rules never apply (no BO VMAs);
          // nothing else may fail.
          if (r != 0) ++shared.unexpected;
        }
        states[t].op = "done";
      });
    }
    // and meanwhile VMs come and go on the shared file
    std::thread churn([&] {
      for (int i = 0; i < 200; ++i) {
        const std::uint32_t vm = create_fault_vm(shared.fd);
        bind_one(shared.fd, vm, mirror_op(1, 4));
        drm_xe_vm_destroy d{};
        d.vm_id = vm;
        if (drm_sim_ioctl(shared.fd, DRM_IOCTL_XE_VM_DESTROY, &d) != 0) ++shared.unexpected;
      }
    });
    for (auto& th : threads) th.join();
    churn.join();
  }
  // then nothing failed unexpectedly and every VM is consistent
  EXPECT_EQ(shared.unexpected.load(), 0);
  EXPECT_EQ(drm_sim::file_from_fd(shared.fd)->vm(shared.vm)->check_invariants(), "");
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(drm_sim::file_from_fd(own_fds[t])->vm(own_vms[t])->check_invariants(), "");
    close(own_fds[t]);
  }
  close(shared.fd);
}

TEST(MixedOpsConcurrencyTest, ClosingAFileWhileItsVmsAreBusyReleasesEverything) {
  // given files whose VMs are being bound and advised by other threads
  for (int round = 0; round < 20; ++round) {
    const int fd = drm_sim_open(nullptr);
    ASSERT_GE(fd, 0);
    const std::uint32_t vm = create_fault_vm(fd);
    std::weak_ptr<drm_sim::DrmFile> file = drm_sim::file_from_fd(fd);
    std::shared_ptr<drm_sim::Device> dev = drm_sim::file_from_fd(fd)->device_ptr();
    std::atomic<bool> stop{false};
    std::thread worker([&] {
      std::mt19937 rng(static_cast<unsigned>(round));
      ThreadState st;
      while (!stop.load()) {
        // the fd may already be closed: -EBADF is expected then
        const int r = random_op(rng, fd, vm, st);
        if (r == -EBADF) break;
      }
    });
    // when the file is closed mid-flight
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    close(fd);
    stop = true;
    worker.join();
    // then the file, its VMs and its BOs are gone
    EXPECT_TRUE(file.expired());
    std::lock_guard<std::mutex> g(dev->bo_mutex());
    EXPECT_EQ(dev->bo_count_locked(), 0u);
  }
}

}  // namespace
}  // namespace drm_sim_test
