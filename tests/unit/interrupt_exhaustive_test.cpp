// Exhaustive interruption (issue 5): for each scenario of a suite covering
// bind arrays, madvise of each type, the two-call query, PREFETCH and GPU
// and CPU accesses that fault and migrate, an uninterrupted run counts the
// scenario's killable and interruptible waits (FaultPlan::waits()) and
// records the final state: every VMA record (bounds, kind, BO, flags, PTE
// tiles, attributes), the attribute query, the VM's GPU ranges, the residency
// of every CPU page and every page's bytes (the `small` profile keeps real
// contents). Then, for every wait k and both signal kinds, a fresh device runs
// the scenario with wait k interrupted; every ioctl that returns -EINTR is
// restarted with identical arguments (what libdrm's drmIoctl does; the UMD
// policies are covered by tests/umd/interrupt_exhaustive_test.cpp), and the
// final state must equal the uninterrupted run's.
//
// Also here: the random plan (deterministic per seed, through the C++ API
// and DRM_SIM_FAULT_INJECT), the uapi of the new FAULT_INJECT ops, wait
// kinds (a fatal signal interrupts a killable wait, a non-fatal one does
// not), and the -ERESTARTSYS convention with injected signals (handlers with
// and without SA_RESTART). Real POSIX signals need threads: they are in
// tests/concurrency/real_signal_test.cpp.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"

