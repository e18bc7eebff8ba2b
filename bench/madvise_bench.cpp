// drm_sim_madvise_bench — DRM_IOCTL_XE_MADVISE and the attribute query through
// drm_sim_ioctl() at 1 K, 64 K and 1 M VMAs, against the Linux kernel's own
// madvise split/merge of CPU VMAs on this machine, in the same run.
//
// Layout: VMA i is a 4-page CPU-address-mirror VMA at page 1 + 8*i (holes in
// between, so nothing merges). VMAs are visited in a fixed random order
// ("rand", the figure the targets use) or in address order ("seq").
// BM_MemoryLatency gives this machine's load latency from cache and DRAM in
// the same run, which the summary uses to explain the 1 M figures.
// Targets (issue 3): splitting madvise >= 10x faster per call than the
// kernel's at the same VMA count; 1 M within 2x of 1 K per call; <= 128
// host bytes per VMA at 1 M. The summary printed at the end checks them.
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench_summary.h"
#include "drm_sim/drm_sim.h"

namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::size_t kBatch = 4096;

std::uint64_t base_of(std::size_t i) {
  return (1 + 8 * static_cast<std::uint64_t>(i)) * kPage;
}

// Resident bytes of the process (/proc/self/statm): counts malloc's heap and
// the VMA tree's own mmapped arena alike, as the pages are touched.
std::size_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  std::size_t total = 0;
  std::size_t resident = 0;
  in >> total >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

void die(const char* what, int r) {
  std::fprintf(stderr, "madvise_bench: %s failed: %s\n", what, std::strerror(-r));
  std::exit(1);
}

// A device with one fault-mode VM holding n mirror VMAs. Each benchmark (and
// VMA order) has its own, built on first use and kept across repetitions: the
// splits and rebinds of a split benchmark change the tree's shape (a leaf split
// by more VMAs than it holds stays half full after the rebind), so a VM shared
// by all benchmarks made each figure depend on which ones the random
// interleaving had run on it before (64 K random-order split: 274 ns alone,
// 335-376 ns after the address-order split had run on the same VM).
struct Fixture {
  int fd = -1;
  std::uint32_t vm = 0;
  std::size_t n = 0;
  std::vector<std::uint32_t> rand_order;
  double resident_bytes_per_vma = 0;

  explicit Fixture(std::size_t count) : n(count) {
    fd = drm_sim_open(nullptr);
    if (fd < 0) die("drm_sim_open", fd);
    drm_xe_vm_create c{};
    c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
    if (int r = drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &c)) die("VM_CREATE", r);
    vm = c.vm_id;
    const std::size_t before = resident_bytes();
    std::vector<drm_xe_vm_bind_op> ops(1024);
    for (std::size_t i = 0; i < n; i += ops.size()) {
      const std::size_t k = std::min(ops.size(), n - i);
      for (std::size_t j = 0; j < k; ++j) ops[j] = mirror_op(i + j);
      bind(ops.data(), k);
    }
    resident_bytes_per_vma =
        static_cast<double>(resident_bytes() - before) / static_cast<double>(n);
    rand_order.resize(n);
    std::iota(rand_order.begin(), rand_order.end(), 0u);
    std::shuffle(rand_order.begin(), rand_order.end(), std::mt19937(42));
  }

  static drm_xe_vm_bind_op mirror_op(std::size_t i) {
    drm_xe_vm_bind_op o{};
    o.addr = base_of(i);
    o.range = 4 * kPage;
    o.op = DRM_XE_VM_BIND_OP_MAP;
    o.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
    return o;
  }

  void bind(drm_xe_vm_bind_op* ops, std::size_t k) {
    drm_xe_vm_bind b{};
    b.vm_id = vm;
    b.num_binds = static_cast<std::uint32_t>(k);
    if (k == 1) {
      b.bind = ops[0];
    } else {
      b.vector_of_binds = reinterpret_cast<std::uintptr_t>(ops);
    }
    if (int r = drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_BIND, &b)) die("VM_BIND", r);
  }

  // Re-binds VMAs (merging a madvise split back into one VMA).
  void restore(const std::uint32_t* idx, std::size_t k) {
    std::vector<drm_xe_vm_bind_op> ops(k);
    for (std::size_t j = 0; j < k; ++j) ops[j] = mirror_op(idx[j]);
    for (std::size_t j = 0; j < k; j += 1024)
      bind(ops.data() + j, std::min<std::size_t>(1024, k - j));
  }

  drm_sim_vm_stats stats() {
    drm_sim_vm_stats s{};
    s.vm_id = vm;
    if (int r = drm_sim_ioctl(fd, DRM_IOCTL_SIM_VM_STATS, &s)) die("SIM_VM_STATS", r);
    return s;
  }
};

