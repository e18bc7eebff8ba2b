// Buffer objects under concurrency: several threads on two files of one
// small-VRAM device (two fault-mode VMs per file) access their BOs from the
// GPU through BO VMAs and from the CPU through BO mappings
// (DRM_SIM_CPU_MMAP_MAP_BO), set the BOs' atomic attribute and preferred
// location with madvise, bind and unbind the BOs and unmap and remap their
// CPU mappings, all at once, with more BO bytes than VRAM (eviction, and CPU
// touches of CPU/GLOBAL-atomic BOs moving them to system memory).
//
// Every thread owns its BOs and is the only one to bind, map, advise, write
// or read them; it records each sampled page's first 8-byte word (what it
// last wrote, plus its atomic adds). Every successful read and atomic is
// checked against the record during the run, and at the end every sampled
// page must read back as recorded from both the CPU and the GPU. The VMs and
// the VRAM, files and BOs shared by the threads are where they race.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "concurrency/concurrency_util.h"
#include "concurrency/watchdog.h"
#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"

namespace drm_sim_test {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * kKiB;
constexpr int kFiles = 2;
constexpr int kVmsPerFile = 2;
constexpr int kThreadsPerFile = 2;
constexpr int kBosPerThread = 3;
constexpr std::uint64_t kBoSize = 6 * kMiB;  // 4 threads x 18 MiB = 72 MiB > 32 MiB of VRAM
constexpr std::uint64_t kSampleStride = 64 * kKiB;
constexpr std::uint64_t kSamples = kBoSize / kSampleStride;
constexpr int kIterations = 5000;
constexpr std::uint64_t kGpuBase = 0x100000000;  // a thread's BO k at kGpuBase + slot * kBoSize
constexpr std::uint64_t kCpuBase = 0x400000000;  // and mapped at kCpuBase + slot * kBoSize
constexpr std::uint32_t kVramAndSys = (1u << 0) | (1u << 1);

struct FileCtx {
  int fd = -1;
  std::array<std::uint32_t, kVmsPerFile> vms{};
};

// One 8-byte access at addr by the GPU (vm != 0) or the CPU (vm 0). Data
// backing: a read returns its bytes in *value, an atomic the old word.
int access8(int fd, std::uint32_t vm, std::uint32_t op, std::uint64_t addr, std::uint64_t* value) {
  std::uint64_t data = *value;
  drm_sim_mem_access a{};
  a.addr = addr;
  a.size = 8;
  a.op = op;
  a.value = *value;
  a.data = reinterpret_cast<std::uintptr_t>(&data);
  drm_sim_mem_access_batch b{};
  b.vm_id = vm;
  b.num = 1;
  b.accesses = reinterpret_cast<std::uintptr_t>(&a);
  const int rc = drm_sim_ioctl(fd, DRM_IOCTL_SIM_MEM_ACCESS, &b);
  *value = op == DRM_SIM_ACCESS_READ ? data : a.value;
  return rc;
}

struct OwnedBo {
  std::uint32_t handle = 0;
  std::uint64_t mmap_offset = 0;
  std::uint64_t va = 0;   // GPU VA in every VM of the file
  std::uint64_t cpu = 0;  // CPU address of its mapping
  std::array<bool, kVmsPerFile> bound{};
  bool mapped = false;
  std::uint32_t atomic = DRM_XE_ATOMIC_UNDEFINED;  // BO-wide, as last advised
  std::array<std::uint64_t, kSamples> word{};
};

class Worker {
 public:
  Worker(const FileCtx& f, int slot, ThreadState& st, Failures& fail)
      : f_(f),
        rng_(0xb0c0000u + static_cast<unsigned>(slot) * 7919u + static_cast<unsigned>(f.fd)),
        st_(st),
        fail_(fail) {
    for (int k = 0; k < kBosPerThread; ++k) {
      OwnedBo& b = bos_[static_cast<std::size_t>(k)];
      const auto at = static_cast<std::uint64_t>(slot * kBosPerThread + k);
      b.va = kGpuBase + at * kBoSize;
      b.cpu = kCpuBase + at * kBoSize;
    }
  }

