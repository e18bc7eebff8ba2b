// tests/model/op_gen.h — random, seeded operation sequences for the
// differential test, and their one-line printable form.
//
// An Op is a value: the uapi arguments of one ioctl (GEM create/close/mmap
// offset, VM_BIND with one op or an array of 2–5 including PREFETCH, MADVISE
// of any type, the two-call attribute query, the simulated process's CPU
// map/unmap, batches of GPU or CPU memory accesses), plus an optional fault injection armed for
// that call only (a signal at the k-th wait, fatal or not, or a failure of the n-th allocation).
// Ops name BOs by GEM handle, so a sequence replays the same way on a fresh device whatever its
// history; after shrinking a handle may name nothing, which is itself a valid test.
//
// The generator looks at the reference model's state (live handles and BO
// sizes, VMA boundaries) to produce mostly-valid arguments that collide
// often: every range is 4 KiB aligned inside a small VA window (256 pages by
// default) and many ranges start or end on an existing VMA boundary.
// Locking: none. Errors: none.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ref_model.h"

namespace drm_sim_model {

enum class OpKind : std::uint8_t {
  kGemCreate,
  kGemClose,
  kMmapOffset,
  kBind,
  kMadvise,
  kQuery,
  kCpuMap,     // DRM_IOCTL_SIM_CPU_MMAP MAP [cpu_addr, +cpu_size)
  kCpuUnmap,   // DRM_IOCTL_SIM_CPU_MMAP UNMAP
  kGpuAccess,  // DRM_IOCTL_SIM_MEM_ACCESS through the VM (GPU faults)
  kCpuAccess,  // DRM_IOCTL_SIM_MEM_ACCESS with vm_id 0
};
inline constexpr int kOpKinds = 10;

struct Injection {
  enum class Kind : std::uint8_t { kNone, kSignal, kFailAlloc };
  Kind kind = Kind::kNone;
  std::uint64_t n = 0;  // k-th wait / n-th allocation, 1-based
  bool fatal = false;   // signals only
  bool operator==(const Injection&) const = default;
};

inline constexpr std::size_t kMaxAccesses = 8;

struct Op {
  OpKind kind = OpKind::kQuery;
  // GEM
  std::uint64_t size = 0;
  std::uint32_t placement = 0;
  std::uint16_t cpu_caching = 0;
  std::uint32_t handle = 0;  // GEM_CLOSE, MMAP_OFFSET
  // VM_BIND (one element: num_binds == 1, carried inline)
  std::vector<BindArgs> binds;
  // MADVISE
  MadviseArgs madvise;
  // Query: [start, start+range), and the fill call's capacity relative to the
  // count: 0 exact, > 0 that many spare slots, < 0 one short (-ENOSPC).
  std::uint64_t q_start = 0;
  std::uint64_t q_range = 0;
  int q_slack = 0;
  // CPU map/unmap
  std::uint64_t cpu_addr = 0;
  std::uint64_t cpu_size = 0;
  // Memory accesses (1–kMaxAccesses)
  std::vector<Access> accesses;
  std::uint16_t tile = 0;  // GPU accesses: the faulting tile
  Injection inject;
  bool operator==(const Op&) const = default;
};

// One line, e.g. "bind MAP bo=h2 [0x3000,0x5000) @0x1000 pat=1 | signal@1 fatal".
std::string to_string(const Op& op);
std::string to_string(const BindArgs& b);
std::string to_string(const MadviseArgs& m);

struct GenConfig {
  std::uint64_t window_pages = 256;  // VA window [0, window_pages * 4 KiB)
  std::uint32_t max_bo_pages = 64;
  std::uint32_t max_handles = 12;
  unsigned signal_percent = 8;  // of bind/madvise/query ops
  unsigned alloc_percent = 4;   // of bind/madvise/query/GEM create ops
  // false: GEM_CLOSE only handles whose BO no VMA maps (keeps BOs alive
  // through their handles, to look past bugs in freeing closed BOs).
  bool close_mapped = true;
};

class OpGen {
 public:
  OpGen(std::uint64_t seed, GenConfig cfg = {});
  // The next op for a VM in state m.
  Op next(const RefModel& m);

 private:
  std::uint64_t below(std::uint64_t n);  // uniform in [0, n)
  bool chance(unsigned percent);
  std::uint64_t boundary_or_random(const std::vector<Vma>& vs);
  // A 4 KiB-aligned [start, end) inside the window, often on VMA boundaries.
  void pick_range(const std::vector<Vma>& vs, std::uint64_t* start, std::uint64_t* range);
  std::uint16_t pick_pat(const RefModel& m, bool coherent_only);
  std::uint32_t pick_handle(const RefModel& m);
  BindArgs gen_bind_op(const RefModel& m, const std::vector<Vma>& vs);
  Op gen_madvise(const RefModel& m, const std::vector<Vma>& vs);
  Op gen_cpu_map(const RefModel& m, const std::vector<Vma>& vs);
  Op gen_access(const RefModel& m, const std::vector<Vma>& vs, bool gpu);
  Injection gen_injection(bool waits);

  std::mt19937_64 rng_;
  GenConfig cfg_;
};

}  // namespace drm_sim_model
