// Exhaustive interruption through the UMD (issue 5): each scenario — a bind
// array, madvise through the compute runtime's mapping (preferred location,
// atomics, PAT), the two-call query, PREFETCH, GPU accesses that fault and
// migrate and CPU accesses that migrate back — runs once uninterrupted to
// count the simulator's killable and interruptible waits and record the final
// state (VMA records and attributes, the UMD's query, GPU ranges, residency of
// every page, every page's bytes). Then for each wait k, each signal kind
// (fatal, non-fatal) and each UMD restart policy, a fresh device runs it with
// wait k interrupted:
//   - libdrm: the UMD restarts -EINTR by itself;
//   - bounded: the UMD restarts at most twice (one signal needs one);
//   - raw: kInterrupted reaches the caller, which repeats the UMD call (as
//     an application would).
// The final state must equal the uninterrupted run's every time, and the
// policy's counters must show the interruption where one surfaced.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drm_sim/ioctl/fd_table.h"
#include "umd/objects/buffer_object.h"
#include "umd/objects/mem_advice.h"
#include "umd/objects/svm_allocation.h"
#include "umd_test_util.h"

namespace umd_test {
namespace {

constexpr std::uint64_t kCpu = 64 * kMiB;  // CPU mapping, mirrored
constexpr std::uint64_t kCpuSize = 4 * kMiB;
constexpr std::uint64_t kBoVa = 512 * kMiB;
constexpr std::uint32_t kVram = 1;  // region instance of tile 0's VRAM

RestartOptions options(RestartPolicy p) {
  RestartOptions o;
  o.policy = p;
  o.max_restarts = 2;
  o.initial_backoff = std::chrono::microseconds(1);
  o.max_backoff = std::chrono::microseconds(1);
  return o;
}

// A UMD device on a fresh simulated `small` device (real page contents), a
// fault-mode VM, an SVM allocation over the CPU mapping and two BOs.
class Rig {
 public:
  explicit Rig(RestartPolicy policy) : policy_(policy) {
    auto dev = Device::open_profile("small", options(policy));
    EXPECT_TRUE(dev.has_value()) << to_string(dev.result());
    dev_ = std::move(*dev);
    auto vm = Vm::create(*dev_);
    EXPECT_TRUE(vm.has_value());
    vm_ = std::move(*vm);
    file_ = drm_sim::file_from_fd(dev_->fd());
    drm_sim_cpu_mmap m{};  // the simulated process's pages (a test hook)
    m.addr = kCpu;
    m.size = kCpuSize;
    EXPECT_EQ(drm_sim_ioctl(dev_->fd(), DRM_IOCTL_SIM_CPU_MMAP, &m), 0);
    auto svm = SvmAllocation::adopt(*vm_, GpuRange{kCpu, kCpuSize});
    EXPECT_TRUE(svm.has_value());
    svm_.emplace(std::move(*svm));
    for (int i = 0; i < 2; ++i) {
      GemCreateDesc d;
      d.size = 16 * kPage;
      d.placement = region_bit(0) | region_bit(kVram);
      auto bo = BufferObject::create(*dev_, d);
      EXPECT_TRUE(bo.has_value());
      bos_.push_back(std::move(*bo));
    }
    EXPECT_EQ(write_pages(0, kCpu, kCpuSize, 5), Result::kSuccess);
    dev_->kmd().reset_counters();
  }

  Vm& vm() { return *vm_; }
  Device& device() { return *dev_; }
  SvmAllocation& svm() { return *svm_; }
  std::uint32_t bo(int i) const { return bos_[static_cast<std::size_t>(i)].handle(); }
  drm_sim::FaultPlan& plan() { return file_->device().plan(); }
  std::uint64_t caller_retries = 0;  // raw policy: repeated UMD calls

  // The caller's side of a restart policy: with kRaw it repeats the UMD call
  // on kInterrupted; the other policies restart inside the UMD.
  Result run(const std::function<Result()>& op) {
    Result r = op();
    for (int i = 0; i < 16 && policy_ == RestartPolicy::kRaw && r == Result::kInterrupted; ++i) {
      ++caller_retries;
      r = op();
    }
    return r;
  }

  // A batch of 64-byte writes at the start of each page, by vm (0 = CPU),
  // through the UMD's restart loop.
  Result write_pages(std::uint32_t vm, std::uint64_t addr, std::uint64_t size, std::uint8_t seed) {
    const std::size_t n = size / kPage;
    std::vector<std::vector<unsigned char>> payload(n, std::vector<unsigned char>(64));
    std::vector<drm_sim_mem_access> acc(n);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t b = 0; b < 64; ++b) payload[i][b] = static_cast<unsigned char>(seed + i * b);
      acc[i].addr = addr + i * kPage;
      acc[i].size = 64;
      acc[i].op = DRM_SIM_ACCESS_WRITE;
      acc[i].data = reinterpret_cast<std::uintptr_t>(payload[i].data());
    }
    drm_sim_mem_access_batch b{};
    b.vm_id = vm;
    b.num = static_cast<std::uint32_t>(n);
    b.accesses = reinterpret_cast<std::uintptr_t>(acc.data());
    return dev_->call(DRM_IOCTL_SIM_MEM_ACCESS, &b);
  }