  // Creates, binds (every VM) and maps the thread's BOs.
  void setup() {
    for (OwnedBo& b : bos_) {
      drm_xe_gem_create c{};
      c.size = kBoSize;
      c.placement = kVramAndSys;
      c.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
      expect_ok(drm_sim_ioctl(f_.fd, DRM_IOCTL_XE_GEM_CREATE, &c), "gem create", 0);
      b.handle = c.handle;
      drm_xe_gem_mmap_offset m{};
      m.handle = b.handle;
      expect_ok(drm_sim_ioctl(f_.fd, DRM_IOCTL_XE_GEM_MMAP_OFFSET, &m), "mmap offset", 0);
      b.mmap_offset = m.offset;
      for (int v = 0; v < kVmsPerFile; ++v) set_bound(b, v, true);
      set_mapped(b, true);
    }
  }

  void run() {
    for (int i = 0; i < kIterations; ++i) {
      st_.iteration = static_cast<unsigned long>(i);
      step();
    }
    st_.op = "done";
  }

  // After every thread stopped: every sample as recorded, from both sides.
  void verify() {
    for (OwnedBo& b : bos_) {
      if (!b.bound[0]) set_bound(b, 0, true);
      if (!b.mapped) set_mapped(b, true);
      for (std::uint64_t s = 0; s < kSamples; ++s) {
        std::uint64_t cpu = 0;
        std::uint64_t gpu = 0;
        int rc = access8(f_.fd, 0, DRM_SIM_ACCESS_READ, b.cpu + s * kSampleStride, &cpu);
        if (rc != 0 || cpu != b.word[s]) {
          report("final cpu read " + std::to_string(cpu) + " != " + std::to_string(b.word[s]),
                 b.cpu + s * kSampleStride, rc);
        }
        rc = access8(f_.fd, f_.vms[0], DRM_SIM_ACCESS_READ, b.va + s * kSampleStride, &gpu);
        if (rc != 0 || gpu != b.word[s]) {
          report("final gpu read " + std::to_string(gpu) + " != " + std::to_string(b.word[s]),
                 b.va + s * kSampleStride, rc);
        }
      }
    }
  }

  // Closes the handles while the BOs are still CPU-mapped, then unmaps them:
  // the mapping's reference keeps each BO until the unmap.
  void close_then_unmap() {
    for (OwnedBo& b : bos_) {
      drm_gem_close c{};
      c.handle = b.handle;
      expect_ok(drm_sim_ioctl(f_.fd, DRM_IOCTL_GEM_CLOSE, &c), "gem close", 0);
      std::uint64_t v = 0;
      expect_ok(access8(f_.fd, 0, DRM_SIM_ACCESS_READ, b.cpu, &v), "read after close", b.cpu);
      if (v != b.word[0]) report("read after close", b.cpu, 0);
      for (int vm = 0; vm < kVmsPerFile; ++vm) {
        if (b.bound[static_cast<std::size_t>(vm)]) set_bound(b, vm, false);
      }
      set_mapped(b, false);
    }
  }

  std::uint64_t gpu_ok = 0;
  std::uint64_t cpu_ok = 0;

 private:
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }
  OwnedBo& any_bo() { return bos_[below(kBosPerThread)]; }

  void report(const std::string& what, std::uint64_t addr, int rc) {
    char buf[160];
    std::snprintf(buf, sizeof buf, " (fd %d, addr 0x%llx, rc %d)", f_.fd,
                  static_cast<unsigned long long>(addr), rc);
    fail_.add(what + buf);
  }
  void expect_ok(int rc, const char* what, std::uint64_t addr) {
    if (rc != 0) report(what, addr, rc);
  }

  void set_bound(OwnedBo& b, int vm, bool bound) {
    drm_xe_vm_bind_op o{};
    o.addr = b.va;
    o.range = kBoSize;
    o.op = bound ? DRM_XE_VM_BIND_OP_MAP : DRM_XE_VM_BIND_OP_UNMAP;
    o.obj = bound ? b.handle : 0;
    o.pat_index = 1;  // coherent (a WC BO may use any)
    st_.op = bound ? "bind bo" : "unbind bo";
    expect_ok(bind_one(f_.fd, f_.vms[static_cast<std::size_t>(vm)], o), st_.op.load(), b.va);
    b.bound[static_cast<std::size_t>(vm)] = bound;
  }
  void set_mapped(OwnedBo& b, bool mapped) {
    st_.op = mapped ? "cpu map bo" : "cpu unmap bo";
    expect_ok(mapped ? cpu_mmap(f_.fd, DRM_SIM_CPU_MMAP_MAP_BO, b.cpu, kBoSize, b.mmap_offset)
                     : cpu_mmap(f_.fd, DRM_SIM_CPU_MMAP_UNMAP, b.cpu, kBoSize),
              st_.op.load(), b.cpu);
    b.mapped = mapped;
  }

