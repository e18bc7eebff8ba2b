// tests/model/differential.h — differential testing of drm_sim against the
// reference model: run op sequences on both, compare after every step,
// shrink a failing sequence, write the reproducer as a GoogleTest file.
//
// One step applies one Op to a simulated device (drm_sim_open() fd, one
// LR + FAULT_MODE VM, every call through drm_sim_ioctl) and to the model,
// then compares: the return code, the op's outputs (GEM handle, retained
// value, query results), the whole state text (every VMA with kind, BO,
// offset, flags and attributes; every live BO's counters) and a query of
// the whole VA space.
//
// Injected faults (Op::inject) are armed with DRM_IOCTL_SIM_FAULT_INJECT for
// that call only and cleared after it. The rules, from spec §3 and §6:
//   * an interrupted (-EINTR) or failed (-ENOMEM) bind leaves the VM as it
//     was (arrays are all-or-nothing);
//   * an interrupted madvise leaves the split of step 7 in place unless the
//     signal hit the VM lock (fatal signal at the first wait): the split
//     alone never changes attributes; -ENOMEM comes from the split itself
//     and leaves the VM as it was;
//   * forced outcomes: a fatal signal at the first wait must interrupt a
//     bind or madvise (the VM lock is killable); any signal at the first
//     wait interrupts the query (interruptible read lock); a non-fatal one
//     interrupts madvise after the split exactly when BO locks or the SVM
//     notifier lock are taken; a madvise that takes no lock after the split
//     cannot be interrupted there;
//   * the call is then restarted unchanged, as a UMD does, and must reach
//     the model's result.
//
// Locking: none; one Differential per thread. Errors: mismatches are values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "drm_sim/drm_sim.h"
#include "op_gen.h"
#include "ref_model.h"

namespace drm_sim_model {

struct RunStats {
  std::uint64_t ops = 0;     // ops applied (restarts not counted)
  std::uint64_t ioctls = 0;  // calls into the simulator, checks included
  std::uint64_t signals_armed = 0;
  std::uint64_t eintr = 0;  // calls that returned -EINTR under an armed signal
  std::uint64_t allocs_armed = 0;
  std::uint64_t enomem = 0;           // calls that returned -ENOMEM under an armed failure
  std::uint64_t madvise_partial = 0;  // interrupted madvise calls that kept their split
  std::uint64_t restarts = 0;
  std::uint64_t accesses = 0;          // memory accesses compared (GPU and CPU)
  std::uint64_t pages_compared = 0;    // page contents compared after steps
  std::uint64_t bo_accesses = 0;       // GPU accesses through BO VMAs (model's prediction)
  std::uint64_t userptr_accesses = 0;  // GPU accesses through userptr VMAs
  std::uint64_t purges = 0;            // BOs the simulator purged (7.1), accepted by the model
  std::uint64_t gc_deferred = 0;       // CPU unmaps whose autoreset an allocation failure deferred
  // Coverage: final return codes per op kind (OpKind order) and bucket
  // (rc_bucket_name), and the model's madvise counters.
  static constexpr int kKinds = kOpKinds;
  static constexpr int kBuckets = 13;
  std::uint64_t rc_hist[kKinds][kBuckets] = {};
  std::uint64_t madvise_splits = 0;
  std::uint64_t vmas_advised = 0;
  std::uint64_t vmas_skipped = 0;
  void add(const RunStats& o);
  // One line per op kind: "madvise: 0 x1234, -EINVAL x56, ...".
  std::string coverage() const;
};

// What the model expects of the call that mismatched (for the reproducer).
struct Expectation {
  int rc = 0;
  std::uint32_t handle = 0;    // GEM_CREATE
  std::uint32_t retained = 0;  // MADVISE PURGEABLE_STATE with retained_ptr
  std::string query;           // query ops: query_sim() text
  std::string state;           // state text after the call
  std::string full_query;      // query of the whole VA space after the call
  // Crashes under an injected fault: the state the fault's errno must leave
  // before the restart.
  std::string interrupted_state;
  // Access ops: each access's expected result, value and read-data digest.
  std::vector<AccessOut> acc;
  // "memory:" mismatches: the pages that differed, with the model's digest
  // (nullopt: not CPU-mapped).
  std::vector<std::pair<std::uint64_t, std::optional<std::uint64_t>>> pages;
  // "stats:madvise" mismatches: the SIM_VM_STATS deltas of the call.
  bool stats = false;
  std::uint64_t splits = 0;
  std::uint64_t advised = 0;
  std::uint64_t skipped = 0;
};

struct Mismatch {
  std::size_t step = 0;     // index of the op
  bool in_restart = false;  // the restarted call mismatched, not the first one
  std::string category;     // e.g. "rc:madvise", "state:bind"; shrinking keeps it
  std::string detail;       // human-readable, multi-line
  Expectation expected;
};

// What the simulator did at one step.
struct StepRecord {
  int rc = 0;
  bool restarted = false;
  int restart_rc = 0;
};

class Differential {
 public:
  // observe_pages: the pages [0, observe_pages * 4 KiB) whose CPU mapping
  // and content are compared after every step (the generator's VA window).
  explicit Differential(const std::string& profile, std::uint64_t observe_pages = 256);
  ~Differential();
  Differential(const Differential&) = delete;
  Differential& operator=(const Differential&) = delete;

