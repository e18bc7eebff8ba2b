// tests/unit/madvise_test_util.h — shared harness of the madvise and
// attribute-query suites (madvise_*_test.cpp, mem_range_query_test.cpp).
//
// Everything goes through the uapi (drm_sim_open + drm_sim_ioctl); the
// simulator's C++ objects are reached only to observe what the uapi cannot
// show: the VMA records (kind, offset, flags, PTE tiles), the BO table, the
// fault plan's wait counter and the event trace.
//
// Address convention: layouts start at kBase (1 MiB) and are drawn in pages,
// pg(n) is the address of page n, so a test's ASCII picture reads directly
// as page numbers:
//
//     page:  0     1     2     3     4
//            [-----------------------)      pg(0) .. pg(4)
//
// Owns: a Session owns its fd (closed in the destructor) and one VM.
// Locking: none; every helper is called from the test thread.
// Errors: helpers return the ioctl's 0 / -errno; helpers that must succeed
// record a gtest failure and return a neutral value.
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"
#include "drm_sim/vm/events.h"

namespace madvise_test {

using drm_sim::Event;
using drm_sim::EventType;
using drm_sim::Vma;
using drm_sim::VmaKind;

inline constexpr std::uint64_t kPage = 4096;
inline constexpr std::uint64_t kBase = 1ull << 20;                // first page of every layout
inline constexpr std::uint64_t kUserptrCpuBase = 0x7f0000000000;  // fake CPU address of userptrs
inline constexpr std::uint32_t kFaultVm =
    DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
inline constexpr std::uint32_t kPlainVm = 0;  // binds write PTEs at once

inline constexpr std::uint64_t pg(std::uint64_t n) {
  return kBase + n * kPage;
}
inline constexpr std::uint64_t pages(std::uint64_t n) {
  return n * kPage;
}

// Placement masks (region instances: 0 system memory, 1 the first VRAM).
inline constexpr std::uint32_t kSmem = 1u << 0;
inline constexpr std::uint32_t kVram = 1u << 1;

// [start, end) in pages relative to kBase.
using PageSpan = std::pair<std::uint64_t, std::uint64_t>;

// Names a parameterised test after its row's `name` field.
struct NameOf {
  template <typename P>
  std::string operator()(const ::testing::TestParamInfo<P>& row) const {
    return std::string(row.param.name);
  }
};

// ---------------------------------------------------------------------------
// madvise argument builders (vm_id, range and one attribute; the rest zero).

inline drm_xe_madvise advice(std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                             std::uint32_t type) {
  drm_xe_madvise m{};
  m.vm_id = vm;
  m.start = start;
  m.range = range;
  m.type = type;
  return m;
}
inline drm_xe_madvise pat_advice(std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                                 std::uint32_t pat) {
  drm_xe_madvise m = advice(vm, start, range, DRM_XE_MEM_RANGE_ATTR_PAT);
  m.pat_index.val = pat;
  return m;
}
inline drm_xe_madvise atomic_advice(std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                                    std::uint32_t val) {
  drm_xe_madvise m = advice(vm, start, range, DRM_XE_MEM_RANGE_ATTR_ATOMIC);
  m.atomic.val = val;
  return m;
}
inline drm_xe_madvise loc_advice(std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                                 std::int32_t devmem_fd, std::uint16_t policy = 0,
                                 std::uint16_t region_instance = 0) {
  drm_xe_madvise m = advice(vm, start, range, DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC);
  m.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(devmem_fd);
  m.preferred_mem_loc.migration_policy = policy;
  m.preferred_mem_loc.region_instance = region_instance;
  return m;
}
inline drm_xe_madvise purge_advice(std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                                   std::uint32_t val, std::uint32_t* retained = nullptr) {
  drm_xe_madvise m = advice(vm, start, range, DRM_XE_VMA_ATTR_PURGEABLE_STATE);
  m.purge_state_val.val = val;
  m.purge_state_val.retained_ptr = reinterpret_cast<std::uint64_t>(retained);
  return m;
}

inline int madvise(int fd, drm_xe_madvise m) {
  return drm_sim_ioctl(fd, DRM_IOCTL_XE_MADVISE, &m);
}

// ---------------------------------------------------------------------------
// One DRM file on a fresh simulated device, with one VM.

class Session {
 public:
  explicit Session(const char* profile = nullptr, std::uint32_t vm_flags = kFaultVm) {
    fd_ = drm_sim_open(profile);
    if (fd_ < 0) {
      ADD_FAILURE() << "drm_sim_open(" << (profile ? profile : "default") << ") = " << fd_;
      return;
    }
    file_ = drm_sim::file_from_fd(fd_);
    vm_ = create_vm(vm_flags);
  }
  ~Session() {
    file_.reset();
    if (fd_ >= 0) ::close(fd_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int fd() const { return fd_; }
  std::uint32_t vm() const { return vm_; }
  drm_sim::DrmFile& file() { return *file_; }
  drm_sim::Device& device() { return file_->device(); }
  std::shared_ptr<drm_sim::Vm> vm_ptr() { return file_->vm(vm_); }

  std::uint32_t create_vm(std::uint32_t flags) {
    drm_xe_vm_create c{};
    c.flags = flags;
    const int rc = drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_CREATE, &c);
    EXPECT_EQ(rc, 0) << "VM_CREATE";
    return c.vm_id;
  }
  int destroy_vm(std::uint32_t id) {
    drm_xe_vm_destroy d{};
    d.vm_id = id;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_DESTROY, &d);
  }