  void step() {
    const std::uint64_t r = below(100);
    if (r < 35) {
      access(/*gpu=*/true);
    } else if (r < 70) {
      access(/*gpu=*/false);
    } else if (r < 80) {
      madvise_atomic();
    } else if (r < 85) {
      madvise_preferred_loc();
    } else if (r < 95) {
      rebind();
    } else {
      remap();
    }
  }

  void access(bool gpu) {
    OwnedBo& b = any_bo();
    const std::uint64_t s = below(kSamples);
    const std::uint64_t k = below(3);
    const std::uint32_t op =
        k == 0 ? DRM_SIM_ACCESS_READ : (k == 1 ? DRM_SIM_ACCESS_WRITE : DRM_SIM_ACCESS_ATOMIC);
    std::uint64_t v = op == DRM_SIM_ACCESS_ATOMIC ? 1 + below(100) : rng_();
    const std::uint64_t sent = v;
    const int vm = static_cast<int>(below(kVmsPerFile));
    const std::uint64_t addr = (gpu ? b.va : b.cpu) + s * kSampleStride;
    st_.op = gpu ? "gpu access" : "cpu access";
    const int rc = access8(f_.fd, gpu ? f_.vms[static_cast<std::size_t>(vm)] : 0, op, addr, &v);
    const bool reachable = gpu ? b.bound[static_cast<std::size_t>(vm)] : b.mapped;
    if (!reachable) {
      if (rc != -EFAULT) report("access without a mapping", addr, rc);
      return;
    }
    // A GPU atomic on a BO whose atomic attribute is CPU fails (discrete part).
    if (gpu && op == DRM_SIM_ACCESS_ATOMIC && b.atomic == DRM_XE_ATOMIC_CPU && rc == -EACCES) {
      return;
    }
    if (rc != 0) return report(gpu ? "gpu access" : "cpu access", addr, rc);
    ++(gpu ? gpu_ok : cpu_ok);
    std::uint64_t& word = b.word[s];
    if (op == DRM_SIM_ACCESS_WRITE) {
      word = sent;
      return;
    }
    if (v != word) {
      report(std::string(gpu ? "gpu" : "cpu") +
                 (op == DRM_SIM_ACCESS_READ ? " read " : " atomic old ") + std::to_string(v) +
                 " != recorded " + std::to_string(word),
             addr, 0);
    }
    if (op == DRM_SIM_ACCESS_ATOMIC) word += sent;
  }

  // The BO-wide atomic attribute through one VM's VMA of it (every value is
  // allowed: the BO has system memory and VRAM). No VMA there: a hole, rc 0.
  void madvise_atomic() {
    OwnedBo& b = any_bo();
    const int vm = static_cast<int>(below(kVmsPerFile));
    drm_xe_madvise m{};
    m.vm_id = f_.vms[static_cast<std::size_t>(vm)];
    m.start = b.va + below(kBoSize / 4096) * 4096;
    m.range = 4096;
    m.type = DRM_XE_MEM_RANGE_ATTR_ATOMIC;
    m.atomic.val = static_cast<std::uint32_t>(below(4));
    st_.op = "madvise atomic";
    expect_ok(drm_sim_ioctl(f_.fd, DRM_IOCTL_XE_MADVISE, &m), "madvise atomic", m.start);
    if (b.bound[static_cast<std::size_t>(vm)]) b.atomic = m.atomic.val;
  }

  // Silently ignored on BO VMAs (spec §3), but takes the VM lock and walks them.
  void madvise_preferred_loc() {
    OwnedBo& b = any_bo();
    drm_xe_madvise m{};
    m.vm_id = f_.vms[below(kVmsPerFile)];
    m.start = b.va;
    m.range = kBoSize;
    m.type = DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC;
    m.preferred_mem_loc.devmem_fd =
        static_cast<std::uint32_t>(below(2) == 0 ? DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM : 0);
    st_.op = "madvise preferred loc";
    expect_ok(drm_sim_ioctl(f_.fd, DRM_IOCTL_XE_MADVISE, &m), "madvise preferred loc", m.start);
  }

  void rebind() {
    OwnedBo& b = any_bo();
    const int vm = static_cast<int>(below(kVmsPerFile));
    set_bound(b, vm, !b.bound[static_cast<std::size_t>(vm)]);
  }

  void remap() {
    OwnedBo& b = any_bo();
    set_mapped(b, !b.mapped);
  }

  const FileCtx& f_;
  std::mt19937_64 rng_;
  ThreadState& st_;
  Failures& fail_;
  std::array<OwnedBo, kBosPerThread> bos_;
};

