// tests/model/ref_model.h — a reference model of one xe GPU VM, written from
// the spec (xe-vm-semantics.md §3–§6 and §8, gpuvm-cases.md) and nothing else.
//
// It is the other half of the differential test (differential.h): the same
// operations go to the simulator and to this model, and the two must agree on
// every return code, every VMA and every query. The model is deliberately
// naive so that it can be trusted by reading it:
//
//   pages_   page number -> VMA id        (Boost.ICL interval_map; each VMA is
//                                          one contiguous run of its id)
//   vmas_    VMA id -> Vma record          (bounds, kind, BO, offset, flags,
//                                          default PAT, attributes)
//   bos_     model BO id -> Bo             (size, placement, caching, BO-wide
//                                          atomic); handles_ handle -> BO id
//
// Every operation rewrites ids rather than editing records in place: a cut
// VMA is erased and its surviving pieces are inserted under fresh ids. A piece
// [x, y) of a BO or userptr VMA [a, e) at offset o has offset o + (x - a);
// mirror and NULL pieces keep the offset (a GPU-to-CPU delta, or nothing).
//
// Shared virtual memory (spec §7): the simulated process's CPU address space
// is a second page map, one entry per mapped 4 KiB page holding its content
// (a 64-bit tag, or 4096 bytes on data-backed profiles). CPU-address-mirror
// VMAs show those pages to the GPU at the same address. GPU accesses go
// through the VMA at the address (none: -EFAULT; NULL: zero reads, dropped
// writes; BO: the BO's own pages; userptr: the process's pages at the
// userptr address, the same pages the CPU sees), CPU accesses through the
// CPU map only. BO contents are a third page map, BO id -> page -> content
// (zero until written), kept while the BO lives, whichever VMAs map it
// (page-granular like the others: the engine's 2 MiB chunks and their
// placement do not show). Where pages live (system memory or VRAM) is not
// modelled: placement never changes content, so the model predicts contents
// exactly and the one return code residency can decide (a 64 KiB VRAM chunk
// that does not fit, on needs_64k_vram devices) is taken from the simulator.
// A CPU unmap drops its pages' content and applies MADVISE_AUTORESET.
// Purging (7.1) also depends on memory pressure, so the model learns from
// the simulator when a BO was purged (bo_purged(), or a GPU access the
// simulator failed with -EACCES that the atomic policy does not explain),
// and checks that the BO was purgeable then; from there on its content is gone and every GPU access
// or PREFETCH of it is -EACCES (§8).
//
// Errors: operations return 0 or a negative errno as the uapi does. The model
// covers the errors that depend on state (unknown handles, ranges against BO
// sizes, PAT coherency against the BO's caching, EBUSY for purgeable BOs, the
// ATOMIC placement check after the split) plus the few argument checks the
// generator exercises; it is not an argument validator.
// Locking: none; one model per test thread.
#pragma once

#include <boost/icl/interval_map.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace drm_sim_model {

inline constexpr std::uint64_t kPage = 4096;

enum class VmaKind : std::uint8_t { kBo, kUserptr, kNull, kMirror };
const char* to_string(VmaKind k);

// The madvise-able attributes (spec §3), as user space set them.
struct Attrs {
  std::int32_t devmem_fd = 0;          // DEFAULT_DEVICE 0, DEFAULT_SYSTEM -1
  std::uint16_t region_instance = 0;   // 7.0, only with devmem_fd > 0
  std::uint16_t migration_policy = 0;  // ALL_PAGES 0, ONLY_SYSTEM_PAGES 1
  std::uint32_t atomic = 0;            // UNDEFINED 0, DEVICE 1, GLOBAL 2, CPU 3
  std::uint16_t pat = 0;               // PAT index
  std::uint32_t purgeable = 0;         // 7.1: WILLNEED 0, DONTNEED 1
  bool operator==(const Attrs&) const = default;
};

// Bind flags a VMA keeps from its bind (uapi bit values).
std::uint32_t kept_bind_flags(std::uint32_t bind_flags);

struct Vma {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // exclusive
  VmaKind kind = VmaKind::kNull;
  std::uint32_t bo = 0;      // model BO id (kBo only)
  std::uint64_t offset = 0;  // BO offset, userptr address, mirror offset
  std::uint32_t flags = 0;   // kept_bind_flags() of the bind
  std::uint16_t default_pat = 0;
  Attrs attrs;
  bool operator==(const Vma&) const = default;

