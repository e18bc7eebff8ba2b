// Shared virtual memory under concurrency: several threads on two files of
// one device (each file its own simulated process address space, two fault-
// mode VMs per file) bind and unbind mirror VMAs, madvise, query, prefetch,
// fault pages in with GPU accesses, touch them from the CPU and map and unmap
// CPU memory, all at once, on a device with little VRAM (eviction happens).
//
// Every thread owns a disjoint run of pages in its file's address space and
// is the only one to map, unmap, write or read them; it keeps a record of
// each page's first 8-byte word (what it last wrote, plus its atomic adds).
// Every successful read and atomic during the run is checked against the
// record, and at the end each page's content must equal it, however often the
// page moved between system memory and VRAM meanwhile. The other operations
// range over the whole window and so race with every thread's pages. A
// watchdog turns a deadlock into a failure that prints each thread's state.
#include <gtest/gtest.h>
#include <unistd.h>

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

constexpr std::uint64_t kPage = 4096;
constexpr int kFiles = 2;
constexpr int kVmsPerFile = 2;
constexpr int kThreadsPerFile = 3;
constexpr std::uint64_t kPagesPerThread = 2560;  // 10 MiB each: 60 MiB > 32 MiB of VRAM
constexpr std::uint64_t kWindowPages = kPagesPerThread * kThreadsPerFile;
constexpr int kIterations = 1200;

struct FileCtx {
  int fd = -1;
  std::uint32_t vms[kVmsPerFile] = {};
};

// What one thread knows about its own pages.
struct PageRecord {
  bool mapped = false;
  std::uint64_t word = 0;  // the page's first 8 bytes, little-endian
};

// One 8-byte access at the start of a page; *result gets the access's own
// result, the return value is the ioctl's.
int access8(int fd, std::uint32_t vm, std::uint32_t op, std::uint64_t page, std::uint64_t* value,
            int* result) {
  std::uint64_t data = *value;
  drm_sim_mem_access a{};
  a.addr = page * kPage;
  a.size = 8;
  a.op = op;
  a.value = *value;
  a.data = reinterpret_cast<std::uintptr_t>(&data);
  drm_sim_mem_access_batch b{};
  b.vm_id = vm;
  b.num = 1;
  b.accesses = reinterpret_cast<std::uintptr_t>(&a);
  const int rc = drm_sim_ioctl(fd, DRM_IOCTL_SIM_MEM_ACCESS, &b);
  *result = a.result;
  // The "small" profile is data-backed: a read returns bytes in data, an
  // atomic the old word in value.
  *value = op == DRM_SIM_ACCESS_READ ? data : a.value;
  return rc;
}

class Worker {
 public:
  Worker(const FileCtx& f, int index, ThreadState& st, Failures& fail)
      : f_(f),
        first_(static_cast<std::uint64_t>(index) * kPagesPerThread),
        rng_(0x5eed0000u + static_cast<unsigned>(index) * 7919u + static_cast<unsigned>(f.fd)),
        st_(st),
        fail_(fail),
        pages_(kPagesPerThread) {}

  void run(int thread_no) {
    // Start with the whole run mapped.
    st_.op = "cpu map (initial)";
    expect_ok(cpu_mmap(f_.fd, DRM_SIM_CPU_MMAP_MAP, first_ * kPage, kPagesPerThread * kPage),
              "initial cpu map");
    for (auto& p : pages_) p = PageRecord{true, 0};
    for (int i = 0; i < kIterations; ++i) {
      st_.iteration = static_cast<unsigned long>(i);
      step();
    }
    st_.op = "done";
    (void)thread_no;
  }

  // The end check, after every thread stopped: each page as recorded.
  void verify() {
    for (std::uint64_t p = 0; p < kPagesPerThread; ++p) {
      std::uint64_t v = 0;
      int res = 0;
      const int rc = access8(f_.fd, 0, DRM_SIM_ACCESS_READ, first_ + p, &v, &res);
      if (!pages_[p].mapped) {
        if (rc != -EFAULT) report("final read of unmapped page", first_ + p, rc);
      } else if (rc != 0 || v != pages_[p].word) {
        report(
            "final content " + std::to_string(v) + " != recorded " + std::to_string(pages_[p].word),
            first_ + p, rc);
      }
    }
  }