  // Applies op (the step-th of its sequence) to both sides and compares.
  std::optional<Mismatch> step(const Op& op, std::size_t index, StepRecord* rec);

  const RefModel& model() const { return model_; }
  const RunStats& stats() const { return stats_; }

  struct Outcome {
    int rc = 0;
    std::uint32_t handle = 0;
    std::uint32_t retained = 0;
    std::string query;
    std::vector<AccessOut> acc;  // memory accesses
    // Binds that failed with -EACCES: model BOs the call purged (7.1).
    std::set<std::uint32_t> purged_now;
  };
  // The op applied to the model alone. sim (may be null): the simulator's
  // outcome, for the return codes residency decides (ref_model.h).
  static Outcome model_apply(RefModel& m, const Op& op, const Outcome* sim = nullptr);

 private:
  Outcome sim_apply(const Op& op);
  drm_sim_vm_stats vm_stats();
  void arm(const Injection& in);
  void disarm();
  std::optional<Mismatch> compare(const Op& op, const Outcome& exp, const Outcome& got,
                                  const RefModel& m, std::size_t index, bool restart);
  std::optional<Mismatch> compare_state(const Op& op, const RefModel& m, std::size_t index,
                                        bool restart, int rc, const std::string& why);
  // 7.1: BOs the simulator purged under memory pressure since the last
  // comparison become purged in m (the model after the call), which checks
  // that they were purgeable then or in model_ (the model before it); a BO
  // purged on one side only is a mismatch.
  // Model ids of live BOs the simulator purged that m does not know of.
  std::set<std::uint32_t> purged_by_sim(const RefModel& m);
  std::optional<Mismatch> sync_purges(RefModel& m, const Op& op, std::size_t index, bool restart,
                                      int rc);

  // "" when every observed page agrees: CPU-mapped or not, and its content.
  // differing (may be null) gets the pages that differ, with the model's digest.
  std::string compare_memory(
      const RefModel& m,
      std::vector<std::pair<std::uint64_t, std::optional<std::uint64_t>>>* differing = nullptr);

  int fd_ = -1;
  std::uint32_t vm_ = 0;
  std::uint64_t observe_pages_ = 256;
  bool armed_ = false;  // a fault injection is armed
  RefModel model_;
  std::map<std::uint32_t, std::uint32_t> bo_ids_;  // device BO id -> model BO id
  RunStats stats_;
};

const char* op_kind_name(OpKind k);

// Runs ops on a fresh device; stops at the first mismatch. records (may be
// null) gets one StepRecord per op run.
std::optional<Mismatch> run_ops(const std::string& profile, const std::vector<Op>& ops,
                                RunStats* stats, std::vector<StepRecord>* records);

// A run in a child process (fork), so that a simulator crash, an assertion
// or a hang (alarm after timeout_s seconds) is a verdict instead of the end
// of the test program. The child leaves the ops it started, their records
// and its counters in shared memory.
struct IsolatedRun {
  bool failed = false;   // a mismatch or a crash
  bool crashed = false;  // the child died of a signal
  int signal = 0;
  std::string category;  // the mismatch's, or "crash:SIGSEGV" and the like
  std::size_t step = 0;  // failing step
  std::vector<Op> ops;   // every op started
  std::vector<StepRecord> records;
  RunStats stats;
};
// Replays *replay when non-null, else generates n_ops ops from seed.
// quiet: the child's stderr goes to /dev/null (assertion messages while shrinking).
IsolatedRun run_isolated(const std::string& profile, const std::vector<Op>* replay,
                         std::uint64_t seed, std::size_t n_ops, const GenConfig& cfg,
                         bool quiet = false, unsigned timeout_s = 600);

// The mismatch behind a failed isolated run: re-run in this process when it
// was a comparison failure, described from the records when it was a crash.
Mismatch explain(const std::string& profile, const IsolatedRun& run);

// Delta debugging: the smallest sequence found (within max_runs replays, each
// in a child process) that still fails with the same category.
std::vector<Op> shrink(const std::string& profile, std::vector<Op> ops, const std::string& category,
                       std::size_t failing_step, std::size_t max_runs = 3000);

// Writes ops (which fail with m) as a GoogleTest file named test_name.cpp
// under dir; returns its path ("" on an I/O error).
std::string write_repro(const std::string& dir, const std::string& test_name,
                        const std::string& profile, const std::vector<Op>& ops,
                        const std::vector<StepRecord>& records, const Mismatch& m,
                        const std::string& header_comment);

}  // namespace drm_sim_model