  std::string state() {
    std::string s;
    char buf[256];
    for (const drm_sim::Vma& v : file_->vm(vm_->id())->vmas()) {
      std::snprintf(buf, sizeof buf,
                    "vma [0x%" PRIx64 ",0x%" PRIx64 ") %s bo=%u off=0x%" PRIx64
                    " flags=0x%x ptes=0x%x loc=%d atomic=%u pat=%u\n",
                    v.start, v.end, drm_sim::to_string(v.kind), v.bo, v.offset, v.flags,
                    v.pte_tiles, v.attrs.devmem_fd, v.attrs.atomic, v.attrs.pat);
      s += buf;
    }
    auto q = vm_->query_mem_ranges(GpuRange{0, 1ull << 40});
    s += q ? to_string(*q) : std::string("query failed: ") + to_string(q.result());
    s += "\n";
    for (const drm_sim::VaRange& r : file_->svm().gpu_ranges(vm_->id())) {
      std::snprintf(buf, sizeof buf, "gpu [0x%" PRIx64 ",0x%" PRIx64 ")\n", r.lo(), r.hi());
      s += buf;
    }
    for (std::uint64_t a = kCpu; a < kCpu + kCpuSize; a += kPage) {
      const auto p = file_->svm().page_info(a);
      s += !p ? 'u' : p->in_vram ? 'V' : 's';
    }
    s += "\n";
    // Contents last: CPU reads migrate VRAM pages home.
    const std::size_t n = kCpuSize / kPage;
    std::vector<unsigned char> bytes(kCpuSize);
    std::vector<drm_sim_mem_access> rd(n);
    for (std::size_t i = 0; i < n; ++i) {
      rd[i].addr = kCpu + i * kPage;
      rd[i].size = kPage;
      rd[i].op = DRM_SIM_ACCESS_READ;
      rd[i].data = reinterpret_cast<std::uintptr_t>(bytes.data() + i * kPage);
    }
    drm_sim_mem_access_batch b{};
    b.num = static_cast<std::uint32_t>(n);
    b.accesses = reinterpret_cast<std::uintptr_t>(rd.data());
    EXPECT_EQ(drm_sim_ioctl(dev_->fd(), DRM_IOCTL_SIM_MEM_ACCESS, &b), 0);
    std::uint64_t h = 1469598103934665603ull;
    for (const unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
    std::snprintf(buf, sizeof buf, "contents %016" PRIx64 "\n", h);
    return s + buf;
  }

 private:
  RestartPolicy policy_;
  std::unique_ptr<Device> dev_;
  std::unique_ptr<Vm> vm_;
  std::shared_ptr<drm_sim::DrmFile> file_;
  std::optional<SvmAllocation> svm_;
  std::vector<BufferObject> bos_;
};

struct Scenario {
  const char* name;
  std::function<void(Rig&)> ops;  // EXPECTs kSuccess from every UMD call
};

BindOpDesc map_bo(std::uint32_t bo, std::uint64_t addr, std::uint64_t size) {
  BindOpDesc d;
  d.kind = BindKind::kMapBo;
  d.bo = bo;
  d.range = GpuRange{addr, size};
  return d;
}
BindOpDesc map_null(std::uint64_t addr, std::uint64_t size) {
  BindOpDesc d;
  d.kind = BindKind::kMapNull;
  d.range = GpuRange{addr, size};
  return d;
}
BindOpDesc unmap(std::uint64_t addr, std::uint64_t size) {
  BindOpDesc d;
  d.kind = BindKind::kUnmap;
  d.range = GpuRange{addr, size};
  return d;
}

std::vector<Scenario> scenarios() {
  return {
      {"BindArray",
       [](Rig& r) {
         const std::vector<BindOpDesc> ops = {
             map_bo(r.bo(0), kBoVa, 16 * kPage), map_bo(r.bo(1), kBoVa + 16 * kPage, 16 * kPage),
             map_null(kBoVa + 8 * kPage, 4 * kPage), unmap(kBoVa + 30 * kPage, kPage)};
         EXPECT_EQ(r.run([&] { return r.vm().bind(ops); }), Result::kSuccess);
       }},
      {"MadviseEachAdvice",
       [](Rig& r) {
         EXPECT_EQ(r.run([&] { return r.vm().bind(map_bo(r.bo(0), kBoVa, 16 * kPage)); }),
                   Result::kSuccess);
         const GpuRange mid{kCpu + kMiB, kMiB};
         EXPECT_EQ(
             r.run([&] { return r.svm().advise(mid, MemAdvice::kSetPreferredLocationSystem); }),
             Result::kSuccess);
         EXPECT_EQ(r.run([&] {
           return r.svm().advise(GpuRange{kCpu, 8 * kPage}, MemAdvice::kAtomicsDevice);
         }),
                   Result::kSuccess);
         EXPECT_EQ(r.run([&] {
           return r.svm().set_pat(GpuRange{kCpu + 3 * kMiB, kMiB}, 2);
         }),
                   Result::kSuccess);
         EXPECT_EQ(r.run([&] {
           return advise(r.vm(), GpuRange{kBoVa, 4 * kPage}, MemAdvice::kAtomicsSystem);
         }),
                   Result::kSuccess);
       }},
      {"Query",
       [](Rig& r) {
         EXPECT_EQ(r.run([&] {
           return r.svm().set_pat(GpuRange{kCpu + kMiB, kMiB}, 2);
         }),
                   Result::kSuccess);
         auto q = r.vm().query_mem_ranges(GpuRange{kCpu, kCpuSize});
         for (int i = 0; i < 16 && !q && q.result() == Result::kInterrupted; ++i) {
           ++r.caller_retries;
           q = r.vm().query_mem_ranges(GpuRange{kCpu, kCpuSize});
         }
         ASSERT_TRUE(q.has_value()) << to_string(q.result());
         EXPECT_EQ(q->size(), 3u);
       }},
      {"PrefetchToVramAndBack",
       [](Rig& r) {
         EXPECT_EQ(r.run([&] {
           return r.vm().prefetch(GpuRange{kCpu, 3 * kMiB}, PrefetchTarget::region(kVram));
         }),
                   Result::kSuccess);
         EXPECT_EQ(r.run([&] {
           return r.vm().prefetch(GpuRange{kCpu + 2 * kMiB, kMiB}, PrefetchTarget::region(0));
         }),
                   Result::kSuccess);
       }},
      {"GpuFaultsMigrateCpuTouchesMigrateBack",
       [](Rig& r) {
         EXPECT_EQ(r.run([&] { return r.write_pages(r.vm().id(), kCpu, 2 * kMiB + kPage, 9); }),
                   Result::kSuccess);
         EXPECT_EQ(r.run([&] { return r.write_pages(0, kCpu + kMiB, 4 * kPage, 3); }),
                   Result::kSuccess);
         EXPECT_EQ(r.run([&] {
           return r.svm().advise(GpuRange{kCpu + 3 * kMiB, kMiB},
                                 MemAdvice::kSetPreferredLocationSystem);
         }),
                   Result::kSuccess);
         EXPECT_EQ(r.run([&] { return r.write_pages(r.vm().id(), kCpu + 3 * kMiB, kMiB, 1); }),
                   Result::kSuccess);
       }},
  };
}

struct Outcome {
  std::string state;
  std::uint64_t waits = 0;
  RestartCounters counters;
  std::uint64_t caller_retries = 0;
};

Outcome run(const Scenario& sc, RestartPolicy policy, std::uint64_t k, bool fatal) {
  Rig r(policy);
  const std::uint64_t before = r.plan().waits();
  if (k != 0) r.plan().signal_at_wait(k, fatal);
  sc.ops(r);
  Outcome out;
  out.waits = r.plan().waits() - before;
  out.counters = r.device().restart_counters();
  out.caller_retries = r.caller_retries;
  r.plan().clear();
  out.state = r.state();
  return out;
}

class UmdInterruptExhaustiveTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(UmdInterruptExhaustiveTest, EveryWaitUnderEveryPolicyReachesTheUninterruptedState) {
  const Scenario& sc = GetParam();
  const Outcome ref = run(sc, RestartPolicy::kLibdrm, 0, false);
  ASSERT_EQ(ref.counters.eintr_seen, 0u);
  ASSERT_GT(ref.waits, 0u);
  for (const RestartPolicy policy :
       {RestartPolicy::kLibdrm, RestartPolicy::kBounded, RestartPolicy::kRaw}) {
    std::uint64_t surfaced = 0;
    for (const bool fatal : {true, false}) {
      for (std::uint64_t k = 1; k <= ref.waits; ++k) {
        SCOPED_TRACE(std::string(to_string(policy)) + (fatal ? ", fatal" : ", non-fatal") +
                     " signal at wait " + std::to_string(k) + " of " + std::to_string(ref.waits));
        const Outcome r = run(sc, policy, k, fatal);
        EXPECT_EQ(r.state, ref.state);
        if (r.state != ref.state) return;
        const std::uint64_t seen = r.counters.eintr_seen;
        if (fatal) {
          EXPECT_GE(seen, 1u);
        }
        if (policy == RestartPolicy::kRaw) {
          EXPECT_EQ(r.counters.restarts, 0u);  // raw never restarts...
          EXPECT_EQ(r.caller_retries, seen);   // ...the caller did, once per EINTR
        } else {
          EXPECT_EQ(r.counters.restarts, seen);
          EXPECT_EQ(r.counters.gave_up, 0u);
          EXPECT_EQ(r.caller_retries, 0u);
        }
        surfaced += seen;
      }
    }
    EXPECT_GT(surfaced, 0u) << to_string(policy);
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, UmdInterruptExhaustiveTest, ::testing::ValuesIn(scenarios()),
                         [](const ::testing::TestParamInfo<Scenario>& i) { return i.param.name; });

}  // namespace
}  // namespace umd_test