namespace drm_sim {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kCpu = 64 * kMiB;  // the CPU mapping mirrored: [kCpu, kCpu + kCpuSize)
constexpr std::uint64_t kCpuSize = 4 * kMiB;
constexpr std::uint64_t kBoVa = 512 * kMiB;  // BO, userptr and NULL VMAs live here
constexpr std::uint32_t kVramRegion = 1;     // VRAM instance of tile 0 (small, b580)

// One simulated device (a fresh one per run), one fault-mode VM, helpers
// that speak the uapi and return 0 or -errno.
class World {
 public:
  explicit World(const char* profile) {
    fd_ = drm_sim_open(profile);
    EXPECT_GE(fd_, 0) << profile;
    file_ = file_from_fd(fd_);
    drm_xe_vm_create c{};
    c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_CREATE, &c), 0);
    vm_ = c.vm_id;
  }
  ~World() {
    file_.reset();
    if (fd_ >= 0) ::close(fd_);
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  int fd() const { return fd_; }
  std::uint32_t vm() const { return vm_; }
  Device& device() { return file_->device(); }
  FaultPlan& plan() { return device().plan(); }
  std::vector<std::uint32_t> bos;  // handles in creation order

  // Issues one ioctl; -EINTR restarts the identical call (from a copy of the
  // original argument bytes), at most 64 times. Counts the interruptions.
  // A bind interrupted with -EINTR must leave every VMA as it was before the
  // call (the array's rollback, spec §6): checked before each restart.
  int call(unsigned long request, const void* arg, std::size_t size) {
    std::vector<unsigned char> bytes(size);
    for (int attempt = 0; attempt < 64; ++attempt) {
      std::memcpy(bytes.data(), arg, size);
      const bool bind = request == DRM_IOCTL_XE_VM_BIND;
      const std::string before = bind ? vma_records() : std::string();
      const int rc = drm_sim_ioctl(fd_, request, bytes.data());
      if (rc != -EINTR) return rc;
      ++eintr;
      if (bind) {
        EXPECT_EQ(vma_records(), before) << "an interrupted bind was not rolled back";
      }
    }
    return -EINTR;
  }
  template <typename T>
  int call(unsigned long request, const T& arg) {
    return call(request, &arg, sizeof arg);
  }
  std::uint64_t eintr = 0;

  std::uint32_t create_bo(std::uint64_t size, std::uint32_t placement) {
    drm_xe_gem_create c{};
    c.size = size;
    c.placement = placement;
    c.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_XE_GEM_CREATE, &c), 0);
    bos.push_back(c.handle);
    return c.handle;
  }
  int cpu_mmap(std::uint64_t addr, std::uint64_t size) {
    drm_sim_cpu_mmap m{};
    m.addr = addr;
    m.size = size;
    m.op = DRM_SIM_CPU_MMAP_MAP;
    return drm_sim_ioctl(fd_, DRM_IOCTL_SIM_CPU_MMAP, &m);
  }
  int bind(std::vector<drm_xe_vm_bind_op> ops) {
    drm_xe_vm_bind b{};
    b.vm_id = vm_;
    b.num_binds = static_cast<std::uint32_t>(ops.size());
    if (ops.size() == 1) {
      b.bind = ops[0];
    } else {
      b.vector_of_binds = reinterpret_cast<std::uintptr_t>(ops.data());
    }
    return call(DRM_IOCTL_XE_VM_BIND, b);
  }
  int madvise(std::uint64_t start, std::uint64_t range, std::uint32_t type, std::uint32_t val,
              std::uint32_t* retained = nullptr) {
    drm_xe_madvise m{};
    m.vm_id = vm_;
    m.start = start;
    m.range = range;
    m.type = type;
    if (type == DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC) {
      m.preferred_mem_loc.devmem_fd = val;
    } else if (type == DRM_XE_VMA_ATTR_PURGEABLE_STATE) {
      m.purge_state_val.val = val;
      m.purge_state_val.retained_ptr = reinterpret_cast<std::uintptr_t>(retained);
    } else {
      m.atomic.val = val;  // same offset as pat_index.val
    }
    return call(DRM_IOCTL_XE_MADVISE, m);
  }
  // The two-call query over [start, start + range): the count call, then the
  // fill call (both redone after -ENOSPC).
  std::vector<drm_xe_mem_range_attr> query(std::uint64_t start, std::uint64_t range, int* rc) {
    for (int round = 0; round < 4; ++round) {
      drm_xe_vm_query_mem_range_attr q{};
      q.vm_id = vm_;
      q.start = start;
      q.range = range;
      *rc = call_inout(q);
      if (*rc != 0) return {};
      std::vector<drm_xe_mem_range_attr> out(q.num_mem_ranges);
      if (out.empty()) return out;
      q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
      q.vector_of_mem_attr = reinterpret_cast<std::uintptr_t>(out.data());
      *rc = call_inout(q);
      if (*rc == -ENOSPC) continue;
      out.resize(*rc == 0 ? q.num_mem_ranges : 0);
      return out;
    }
    return {};
  }
  std::uint64_t vm_stats_rollbacks() {
    drm_sim_vm_stats st{};
    st.vm_id = vm_;
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_SIM_VM_STATS, &st), 0);
    return st.bind_rollbacks;
  }
  // One batch of accesses (vm 0 = the CPU); fills the results back.
  int access(std::uint32_t vm, std::vector<drm_sim_mem_access>& acc) {
    drm_sim_mem_access_batch b{};
    b.vm_id = vm;
    b.num = static_cast<std::uint32_t>(acc.size());
    b.accesses = reinterpret_cast<std::uintptr_t>(acc.data());
    return call(DRM_IOCTL_SIM_MEM_ACCESS, b);
  }

  // Every VMA record: bounds, kind, BO, flags, PTE tiles, attributes.
  std::string vma_records() {
    std::string s;
    char buf[256];
    for (const Vma& v : file_->vm(vm_)->vmas()) {
      std::snprintf(buf, sizeof buf,
                    "vma [0x%" PRIx64 ",0x%" PRIx64 ") %s bo=%u off=0x%" PRIx64
                    " flags=0x%x ptes=0x%x loc=%d/%u/%u atomic=%u pat=%u purge=%u/%u\n",
                    v.start, v.end, to_string(v.kind), v.bo, v.offset, v.flags, v.pte_tiles,
                    v.attrs.devmem_fd, v.attrs.region_instance, v.attrs.migration_policy,
                    v.attrs.atomic, v.attrs.pat, v.attrs.purgeable, v.attrs.purged);
      s += buf;
    }
    return s;
  }

  // Everything the interrupted runs must reproduce.
  std::string state() {
    std::string s = vma_records();
    char buf[256];
    int rc = 0;
    for (const drm_xe_mem_range_attr& a : query(0, 1ull << 40, &rc)) {
      std::snprintf(buf, sizeof buf, "attr [0x%llx,0x%llx) loc=%d atomic=%u pat=%u\n",
                    static_cast<unsigned long long>(a.start),
                    static_cast<unsigned long long>(a.end), a.preferred_mem_loc.devmem_fd,
                    a.atomic.val, a.pat_index.val);
      s += buf;
    }
    s += "query rc=" + std::to_string(rc) + "\n";
    for (const VaRange& r : file_->svm().gpu_ranges(vm_)) {
      std::snprintf(buf, sizeof buf, "gpu range [0x%" PRIx64 ",0x%" PRIx64 ")\n", r.lo(), r.hi());
      s += buf;
    }
    if (cpu_mapped_) {
      // Residency per page (run-length encoded), then every page's bytes.
      std::string run;
      std::uint64_t run_start = kCpu;
      for (std::uint64_t a = kCpu; a <= kCpu + kCpuSize; a += kPage) {
        std::string where = "end";
        if (a < kCpu + kCpuSize) {
          const auto p = file_->svm().page_info(a);
          where = !p ? "unmapped" : p->in_vram ? "vram" + std::to_string(p->tile) : "sys";
        }
        if (where != run) {
          if (!run.empty()) {
            std::snprintf(buf, sizeof buf, "pages [0x%" PRIx64 ",0x%" PRIx64 ") %s\n", run_start, a,
                          run.c_str());
            s += buf;
          }
          run = where;
          run_start = a;
        }
      }
      s += "contents " + contents_hash() + "\n";
    }
    return s;
  }
  void set_cpu_mapped() { cpu_mapped_ = true; }

 private:
  // A query call whose output is copied back; -EINTR restarts it.
  int call_inout(drm_xe_vm_query_mem_range_attr& q) {
    std::vector<unsigned char> bytes(sizeof q);
    for (int attempt = 0; attempt < 64; ++attempt) {
      std::memcpy(bytes.data(), &q, sizeof q);
      const int rc = drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, bytes.data());
      if (rc == -EINTR) {
        ++eintr;
        continue;
      }
      std::memcpy(&q, bytes.data(), sizeof q);
      return rc;
    }
    return -EINTR;
  }
  // FNV-1a over every page's bytes, read by the CPU (after the residency
  // was recorded: the reads migrate VRAM pages home).
  std::string contents_hash() {
    const std::size_t n = kCpuSize / kPage;
    std::vector<unsigned char> bytes(kCpuSize);
    std::vector<drm_sim_mem_access> r(n);
    for (std::size_t i = 0; i < n; ++i) {
      r[i].addr = kCpu + i * kPage;
      r[i].size = kPage;
      r[i].op = DRM_SIM_ACCESS_READ;
      r[i].data = reinterpret_cast<std::uintptr_t>(bytes.data() + i * kPage);
    }
    drm_sim_mem_access_batch b{};
    b.num = static_cast<std::uint32_t>(n);
    b.accesses = reinterpret_cast<std::uintptr_t>(r.data());
    if (drm_sim_ioctl(fd_, DRM_IOCTL_SIM_MEM_ACCESS, &b) != 0) return "unreadable";
    std::uint64_t h = 1469598103934665603ull;
    for (const unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%016" PRIx64, h);
    return buf;
  }

  int fd_ = -1;
  std::shared_ptr<DrmFile> file_;
  std::uint32_t vm_ = 0;
  bool cpu_mapped_ = false;
};

