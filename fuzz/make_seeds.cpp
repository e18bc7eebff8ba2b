// fuzz/make_seeds.cpp — writes the seed corpus of drm_sim_ioctl_fuzzer
// (fuzz/corpus/ioctl/) in the format of ioctl_program.h.
//
//   drm_sim_fuzz_seeds <output-directory>
//
// Each seed is a short, meaningful program: valid VM/BO/bind/madvise/query
// sequences per profile, bind arrays (with and without rollback), and the
// bad-pointer cases (guard page, unmapped, too short, misaligned, NULL).
// Re-run it after changing the input format and commit the result.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "drm_sim/drm_sim.h"
#include "ioctl_program.h"

namespace {

using namespace drm_sim_fuzz;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t kB580 = 0, kPvc = 1, kIntegrated = 2, kSmall = 3, kUapi71 = 4, kXelink = 5;
constexpr std::uint32_t kSys = 1u << 0, kVram0 = 1u << 1;
constexpr std::uint32_t kLrFault = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
constexpr std::uint64_t kMiB = 1024 * 1024;

template <typename T>
Bytes bytes_of(const T& v) {
  Bytes b(sizeof v);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

struct Fx {
  std::uint8_t slot;
  std::uint8_t kind;
  std::uint8_t param = 0;
  Bytes payload = {};
};

class Program {
 public:
  Program(std::uint8_t profile_a, std::uint8_t second) { b_ = {profile_a, second}; }

  // A request of the table with its whole struct.
  template <typename T>
  Program& op(Request r, const T& s, std::initializer_list<Fx> fx = {}, std::uint8_t flags = 0) {
    return raw_op(static_cast<std::uint8_t>(r), flags, bytes_of(s), fx);
  }
  // A request with only the first `len` struct bytes given (the rest zero).
  Program& op_bytes(Request r, const Bytes& s, std::uint8_t flags = 0) {
    return raw_op(static_cast<std::uint8_t>(r), flags, s, {});
  }
  Program& raw32(std::uint32_t code, std::uint8_t flags, const Bytes& s) {
    b_.push_back(kSelRaw32);
    for (int i = 0; i < 4; ++i) b_.push_back(static_cast<std::uint8_t>(code >> (8 * i)));
    return tail(flags, s, {});
  }
  Program& raw64(std::uint64_t code, std::uint8_t flags) {
    b_.push_back(kSelRaw64);
    for (int i = 0; i < 8; ++i) b_.push_back(static_cast<std::uint8_t>(code >> (8 * i)));
    return tail(flags, {}, {});
  }
  Program& close_b() {
    b_.push_back(kSelCloseB);
    return *this;
  }
  Program& reopen_b() {
    b_.push_back(kSelReopenB);
    return *this;
  }
  const Bytes& bytes() const { return b_; }

 private:
  Program& raw_op(std::uint8_t sel, std::uint8_t flags, const Bytes& s,
                  std::initializer_list<Fx> fx) {
    b_.push_back(sel);
    return tail(flags, s, fx);
  }
  Program& tail(std::uint8_t flags, const Bytes& s, std::initializer_list<Fx> fx) {
    b_.push_back(flags);
    b_.push_back(static_cast<std::uint8_t>(s.size()));
    b_.insert(b_.end(), s.begin(), s.end());
    b_.push_back(static_cast<std::uint8_t>(fx.size()));
    for (const Fx& f : fx) {
      b_.push_back(f.slot);
      b_.push_back(f.kind);
      b_.push_back(f.param);
      b_.push_back(static_cast<std::uint8_t>(f.payload.size()));
      b_.push_back(static_cast<std::uint8_t>(f.payload.size() >> 8));
      b_.insert(b_.end(), f.payload.begin(), f.payload.end());
    }
    return *this;
  }
  Bytes b_;
};

// --- argument builders -----------------------------------------------------

drm_xe_vm_create vm_create(std::uint32_t flags) {
  drm_xe_vm_create c{};
  c.flags = flags;
  return c;
}
drm_xe_vm_destroy vm_destroy(std::uint32_t id) {
  drm_xe_vm_destroy d{};
  d.vm_id = id;
  return d;
}
drm_xe_gem_create gem_create(std::uint64_t size, std::uint32_t placement, std::uint16_t caching) {
  drm_xe_gem_create c{};
  c.size = size;
  c.placement = placement;
  c.cpu_caching = caching;
  return c;
}
drm_xe_vm_bind_op bind_op(std::uint32_t op, std::uint32_t obj, std::uint64_t offset,
                          std::uint64_t addr, std::uint64_t range, std::uint32_t flags = 0,
                          std::uint16_t pat = 1) {
  drm_xe_vm_bind_op o{};
  o.op = op;
  o.obj = obj;
  o.obj_offset = offset;
  o.addr = addr;
  o.range = range;
  o.flags = flags;
  o.pat_index = pat;
  return o;
}
drm_xe_vm_bind_op map_bo(std::uint32_t h, std::uint64_t addr, std::uint64_t range,
                         std::uint16_t pat = 1) {
  return bind_op(DRM_XE_VM_BIND_OP_MAP, h, 0, addr, range, 0, pat);
}
drm_xe_vm_bind_op map_null(std::uint64_t addr, std::uint64_t range) {
  return bind_op(DRM_XE_VM_BIND_OP_MAP, 0, 0, addr, range, DRM_XE_VM_BIND_FLAG_NULL);
}
drm_xe_vm_bind_op map_mirror(std::uint64_t addr, std::uint64_t range, bool autoreset = false) {
  return bind_op(DRM_XE_VM_BIND_OP_MAP, 0, 0, addr, range,
                 DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR |
                     (autoreset ? DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET : 0));
}
drm_xe_vm_bind_op unmap(std::uint64_t addr, std::uint64_t range) {
  return bind_op(DRM_XE_VM_BIND_OP_UNMAP, 0, 0, addr, range);
}
drm_xe_vm_bind bind1(std::uint32_t vm, const drm_xe_vm_bind_op& o, std::uint32_t num_syncs = 0) {
  drm_xe_vm_bind b{};
  b.vm_id = vm;
  b.num_binds = 1;
  b.bind = o;
  b.num_syncs = num_syncs;
  return b;
}
drm_xe_vm_bind bind_n(std::uint32_t vm, std::uint32_t n, std::uint32_t num_syncs = 0) {
  drm_xe_vm_bind b{};
  b.vm_id = vm;
  b.num_binds = n;
  b.vector_of_binds = 1;  // nonzero: the harness places the vector
  b.num_syncs = num_syncs;
  return b;
}
Bytes ops(std::initializer_list<drm_xe_vm_bind_op> list) {
  Bytes b;
  for (const auto& o : list) {
    const Bytes one = bytes_of(o);
    b.insert(b.end(), one.begin(), one.end());
  }
  return b;
}
Bytes user_fence(std::uint64_t value) {
  drm_xe_sync s{};
  s.type = DRM_XE_SYNC_TYPE_USER_FENCE;
  s.flags = DRM_XE_SYNC_FLAG_SIGNAL;
  s.timeline_value = value;
  return bytes_of(s);
}
drm_xe_madvise madvise(std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                       std::uint32_t type, std::uint32_t val) {
  drm_xe_madvise m{};
  m.vm_id = vm;
  m.start = start;
  m.range = range;
  m.type = type;
  m.atomic.val = val;  // the first u32 of the union for every type
  return m;
}
drm_xe_madvise madvise_loc(std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                           std::int32_t devmem_fd, std::uint16_t region = 0) {
  drm_xe_madvise m = madvise(vm, start, range, DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC, 0);
  m.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(devmem_fd);
  m.preferred_mem_loc.region_instance = region;
  return m;
}
drm_xe_madvise madvise_purge(std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                             std::uint32_t state, bool retained) {
  drm_xe_madvise m = madvise(vm, start, range, DRM_XE_VMA_ATTR_PURGEABLE_STATE, state);
  m.purge_state_val.retained_ptr = retained ? 1 : 0;
  return m;
}
drm_xe_vm_query_mem_range_attr query(std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                                     std::uint32_t num) {
  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = vm;
  q.start = start;
  q.range = range;
  q.num_mem_ranges = num;
  if (num != 0) {
    q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
    q.vector_of_mem_attr = 1;
  }
  return q;
}
drm_xe_device_query device_query(std::uint32_t what, std::uint32_t size) {
  drm_xe_device_query q{};
  q.query = what;
  q.size = size;
  q.data = size != 0 ? 1 : 0;
  return q;
}
drm_version version(std::size_t name, std::size_t date, std::size_t desc) {
  drm_version v{};
  v.name_len = name;
  v.date_len = date;
  v.desc_len = desc;
  v.name = name != 0 ? reinterpret_cast<char*>(1) : nullptr;
  v.date = date != 0 ? reinterpret_cast<char*>(1) : nullptr;
  v.desc = desc != 0 ? reinterpret_cast<char*>(1) : nullptr;
  return v;
}
drm_sim_vm_stats stats(std::uint32_t vm) {
  drm_sim_vm_stats s{};
  s.vm_id = vm;
  return s;
}
drm_sim_fault_inject fault(std::uint32_t op, std::uint64_t n, bool fatal = false) {
  drm_sim_fault_inject f{};
  f.op = op;
  f.n = n;
  f.flags = fatal ? DRM_SIM_FAULT_FLAG_FATAL : 0;
  return f;
}
drm_gem_close gem_close(std::uint32_t h) {
  drm_gem_close c{};
  c.handle = h;
  return c;
}
drm_xe_gem_mmap_offset mmap_offset(std::uint32_t h) {
  drm_xe_gem_mmap_offset m{};
  m.handle = h;
  return m;
}

// The usual start: VM 1 (LR + fault mode) and BO 1 (2 MiB system memory, WB).
Program basic(std::uint8_t profile, std::uint8_t second = 0) {
  Program p(profile, second);
  p.op(kVmCreate, vm_create(kLrFault));
  p.op(kGemCreate, gem_create(2 * kMiB, kSys, DRM_XE_GEM_CPU_CACHING_WB));
  return p;
}

// Three VMAs: BO 1 at 1 MiB, NULL at 8 MiB, mirror at 16 MiB (the demo layout).
Program layout(std::uint8_t profile, std::uint8_t second = 0) {
  Program p = basic(profile, second);
  p.op(kVmBind, bind1(1, map_bo(1, 0x100000, 2 * kMiB)));
  p.op(kVmBind, bind1(1, map_null(0x800000, 2 * kMiB)));
  p.op(kVmBind, bind1(1, map_mirror(0x1000000, 16 * kMiB)));
  return p;
}

std::vector<std::pair<std::string, Bytes>> seeds() {
  std::vector<std::pair<std::string, Bytes>> s;
  auto add = [&](const char* name, const Program& p) { s.emplace_back(name, p.bytes()); };

  // --- DRM_IOCTL_VERSION and DEVICE_QUERY
  add("version-two-calls",
      Program(kB580, 0).op(kVersion, version(0, 0, 0)).op(kVersion, version(2, 8, 28)));
  add("version-short-buffers", Program(kPvc, 0).op(kVersion, version(1, 3, 5)));
  add("version-name-unmapped",
      Program(kB580, 0).op(kVersion, version(2, 8, 28), {{0, kBufUnmapped, 0}}));
  add("version-desc-guard", Program(kB580, 0).op(kVersion, version(2, 8, 28), {{2, kBufGuard, 0}}));
  add("version-name-short",
      Program(kB580, 0).op(kVersion, version(16, 8, 28), {{0, kBufShort, 13}}));
  add("device-query-config", Program(kB580, 0)
                                 .op(kDeviceQuery, device_query(DRM_XE_DEVICE_QUERY_CONFIG, 0))
                                 .op(kDeviceQuery, device_query(DRM_XE_DEVICE_QUERY_CONFIG, 48)));
  add("device-query-mem-regions",
      Program(kPvc, 0)
          .op(kDeviceQuery, device_query(DRM_XE_DEVICE_QUERY_MEM_REGIONS, 0))
          .op(kDeviceQuery, device_query(DRM_XE_DEVICE_QUERY_MEM_REGIONS, 8 + 3 * 88)));
  add("device-query-data-bad",
      Program(kB580, 0)
          .op(kDeviceQuery, device_query(DRM_XE_DEVICE_QUERY_CONFIG, 48), {{0, kBufGuard, 0}})
          .op(kDeviceQuery, device_query(DRM_XE_DEVICE_QUERY_CONFIG, 48), {{0, kBufUnmapped, 2}})
          .op(kDeviceQuery, device_query(DRM_XE_DEVICE_QUERY_CONFIG, 48), {{0, kBufShort, 7}})
          .op(kDeviceQuery, device_query(DRM_XE_DEVICE_QUERY_CONFIG, 48), {{0, kBufNull, 0}}));

  // --- GEM
  add("gem-create-mmap-close",
      Program(kB580, 0)
          .op(kGemCreate, gem_create(2 * kMiB, kSys, DRM_XE_GEM_CPU_CACHING_WB))
          .op(kGemCreate, gem_create(4 * kMiB, kVram0, DRM_XE_GEM_CPU_CACHING_WC))
          .op(kGemMmapOffset, mmap_offset(1))
          .op(kGemClose, gem_close(1))
          .op(kGemClose, gem_close(1))
          .op(kGemMmapOffset, mmap_offset(2)));
  add("gem-pvc-vram-64k",
      Program(kPvc, 0)
          .op(kVmCreate, vm_create(kLrFault))
          .op(kGemCreate, gem_create(256 * 1024, kVram0, DRM_XE_GEM_CPU_CACHING_WC))
          .op(kVmBind, bind1(1, map_bo(1, 0x10000, 0x10000, 3)))
          .op(kVmBind, bind1(1, map_bo(1, 0x1000, 0x1000, 3))));
  add("gem-small-pressure",
      Program(kSmall, 0)
          .op(kGemCreate, gem_create(32 * kMiB, kVram0, DRM_XE_GEM_CPU_CACHING_WC))
          .op(kGemCreate, gem_create(64 * kMiB, kSys, DRM_XE_GEM_CPU_CACHING_WB))
          .op(kGemCreate, gem_create(64 * kMiB, kSys, DRM_XE_GEM_CPU_CACHING_WB)));
  // A deferred BO allocates nothing at create; one larger than all of the
  // device's memory is -ENOMEM (regression: a 2^63-byte one made the
  // simulator allocate a 127 TiB chunk table).
  drm_xe_gem_create deferred_huge = gem_create(1ull << 62, kSys, DRM_XE_GEM_CPU_CACHING_WB);
  deferred_huge.flags = DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING;
  drm_xe_gem_create deferred_fits = gem_create(1ull << 34, kSys, DRM_XE_GEM_CPU_CACHING_WB);
  deferred_fits.flags = DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING;
  add("gem-deferred-huge",
      Program(kB580, 0).op(kGemCreate, deferred_huge).op(kGemCreate, deferred_fits));
  add("gem-integrated-no-vram",
      Program(kIntegrated, 0)
          .op(kGemCreate, gem_create(2 * kMiB, kVram0, DRM_XE_GEM_CPU_CACHING_WC))
          .op(kGemCreate, gem_create(2 * kMiB, kSys, DRM_XE_GEM_CPU_CACHING_WB))
          .op(kVmCreate, vm_create(kLrFault))
          .op(kVmBind, bind1(1, map_bo(1, 0, 2 * kMiB)))
          .op(kMadvise,
              madvise(1, 0, 2 * kMiB, DRM_XE_MEM_RANGE_ATTR_ATOMIC, DRM_XE_ATOMIC_DEVICE)));

  // --- VM create/destroy, stats
  add("vm-create-destroy",
      Program(kB580, 0)
          .op(kVmCreate, vm_create(0))
          .op(kVmCreate, vm_create(DRM_XE_VM_CREATE_FLAG_LR_MODE))
          .op(kVmCreate, vm_create(kLrFault | DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE))
          .op(kVmCreate, vm_create(DRM_XE_VM_CREATE_FLAG_FAULT_MODE))
          .op(kSimVmStats, stats(2))
          .op(kVmDestroy, vm_destroy(1))
          .op(kVmDestroy, vm_destroy(1))
          .op(kVmCreate, vm_create(0)));

  // --- the demo sequence: bind three kinds, advise, query
  add("demo-layout-madvise-query",
      layout(kB580)
          .op(kMadvise, madvise_loc(1, 0x1400000, 0x400000, DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM))
          .op(kQueryMemRangeAttrs, query(1, 0, 1ull << 48, 0))
          .op(kQueryMemRangeAttrs, query(1, 0, 1ull << 48, 5))
          .op(kSimVmStats, stats(1)));
  add("madvise-atomic-pat",
      layout(kB580)
          .op(kMadvise,
              madvise(1, 0x800000, 0x200000, DRM_XE_MEM_RANGE_ATTR_ATOMIC, DRM_XE_ATOMIC_DEVICE))
          .op(kMadvise,
              madvise(1, 0x100000, 0x1000, DRM_XE_MEM_RANGE_ATTR_ATOMIC, DRM_XE_ATOMIC_CPU))
          .op(kMadvise, madvise(1, 0x1001000, 0x3000, DRM_XE_MEM_RANGE_ATTR_PAT, 2))
          .op(kMadvise, madvise(1, 0x0, 0x4000000, DRM_XE_MEM_RANGE_ATTR_PAT, 16))
          .op(kQueryMemRangeAttrs, query(1, 0x1000000, 0x1000000, 8)));
  add("madvise-split-query-enospc",
      layout(kB580)
          .op(kMadvise,
              madvise(1, 0x1100000, 0x100000, DRM_XE_MEM_RANGE_ATTR_ATOMIC, DRM_XE_ATOMIC_GLOBAL))
          .op(kQueryMemRangeAttrs, query(1, 0x1000000, 0x1000000, 2))
          .op(kQueryMemRangeAttrs, query(1, 0x1000000, 0x1000000, 3)));
  add("madvise-mirror-autoreset",
      basic(kB580)
          .op(kVmBind, bind1(1, map_mirror(0x2000000, 8 * kMiB, true)))
          .op(kMadvise, madvise_loc(1, 0x2100000, 0x100000, DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM))
          .op(kVmBind, bind1(1, unmap(0x2100000, 0x1000)))
          .op(kVmBind, bind1(1, map_mirror(0x2000000, 8 * kMiB, true)))
          .op(kSimVmStats, stats(1)));

  // --- bind arrays
  add("bind-array-three", basic(kB580)
                              .op(kVmBind, bind_n(1, 3),
                                  {{0, kBufExact, 0,
                                    ops({map_bo(1, 0x100000, 2 * kMiB), map_null(0x400000, 0x10000),
                                         unmap(0x110000, 0x1000)})}})
                              .op(kQueryMemRangeAttrs, query(1, 0, 1ull << 48, 8)));
  add("bind-array-unmap-all",
      basic(kPvc)
          .op(kVmBind, bind_n(1, 2),
              {{0, kBufExact, 0,
                ops({map_bo(1, 0x100000, kMiB, 3), map_bo(1, 0x400000, kMiB, 3)})}})
          .op(kVmBind, bind1(1, bind_op(DRM_XE_VM_BIND_OP_UNMAP_ALL, 1, 0, 0, 0, 0, 3))));
  add("bind-array-invalid-last",
      layout(kB580).op(
          kVmBind, bind_n(1, 2),
          {{0, kBufExact, 0, ops({map_null(0x200000, 0x1000), map_null(0x201001, 0x1000)})}}));
  add("bind-array-rollback-enomem",
      layout(kB580)
          .op(kSimFaultInject, fault(DRM_SIM_FAULT_FAIL_ALLOC_AT, 2))
          .op(kVmBind, bind_n(1, 3),
              {{0, kBufExact, 0,
                ops({map_null(0x900000, 0x1000), unmap(0x1100000, 0x100000),
                     map_bo(1, 0x200000, kMiB)})}})
          .op(kQueryMemRangeAttrs, query(1, 0, 1ull << 48, 8)));
  add("bind-array-rollback-eintr",
      layout(kB580)
          .op(kSimFaultInject, fault(DRM_SIM_FAULT_SIGNAL_EVERY, 0))
          .op(kVmBind, bind_n(1, 2),
              {{0, kBufExact, 0, ops({map_null(0x900000, 0x1000), unmap(0x1100000, 0x100000)})}})
          .op(kSimFaultInject, fault(DRM_SIM_FAULT_CLEAR, 0))
          .op(kMadvise, madvise(1, 0x1000000, 0x1000, DRM_XE_MEM_RANGE_ATTR_PAT, 1)));
  add("bind-array-tiled-64",
      basic(kB580).op(kVmBind, bind_n(1, 64),
                      {{0, kBufExact | kKindTile, 0, ops({map_null(0x100000, 0x1000)})}}));
  add("bind-userptr",
      basic(kB580).op(kVmBind, bind1(1, bind_op(DRM_XE_VM_BIND_OP_MAP_USERPTR, 0, 0x7f0000000000,
                                                0x300000, 0x10000))));
  add("bind-prefetch", layout(kPvc).op(kVmBind, bind1(1, bind_op(DRM_XE_VM_BIND_OP_PREFETCH, 0, 0,
                                                                 0x1000000, 0x1000, 0, 3))));

  // --- bind: bad user pointers
  add("bind-vector-guard", basic(kB580).op(kVmBind, bind_n(1, 2), {{0, kBufGuard, 0, {}}}));
  add("bind-vector-short",
      basic(kB580).op(
          kVmBind, bind_n(1, 2),
          {{0, kBufShort, 0, ops({map_null(0x100000, 0x1000), map_null(0x200000, 0x1000)})}}));
  add("bind-vector-straddle", basic(kB580).op(kVmBind, bind_n(1, 2), {{0, kBufStraddle, 3, {}}}));
  add("bind-vector-unmapped", basic(kB580)
                                  .op(kVmBind, bind_n(1, 4), {{0, kBufUnmapped, 0, {}}})
                                  .op(kVmBind, bind_n(1, 4), {{0, kBufUnmapped, 4, {}}})
                                  .op(kVmBind, bind_n(1, 2), {{0, kBufNull, 0, {}}}));
  add("bind-user-fence", layout(kB580).op(kVmBind, bind1(1, map_null(0x3000000, 0x1000), 1),
                                          {{1, kBufExact, 0, user_fence(0x1234)}}));
  add("bind-sync-only-fences",
      layout(kB580).op(kVmBind, bind_n(1, 0, 2), {{1, kBufExact | kKindTile, 0, user_fence(7)}}));
  add("bind-syncs-unmapped", layout(kB580).op(kVmBind, bind1(1, map_null(0x3000000, 0x1000), 2),
                                              {{1, kBufUnmapped, 3, {}}}));
  add("bind-syncs-short", layout(kB580).op(kVmBind, bind1(1, map_null(0x3000000, 0x1000), 2),
                                           {{1, kBufShort | kKindTile, 5, user_fence(1)}}));
  add("bind-fence-misaligned",
      layout(kB580).op(kVmBind, bind1(1, map_null(0x3000000, 0x1000), 1),
                       {{1, kBufExact, 0, user_fence(1)}, {2, kBufMisaligned, 2, {}}}));
  add("bind-fence-guard",
      layout(kB580).op(kVmBind, bind1(1, map_null(0x3000000, 0x1000), 1),
                       {{1, kBufExact, 0, user_fence(1)}, {2, kBufGuard, 0, {}}}));
  add("bind-syncobj",
      layout(kB580).op(kVmBind, bind1(1, map_null(0x3000000, 0x1000), 1), {{1, kBufExact, 0, {}}}));

  // --- query: bad vectors
  add("query-vector-bad",
      layout(kB580)
          .op(kQueryMemRangeAttrs, query(1, 0, 1ull << 48, 3), {{0, kBufUnmapped, 0, {}}})
          .op(kQueryMemRangeAttrs, query(1, 0, 1ull << 48, 3), {{0, kBufShort, 0, {}}})
          .op(kQueryMemRangeAttrs, query(1, 0, 1ull << 48, 3), {{0, kBufGuard, 1, {}}})
          .op(kQueryMemRangeAttrs, query(1, 0, 1ull << 48, 3), {{0, kBufStraddle, 0, {}}})
          .op(kQueryMemRangeAttrs, query(1, 0, 1ull << 48, 3), {{0, kBufMisaligned, 0, {}}}));

  // --- uapi 7.1 purgeable state
  add("purgeable-retained",
      basic(kUapi71)
          .op(kVmBind, bind1(1, map_bo(1, 0x100000, 2 * kMiB)))
          .op(kMadvise,
              madvise_purge(1, 0x100000, 2 * kMiB, DRM_XE_VMA_PURGEABLE_STATE_DONTNEED, true))
          .op(kGemMmapOffset, mmap_offset(1))
          .op(kVmBind, bind1(1, map_bo(1, 0x800000, 2 * kMiB)))
          .op(kMadvise,
              madvise_purge(1, 0x100000, 2 * kMiB, DRM_XE_VMA_PURGEABLE_STATE_WILLNEED, true))
          .op(kVmBind, bind1(1, unmap(0x100000, 0x1000))));
  add("purgeable-retained-bad",
      basic(kUapi71)
          .op(kVmBind, bind1(1, map_bo(1, 0x100000, 2 * kMiB)))
          .op(kMadvise, madvise_purge(1, 0x100000, 2 * kMiB, 1, true), {{0, kBufUnmapped, 0, {}}})
          .op(kMadvise, madvise_purge(1, 0x100000, 2 * kMiB, 1, true), {{0, kBufGuard, 0, {}}})
          .op(kMadvise, madvise_purge(1, 0x100000, 2 * kMiB, 1, true), {{0, kBufShort, 1, {}}})
          .op(kMadvise, madvise_purge(1, 0x100000, 2 * kMiB, 1, true),
              {{0, kBufExact, 0, {1, 0, 0, 0}}}));

  // --- uapi 7.0 multi-device placement (fd B: a second b580-xelink device)
  const std::uint8_t xelink_b = 2 + 4 * kXelink;
  add("xelink-devmem-fd",
      layout(kXelink, xelink_b)
          .op(kMadvise, madvise_loc(1, 0x1000000, 0x100000, 3, 1), {{1, kFdB, 0, {}}})
          .op(kMadvise, madvise_loc(1, 0x1100000, 0x100000, 3, 1), {{1, kFdA, 0, {}}})
          .op(kMadvise, madvise_loc(1, 0x1200000, 0x100000, 3, 1), {{1, kFdDevNull, 0, {}}})
          .op(kMadvise, madvise_loc(1, 0x1300000, 0x100000, 3, 0), {{1, kFdB, 0, {}}})
          .op(kQueryMemRangeAttrs, query(1, 0x1000000, 0x1000000, 8))
          .close_b()
          .op(kMadvise, madvise_loc(1, 0x1000000, 0x100000, 3, 1), {{1, kFdB, 0, {}}})
          .reopen_b()
          .op(kVmCreate, vm_create(0), {}, kTargetB));
  add("xelink-no-link",
      layout(kXelink, 2 + 4 * kB580)
          .op(kMadvise, madvise_loc(1, 0x1000000, 0x100000, 3, 1), {{1, kFdB, 0, {}}}));

  // --- second DRM file on the same device
  add("second-file", layout(kB580, 1)
                         .op(kVmBind, bind1(1, map_null(0x3000000, 0x1000)), {}, kTargetB)
                         .op(kVmCreate, vm_create(0), {}, kTargetB)
                         .op(kVmBind, bind1(1, map_bo(1, 0x100000, 2 * kMiB)), {}, kTargetB)
                         .op(kGemClose, gem_close(1), {}, kTargetB)
                         .close_b()
                         .op(kVmCreate, vm_create(0), {}, kTargetB));

  // --- fault injection
  add("fault-signal-madvise",
      layout(kB580)
          .op(kSimFaultInject, fault(DRM_SIM_FAULT_SIGNAL_AT_WAIT, 1))
          .op(kMadvise, madvise(1, 0x1000000, 0x2000, DRM_XE_MEM_RANGE_ATTR_ATOMIC, 1))
          .op(kSimFaultInject, fault(DRM_SIM_FAULT_SIGNAL_AT_WAIT, 1, true))
          .op(kMadvise, madvise(1, 0x1000000, 0x2000, DRM_XE_MEM_RANGE_ATTR_ATOMIC, 1))
          .op(kSimFaultInject, fault(DRM_SIM_FAULT_SIGNAL_EVERY, 0))
          .op(kQueryMemRangeAttrs, query(1, 0, 1ull << 48, 0))
          .op(kSimFaultInject, fault(DRM_SIM_FAULT_CLEAR, 0))
          .op(kMadvise, madvise(1, 0x1000000, 0x2000, DRM_XE_MEM_RANGE_ATTR_ATOMIC, 1)));
  add("fault-alloc-madvise-split",
      layout(kB580)
          .op(kSimFaultInject, fault(DRM_SIM_FAULT_FAIL_ALLOC_AT, 1))
          .op(kMadvise, madvise(1, 0x1100000, 0x1000, DRM_XE_MEM_RANGE_ATTR_PAT, 2))
          .op(kSimFaultInject, fault(DRM_SIM_FAULT_FAIL_ALLOC_AT, 1))
          .op(kGemCreate, gem_create(2 * kMiB, kSys, DRM_XE_GEM_CPU_CACHING_WB))
          .op(kSimFaultInject, fault(DRM_SIM_FAULT_FAIL_ALLOC_AT, 1))
          .op(kVmCreate, vm_create(0)));

  // --- entry points, NULL arguments, bad fds, unknown requests
  {
    Program p = basic(kB580);
    for (std::uint8_t r = 0; r < kNumRequests; ++r)
      p.op_bytes(static_cast<Request>(r), {}, kFlagNullArg);
    add("null-arguments", p);
  }
  {
    Program p(kB580, 0);
    for (std::uint8_t bad = 0; bad < 4; ++bad) {
      p.op(kVmCreate, vm_create(0), {},
           static_cast<std::uint8_t>(kTargetBad | (bad << kBadFdShift)));
    }
    add("bad-fds", p);
  }
  add("via-ioctl", Program(kB580, 0)
                       .op(kVmCreate, vm_create(kLrFault), {}, kFlagViaIoctl)
                       .op(kVersion, version(2, 8, 28), {}, kFlagViaIoctl)
                       .op(kVmBind, bind1(1, map_null(0x100000, 0x1000)), {}, kFlagViaIoctl)
                       .op(kVmBind, bind1(1, map_null(0x100001, 0x1000)), {}, kFlagViaIoctl)
                       .op_bytes(kVmDestroy, {}, kFlagViaIoctl | kFlagNullArg));
  add("raw-requests",
      Program(kB580, 0)
          .raw32(DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_EXEC_QUEUE_CREATE, drm_xe_vm_create), 0,
                 {1, 2, 3})
          .raw32(0, 0, {})
          .raw32(DRM_IOCTL_XE_VM_CREATE, 0, {})
          .raw32(DRM_IOW(DRM_COMMAND_BASE + 0x5f, drm_sim_fault_inject), kFlagViaIoctl, {})
          .raw32(0xc0ff6440u, kFlagNullArg, {})
          .raw64(0x100000000ull | DRM_IOCTL_XE_VM_CREATE, 0));
  add("garbage-structs", Program(kB580, 1)
                             .op_bytes(kVmCreate, Bytes(32, 0xff))
                             .op_bytes(kGemCreate, Bytes(56, 0xff))
                             .op_bytes(kVmBind, Bytes(136, 0xff))
                             .op_bytes(kMadvise, Bytes(64, 0xff))
                             .op_bytes(kQueryMemRangeAttrs, Bytes(64, 0xff))
                             .op_bytes(kSimVmStats, Bytes(128, 0xff))
                             .op_bytes(kSimFaultInject, Bytes(32, 0xff))
                             .op_bytes(kDeviceQuery, Bytes(40, 0xff))
                             .op_bytes(kVersion, Bytes(64, 0xff)));
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output-directory>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::size_t total = 0;
  const auto all = seeds();
  for (const auto& [name, bytes] : all) {
    const std::string path = dir + "/" + name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), std::strerror(errno));
      return 1;
    }
    const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    if (std::fclose(f) != 0 || !ok) {
      std::fprintf(stderr, "%s: write failed\n", path.c_str());
      return 1;
    }
    total += bytes.size();
  }
  std::printf("wrote %zu seeds (%zu bytes) to %s\n", all.size(), total, dir.c_str());
  return 0;
}