 private:
  std::uint64_t below(std::uint64_t n) { return rng_() % n; }
  std::uint32_t any_vm() { return f_.vms[below(kVmsPerFile)]; }

  void report(const std::string& what, std::uint64_t page, int rc) {
    char buf[160];
    std::snprintf(buf, sizeof buf, " (fd %d, page 0x%llx, rc %d)", f_.fd,
                  static_cast<unsigned long long>(page), rc);
    fail_.add(what + buf);
  }
  void expect_ok(int rc, const char* what) {
    if (rc != 0) report(what, 0, rc);
  }

  void step() {
    const std::uint64_t r = below(100);
    if (r < 30) {
      gpu_access();
    } else if (r < 42) {
      cpu_access();
    } else if (r < 48) {
      cpu_remap();
    } else if (r < 64) {
      bind();
    } else if (r < 80) {
      madvise();
    } else if (r < 90) {
      prefetch();
    } else {
      query();
    }
  }

  // A GPU access to one of our pages: faults it in (maybe into VRAM, maybe
  // evicting someone else's chunk). It may find no mirror VMA (another
  // thread unbound it: -EFAULT) or the CPU atomic policy (-EACCES).
  void gpu_access() {
    const std::uint64_t p = below(kPagesPerThread);
    const std::uint64_t k = below(3);
    const std::uint32_t op =
        k == 0 ? DRM_SIM_ACCESS_READ : (k == 1 ? DRM_SIM_ACCESS_WRITE : DRM_SIM_ACCESS_ATOMIC);
    std::uint64_t v = op == DRM_SIM_ACCESS_ATOMIC ? 1 + below(100) : rng_();
    const std::uint64_t sent = v;
    int res = 0;
    st_.op = "gpu access";
    const int rc = access8(f_.fd, any_vm(), op, first_ + p, &v, &res);
    if (rc == -EFAULT || (rc == -EACCES && op == DRM_SIM_ACCESS_ATOMIC)) return;
    if (rc != 0) return report("gpu access", first_ + p, rc);
    ++gpu_ok;
    settle(p, op, sent, v, "gpu");
  }

  void cpu_access() {
    const std::uint64_t p = below(kPagesPerThread);
    const std::uint64_t k = below(3);
    const std::uint32_t op =
        k == 0 ? DRM_SIM_ACCESS_READ : (k == 1 ? DRM_SIM_ACCESS_WRITE : DRM_SIM_ACCESS_ATOMIC);
    std::uint64_t v = op == DRM_SIM_ACCESS_ATOMIC ? 1 + below(100) : rng_();
    const std::uint64_t sent = v;
    int res = 0;
    st_.op = "cpu access";
    const int rc = access8(f_.fd, 0, op, first_ + p, &v, &res);
    if (!pages_[p].mapped) {
      if (rc != -EFAULT) report("cpu access to an unmapped page", first_ + p, rc);
      return;
    }
    if (rc != 0) return report("cpu access", first_ + p, rc);
    settle(p, op, sent, v, "cpu");
  }

  // A successful access: check what it read, record what it wrote.
  void settle(std::uint64_t p, std::uint32_t op, std::uint64_t sent, std::uint64_t got,
              const char* who) {
    PageRecord& rec = pages_[p];
    if (!rec.mapped)
      return report(std::string(who) + " access succeeded on an unmapped page", first_ + p, 0);
    switch (op) {
      case DRM_SIM_ACCESS_READ:
        if (got != rec.word) {
          report(std::string(who) + " read " + std::to_string(got) + " != recorded " +
                     std::to_string(rec.word),
                 first_ + p, 0);
        }
        break;
      case DRM_SIM_ACCESS_WRITE:
        rec.word = sent;
        break;
      default:
        if (got != rec.word) {
          report(std::string(who) + " atomic old " + std::to_string(got) + " != recorded " +
                     std::to_string(rec.word),
                 first_ + p, 0);
        }
        rec.word += sent;
        break;
    }
  }