  // --- binds (0 or -errno) ---
  int bind(const drm_xe_vm_bind_op& op, std::uint32_t vm) {
    drm_xe_vm_bind b{};
    b.vm_id = vm;
    b.num_binds = 1;
    b.bind = op;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_BIND, &b);
  }
  int bind(const drm_xe_vm_bind_op& op) { return bind(op, vm_); }
  int bind_mirror(std::uint64_t addr, std::uint64_t range, std::uint32_t flags = 0) {
    drm_xe_vm_bind_op o{};
    o.addr = addr;
    o.range = range;
    o.op = DRM_XE_VM_BIND_OP_MAP;
    o.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR | flags;
    return bind(o);
  }
  int bind_null(std::uint64_t addr, std::uint64_t range, std::uint16_t pat = 0,
                std::uint32_t flags = 0) {
    drm_xe_vm_bind_op o{};
    o.addr = addr;
    o.range = range;
    o.pat_index = pat;
    o.op = DRM_XE_VM_BIND_OP_MAP;
    o.flags = DRM_XE_VM_BIND_FLAG_NULL | flags;
    return bind(o);
  }
  // Userptr binds need a coherent PAT entry; the CPU address is never touched.
  int bind_userptr(std::uint64_t addr, std::uint64_t range, std::uint64_t cpu_addr) {
    drm_xe_vm_bind_op o{};
    o.addr = addr;
    o.range = range;
    o.userptr = cpu_addr;
    o.pat_index = coherent_pat();
    o.op = DRM_XE_VM_BIND_OP_MAP_USERPTR;
    return bind(o);
  }
  int bind_bo(std::uint32_t handle, std::uint64_t bo_offset, std::uint64_t addr,
              std::uint64_t range, std::uint16_t pat = 0, std::uint32_t flags = 0,
              std::uint32_t vm = 0) {
    drm_xe_vm_bind_op o{};
    o.obj = handle;
    o.obj_offset = bo_offset;
    o.addr = addr;
    o.range = range;
    o.pat_index = pat;
    o.op = DRM_XE_VM_BIND_OP_MAP;
    o.flags = flags;
    return bind(o, vm == 0 ? vm_ : vm);
  }
  int unbind(std::uint64_t addr, std::uint64_t range) {
    drm_xe_vm_bind_op o{};
    o.addr = addr;
    o.range = range;
    o.op = DRM_XE_VM_BIND_OP_UNMAP;
    return bind(o);
  }