// The fixture of one benchmark: which (`bench`), how many VMAs (st.range(0))
// and in which order (st.range(1)).
Fixture& fixture(const char* bench, const benchmark::State& st) {
  static std::map<std::string, std::unique_ptr<Fixture>> cache;
  const auto n = static_cast<std::size_t>(st.range(0));
  auto& f = cache[std::string(bench) + "/" + std::to_string(n) + "/" + std::to_string(st.range(1))];
  if (!f) f = std::make_unique<Fixture>(n);
  return *f;
}

int madvise_pat(Fixture& f, std::uint64_t start, std::uint64_t range, std::uint32_t pat) {
  drm_xe_madvise m{};
  m.vm_id = f.vm;
  m.start = start;
  m.range = range;
  m.type = DRM_XE_MEM_RANGE_ATTR_PAT;
  m.pat_index.val = pat;
  return drm_sim_ioctl(f.fd, DRM_IOCTL_XE_MADVISE, &m);
}

std::uint32_t pick(const Fixture& f, bool random, std::size_t k) {
  return random ? f.rand_order[k % f.n] : static_cast<std::uint32_t>(k % f.n);
}

// madvise exactly one existing VMA (no split); the PAT value alternates per
// pass so every call changes the VMA.
void BM_MadviseExactVma(benchmark::State& st) {
  Fixture& f = fixture("BM_MadviseExactVma", st);
  const bool random = st.range(1) != 0;
  std::size_t k = 0;
  for (auto _ : st) {
    const std::uint32_t i = pick(f, random, k);
    const std::uint32_t pat = static_cast<std::uint32_t>((k / f.n) & 1u) ? 0u : 1u;
    if (int r = madvise_pat(f, base_of(i), 4 * kPage, pat)) die("MADVISE", r);
    ++k;
  }
  st.counters["vmas"] = static_cast<double>(f.n);
}

// madvise the second page of a 4-page VMA: one REMAP(prev, next) + MAP, i.e.
// the VMA splits in three. One iteration is a batch of calls on distinct VMAs
// (n / 16 of them, at most kBatch), timed by hand around the calls alone;
// the VMAs are then bound back whole, untimed, so the VMA count stays between
// n and n + n / 8. (Google Benchmark's PauseTiming/ResumeTiming read the
// process CPU clock, a system call of about 0.65 us here: paused every 64
// calls they added some 40 ns to each 1 K call; and a batch of n would
// triple the 1 K VM within every batch.) The time reported per
// iteration is the batch's; `ns_per_call` and the summary divide it out.
void BM_MadviseSplit3(benchmark::State& st) {
  Fixture& f = fixture("BM_MadviseSplit3", st);
  const bool random = st.range(1) != 0;
  const std::size_t batch = std::clamp<std::size_t>(f.n / 16, 1, kBatch);
  std::vector<std::uint32_t> used(batch);
  std::size_t k = 0;
  double timed_ns = 0;
  for (auto _ : st) {
    for (std::uint32_t& i : used) i = pick(f, random, k++);
    const auto t0 = std::chrono::steady_clock::now();
    for (const std::uint32_t i : used) {
      if (int r = madvise_pat(f, base_of(i) + kPage, kPage, 1)) die("MADVISE", r);
    }
    const std::chrono::duration<double> t = std::chrono::steady_clock::now() - t0;
    st.SetIterationTime(t.count());
    timed_ns += t.count() * 1e9;
    f.restore(used.data(), used.size());
  }
  const drm_sim_vm_stats s = f.stats();
  st.counters["calls_per_iter"] = static_cast<double>(batch);
  st.counters["ns_per_call"] = timed_ns / static_cast<double>(st.iterations() * batch);
  st.counters["vmas"] = static_cast<double>(s.num_vmas);
  st.counters["tree_bytes_per_vma"] =
      static_cast<double>(s.vma_bytes) / static_cast<double>(s.num_vmas);
  st.counters["resident_bytes_per_vma"] = f.resident_bytes_per_vma;
}