  // Unmap or map a run of our own pages (MADVISE_AUTORESET and GPU range
  // invalidation in every VM of the file follow an unmap).
  void cpu_remap() {
    const std::uint64_t p = below(kPagesPerThread);
    const std::uint64_t n = 1 + below(std::min<std::uint64_t>(64, kPagesPerThread - p));
    bool all_mapped = true;
    bool none_mapped = true;
    for (std::uint64_t i = p; i < p + n; ++i) {
      all_mapped = all_mapped && pages_[i].mapped;
      none_mapped = none_mapped && !pages_[i].mapped;
    }
    if (none_mapped) {
      st_.op = "cpu map";
      expect_ok(cpu_mmap(f_.fd, DRM_SIM_CPU_MMAP_MAP, (first_ + p) * kPage, n * kPage), "cpu map");
      for (std::uint64_t i = p; i < p + n; ++i) pages_[i] = PageRecord{true, 0};
    } else {
      st_.op = "cpu unmap";
      expect_ok(cpu_mmap(f_.fd, DRM_SIM_CPU_MMAP_UNMAP, (first_ + p) * kPage, n * kPage),
                "cpu unmap");
      for (std::uint64_t i = p; i < p + n; ++i) pages_[i] = PageRecord{false, 0};
    }
    (void)all_mapped;
  }

  // Mirror binds (some with MADVISE_AUTORESET) and unbinds anywhere in the
  // window: only mirror VMAs, so a GPU write that succeeds lands in memory.
  void bind() {
    const std::uint64_t p = below(kWindowPages - 64);
    const std::uint64_t n = 1 + below(64);
    drm_xe_vm_bind_op o{};
    o.addr = p * kPage;
    o.range = n * kPage;
    if (below(3) == 0) {
      o.op = DRM_XE_VM_BIND_OP_UNMAP;
      st_.op = "unbind";
    } else {
      o.op = DRM_XE_VM_BIND_OP_MAP;
      o.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR |
                (below(2) == 0 ? DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET : 0u);
      st_.op = "bind mirror";
    }
    expect_ok(bind_one(f_.fd, any_vm(), o), st_.op.load());
  }

  void madvise() {
    drm_xe_madvise m{};
    m.vm_id = any_vm();
    m.start = below(kWindowPages - 64) * kPage;
    m.range = (1 + below(64)) * kPage;
    m.type = static_cast<std::uint32_t>(below(3));
    if (m.type == DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC) {
      m.preferred_mem_loc.devmem_fd =
          static_cast<std::uint32_t>(below(2) == 0 ? DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM : 0);
    } else if (m.type == DRM_XE_MEM_RANGE_ATTR_ATOMIC) {
      m.atomic.val = static_cast<std::uint32_t>(below(4));
    } else {
      m.pat_index.val = static_cast<std::uint32_t>(below(2));
    }
    st_.op = "madvise";
    expect_ok(drm_sim_ioctl(f_.fd, DRM_IOCTL_XE_MADVISE, &m), "madvise");
  }

  // PREFETCH into VRAM, system memory or the preferred location; -EFAULT
  // where some thread's pages are not CPU-mapped.
  void prefetch() {
    drm_xe_vm_bind_op o{};
    o.addr = below(kWindowPages - 1024) * kPage;
    o.range = (1 + below(1024)) * kPage;  // up to 4 MiB: fills VRAM fast
    o.op = DRM_XE_VM_BIND_OP_PREFETCH;
    const std::uint64_t k = below(4);
    o.prefetch_mem_region_instance =
        k == 0 ? 0u : (k < 3 ? 1u : static_cast<std::uint32_t>(DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC));
    st_.op = "prefetch";
    const int rc = bind_one(f_.fd, any_vm(), o);
    if (rc != 0 && rc != -EFAULT) report("prefetch", o.addr / kPage, rc);
  }