  // xe's "default memory attributes" test (mirror widening).
  bool has_default_attrs() const {
    return attrs.devmem_fd == 0 && attrs.migration_policy == 0 && attrs.atomic == 0 &&
           attrs.pat == default_pat;
  }
};
// "[0x1000,0x3000) bo#2@0x0 flags=0x0 dpat=1 loc=0 ri=0 pol=0 atomic=0 pat=1 purge=0"
std::string to_string(const Vma& v);
std::string to_string(const std::vector<Vma>& vs);  // one line per VMA

struct Bo {
  std::uint32_t id = 0;
  std::uint64_t size = 0;
  std::uint32_t placement = 0;
  std::uint16_t cpu_caching = 0;
  std::uint32_t atomic = 0;  // BO-wide atomic attribute (madvise ATOMIC on BO VMAs)
  bool operator==(const Bo&) const = default;
};

// A BO as the counters of §8 see it.
struct BoState {
  Bo bo;
  std::uint32_t handle_refs = 0;    // 0 or 1: one file
  std::uint32_t vma_refs = 0;       // VMAs mapping it
  std::uint32_t dontneed_refs = 0;  // of those, DONTNEED
  bool purgeable() const { return vma_refs > 0 && dontneed_refs == vma_refs; }
};

// What the model needs to know about the device (from its profile).
struct DeviceDesc {
  std::string profile;
  std::uint64_t va_end = 1ull << 48;
  std::vector<std::uint8_t> pat_coh;  // PAT index -> coherency (0 reserved, 1 none, 2 1-way)
  bool uapi_7_1 = false;
  bool device_atomics_on_smem = false;
  std::uint32_t sys_mask = 1;           // placement bits of system memory
  std::uint32_t vram_mask = 2;          // placement bits of VRAM
  bool needs_64k_vram = false;          // VRAM BOs: size, bind addr/range/offset 64 KiB aligned
  std::vector<std::uint32_t> min_page;  // region instance -> min_page_size
  bool discrete = true;                 // has VRAM (GPU atomics obey the atomic attribute)
  std::uint32_t num_tiles = 1;          // GPU accesses name a faulting tile below this
  bool data_backed = false;             // page contents are bytes (else a 64-bit tag)

  // The largest min_page_size among the placement's regions (BO size unit).
  std::uint64_t min_page_of(std::uint32_t placement) const;

  // The built-in or file profile `name` (through drm_sim's profile loader:
  // profile data only, no VM logic). Throws std::runtime_error when unknown.
  static DeviceDesc from_profile(const std::string& name);
};

inline constexpr std::uint8_t kCohReserved = 0;
inline constexpr std::uint8_t kCohNone = 1;

// One drm_xe_vm_bind_op, in its uapi terms.
struct BindArgs {
  std::uint32_t op = 0;  // DRM_XE_VM_BIND_OP_*
  std::uint32_t obj = 0;
  std::uint16_t pat = 0;
  std::uint64_t obj_offset = 0;  // or userptr
  std::uint64_t range = 0;
  std::uint64_t addr = 0;
  std::uint32_t flags = 0;   // DRM_XE_VM_BIND_FLAG_*
  std::uint32_t region = 0;  // PREFETCH: prefetch_mem_region_instance
  bool operator==(const BindArgs&) const = default;
};

inline constexpr std::uint32_t kConsultPrefLoc = 0xffffffffu;  // DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC

// One drm_sim_mem_access. A WRITE on a data-backed profile writes the bytes
// write_byte(value, 0..size-1), so an access stays a small value.
struct Access {
  std::uint64_t addr = 0;
  std::uint32_t size = 0;
  std::uint32_t op = 0;  // DRM_SIM_ACCESS_READ / WRITE / ATOMIC
  std::uint64_t value = 0;
  bool operator==(const Access&) const = default;
};
std::uint8_t write_byte(std::uint64_t value, std::uint32_t i);
// FNV-1a of size bytes (read data, page contents).
std::uint64_t digest(const std::uint8_t* p, std::size_t size);

// What one access returned: result (0 or -errno), value (read tag, atomic
// old value; else what was passed in) and, for data-backed reads, the digest
// of the bytes read.
struct AccessOut {
  int result = 0;
  std::uint64_t value = 0;
  std::uint64_t data_digest = 0;
  bool operator==(const AccessOut&) const = default;
};

// One drm_xe_madvise, in its uapi terms.
struct MadviseArgs {
  std::uint64_t start = 0;
  std::uint64_t range = 0;
  std::uint32_t type = 0;              // DRM_XE_MEM_RANGE_ATTR_* / DRM_XE_VMA_ATTR_PURGEABLE_STATE
  std::int32_t devmem_fd = 0;          // PREFERRED_LOC
  std::uint16_t migration_policy = 0;  // PREFERRED_LOC
  std::uint32_t val = 0;               // ATOMIC, PAT, PURGEABLE_STATE
  bool with_retained = false;          // PURGEABLE_STATE: pass a retained_ptr
  bool operator==(const MadviseArgs&) const = default;
};