drm_xe_vm_bind_op map_bo(std::uint32_t handle, std::uint64_t addr, std::uint64_t range,
                         std::uint64_t offset = 0) {
  drm_xe_vm_bind_op o{};
  o.obj = handle;
  o.obj_offset = offset;
  o.addr = addr;
  o.range = range;
  o.op = DRM_XE_VM_BIND_OP_MAP;
  return o;
}
drm_xe_vm_bind_op map_null(std::uint64_t addr, std::uint64_t range) {
  drm_xe_vm_bind_op o{};
  o.addr = addr;
  o.range = range;
  o.op = DRM_XE_VM_BIND_OP_MAP;
  o.flags = DRM_XE_VM_BIND_FLAG_NULL;
  return o;
}
drm_xe_vm_bind_op map_mirror(std::uint64_t addr, std::uint64_t range) {
  drm_xe_vm_bind_op o{};
  o.addr = addr;
  o.range = range;
  o.op = DRM_XE_VM_BIND_OP_MAP;
  o.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
  return o;
}
drm_xe_vm_bind_op unmap(std::uint64_t addr, std::uint64_t range) {
  drm_xe_vm_bind_op o{};
  o.addr = addr;
  o.range = range;
  o.op = DRM_XE_VM_BIND_OP_UNMAP;
  return o;
}
drm_xe_vm_bind_op prefetch(std::uint64_t addr, std::uint64_t range, std::uint32_t region) {
  drm_xe_vm_bind_op o{};
  o.addr = addr;
  o.range = range;
  o.op = DRM_XE_VM_BIND_OP_PREFETCH;
  o.prefetch_mem_region_instance = region;
  return o;
}

// Writes a recognisable 64-byte pattern (seed, page) at the start of each
// page of [addr, addr + size), as one batch by `vm` (0 = the CPU).
int write_pages(World& w, std::uint32_t vm, std::uint64_t addr, std::uint64_t size,
                std::uint8_t seed) {
  const std::size_t n = size / kPage;
  static thread_local std::vector<std::vector<unsigned char>> payload;
  payload.assign(n, std::vector<unsigned char>(64));
  std::vector<drm_sim_mem_access> acc(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t b = 0; b < 64; ++b) payload[i][b] = static_cast<unsigned char>(seed + i + b);
    acc[i].addr = addr + i * kPage;
    acc[i].size = 64;
    acc[i].op = DRM_SIM_ACCESS_WRITE;
    acc[i].data = reinterpret_cast<std::uintptr_t>(payload[i].data());
  }
  return w.access(vm, acc);
}
// One GPU atomic add per call (so a restart repeats only the access that
// did not run).
int atomic_add(World& w, std::uint64_t addr, std::uint64_t value) {
  std::vector<drm_sim_mem_access> acc(1);
  acc[0].addr = addr;
  acc[0].size = 8;
  acc[0].op = DRM_SIM_ACCESS_ATOMIC;
  acc[0].value = value;
  return w.access(w.vm(), acc);
}

// --- the scenario suite -------------------------------------------------------

