// tests/concurrency/concurrency_util.h — helpers shared by the concurrency
// suites: a thread-safe failure collector and one-op wrappers of the
// ioctls every suite issues.
// Owns: nothing beyond a Failures object's own list. Locking: Failures::add
// may be called from any thread (an atomic count and a mutex for the first
// ten messages). Errors: the wrappers return the ioctl's 0 or -errno.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "drm_sim/drm_sim.h"

namespace drm_sim_test {

// Counts failures seen by worker threads and keeps the first ten messages.
struct Failures {
  std::atomic<int> count{0};
  std::mutex mu;
  std::vector<std::string> first;
  void add(const std::string& what) {
    ++count;
    std::lock_guard<std::mutex> g(mu);
    if (first.size() < 10) first.push_back(what);
  }
};

// VM_BIND of a single op.
inline int bind_one(int fd, std::uint32_t vm, const drm_xe_vm_bind_op& op) {
  drm_xe_vm_bind b{};
  b.vm_id = vm;
  b.num_binds = 1;
  b.bind = op;
  return drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_BIND, &b);
}

// DRM_IOCTL_SIM_CPU_MMAP of [addr, addr + size) (offset: a BO's mmap offset).
inline int cpu_mmap(int fd, std::uint32_t op, std::uint64_t addr, std::uint64_t size,
                    std::uint64_t offset = 0) {
  drm_sim_cpu_mmap m{};
  m.addr = addr;
  m.size = size;
  m.op = op;
  m.mmap_offset = offset;
  return drm_sim_ioctl(fd, DRM_IOCTL_SIM_CPU_MMAP, &m);
}

}  // namespace drm_sim_test
