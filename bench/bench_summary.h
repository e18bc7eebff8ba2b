// bench/bench_summary.h — collects per-benchmark medians during a Google
// Benchmark run so a program can print ratios and target checks at the end.
// Owns: the collected results. Locking: single-threaded (benchmark main).
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>

namespace drm_sim_bench {

// Forwards to the console reporter and remembers, per run name, the median
// (or the single run when there are no repetitions) of real time and of
// CPU time in ns, the coefficient of variation of the real time, and the
// user counters. On a shared, noisy machine the CPU time is the steadier of
// the two; the summaries print both.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  struct Row {
    double ns_per_iter = 0;      // real (wall-clock) time
    double cpu_ns_per_iter = 0;  // process CPU time (user + system)
    // Coefficient of variation of the real time across repetitions, as a
    // fraction (0.05 = 5 %); -1 when the run had no repetitions.
    double cv = -1;
    std::map<std::string, double> counters;
  };
  void ReportRuns(const std::vector<Run>& runs) override;
  // Looks a result up by the benchmark name without the aggregate suffix.
  const Row* find(const std::string& name) const;

 private:
  std::map<std::string, Row> rows_;
  std::map<std::string, bool> has_median_;
};

// Runs every benchmark selected on the command line with `rep`, defaulting to
// 5 repetitions reported as aggregates (medians) unless the caller chose a
// repetition count. With --help, prints `about` (what the program measures)
// before Google Benchmark's own flags, and exits. Returns 2 on unrecognised
// arguments, 1 when --benchmark_filter matched no benchmark, else 0.
int run_benchmarks(int argc, char** argv, SummaryReporter& rep, const char* about);

}  // namespace drm_sim_bench