struct Scenario {
  const char* name;
  const char* profile;
  std::function<void(World&)> setup;  // not interrupted
  std::function<void(World&)> ops;    // every ioctl here may be interrupted; EXPECTs rc 0
};

// A mirror VMA over the CPU mapping, with content written by the CPU.
void mirror_with_content(World& w) {
  ASSERT_EQ(w.cpu_mmap(kCpu, kCpuSize), 0);
  w.set_cpu_mapped();
  ASSERT_EQ(w.bind({map_mirror(kCpu, kCpuSize)}), 0);
  ASSERT_EQ(write_pages(w, 0, kCpu, kCpuSize, 7), 0);
}
// Two BOs (system + VRAM placement) mapped next to each other, a NULL VMA.
void bos_and_null(World& w) {
  const std::uint32_t a = w.create_bo(16 * kPage, 1u | (1u << kVramRegion));
  const std::uint32_t b = w.create_bo(16 * kPage, 1u | (1u << kVramRegion));
  ASSERT_EQ(w.bind({map_bo(a, kBoVa, 16 * kPage)}), 0);
  ASSERT_EQ(w.bind({map_bo(b, kBoVa + 16 * kPage, 16 * kPage)}), 0);
  ASSERT_EQ(w.bind({map_null(kBoVa + 32 * kPage, 16 * kPage)}), 0);
}

std::vector<Scenario> scenarios() {
  std::vector<Scenario> s;
  s.push_back({"BindArrayOfBosUnmapAndNull", "b580", bos_and_null, [](World& w) {
                 // Remap BO a in the middle, map BO b twice, punch the NULL VMA.
                 EXPECT_EQ(w.bind({map_bo(w.bos[1], kBoVa + 4 * kPage, 4 * kPage, 8 * kPage),
                                   unmap(kBoVa + 36 * kPage, 4 * kPage),
                                   map_bo(w.bos[0], kBoVa + 64 * kPage, 8 * kPage),
                                   map_null(kBoVa + 12 * kPage, 8 * kPage)}),
                           0);
               }});
  s.push_back({"BindArrayMapMirrorThenPrefetchToVram", "small",
               [](World& w) {
                 ASSERT_EQ(w.cpu_mmap(kCpu, kCpuSize), 0);
                 w.set_cpu_mapped();
                 ASSERT_EQ(write_pages(w, 0, kCpu, kCpuSize, 3), 0);
               },
               [](World& w) {
                 EXPECT_EQ(w.bind({map_mirror(kCpu, kCpuSize),
                                   prefetch(kCpu + kMiB, 2 * kMiB + 64 * kPage, kVramRegion)}),
                           0);
               }});
  s.push_back(
      {"MadvisePreferredLocSplitsPopulatedMirror", "small", mirror_with_content, [](World& w) {
         EXPECT_EQ(w.bind({prefetch(kCpu, kCpuSize, kVramRegion)}), 0);
         EXPECT_EQ(w.madvise(kCpu + kMiB + 8 * kPage, kMiB, DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC,
                             static_cast<std::uint32_t>(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM)),
                   0);
       }});
  s.push_back({"MadviseAtomicOverBosAndMirror", "small",
               [](World& w) {
                 mirror_with_content(w);
                 bos_and_null(w);
               },
               [](World& w) {
                 EXPECT_EQ(w.madvise(kCpu + 16 * kPage, 32 * kPage, DRM_XE_MEM_RANGE_ATTR_ATOMIC,
                                     DRM_XE_ATOMIC_DEVICE),
                           0);
                 EXPECT_EQ(w.madvise(kBoVa + 8 * kPage, 32 * kPage, DRM_XE_MEM_RANGE_ATTR_ATOMIC,
                                     DRM_XE_ATOMIC_GLOBAL),
                           0);
               }});
  s.push_back(
      {"MadvisePatOverEveryKind", "small",
       [](World& w) {
         mirror_with_content(w);
         bos_and_null(w);
       },
       [](World& w) {
         EXPECT_EQ(w.madvise(kCpu + kCpuSize - 8 * kPage, 8 * kPage, DRM_XE_MEM_RANGE_ATTR_PAT, 2),
                   0);
         EXPECT_EQ(w.madvise(kBoVa + 4 * kPage, 40 * kPage, DRM_XE_MEM_RANGE_ATTR_PAT, 2), 0);
       }});
  s.push_back({"MadvisePurgeableDontneedThenWillneed", "b580-uapi71", bos_and_null, [](World& w) {
                 std::uint32_t retained = 0;
                 EXPECT_EQ(w.madvise(kBoVa, 32 * kPage, DRM_XE_VMA_ATTR_PURGEABLE_STATE,
                                     DRM_XE_VMA_PURGEABLE_STATE_DONTNEED, &retained),
                           0);
                 EXPECT_EQ(retained, 1u);
                 retained = 0;
                 EXPECT_EQ(w.madvise(kBoVa, 16 * kPage, DRM_XE_VMA_ATTR_PURGEABLE_STATE,
                                     DRM_XE_VMA_PURGEABLE_STATE_WILLNEED, &retained),
                           0);
               }});
  s.push_back({"TwoCallQuery", "b580", bos_and_null, [](World& w) {
                 int rc = -1;
                 const auto attrs = w.query(kBoVa, 64 * kPage, &rc);
                 EXPECT_EQ(rc, 0);
                 EXPECT_EQ(attrs.size(), 3u);
               }});
  s.push_back({"PrefetchToVramThenToSystem", "small", mirror_with_content, [](World& w) {
                 EXPECT_EQ(w.bind({prefetch(kCpu, 3 * kMiB, kVramRegion)}), 0);
                 EXPECT_EQ(w.bind({prefetch(kCpu + kMiB, kMiB, 0)}), 0);
               }});
  s.push_back(
      {"GpuFaultsMigrateThenCpuTouchesAndAtomics", "small", mirror_with_content, [](World& w) {
         // GPU writes fault pages into VRAM (DEFAULT_DEVICE), CPU
         // writes migrate some back, DEFAULT_SYSTEM makes the GPU
         // move others home, atomics fault into VRAM again.
         EXPECT_EQ(write_pages(w, w.vm(), kCpu, 2 * kMiB + 8 * kPage, 11), 0);
         EXPECT_EQ(write_pages(w, 0, kCpu + 16 * kPage, 4 * kPage, 13), 0);
         EXPECT_EQ(w.madvise(kCpu + kMiB, kMiB, DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC,
                             static_cast<std::uint32_t>(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM)),
                   0);
         EXPECT_EQ(write_pages(w, w.vm(), kCpu + kMiB, 8 * kPage, 17), 0);
         EXPECT_EQ(atomic_add(w, kCpu + kMiB + 64, 5), 0);
         EXPECT_EQ(atomic_add(w, kCpu + 3 * kMiB + 8, 9), 0);
       }});
  return s;
}

