#include "bench_summary.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace drm_sim_bench {

void SummaryReporter::ReportRuns(const std::vector<Run>& runs) {
  benchmark::ConsoleReporter::ReportRuns(runs);
  for (const Run& r : runs) {
    const std::string name = r.run_name.str();
    if (r.run_type == Run::RT_Aggregate && r.aggregate_name == "cv" &&
        r.aggregate_unit == benchmark::kPercentage) {
      rows_[name].cv = r.real_accumulated_time;  // a fraction for percentage statistics
      continue;
    }
    const bool is_median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
    const bool is_plain = r.run_type == Run::RT_Iteration;
    if (!is_median && !(is_plain && !has_median_[name])) continue;
    if (is_median) has_median_[name] = true;
    Row row;
    double to_ns = 1;  // the run's time unit
    switch (r.time_unit) {
      case benchmark::kNanosecond:
        break;
      case benchmark::kMicrosecond:
        to_ns = 1e3;
        break;
      case benchmark::kMillisecond:
        to_ns = 1e6;
        break;
      case benchmark::kSecond:
        to_ns = 1e9;
        break;
    }
    row.ns_per_iter = r.GetAdjustedRealTime() * to_ns;
    row.cpu_ns_per_iter = r.GetAdjustedCPUTime() * to_ns;
    for (const auto& [k, c] : r.counters) row.counters[k] = c.value;
    Row& dst = rows_[name];
    row.cv = dst.cv;  // the cv aggregate may come before or after the median
    dst = row;
  }
}

const SummaryReporter::Row* SummaryReporter::find(const std::string& name) const {
  auto it = rows_.find(name);
  return it == rows_.end() ? nullptr : &it->second;
}

int run_benchmarks(int argc, char** argv, SummaryReporter& rep, const char* about) {
  std::vector<char*> args(argv, argv + argc);
  std::string help = "--help";
  for (char*& a : args) {
    if (std::strcmp(a, "-h") == 0) a = help.data();  // Google Benchmark knows only --help
    if (std::strcmp(a, "--help") == 0) {
      std::printf(
          "%s\nDefaults added unless given: --benchmark_repetitions=5 "
          "--benchmark_report_aggregates_only=true "
          "--benchmark_enable_random_interleaving=true\n\n",
          about);
      break;
    }
  }
  auto given = [&](const char* flag) {
    for (char* a : args) {
      if (std::strncmp(a, flag, std::strlen(flag)) == 0) return true;
    }
    return false;
  };
  std::string reps = "--benchmark_repetitions=5";
  std::string aggr = "--benchmark_report_aggregates_only=true";
  // Repetitions of different benchmarks run in a random order, so a noisy
  // spell on a shared host spreads over all of them instead of skewing one
  // figure, and ratios within the run hold up better.
  std::string interleave = "--benchmark_enable_random_interleaving=true";
  if (!given("--benchmark_repetitions")) {
    args.push_back(reps.data());
    args.push_back(aggr.data());
  }
  if (!given("--benchmark_enable_random_interleaving")) args.push_back(interleave.data());
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
  // A filter that matches nothing (a typo in a script) is an error, not an
  // empty success; Google Benchmark has already said which regex failed.
  if (benchmark::RunSpecifiedBenchmarks(&rep) == 0) return 1;
  return 0;
}

}  // namespace drm_sim_bench