// The two-call attribute query over one VMA (count, then fill).
void BM_QueryOneVma(benchmark::State& st) {
  Fixture& f = fixture("BM_QueryOneVma", st);
  const bool random = st.range(1) != 0;
  drm_xe_mem_range_attr attr{};
  std::size_t k = 0;
  for (auto _ : st) {
    const std::uint32_t i = pick(f, random, k++);
    drm_xe_vm_query_mem_range_attr q{};
    q.vm_id = f.vm;
    q.start = base_of(i);
    q.range = 4 * kPage;
    if (int r = drm_sim_ioctl(f.fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q)) die("QUERY", r);
    q.vector_of_mem_attr = reinterpret_cast<std::uintptr_t>(&attr);
    if (int r = drm_sim_ioctl(f.fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q)) die("QUERY", r);
    benchmark::DoNotOptimize(attr);
  }
}

std::size_t max_map_count() {
  std::ifstream in("/proc/sys/vm/max_map_count");
  std::size_t v = 65530;
  in >> v;
  return v;
}

// Where BM_KernelMadviseSplitMerge puts its 65,536-page mapping. The
// kernel's cost per call has two levels on this machine (6.18 guest, 60,000
// background VMAs): about 1.8-1.9 us and about 3.0-3.1 us. In a process
// that has done nothing else, the mapping gets the slow level when it
// borders the address space's largest free gap (where a fresh process's
// newest mmap lands, and where this benchmark's mapping used to land or not,
// depending on the holes earlier benchmarks had left: the 1.9-3.1 us spread
// of earlier runs) and the fast level when anything is mapped below it (one
// page will do) or when there is no background at all. In a full run, one
// repetition in five or so gets the other level whatever the placement.
// The target is read against the placement amid the background, at a fixed
// address in the middle of the largest gap; the other is printed beside it.
enum KernelPlacement : std::int64_t {
  kAmidBackground = 0,  // half the background below, half above
  kAtFreeGap = 1,       // at the top of the largest free gap, the background above it
};

// The largest gap between two mappings of this process (/proc/self/maps)
// below 2^47, where mmap places mappings without a hint (above it sits only
// [vsyscall]): [lo, hi). Zero-sized when maps cannot be read.
std::pair<std::uintptr_t, std::uintptr_t> largest_gap() {
  std::ifstream in("/proc/self/maps");
  std::pair<std::uintptr_t, std::uintptr_t> best{0, 0};
  std::uintptr_t prev_end = 0;
  std::string line;
  while (std::getline(in, line)) {
    std::uintptr_t lo = 0;
    std::uintptr_t hi = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &lo, &hi) != 2) continue;
    if (lo >= (std::uintptr_t{1} << 47)) break;
    if (prev_end != 0 && lo > prev_end && lo - prev_end > best.second - best.first) {
      best = {prev_end, lo};
    }
    prev_end = hi;
  }
  return best;
}