class RefModel {
 public:
  explicit RefModel(DeviceDesc dev);

  const DeviceDesc& device() const { return dev_; }

  // GEM_CREATE (vm_id 0): *handle gets the lowest free handle.
  int gem_create(std::uint64_t size, std::uint32_t placement, std::uint16_t cpu_caching,
                 std::uint32_t* handle);
  // GEM_CLOSE: -EINVAL for an unknown handle. The BO lives on while VMAs map it.
  int gem_close(std::uint32_t handle);
  // GEM_MMAP_OFFSET: -ENOENT unknown handle, -EBUSY purgeable BO (7.1).
  int gem_mmap_offset(std::uint32_t handle) const;

  // VM_BIND, all-or-nothing over the array (spec §6). sim_efault: the
  // simulator returned -EFAULT, which the model accepts from a PREFETCH
  // into VRAM on a needs_64k_vram device (whether a 64 KiB chunk fits
  // depends on residency, which is not modelled).
  // A PREFETCH's memory pressure may purge BOs (7.1), even one an earlier
  // op of the same array made purgeable. purged_now (may be null): BOs the
  // simulator purged during this call and then failed a PREFETCH of with
  // -EACCES; a PREFETCH meeting one of them that has been purgeable at
  // some point of this call gets -EACCES. The caller then reports the
  // purges with bo_purged().
  int bind(std::span<const BindArgs> ops, bool sim_efault = false,
           const std::set<std::uint32_t>* purged_now = nullptr);
  // Whether BO bo_id was purgeable at some point of the last bind() call
  // (before it, between two of its ops, or after it).
  bool purgeable_in_last_bind(std::uint32_t bo_id) const {
    return purgeable_seen_.count(bo_id) != 0;
  }

  // DRM_IOCTL_SIM_CPU_MMAP: -EINVAL bad range, -EEXIST overlap; unmap of
  // holes is fine, and applies MADVISE_AUTORESET to each unmapped extent.
  int cpu_map(std::uint64_t addr, std::uint64_t size);
  int cpu_unmap(std::uint64_t addr, std::uint64_t size);
  // DRM_IOCTL_SIM_MEM_ACCESS: gpu through the VM, else the CPU. Stops at the
  // first failing access and returns its errno; out gets one AccessOut per
  // access (those not run: result 0, value unchanged). sim_results (may be
  // empty): the simulator's results, consulted only where residency decides
  // (see the overview).
  // A GPU batch naming a tile the device lacks is -EINVAL before any access.
  int access(bool gpu, std::span<const Access> in, std::vector<AccessOut>* out,
             std::span<const int> sim_results = {}, std::uint32_t tile = 0);
  // Inspection: whether the page at addr is CPU-mapped, and its content
  // digest (tag backing: the tag itself).
  std::optional<std::uint64_t> page_digest(std::uint64_t addr) const;

  // Purging (7.1): the simulator discarded BO bo_id under memory pressure.
  // Returns false (and changes nothing) when the model says the BO could
  // not be purged (not purgeable now, §8, and not purgeable_before: the
  // caller knows it was purgeable earlier in the same call, e.g. before a
  // bind array unmapped it); purging a purged BO again is a no-op.
  bool bo_purged(std::uint32_t bo_id, bool purgeable_before = false);
  bool purged(std::uint32_t bo_id) const { return purged_.count(bo_id) != 0; }
  // Content digest of BO page `offset` (tag backing: the tag); nullopt for
  // an unknown or purged BO.
  std::optional<std::uint64_t> bo_page_digest(std::uint32_t bo_id, std::uint64_t offset) const;

  // MADVISE (spec §3). *retained (may be null) gets what the kernel writes to
  // *retained_ptr for PURGEABLE_STATE with with_retained.
  int madvise(const MadviseArgs& a, std::uint32_t* retained = nullptr);
  // The errno of the checks madvise runs before taking the VM lock (steps
  // 1–3), 0 when they pass.
  int madvise_precheck(const MadviseArgs& a) const;
  // What an interrupted madvise leaves behind: the split of step 7 (when the
  // call got that far), no attribute applied.
  void madvise_split_only(const MadviseArgs& a);
  // Whether madvise, once past the split, waits again (BO locks, SVM notifier
  // lock): only then can a signal interrupt it after the split.
  bool madvise_waits_after_split(const MadviseArgs& a) const;