struct Outcome {
  std::string state;
  std::uint64_t waits = 0;
  std::uint64_t eintr = 0;
  std::uint64_t signals = 0;
};

// One run of `sc` on a fresh device; arm() is called after the setup.
Outcome run(const Scenario& sc, const std::function<void(FaultPlan&)>& arm) {
  World w(sc.profile);
  sc.setup(w);
  const std::uint64_t waits_before = w.plan().waits();
  arm(w.plan());
  sc.ops(w);
  Outcome r;
  r.waits = w.plan().waits() - waits_before;
  r.eintr = w.eintr;
  r.signals = w.plan().signals_delivered();
  w.plan().clear();
  r.state = w.state();
  return r;
}

class InterruptExhaustiveTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(InterruptExhaustiveTest, EveryWaitInterruptedAndRestartedReachesTheUninterruptedState) {
  const Scenario& sc = GetParam();
  // given the uninterrupted run
  const Outcome ref = run(sc, [](FaultPlan&) {});
  ASSERT_EQ(ref.eintr, 0u);
  ASSERT_GT(ref.waits, 0u) << "a scenario without waits tests nothing";
  std::uint64_t nonfatal_interrupted = 0;
  for (const bool fatal : {true, false}) {
    for (std::uint64_t k = 1; k <= ref.waits; ++k) {
      SCOPED_TRACE(std::string(fatal ? "fatal" : "non-fatal") + " signal at wait " +
                   std::to_string(k) + " of " + std::to_string(ref.waits));
      // when wait k gets the signal and every -EINTR is restarted
      const Outcome r = run(sc, [&](FaultPlan& p) { p.signal_at_wait(k, fatal); });
      // then the signal was delivered, and the state is the uninterrupted one
      EXPECT_EQ(r.signals, 1u);
      if (fatal) {
        EXPECT_GE(r.eintr, 1u) << "a fatal signal interrupts every wait kind counted";
      }
      if (!fatal && r.eintr > 0) ++nonfatal_interrupted;
      EXPECT_EQ(r.state, ref.state);
      if (r.state != ref.state) return;  // one diff is enough to read
    }
  }
  // Every scenario has interruptible waits (BO locks, notifier lock, query's
  // read lock or a migration copy): some non-fatal signal must have hit one.
  EXPECT_GT(nonfatal_interrupted, 0u);
}

TEST_P(InterruptExhaustiveTest, RandomSignalsWithRestartsReachTheUninterruptedState) {
  const Scenario& sc = GetParam();
  const Outcome ref = run(sc, [](FaultPlan&) {});
  std::uint64_t interrupted = 0;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    for (const bool fatal : {true, false}) {
      SCOPED_TRACE("seed " + std::to_string(seed) + (fatal ? " fatal" : " non-fatal"));
      const Outcome r = run(sc, [&](FaultPlan& p) { p.signal_random(0.3, seed, fatal); });
      interrupted += r.eintr;
      EXPECT_EQ(r.state, ref.state);
    }
  }
  EXPECT_GT(interrupted, 0u);
}