// The kernel's madvise on CPU VMAs: an anonymous mapping of 65,536 pages
// among `background` one-page VMAs (st.range(0)), placed as st.range(1)
// says; each iteration advises one random page MADV_RANDOM (split in three)
// then MADV_NORMAL (merge back). Reported per call (iteration time / 2).
void BM_KernelMadviseSplitMerge(benchmark::State& st) {
  const std::size_t background = static_cast<std::size_t>(st.range(0));
  const auto placement = static_cast<KernelPlacement>(st.range(1));
  if (background + 1024 > max_map_count()) {
    st.SkipWithError("vm.max_map_count too small for this many background VMAs");
    return;
  }
  constexpr std::size_t kPages = 65536;
  // One reservation: [below][main][above], background pages read-only with
  // every other one PROT_NONE so each is its own VMA; the main mapping is
  // read-write, so it merges with neither neighbour.
  const std::size_t below = placement == kAmidBackground ? background / 2 : 0;
  const std::size_t above = background - below;
  const std::size_t bytes = (below + kPages + above) * kPage;
  const auto [lo, hi] = largest_gap();
  if (hi - lo < 4 * bytes) {
    st.SkipWithError("no free gap large enough in /proc/self/maps");
    return;
  }
  constexpr std::uintptr_t kGiB = std::uintptr_t{1} << 30;
  const std::uintptr_t at =
      placement == kAtFreeGap ? hi - bytes : ((lo + (hi - lo) / 2) & ~(kGiB - 1));
  auto* region = static_cast<char*>(mmap(reinterpret_cast<void*>(at), bytes, PROT_READ,
                                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
  if (region == MAP_FAILED) {
    st.SkipWithError("mmap failed");
    return;
  }
  if (reinterpret_cast<std::uintptr_t>(region) != at) {  // a kernel older than 4.17 takes a hint
    munmap(region, bytes);
    st.SkipWithError("mmap did not honour MAP_FIXED_NOREPLACE");
    return;
  }
  char* main_map = region + below * kPage;
  bool ok = mmap(main_map, kPages * kPage, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == main_map;
  // Counted outwards from the main mapping, so its neighbours are PROT_NONE.
  for (std::size_t i = 0; ok && i < below; i += 2) {
    ok = mprotect(main_map - (i + 1) * kPage, kPage, PROT_NONE) == 0;
  }
  for (std::size_t i = 0; ok && i < above; i += 2) {
    ok = mprotect(main_map + (kPages + i) * kPage, kPage, PROT_NONE) == 0;
  }
  if (!ok) {
    munmap(region, bytes);
    st.SkipWithError("mmap/mprotect of the background failed");
    return;
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::size_t> page(0, kPages - 1);
  for (auto _ : st) {
    char* p = main_map + page(rng) * kPage;
    if (madvise(p, kPage, MADV_RANDOM) != 0 || madvise(p, kPage, MADV_NORMAL) != 0) {
      st.SkipWithError("madvise failed");
      break;
    }
  }
  st.counters["vmas"] = static_cast<double>(background + 1);
  st.counters["ns_per_call"] =
      benchmark::Counter(static_cast<double>(st.iterations()) * 2,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  munmap(region, bytes);
}

// This machine's load latency from a working set of `MiB` mebibytes: a chase
// through randomly linked cache lines (huge pages advised), 64 dependent
// loads per iteration. It explains the tree's 64 K and 1 M figures: a random
// madvise at 1 M VMAs waits on DRAM for its leaf, at 64 K on the L3.
constexpr int kLoadsPerIter = 64;  // BM_MemoryLatency's dependent loads per iteration

void BM_MemoryLatency(benchmark::State& st) {
  constexpr std::size_t kLine = 64;
  const std::size_t bytes = static_cast<std::size_t>(st.range(0)) << 20;
  const std::size_t lines = bytes / kLine;
  void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    st.SkipWithError("mmap failed");
    return;
  }
  madvise(m, bytes, MADV_HUGEPAGE);
  auto* words = static_cast<std::size_t*>(m);
  constexpr std::size_t kWordsPerLine = kLine / sizeof(std::size_t);
  std::vector<std::uint32_t> order(lines);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), std::mt19937(11));
  for (std::size_t i = 0; i < lines; ++i) {
    words[order[i] * kWordsPerLine] = order[(i + 1) % lines] * kWordsPerLine;
  }
  std::size_t at = order[0] * kWordsPerLine;
  for (std::size_t i = 0; i < lines; ++i) at = words[at];  // warm caches and TLB
  for (auto _ : st) {
    for (int i = 0; i < kLoadsPerIter; ++i) at = words[at];
  }
  benchmark::DoNotOptimize(at);
  st.counters["ns_per_load"] =
      benchmark::Counter(static_cast<double>(st.iterations()) * kLoadsPerIter,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  munmap(m, bytes);
}

constexpr std::int64_t k1K = 1024;
constexpr std::int64_t k64K = 64 * 1024;
constexpr std::int64_t k1M = 1024 * 1024;

BENCHMARK(BM_MadviseExactVma)->ArgsProduct({{k1K, k64K, k1M}, {0, 1}})->ArgNames({"vmas", "rand"});
BENCHMARK(BM_MadviseSplit3)
    ->ArgsProduct({{k1K, k64K, k1M}, {0, 1}})
    ->ArgNames({"vmas", "rand"})
    ->UseManualTime();
BENCHMARK(BM_QueryOneVma)->ArgsProduct({{k1K, k64K, k1M}, {0, 1}})->ArgNames({"vmas", "rand"});
// 1,000 background VMAs: the kernel beside the 1 K figure (amid only).
BENCHMARK(BM_KernelMadviseSplitMerge)
    ->Args({1000, kAmidBackground})
    ->Args({60000, kAmidBackground})
    ->Args({60000, kAtFreeGap})
    ->ArgNames({"background", "at_free_gap"});
BENCHMARK(BM_MemoryLatency)->Arg(1)->Arg(8)->Arg(128)->ArgName("MiB");

void print_summary(const drm_sim_bench::SummaryReporter& rep) {
  const char* split_1k_name = "BM_MadviseSplit3/vmas:1024/rand:1/manual_time";
  const char* split_64k_name = "BM_MadviseSplit3/vmas:65536/rand:1/manual_time";
  const char* split_1m_name = "BM_MadviseSplit3/vmas:1048576/rand:1/manual_time";
  const char* kernel_name = "BM_KernelMadviseSplitMerge/background:60000/at_free_gap:0";
  const char* kernel_gap_name = "BM_KernelMadviseSplitMerge/background:60000/at_free_gap:1";
  std::printf("\n== madvise summary (medians of this run, random VMA order, wall time)\n");
  // The split benchmarks time batches by hand (wall clock, see
  // BM_MadviseSplit3): their CPU-time column includes the untimed rebinds, so
  // every figure here is wall time; the noise line below says how far to
  // trust it.
  auto ns = [&](const char* name) -> double {
    const auto* r = rep.find(name);
    if (r == nullptr) return -1;
    const auto calls = r->counters.find("calls_per_iter");
    return calls == r->counters.end() ? r->ns_per_iter : r->ns_per_iter / calls->second;
  };
  // A kernel iteration is a pair of calls (split, then merge).
  auto kernel_ns = [&](const char* name) {
    const double pair = ns(name);
    return pair > 0 ? pair / 2 : -1;
  };
  const double split_1k = ns(split_1k_name);
  const double split_64k = ns(split_64k_name);
  const double split_1m = ns(split_1m_name);
  const double kernel_call = kernel_ns(kernel_name);
  const double kernel_gap_call = kernel_ns(kernel_gap_name);
  const double kernel_1k_call =
      kernel_ns("BM_KernelMadviseSplitMerge/background:1000/at_free_gap:0");
  // A figure whose benchmark did not run (--benchmark_filter) reads "not run".
  auto shown = [](double v) {
    char buf[32];
    if (v < 0) return std::string("not run");
    std::snprintf(buf, sizeof buf, "%.0f ns", v);
    return std::string(buf);
  };
  std::printf("splitting madvise per call: 1K %s, 64K %s, 1M %s\n", shown(split_1k).c_str(),
              shown(split_64k).c_str(), shown(split_1m).c_str());
  std::printf(
      "kernel madvise per call (MADV_RANDOM/MADV_NORMAL, 60K background VMAs): %s amid "
      "them, %s at the largest free gap\n",
      shown(kernel_call).c_str(), shown(kernel_gap_call).c_str());
  if (split_64k > 0 && kernel_call > 0) {
    const double speedup = kernel_call / split_64k;
    std::printf("speed-up vs kernel at ~64K VMAs: %.1fx (target >= 10x): %s\n", speedup,
                speedup >= 10 ? "MET" : "NOT MET");
  }
  if (split_64k > 0 && kernel_gap_call > 0) {
    std::printf("  (vs the kernel's mapping at the free gap, for reference: %.1fx)\n",
                kernel_gap_call / split_64k);
  }
  if (split_1k > 0 && kernel_1k_call > 0) {
    std::printf("speed-up vs kernel at ~1K VMAs (1,000 background, amid): %.1fx (%.0f ns)\n",
                kernel_1k_call / split_1k, kernel_1k_call);
  }
  // The scaling target, for each call the benchmark measures (random order).
  auto print_scaling = [](const char* what, double at_1k, double at_1m) {
    if (at_1k <= 0 || at_1m <= 0) return;
    const double ratio = at_1m / at_1k;
    std::printf("1M / 1K time per call, %s: %.2fx (%.0f / %.0f ns; target <= 2x): %s\n", what,
                ratio, at_1m, at_1k, ratio <= 2 ? "MET" : "NOT MET");
  };
  print_scaling("splitting madvise", split_1k, split_1m);
  print_scaling("madvise of an exact VMA", ns("BM_MadviseExactVma/vmas:1024/rand:1"),
                ns("BM_MadviseExactVma/vmas:1048576/rand:1"));
  print_scaling("two-call query", ns("BM_QueryOneVma/vmas:1024/rand:1"),
                ns("BM_QueryOneVma/vmas:1048576/rand:1"));
  // This run's load latencies, and the 1 M - 1 K gap in DRAM loads.
  const double l1 = ns("BM_MemoryLatency/MiB:1") / kLoadsPerIter;
  const double l8 = ns("BM_MemoryLatency/MiB:8") / kLoadsPerIter;
  const double l128 = ns("BM_MemoryLatency/MiB:128") / kLoadsPerIter;
  if (l1 > 0 && l8 > 0 && l128 > 0) {
    std::printf("load latency, random lines: 1 MiB %.1f ns, 8 MiB %.1f ns, 128 MiB %.1f ns\n", l1,
                l8, l128);
    if (split_1k > 0 && split_1m > 0) {
      std::printf("1M - 1K splitting madvise: %.0f ns, %.1f loads from 128 MiB\n",
                  split_1m - split_1k, (split_1m - split_1k) / l128);
    }
  }
  // How steady the host was: the spread of each figure across repetitions.
  auto cv = [&](const char* name) {
    const auto* r = rep.find(name);
    return r == nullptr ? -1.0 : r->cv;
  };
  const double cvs[] = {cv(split_1k_name), cv(split_64k_name), cv(split_1m_name), cv(kernel_name)};
  if (cvs[0] >= 0 && cvs[1] >= 0 && cvs[2] >= 0 && cvs[3] >= 0) {
    const double worst = *std::max_element(std::begin(cvs), std::end(cvs));
    std::printf(
        "noise (wall-time coefficient of variation across repetitions): split 1K %.1f %%, 64K "
        "%.1f %%, 1M %.1f %%, kernel %.1f %%%s\n",
        100 * cvs[0], 100 * cvs[1], 100 * cvs[2], 100 * cvs[3],
        worst > 0.05 ? " -- above 5 %: the host was busy; rerun before reading the targets" : "");
  }
  double bytes_1m = -1;
  if (const auto* r = rep.find(split_1m_name)) {
    bytes_1m =
        r->counters.count("resident_bytes_per_vma") ? r->counters.at("resident_bytes_per_vma") : -1;
  }
  if (bytes_1m > 0) {
    std::printf("host memory at 1M VMAs: %.1f bytes/VMA (target <= 128): %s\n", bytes_1m,
                bytes_1m <= 128 ? "MET" : "NOT MET");
  }
}

}  // namespace

int main(int argc, char** argv) {
  drm_sim_bench::SummaryReporter rep;
  const char* about =
      "drm_sim_madvise_bench: DRM_IOCTL_XE_MADVISE (exact VMA, and splitting one VMA in\n"
      "three) and the attribute query through drm_sim_ioctl() at 1 K, 64 K and 1 M VMAs,\n"
      "in address and random order; in the same run the Linux kernel's own madvise\n"
      "split/merge amid 60,000 background VMAs and at the largest free gap, and this\n"
      "machine's load latency. Prints a summary that checks issue 3's targets (10x the\n"
      "kernel per splitting call, 1 M within 2x of 1 K, <= 128 bytes per VMA).\n"
      "A full run takes about 4 minutes; build with the default preset; see README.md,\n"
      "Benchmarks.";
  if (const int rc = drm_sim_bench::run_benchmarks(argc, argv, rep, about); rc != 0) return rc;
  print_summary(rep);
  benchmark::Shutdown();
  return 0;
}