  // The attribute query: every VMA overlapping [start, start+range), full bounds.
  std::vector<Vma> query(std::uint64_t start, std::uint64_t range) const;

  // Inspection.
  std::vector<Vma> vmas() const;  // address order
  std::size_t vma_count() const { return vmas_.size(); }
  std::optional<std::uint32_t> bo_of_handle(std::uint32_t handle) const;
  const std::map<std::uint32_t, std::uint32_t>& handles() const { return handles_; }
  const Bo* bo(std::uint32_t id) const;
  // Every BO still alive (a handle or a VMA names it), with its counters.
  std::vector<BoState> live_bos() const;
  std::uint32_t last_bo_id() const { return next_bo_id_ - 1; }

  // madvise counters (DRM_IOCTL_SIM_VM_STATS): REMAPs planned by the split
  // (one per VMA cut, at one end or both), collected VMAs whose attribute
  // changed (advised) or did not (skipped: same value, or not applicable).
  struct MadviseCounters {
    std::uint64_t splits = 0;
    std::uint64_t advised = 0;
    std::uint64_t skipped = 0;
  };
  const MadviseCounters& madvise_counters() const { return counters_; }

  // The state and query texts of state_text.h (what describe_sim() and
  // query_sim() print for the simulator).
  std::string state_text() const;
  std::string query_text(std::uint64_t start, std::uint64_t range, int slack) const;

 private:
  using PageMap = boost::icl::interval_map<std::uint64_t, std::uint32_t>;

  // VMA table primitives.
  std::uint32_t insert(const Vma& v);
  void erase(std::uint32_t id);
  std::uint32_t id_at(std::uint64_t addr) const;  // 0: no VMA covers addr
  std::vector<std::uint32_t> overlapping(std::uint64_t start, std::uint64_t end) const;
  // Removes [start, end) from every VMA; the parts outside survive as pieces.
  void carve(std::uint64_t start, std::uint64_t end);
  // Cuts the non-BO VMA that strictly contains addr into two (madvise split).
  // Returns the id of the piece starting at addr, 0 when nothing was cut.
  std::uint32_t split_at(std::uint64_t addr);
  BoState state_of(std::uint32_t bo_id) const;

  int bind_one(const BindArgs& op);
  int check_bind_args(const BindArgs& op) const;
  int check_bind_bo(const BindArgs& op) const;
  bool atomic_allowed(const Bo& bo, std::uint32_t val) const;
  bool apply_attr(Vma& v, const MadviseArgs& a);
  // Mirror-bind widening over default-attribute mirror neighbours.
  void widen_mirror(Vma& v) const;
  void autoreset(std::uint64_t start, std::uint64_t end);
  int check_prefetch(const BindArgs& op, bool sim_efault) const;
  int access_one(bool gpu, const Access& a, AccessOut* o, int sim_result);

  struct Page {
    std::uint64_t tag = 0;
    std::vector<std::uint8_t> bytes;  // data backing; empty: all zero
  };
  // The access on one page's content (any page map), once every check
  // before it passed: -EINVAL for a misaligned data-backed atomic.
  int apply_to_page(const Access& a, Page& pg, AccessOut* o) const;
  int bo_access(const Vma& v, const Access& a, AccessOut* o, int sim_result);
  int userptr_access(const Vma& v, const Access& a, AccessOut* o);

  DeviceDesc dev_;
  PageMap pages_;
  std::map<std::uint32_t, Vma> vmas_;
  std::uint32_t next_vma_id_ = 1;
  std::map<std::uint32_t, Bo> bos_;
  std::map<std::uint32_t, std::uint32_t> handles_;  // handle -> BO id
  std::uint32_t next_bo_id_ = 1;
  MadviseCounters counters_;
  std::map<std::uint64_t, Page> cpu_;  // page number -> content, for every CPU-mapped page
  std::map<std::uint64_t, std::uint64_t> cpu_maps_;  // CPU mapping start -> end
  // BO id -> page index -> content, pages written so far (others read zero).
  std::map<std::uint32_t, std::map<std::uint64_t, Page>> bo_pages_;
  std::set<std::uint32_t> purged_;  // 7.1: BOs whose backing was discarded
  bool sim_efault_ = false;         // bind()'s hints, for bind_one
  const std::set<std::uint32_t>* purged_now_ = nullptr;
  std::set<std::uint32_t> purgeable_seen_;  // during the last bind()
  void note_purgeable();
};

}  // namespace drm_sim_model