INSTANTIATE_TEST_SUITE_P(Scenarios, InterruptExhaustiveTest, ::testing::ValuesIn(scenarios()),
                         [](const ::testing::TestParamInfo<Scenario>& i) { return i.param.name; });

// --- the random plan ----------------------------------------------------------------

TEST(RandomSignalPlanTest, DecisionsArePureFunctionsOfSeedAndWait) {
  // given two seeds over 4,000 waits at p = 0.25
  std::string a;
  std::string a_again;
  std::string b;
  std::uint64_t fired = 0;
  for (std::uint64_t n = 1; n <= 4000; ++n) {
    const bool x = FaultPlan::random_fires(42, n, 250'000);
    a += x ? '1' : '0';
    a_again += FaultPlan::random_fires(42, n, 250'000) ? '1' : '0';
    b += FaultPlan::random_fires(43, n, 250'000) ? '1' : '0';
    fired += x ? 1 : 0;
  }
  // then the same seed gives the same pattern, another seed another one,
  // and the rate is near p (±4 sigma)
  EXPECT_EQ(a, a_again);
  EXPECT_NE(a, b);
  EXPECT_NEAR(static_cast<double>(fired), 1000.0, 4 * 27.4);
  EXPECT_FALSE(FaultPlan::random_fires(42, 1, 0));
  EXPECT_TRUE(FaultPlan::random_fires(42, 1, FaultPlan::kPpmOne));
}

// The return codes of the same calls under the same seed, through the uapi.
std::vector<int> random_run_through_uapi(std::uint64_t seed) {
  World w("b580");
  bos_and_null(w);
  drm_sim_fault_inject f{};
  f.op = DRM_SIM_FAULT_SIGNAL_RANDOM;
  f.n = seed;
  f.probability_ppm = 400'000;
  EXPECT_EQ(drm_sim_ioctl(w.fd(), DRM_IOCTL_SIM_FAULT_INJECT, &f), 0);
  std::vector<int> rcs;
  for (int i = 0; i < 40; ++i) {
    drm_xe_madvise m{};
    m.vm_id = w.vm();
    m.start = kBoVa;
    m.range = 48 * kPage;
    m.type = DRM_XE_MEM_RANGE_ATTR_PAT;
    m.pat_index.val = static_cast<std::uint32_t>(i % 3);
    rcs.push_back(drm_sim_ioctl(w.fd(), DRM_IOCTL_XE_MADVISE, &m));
  }
  return rcs;
}

TEST(RandomSignalPlanTest, FaultInjectArmsAReproducibleRandomPlan) {
  // when the same 40 madvise calls run twice under seed 9 and once under seed 10
  const std::vector<int> a = random_run_through_uapi(9);
  const std::vector<int> again = random_run_through_uapi(9);
  const std::vector<int> other = random_run_through_uapi(10);
  // then seed 9 interrupts the same calls both times, some but not all
  EXPECT_EQ(a, again);
  EXPECT_NE(a, other);
  const auto eintr = std::count(a.begin(), a.end(), -EINTR);
  EXPECT_GT(eintr, 0);
  EXPECT_LT(eintr, 40);
  for (const int rc : a) EXPECT_TRUE(rc == 0 || rc == -EINTR) << rc;
}

TEST(FaultInjectUapiTest, NewFieldsAreCheckedAndOldCallersStillWork) {
  World w("b580");
  auto inject = [&](std::uint32_t op, std::uint64_t n, std::uint32_t ppm, std::uint32_t signo,
                    std::uint32_t flags = 0, std::uint64_t reserved = 0) {
    drm_sim_fault_inject f{};
    f.op = op;
    f.n = n;
    f.probability_ppm = ppm;
    f.signo = signo;
    f.flags = flags;
    f.reserved = reserved;
    return drm_sim_ioctl(w.fd(), DRM_IOCTL_SIM_FAULT_INJECT, &f);
  };
  EXPECT_EQ(inject(DRM_SIM_FAULT_SIGNAL_AT_WAIT, 1, 0, 0), 0);  // zeroed new fields: as before
  EXPECT_EQ(w.plan().signal_number(), SIGINT);
  EXPECT_EQ(inject(DRM_SIM_FAULT_SIGNAL_AT_WAIT, 1, 0, SIGUSR1), 0);
  EXPECT_EQ(w.plan().signal_number(), SIGUSR1);
  EXPECT_EQ(inject(DRM_SIM_FAULT_SIGNAL_AT_WAIT, 1, 5, 0), -EINVAL);  // ppm: RANDOM only
  EXPECT_EQ(inject(DRM_SIM_FAULT_SIGNAL_RANDOM, 1, FaultPlan::kPpmOne + 1, 0), -EINVAL);
  EXPECT_EQ(inject(DRM_SIM_FAULT_SIGNAL_RANDOM, 1, 10, 1000), -EINVAL);   // no such signal
  EXPECT_EQ(inject(DRM_SIM_FAULT_FAIL_ALLOC_AT, 1, 0, SIGINT), -EINVAL);  // signo: signal ops
  EXPECT_EQ(inject(DRM_SIM_FAULT_CLEAR, 0, 0, 0, 0, 1), -EINVAL);         // reserved MBZ
  EXPECT_EQ(inject(DRM_SIM_FAULT_SET_SIGNAL_RETURN, 2, 0, 0), -EINVAL);
  EXPECT_EQ(inject(DRM_SIM_FAULT_SET_SIGNAL_RETURN, DRM_SIM_SIGNAL_RETURN_ERESTARTSYS, 0, 0), 0);
  EXPECT_EQ(w.device().signal_return(), SignalReturn::kRestartSys);
  EXPECT_EQ(inject(DRM_SIM_FAULT_SET_SIGNAL_RETURN, DRM_SIM_SIGNAL_RETURN_EINTR, 0, 0), 0);
  EXPECT_EQ(w.device().signal_return(), SignalReturn::kEintr);
  EXPECT_EQ(inject(DRM_SIM_FAULT_REAL_SIGNALS, 0, 0, 0, DRM_SIM_FAULT_FLAG_FATAL), 0);
  EXPECT_TRUE(w.plan().real_signals_fatal());
  EXPECT_EQ(inject(DRM_SIM_FAULT_REAL_SIGNALS, 0, 0, 0), 0);
  EXPECT_FALSE(w.plan().real_signals_fatal());
  EXPECT_EQ(inject(7, 0, 0, 0), -EINVAL);
}

// --- wait kinds -------------------------------------------------------------------------

// madvise of PAT over a NULL VMA: its only wait is the killable VM lock.
int pat_over_null(World& w) {
  drm_xe_madvise m{};
  m.vm_id = w.vm();
  m.start = kBoVa + 32 * kPage;
  m.range = 4 * kPage;
  m.type = DRM_XE_MEM_RANGE_ATTR_PAT;
  m.pat_index.val = 2;
  return drm_sim_ioctl(w.fd(), DRM_IOCTL_XE_MADVISE, &m);
}

TEST(WaitKindTest, AFatalSignalInterruptsTheKillableVmLock) {
  World w("b580");
  bos_and_null(w);
  const std::uint64_t before = w.plan().waits();
  w.plan().signal_at_wait(1, true);
  EXPECT_EQ(pat_over_null(w), -EINTR);
  EXPECT_EQ(w.plan().waits() - before, 1u);
}

TEST(WaitKindTest, ANonFatalSignalDoesNotInterruptTheKillableVmLock) {
  World w("b580");
  bos_and_null(w);
  const std::uint64_t before = w.plan().waits();
  w.plan().signal_at_wait(1, false);
  EXPECT_EQ(pat_over_null(w), 0);
  EXPECT_EQ(w.plan().waits() - before, 1u);
  EXPECT_EQ(w.plan().signals_delivered(), 1u);
}

TEST(WaitKindTest, ANonFatalSignalInterruptsTheMigrationCopyOfAPrefetch) {
  World w("small");
  mirror_with_content(w);
  w.plan().signal_at_wait(2, false);  // wait 1: the VM lock (killable); 2: the first copy
  drm_xe_vm_bind b{};
  b.vm_id = w.vm();
  b.num_binds = 1;
  b.bind = prefetch(kCpu, kMiB, kVramRegion);
  EXPECT_EQ(drm_sim_ioctl(w.fd(), DRM_IOCTL_XE_VM_BIND, &b), -EINTR);
  EXPECT_FALSE(w.device().memory().stats().migrations_to_vram > 0);
  EXPECT_EQ(drm_sim_ioctl(w.fd(), DRM_IOCTL_XE_VM_BIND, &b), 0);  // the restart lands
  EXPECT_GT(w.device().memory().stats().migrations_to_vram, 0u);
}

// --- -ERESTARTSYS with injected signals ---------------------------------------------------

void noop_handler(int) {}

// Installs a handler for signo (with or without SA_RESTART) for the scope.
class ScopedHandler {
 public:
  ScopedHandler(int signo, bool restart) : signo_(signo) {
    struct sigaction sa {};
    sa.sa_handler = noop_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(signo, &sa, &old_);
  }
  ~ScopedHandler() { sigaction(signo_, &old_, nullptr); }
  ScopedHandler(const ScopedHandler&) = delete;
  ScopedHandler& operator=(const ScopedHandler&) = delete;

 private:
  int signo_;
  struct sigaction old_ {};
};

// A madvise over two BOs: wait 2 (the first BO lock) is interruptible.
struct RestartOutcome {
  int rc;
  std::uint64_t restarts;
  std::string state;
};
RestartOutcome madvise_with_signal_at_bo_lock(SignalReturn mode, int signo, bool fatal) {
  World w("b580");
  bos_and_null(w);
  w.device().set_signal_return(mode);
  w.plan().set_signal_number(signo);
  w.plan().signal_at_wait(2, fatal);
  drm_xe_madvise m{};
  m.vm_id = w.vm();
  m.start = kBoVa;
  m.range = 32 * kPage;
  m.type = DRM_XE_MEM_RANGE_ATTR_PAT;
  m.pat_index.val = 2;
  const int rc = drm_sim_ioctl(w.fd(), DRM_IOCTL_XE_MADVISE, &m);
  return {rc, w.plan().transparent_restarts(), w.state()};
}

std::string pat_advised_state() {
  World w("b580");
  bos_and_null(w);
  EXPECT_EQ(w.madvise(kBoVa, 32 * kPage, DRM_XE_MEM_RANGE_ATTR_PAT, 2), 0);
  return w.state();
}

TEST(RestartSysTest, SaRestartHandlerRestartsTheIoctlTransparently) {
  ScopedHandler h(SIGUSR1, true);
  const RestartOutcome o =
      madvise_with_signal_at_bo_lock(SignalReturn::kRestartSys, SIGUSR1, false);
  EXPECT_EQ(o.rc, 0);
  EXPECT_EQ(o.restarts, 1u);
  EXPECT_EQ(o.state, pat_advised_state());
}

TEST(RestartSysTest, HandlerWithoutSaRestartGetsEintr) {
  ScopedHandler h(SIGUSR1, false);
  const RestartOutcome o =
      madvise_with_signal_at_bo_lock(SignalReturn::kRestartSys, SIGUSR1, false);
  EXPECT_EQ(o.rc, -EINTR);
  EXPECT_EQ(o.restarts, 0u);
}

TEST(RestartSysTest, DefaultSigintModelHasNoSaRestart) {
  // SIGINT's disposition in the test process is the default one.
  struct sigaction cur {};
  sigaction(SIGINT, nullptr, &cur);
  ASSERT_EQ(cur.sa_handler, SIG_DFL);
  const RestartOutcome o = madvise_with_signal_at_bo_lock(SignalReturn::kRestartSys, SIGINT, false);
  EXPECT_EQ(o.rc, -EINTR);
}

TEST(RestartSysTest, FatalSignalIsNeverRestarted) {
  ScopedHandler h(SIGUSR1, true);
  const RestartOutcome o = madvise_with_signal_at_bo_lock(SignalReturn::kRestartSys, SIGUSR1, true);
  EXPECT_EQ(o.rc, -EINTR);
  EXPECT_EQ(o.restarts, 0u);
}

TEST(RestartSysTest, UpstreamEintrModeIgnoresSaRestart) {
  ScopedHandler h(SIGUSR1, true);
  const RestartOutcome o = madvise_with_signal_at_bo_lock(SignalReturn::kEintr, SIGUSR1, false);
  EXPECT_EQ(o.rc, -EINTR);
  EXPECT_EQ(o.restarts, 0u);
}

TEST(RestartSysTest, BindArrayRestartedTransparentlyEqualsAnUninterruptedOne) {
  ScopedHandler h(SIGUSR2, true);
  auto array = [](World& w) {
    return w.bind({map_bo(w.bos[1], kBoVa + 4 * kPage, 4 * kPage), map_null(kBoVa, 2 * kPage),
                   unmap(kBoVa + 40 * kPage, 2 * kPage)});
  };
  World ref("b580");
  bos_and_null(ref);
  ASSERT_EQ(array(ref), 0);
  World w("b580");
  bos_and_null(w);
  // through the uapi: the mode, then a signal at wait 2 (the BO lock; 1 is the VM lock)
  drm_sim_fault_inject f{};
  f.op = DRM_SIM_FAULT_SET_SIGNAL_RETURN;
  f.n = DRM_SIM_SIGNAL_RETURN_ERESTARTSYS;
  ASSERT_EQ(drm_sim_ioctl(w.fd(), DRM_IOCTL_SIM_FAULT_INJECT, &f), 0);
  f = {};
  f.op = DRM_SIM_FAULT_SIGNAL_AT_WAIT;
  f.n = 2;
  f.signo = SIGUSR2;
  ASSERT_EQ(drm_sim_ioctl(w.fd(), DRM_IOCTL_SIM_FAULT_INJECT, &f), 0);
  EXPECT_EQ(array(w), 0);
  EXPECT_EQ(w.eintr, 0u);  // the caller never saw the interruption
  EXPECT_EQ(w.plan().transparent_restarts(), 1u);
  EXPECT_EQ(w.vm_stats_rollbacks(), 0u);  // the BO locks come before any op
  EXPECT_EQ(w.state(), ref.state());
}

}  // namespace
}  // namespace drm_sim