  // A write-combined BO (binds with any PAT entry). Returns the handle, 0 on failure.
  std::uint32_t create_bo(std::uint64_t size, std::uint32_t placement) {
    drm_xe_gem_create c{};
    c.size = size;
    c.placement = placement;
    c.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
    const int rc = drm_sim_ioctl(fd_, DRM_IOCTL_XE_GEM_CREATE, &c);
    EXPECT_EQ(rc, 0) << "GEM_CREATE placement " << placement;
    return rc == 0 ? c.handle : 0;
  }
  int mmap_offset(std::uint32_t handle) {
    drm_xe_gem_mmap_offset m{};
    m.handle = handle;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_GEM_MMAP_OFFSET, &m);
  }
  int gem_close(std::uint32_t handle) {
    drm_gem_close c{};
    c.handle = handle;
    return drm_sim_ioctl(fd_, DRM_IOCTL_GEM_CLOSE, &c);
  }
  // A copy of the BO's device record, read under bo_mutex.
  drm_sim::Bo bo_state(std::uint32_t handle) {
    auto id = file_->bo_of(handle);
    if (!id) {
      ADD_FAILURE() << "no BO behind handle " << handle;
      return {};
    }
    std::lock_guard<std::mutex> g(device().bo_mutex());
    const drm_sim::Bo* b = device().bo_locked(*id);
    return b != nullptr ? *b : drm_sim::Bo{};
  }

  // --- madvise (0 or -errno) ---
  int madvise(drm_xe_madvise m) { return madvise_test::madvise(fd_, m); }
  int advise_pat(std::uint64_t start, std::uint64_t range, std::uint32_t pat) {
    return madvise(pat_advice(vm_, start, range, pat));
  }
  int advise_atomic(std::uint64_t start, std::uint64_t range, std::uint32_t val) {
    return madvise(atomic_advice(vm_, start, range, val));
  }
  int advise_loc(std::uint64_t start, std::uint64_t range, std::int32_t devmem_fd,
                 std::uint16_t policy = 0, std::uint16_t region_instance = 0) {
    return madvise(loc_advice(vm_, start, range, devmem_fd, policy, region_instance));
  }
  int advise_purge(std::uint64_t start, std::uint64_t range, std::uint32_t val,
                   std::uint32_t* retained = nullptr) {
    return madvise(purge_advice(vm_, start, range, val, retained));
  }

  // --- the attribute query, both calls of the protocol ---
  std::vector<drm_xe_mem_range_attr> query(std::uint64_t start, std::uint64_t range) {
    drm_xe_vm_query_mem_range_attr q{};
    q.vm_id = vm_;
    q.start = start;
    q.range = range;
    int rc = drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
    EXPECT_EQ(rc, 0) << "query count call";
    if (rc != 0 || q.num_mem_ranges == 0) return {};
    std::vector<drm_xe_mem_range_attr> out(q.num_mem_ranges);
    q.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(out.data());
    rc = drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
    EXPECT_EQ(rc, 0) << "query fill call";
    out.resize(rc == 0 ? q.num_mem_ranges : 0);
    return out;
  }
  std::vector<drm_xe_mem_range_attr> query_all() { return query(0, device().profile().va_end()); }

  // --- observation ---
  drm_sim_vm_stats stats(std::uint32_t vm = 0) {
    drm_sim_vm_stats s{};
    s.vm_id = vm == 0 ? vm_ : vm;
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_SIM_VM_STATS, &s), 0) << "SIM_VM_STATS";
    return s;
  }
  std::vector<Vma> vmas() {
    auto v = vm_ptr();
    return v ? v->vmas() : std::vector<Vma>{};
  }
  std::string invariants() {
    auto v = vm_ptr();
    return v ? v->check_invariants() : std::string("no VM");
  }
  std::uint64_t waits() { return device().plan().waits(); }

  // --- fault injection through the simulator ioctl ---
  int inject(std::uint32_t op, std::uint64_t n, bool fatal) {
    drm_sim_fault_inject f{};
    f.op = op;
    f.n = n;
    f.flags = fatal ? DRM_SIM_FAULT_FLAG_FATAL : 0;
    return drm_sim_ioctl(fd_, DRM_IOCTL_SIM_FAULT_INJECT, &f);
  }
  void signal_at_wait(std::uint64_t k, bool fatal) {
    EXPECT_EQ(inject(DRM_SIM_FAULT_SIGNAL_AT_WAIT, k, fatal), 0);
  }
  void signal_every_wait(bool fatal) { EXPECT_EQ(inject(DRM_SIM_FAULT_SIGNAL_EVERY, 0, fatal), 0); }
  void fail_alloc_at(std::uint64_t n) {
    EXPECT_EQ(inject(DRM_SIM_FAULT_FAIL_ALLOC_AT, n, false), 0);
  }
  void clear_faults() { EXPECT_EQ(inject(DRM_SIM_FAULT_CLEAR, 0, false), 0); }

  // The first PAT index whose coherency mode is at least 1-way (userptr binds).
  std::uint16_t coherent_pat() {
    const auto& pat = device().profile().pat;
    for (std::size_t i = 0; i < pat.size(); ++i) {
      if (pat[i] == drm_sim::kCohAtLeast1Way) return static_cast<std::uint16_t>(i);
    }
    ADD_FAILURE() << "profile has no coherent PAT entry";
    return 0;
  }

 private:
  int fd_ = -1;
  std::shared_ptr<drm_sim::DrmFile> file_;
  std::uint32_t vm_ = 0;
};