TEST(BoConcurrencyTest, GpuAndCpuAccessesToBosRacingWithMadviseBindsAndMapsLoseNoContent) {
  // given two files of one small-VRAM device, each with two fault-mode VMs,
  // and every thread's BOs created, bound in both VMs and CPU-mapped
  FileCtx files[kFiles];
  files[0].fd = drm_sim_open("small");
  ASSERT_GE(files[0].fd, 0);
  ASSERT_EQ(drm_sim::file_from_fd(files[0].fd)->device().profile().backing,
            drm_sim::BackingMode::kData);
  files[1].fd = drm_sim_open_file(files[0].fd);
  ASSERT_GE(files[1].fd, 0);
  std::shared_ptr<drm_sim::Device> dev = drm_sim::file_from_fd(files[0].fd)->device_ptr();
  for (FileCtx& f : files) {
    for (std::uint32_t& vm : f.vms) {
      drm_xe_vm_create c{};
      c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
      ASSERT_EQ(drm_sim_ioctl(f.fd, DRM_IOCTL_XE_VM_CREATE, &c), 0);
      vm = c.vm_id;
    }
  }
  constexpr int kThreads = kFiles * kThreadsPerFile;
  std::vector<ThreadState> states(kThreads);
  Failures fail;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.push_back(
        std::make_unique<Worker>(files[t / kThreadsPerFile], t % kThreadsPerFile, states[t], fail));
    workers.back()->setup();
  }
  // when every thread races on its own BOs and on the shared VMs and VRAM
  {
    Watchdog dog(states, std::chrono::seconds(240));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] { workers[t]->run(); });
    }
    for (auto& th : threads) th.join();
  }
  // then every VM is consistent, VRAM stayed within its size, the BOs moved
  // both ways, and every sampled page holds what its owner recorded
  for (const FileCtx& f : files) {
    for (const std::uint32_t vm : f.vms) {
      EXPECT_EQ(drm_sim::file_from_fd(f.fd)->vm(vm)->check_invariants(), "");
    }
  }
  drm_sim_mem_stats ms{};
  ASSERT_EQ(drm_sim_ioctl(files[0].fd, DRM_IOCTL_SIM_MEM_STATS, &ms), 0);
  EXPECT_LE(ms.vram_used[0], 32 * kMiB);
  EXPECT_GT(ms.migrations_to_vram, 0u);
  EXPECT_GT(ms.migrations_to_sys, 0u);
  EXPECT_GT(ms.cpu_faults, 0u);  // CPU touches of CPU/GLOBAL BOs found in VRAM
  std::uint64_t gpu_ok = 0;
  std::uint64_t cpu_ok = 0;
  for (auto& w : workers) {
    gpu_ok += w->gpu_ok;
    cpu_ok += w->cpu_ok;
  }
  EXPECT_GT(gpu_ok, 0u);
  EXPECT_GT(cpu_ok, 0u);
  std::printf(
      "gpu accesses %llu, cpu accesses %llu, gpu faults %llu, cpu faults %llu, to VRAM %llu, "
      "to system %llu, evictions %llu\n",
      static_cast<unsigned long long>(gpu_ok), static_cast<unsigned long long>(cpu_ok),
      static_cast<unsigned long long>(ms.gpu_faults),
      static_cast<unsigned long long>(ms.cpu_faults),
      static_cast<unsigned long long>(ms.migrations_to_vram),
      static_cast<unsigned long long>(ms.migrations_to_sys),
      static_cast<unsigned long long>(ms.evictions));
  for (auto& w : workers) w->verify();
  // and closing the handles of mapped BOs, then unmapping, frees them all
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] { workers[t]->close_then_unmap(); });
    }
    for (auto& th : threads) th.join();
  }
  for (const std::string& s : fail.first) ADD_FAILURE() << s;
  EXPECT_EQ(fail.count.load(), 0);
  {
    std::lock_guard<std::mutex> g(dev->bo_mutex());
    EXPECT_EQ(dev->bo_count_locked(), 0u);
  }
  for (const FileCtx& f : files) {
    EXPECT_EQ(drm_sim::file_from_fd(f.fd)->cpu_bo_mapping_count(), 0u);
  }
  ASSERT_EQ(drm_sim_ioctl(files[0].fd, DRM_IOCTL_SIM_MEM_STATS, &ms), 0);
  EXPECT_EQ(ms.vram_used[0], 0u);
  for (const FileCtx& f : files) close(f.fd);
}

}  // namespace
}  // namespace drm_sim_test