  void query() {
    drm_xe_vm_query_mem_range_attr q{};
    q.vm_id = any_vm();
    q.range = kWindowPages * kPage;
    st_.op = "query";
    int rc = drm_sim_ioctl(f_.fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
    if (rc != 0) return report("query count", 0, rc);
    if (q.num_mem_ranges == 0) return;
    std::vector<drm_xe_mem_range_attr> v(q.num_mem_ranges);
    q.vector_of_mem_attr = reinterpret_cast<std::uintptr_t>(v.data());
    rc = drm_sim_ioctl(f_.fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
    if (rc != 0 && rc != -ENOSPC) report("query fill", 0, rc);  // ENOSPC: the layout grew
  }

 public:
  std::uint64_t gpu_ok = 0;  // GPU accesses that reached memory

 private:
  const FileCtx& f_;
  std::uint64_t first_;  // our first page
  std::mt19937_64 rng_;
  ThreadState& st_;
  Failures& fail_;
  std::vector<PageRecord> pages_;
};

TEST(SvmConcurrencyTest, FaultsMigrationsAndCpuUnmapsRacingWithBindsLoseNoPageContent) {
  // given two files of one small-VRAM device, each with two fault-mode VMs
  // mirroring the whole window
  FileCtx files[kFiles];
  files[0].fd = drm_sim_open("small");
  ASSERT_GE(files[0].fd, 0);
  ASSERT_EQ(drm_sim::file_from_fd(files[0].fd)->device().profile().backing,
            drm_sim::BackingMode::kData);
  files[1].fd = drm_sim_open_file(files[0].fd);
  ASSERT_GE(files[1].fd, 0);
  for (FileCtx& f : files) {
    for (std::uint32_t& vm : f.vms) {
      drm_xe_vm_create c{};
      c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
      ASSERT_EQ(drm_sim_ioctl(f.fd, DRM_IOCTL_XE_VM_CREATE, &c), 0);
      vm = c.vm_id;
      drm_xe_vm_bind_op o{};
      o.range = kWindowPages * kPage;
      o.op = DRM_XE_VM_BIND_OP_MAP;
      o.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
      ASSERT_EQ(bind_one(f.fd, vm, o), 0);
    }
  }
  constexpr int kThreads = kFiles * kThreadsPerFile;
  std::vector<ThreadState> states(kThreads);
  Failures fail;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.push_back(
        std::make_unique<Worker>(files[t / kThreadsPerFile], t % kThreadsPerFile, states[t], fail));
  }
  // when every thread races on its own pages and on the shared VMs
  {
    Watchdog dog(states, std::chrono::seconds(240));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] { workers[t]->run(t); });
    }
    for (auto& th : threads) th.join();
  }
  // then every VM is consistent, pages moved both ways, and every page
  // holds what its writer recorded
  for (const FileCtx& f : files) {
    for (const std::uint32_t vm : f.vms) {
      EXPECT_EQ(drm_sim::file_from_fd(f.fd)->vm(vm)->check_invariants(), "");
    }
  }
  drm_sim_mem_stats ms{};
  ASSERT_EQ(drm_sim_ioctl(files[0].fd, DRM_IOCTL_SIM_MEM_STATS, &ms), 0);
  EXPECT_GT(ms.gpu_faults, 0u);
  EXPECT_GT(ms.migrations_to_vram, 0u);
  EXPECT_GT(ms.migrations_to_sys, 0u);
  // (evictions happen in most runs, but how many depends on the interleaving)
  std::uint64_t gpu_ok = 0;
  for (auto& w : workers) gpu_ok += w->gpu_ok;
  EXPECT_GT(gpu_ok, 0u);
  std::printf(
      "gpu accesses that reached memory %llu, faults %llu, to VRAM %llu, to system %llu, "
      "evictions %llu\n",
      static_cast<unsigned long long>(gpu_ok), static_cast<unsigned long long>(ms.gpu_faults),
      static_cast<unsigned long long>(ms.migrations_to_vram),
      static_cast<unsigned long long>(ms.migrations_to_sys),
      static_cast<unsigned long long>(ms.evictions));
  for (auto& w : workers) w->verify();
  for (const std::string& s : fail.first) ADD_FAILURE() << s;
  EXPECT_EQ(fail.count.load(), 0);
  for (const FileCtx& f : files) close(f.fd);
}