// ---------------------------------------------------------------------------
// Layouts.

// Binds one VMA of `kind` per span. Mirror VMAs cannot be bound side by side
// (a mirror MAP absorbs default-attribute mirror neighbours), so a run of
// touching mirror spans is bound as one VMA and then cut at the inner
// boundaries by a madvise of the default PAT value, which splits and changes
// nothing else. Userptr spans map CPU address kUserptrCpuBase + (addr - kBase).
inline void build_layout(Session& s, VmaKind kind, const std::vector<PageSpan>& spans) {
  if (kind != VmaKind::kMirror) {
    for (const auto& [a, e] : spans) {
      int rc = 0;
      if (kind == VmaKind::kNull) rc = s.bind_null(pg(a), pages(e - a));
      if (kind == VmaKind::kUserptr) {
        rc = s.bind_userptr(pg(a), pages(e - a), kUserptrCpuBase + pages(a));
      }
      ASSERT_EQ(rc, 0) << "bind [" << a << "," << e << ")";
    }
    return;
  }
  std::size_t i = 0;
  while (i < spans.size()) {
    std::size_t j = i;
    while (j + 1 < spans.size() && spans[j + 1].first == spans[j].second) ++j;
    ASSERT_EQ(s.bind_mirror(pg(spans[i].first), pages(spans[j].second - spans[i].first)), 0);
    for (std::size_t k = i + 1; k <= j; ++k) {
      ASSERT_EQ(s.advise_pat(pg(spans[k].first), pages(spans[j].second - spans[k].first), 0), 0);
    }
    i = j + 1;
  }
}

// VMA bounds in pages relative to kBase (VMAs below kBase are not expected).
inline std::vector<PageSpan> page_spans(const std::vector<Vma>& vmas) {
  std::vector<PageSpan> out;
  out.reserve(vmas.size());
  for (const auto& v : vmas) out.emplace_back((v.start - kBase) / kPage, (v.end - kBase) / kPage);
  return out;
}
inline std::vector<PageSpan> page_spans(const std::vector<drm_xe_mem_range_attr>& attrs) {
  std::vector<PageSpan> out;
  out.reserve(attrs.size());
  for (const auto& a : attrs) out.emplace_back((a.start - kBase) / kPage, (a.end - kBase) / kPage);
  return out;
}

