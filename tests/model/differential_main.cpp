// tests/model/differential_main.cpp — drm_sim_differential: random op
// sequences run on the simulator and on the reference model, compared after
// every step (differential.h). On a mismatch the sequence is shrunk and a
// GoogleTest reproducer is written under $DRM_SIM_REPRO_DIR (default: the
// build directory). Exit status: 0 when every sequence passed, 1 on any
// mismatch, 2 on a usage error.
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "differential.h"

#ifndef DRM_SIM_MODEL_BUILD_DIR
#define DRM_SIM_MODEL_BUILD_DIR "."
#endif

namespace {

using namespace drm_sim_model;

struct Options {
  std::uint64_t seed = 1;
  std::size_t ops = 200;
  std::size_t sequences = 100;
  std::vector<std::string> profiles{"b580", "b580-uapi71"};
  long only = -1;  // run just this sequence index
  std::uint64_t window_pages = 256;
  bool shrink = true;
  bool close_mapped = true;
  std::size_t max_reports = 3;  // sequences shrunk and written out
  double progress_seconds = 5.0;
};

void usage(FILE* f) {
  std::fprintf(
      f,
      "usage: drm_sim_differential [options]\n"
      "Runs random, seeded op sequences (GEM create/close/mmap-offset, VM_BIND single\n"
      "and arrays, UNMAP_ALL, PREFETCH, MADVISE of every type, the attribute query,\n"
      "CPU map/unmap of the simulated process, GPU and CPU memory accesses, with\n"
      "injected signals and allocation failures) on a simulated xe device and on an\n"
      "independent reference model, and compares them (return codes, VMAs,\n"
      "attributes, page contents) after every step.\n\n"
      "  --seed N          base seed (default 1); sequence i uses a seed derived from N, i\n"
      "  --ops N           ops per sequence (default 200)\n"
      "  --sequences N     number of sequences (default 100)\n"
      "  --profile NAMES   device profile(s), comma-separated, used in turn\n"
      "                    (default b580,b580-uapi71)\n"
      "  --only I          run only sequence I (to replay a reported failure)\n"
      "  --window PAGES    VA window in 4 KiB pages (default 256)\n"
      "  --no-shrink       report failures without shrinking them\n"
      "  --no-close-mapped never GEM_CLOSE a handle whose BO is still mapped\n"
      "  --max-reports N   shrink and write at most N failing sequences (default 3)\n"
      "  --progress SECS   progress line interval (default 5)\n"
      "  --help            this text\n\n"
      "Reproducers go to $DRM_SIM_REPRO_DIR (default: the build directory).\n"
      "Prints \"N passed, M failed\" (sequences) last; exits 1 on any mismatch.\n");
}

bool parse_u64(const char* s, std::uint64_t* v) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long x = std::strtoull(s, &end, 0);
  if (errno != 0 || end == s || *end != '\0') return false;
  *v = x;
  return true;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= s.size()) {
    const std::size_t comma = s.find(',', at);
    const std::string item =
        s.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

// Returns 0 to run, 1 for --help, 2 on a usage error.
int parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&](std::uint64_t* v) {
      if (i + 1 >= argc || !parse_u64(argv[i + 1], v)) {
        std::fprintf(stderr, "drm_sim_differential: %s needs a number\n", a.c_str());
        return false;
      }
      ++i;
      return true;
    };
    std::uint64_t v = 0;
    if (a == "--help" || a == "-h") {
      usage(stdout);
      return 1;
    } else if (a == "--seed") {
      if (!value(&o->seed)) return 2;
    } else if (a == "--ops") {
      if (!value(&v)) return 2;
      o->ops = v;
    } else if (a == "--sequences") {
      if (!value(&v)) return 2;
      o->sequences = v;
    } else if (a == "--only") {
      if (!value(&v)) return 2;
      o->only = static_cast<long>(v);
    } else if (a == "--window") {
      if (!value(&v) || v < 1) return 2;
      o->window_pages = v;
    } else if (a == "--max-reports") {
      if (!value(&v)) return 2;
      o->max_reports = v;
    } else if (a == "--progress") {
      if (!value(&v)) return 2;
      o->progress_seconds = static_cast<double>(v);
    } else if (a == "--no-close-mapped") {
      o->close_mapped = false;
    } else if (a == "--no-shrink") {
      o->shrink = false;
    } else if (a == "--profile") {
      if (i + 1 >= argc) return 2;
      o->profiles = split(argv[++i]);
      if (o->profiles.empty()) return 2;
    } else {
      std::fprintf(stderr, "drm_sim_differential: unknown option %s\n", a.c_str());
      usage(stderr);
      return 2;
    }
  }
  return 0;
}