TEST(SvmConcurrencyTest, ClosingAFileWhileItsPagesMigrateReleasesItsVramAndEverythingElse) {
  for (int round = 0; round < 10; ++round) {
    // given file A faulting and prefetching 8 MiB in and out of VRAM from two
    // threads, and file B keeping the device open
    const int a = drm_sim_open("small");
    ASSERT_GE(a, 0);
    const int b = drm_sim_open_file(a);
    ASSERT_GE(b, 0);
    std::weak_ptr<drm_sim::DrmFile> file = drm_sim::file_from_fd(a);
    std::shared_ptr<drm_sim::Device> dev = drm_sim::file_from_fd(a)->device_ptr();
    drm_xe_vm_create c{};
    c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
    ASSERT_EQ(drm_sim_ioctl(a, DRM_IOCTL_XE_VM_CREATE, &c), 0);
    const std::uint32_t vm = c.vm_id;
    constexpr std::uint64_t kPages = 2048;
    ASSERT_EQ(cpu_mmap(a, DRM_SIM_CPU_MMAP_MAP, 0, kPages * kPage), 0);
    drm_xe_vm_bind_op mirror{};
    mirror.range = kPages * kPage;
    mirror.op = DRM_XE_VM_BIND_OP_MAP;
    mirror.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
    ASSERT_EQ(bind_one(a, vm, mirror), 0);
    std::vector<ThreadState> states(2);
    std::atomic<bool> stop{false};
    std::atomic<int> unexpected{0};
    {
      Watchdog dog(states, std::chrono::seconds(120));
      std::vector<std::thread> workers;
      for (int t = 0; t < 2; ++t) {
        workers.emplace_back([&, t] {
          std::mt19937_64 rng(static_cast<unsigned>(round * 2 + t));
          for (unsigned long i = 0; !stop.load(); ++i) {
            states[t].iteration = i;
            int rc = 0;
            if (rng() % 2 == 0) {
              states[t].op = "prefetch";
              drm_xe_vm_bind_op pf{};
              pf.addr = (rng() % (kPages - 512)) * kPage;
              pf.range = 512 * kPage;
              pf.op = DRM_XE_VM_BIND_OP_PREFETCH;
              pf.prefetch_mem_region_instance = static_cast<std::uint32_t>(rng() % 2);
              rc = bind_one(a, vm, pf);
            } else {
              states[t].op = "gpu access";
              std::uint64_t v = rng();
              int res = 0;
              rc = access8(a, vm, DRM_SIM_ACCESS_WRITE, rng() % kPages, &v, &res);
            }
            // -EBADF once the fd is closed; -ENOENT when the VM went first
            if (rc == -EBADF || rc == -ENOENT) break;
            if (rc != 0) ++unexpected;
          }
          states[t].op = "done";
        });
      }
      // when A is closed while they run (each is a few calls in)
      while (states[0].iteration.load() < 3 || states[1].iteration.load() < 3) {
        std::this_thread::yield();
      }
      close(a);
      stop = true;
      for (auto& w : workers) w.join();
    }
    // then the file, its VM's pages and its VRAM are gone
    EXPECT_EQ(unexpected.load(), 0);
    EXPECT_TRUE(file.expired());
    drm_sim_mem_stats ms{};
    ASSERT_EQ(drm_sim_ioctl(b, DRM_IOCTL_SIM_MEM_STATS, &ms), 0);
    EXPECT_EQ(ms.vram_used[0], 0u);
    EXPECT_GT(ms.migrations_to_vram, 0u);
    {
      std::lock_guard<std::mutex> g(dev->bo_mutex());
      EXPECT_EQ(dev->bo_count_locked(), 0u);
    }
    close(b);
  }
}

}  // namespace
}  // namespace drm_sim_test