// One line per VMA with everything a test may compare: for failure messages.
inline std::string describe(const Vma& v) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%s flags=%u pte=%u {fd=%d pol=%u reg=%u atomic=%u pat=%u purge=%u}",
                drm_sim::to_string(v).c_str(), v.flags, v.pte_tiles, v.attrs.devmem_fd,
                v.attrs.migration_policy, v.attrs.region_instance, v.attrs.atomic, v.attrs.pat,
                v.attrs.purgeable);
  return buf;
}
inline std::string describe(const std::vector<Vma>& vmas) {
  std::string s;
  for (const auto& v : vmas) s += "  " + describe(v) + "\n";
  return s.empty() ? "  (no VMA)\n" : s;
}

// The VMA that starts at addr (a gtest failure and a default VMA when none).
inline Vma vma_at(const std::vector<Vma>& vmas, std::uint64_t addr) {
  for (const auto& v : vmas) {
    if (v.start == addr) return v;
  }
  ADD_FAILURE() << "no VMA starts at 0x" << std::hex << addr << "\n" << describe(vmas);
  return {};
}

// A mapped page the process may not read: a user pointer that gives EFAULT.
class NoAccessPage {
 public:
  NoAccessPage() : p_(::mmap(nullptr, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) {
    EXPECT_NE(p_, MAP_FAILED);
  }
  ~NoAccessPage() {
    if (p_ != MAP_FAILED) ::munmap(p_, kPage);
  }
  NoAccessPage(const NoAccessPage&) = delete;
  NoAccessPage& operator=(const NoAccessPage&) = delete;
  std::uint32_t* ptr() const { return static_cast<std::uint32_t*>(p_); }

 private:
  void* p_;
};

// ---------------------------------------------------------------------------
// Event trace: records the device's events while alive.

class EventTap {
 public:
  explicit EventTap(drm_sim::Device& dev) : dev_(dev) { dev_.set_event_sink(&rec_); }
  ~EventTap() { dev_.set_event_sink(nullptr); }
  EventTap(const EventTap&) = delete;
  EventTap& operator=(const EventTap&) = delete;
  std::vector<Event> take() { return rec_.take(); }

 private:
  drm_sim::Device& dev_;
  drm_sim::EventRecorder rec_;
};

inline std::vector<Event> only(const std::vector<Event>& events, EventType t) {
  std::vector<Event> out;
  for (const auto& e : events) {
    if (e.type == t) out.push_back(e);
  }
  return out;
}

// (events.h declares to_string(Event) but the library does not define it.)
inline const char* event_name(EventType t) {
  switch (t) {
    case EventType::kOpMap:
      return "OpMap";
    case EventType::kOpUnmap:
      return "OpUnmap";
    case EventType::kPteZap:
      return "PteZap";
    case EventType::kTlbInval:
      return "TlbInval";
    case EventType::kAttrChanged:
      return "AttrChanged";
    case EventType::kAttrSkipped:
      return "AttrSkipped";
    case EventType::kGpuFault:
      return "GpuFault";
    case EventType::kMigrateToVram:
      return "MigrateToVram";
    case EventType::kMigrateToSys:
      return "MigrateToSys";
    case EventType::kEvict:
      return "Evict";
    case EventType::kPurge:
      return "Purge";
  }
  return "?";
}
inline std::string describe(const std::vector<Event>& events) {
  std::string s;
  for (const auto& e : events) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %s vm=%u [0x%llx,0x%llx) tile=%u mask=%u\n",
                  event_name(e.type), e.vm_id, static_cast<unsigned long long>(e.start),
                  static_cast<unsigned long long>(e.end), e.tile, e.tile_mask);
    s += buf;
  }
  return s.empty() ? "  (no event)\n" : s;
}

}  // namespace madvise_test