std::uint64_t sequence_seed(std::uint64_t base, std::uint64_t i) {
  std::uint64_t z = base * 0x9e3779b97f4a7c15ull + i + 1;  // splitmix64
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::string repro_dir() {
  const char* d = std::getenv("DRM_SIM_REPRO_DIR");
  return d != nullptr && *d != '\0' ? d : DRM_SIM_MODEL_BUILD_DIR;
}

void report(const Options& o, std::size_t seq, const std::string& profile, std::uint64_t seed,
            const IsolatedRun& run, std::size_t reported) {
  const Mismatch m = explain(profile, run);
  std::printf("\nMISMATCH in sequence %zu (profile %s, sequence seed 0x%" PRIx64
              ") at step %zu: %s\n    %s\n%s",
              seq, profile.c_str(), seed, m.step, m.category.c_str(),
              to_string(run.ops[m.step]).c_str(), m.detail.c_str());
  std::printf("  replay: drm_sim_differential --seed %" PRIu64
              " --ops %zu --only %zu --profile %s\n",
              o.seed, o.ops, seq, profile.c_str());
  if (reported >= o.max_reports || !o.shrink) {
    std::printf("  (not shrunk)\n");
    return;
  }
  const std::vector<Op> small = shrink(profile, run.ops, run.category, run.step);
  const IsolatedRun again = run_isolated(profile, &small, 0, 0, GenConfig{});
  if (!again.failed) {
    std::printf("  shrinking lost the mismatch (flaky?)\n");
    return;
  }
  const Mismatch m2 = explain(profile, again);
  std::printf("  minimal reproducer (%zu of %zu ops), fails with %s:\n", small.size(), m.step + 1,
              m2.category.c_str());
  for (std::size_t i = 0; i < small.size(); ++i) {
    std::printf("    %2zu  %s\n", i, to_string(small[i]).c_str());
  }
  std::printf("%s", m2.detail.c_str());
  // A profile given as a file path is named by its file name, without ".json".
  std::string pname = profile.substr(profile.find_last_of('/') + 1);
  if (pname.size() > 5 && pname.ends_with(".json")) pname.resize(pname.size() - 5);
  char name[128];
  std::snprintf(name, sizeof name, "differential_repro_%s_seed%" PRIu64 "_seq%zu", pname.c_str(),
                o.seed, seq);
  for (char* c = name; *c != '\0'; ++c) {
    if (*c == '-') *c = '_';
  }
  char header[256];
  std::snprintf(header, sizeof header,
                "Found by: drm_sim_differential --seed %" PRIu64
                " --ops %zu --only %zu --profile %s\nShrunk from %zu ops to %zu.",
                o.seed, o.ops, seq, profile.c_str(), m.step + 1, small.size());
  const std::string path =
      write_repro(repro_dir(), name, profile, again.ops, again.records, m2, header);
  if (path.empty()) {
    std::printf("  could not write the reproducer under %s\n", repro_dir().c_str());
  } else {
    std::printf("  reproducer: %s\n", path.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (const int rc = parse(argc, argv, &o); rc != 0) return rc == 1 ? 0 : 2;
  GenConfig cfg;
  cfg.window_pages = o.window_pages;
  cfg.close_mapped = o.close_mapped;

  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  auto next_progress = t0 + std::chrono::duration<double>(o.progress_seconds);
  RunStats total;
  std::size_t passed = 0;
  std::size_t failed = 0;
  const std::size_t first = o.only >= 0 ? static_cast<std::size_t>(o.only) : 0;
  const std::size_t end = o.only >= 0 ? first + 1 : o.sequences;
  try {
    for (std::size_t seq = first; seq < end; ++seq) {
      const std::string& profile = o.profiles[seq % o.profiles.size()];
      const std::uint64_t seed = sequence_seed(o.seed, seq);
      const IsolatedRun run = run_isolated(profile, nullptr, seed, o.ops, cfg);
      total.add(run.stats);
      if (run.failed) {
        report(o, seq, profile, seed, run, failed);
        ++failed;
      } else {
        ++passed;
      }
      if (Clock::now() >= next_progress) {
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        std::printf("[%.0fs] sequence %zu/%zu, %" PRIu64 " ops, %" PRIu64 " EINTR, %" PRIu64
                    " ENOMEM, %zu failed\n",
                    secs, seq + 1 - first, end - first, total.ops, total.eintr, total.enomem,
                    failed);
        std::fflush(stdout);
        next_progress = Clock::now() + std::chrono::duration<double>(o.progress_seconds);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "drm_sim_differential: %s\n", e.what());
    return 2;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("ops %" PRIu64 " (ioctls %" PRIu64 "), signals armed %" PRIu64 " -> EINTR %" PRIu64
              " (madvise left split %" PRIu64 "), allocation failures armed %" PRIu64
              " -> ENOMEM %" PRIu64 ", restarts %" PRIu64 ", %.1f s\n",
              total.ops, total.ioctls, total.signals_armed, total.eintr, total.madvise_partial,
              total.allocs_armed, total.enomem, total.restarts, secs);
  std::printf("memory accesses compared %" PRIu64 ", page contents compared %" PRIu64 "\n",
              total.accesses, total.pages_compared);
  std::printf("GPU accesses through BO VMAs %" PRIu64 ", through userptr VMAs %" PRIu64
              ", BOs purged %" PRIu64 ", autoresets deferred by a failed allocation %" PRIu64 "\n",
              total.bo_accesses, total.userptr_accesses, total.purges, total.gc_deferred);
  std::printf("coverage (final return codes):\n%s", total.coverage().c_str());
  std::printf("%zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
