// tests/unit/ioctl_test_util.h — helpers for the end-to-end uapi tests.
//
// The tests drive a simulated xe device only through its uapi: drm_sim_open()
// for an fd, then DRM_IOCTL_* requests carrying the structs of xe_drm.h. This
// header owns the repetitive parts: an fd owner, builders for the GEM, VM and
// VM_BIND structs, one call() that issues a request through any of the three
// entry points (drm_sim_ioctl, ioctl(2), libdrm's drmIoctl) and always returns
// 0 or -errno, and a layout dumper that reads a VM back with
// DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS (plus the VMA records behind it, so
// "exactly as before" comparisons see BO ids, offsets, flags and PTE state).
//
// Conventions: functions named like an ioctl (vm_create, gem_create, bind...)
// return 0 or -errno; make_* helpers expect success (a gtest failure otherwise)
// and return the new id. Nothing here is a template: the header is included by
// several test files on a 2-core machine.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <xf86drm.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"

namespace drm_sim_test {

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = 1024 * kKiB;
inline constexpr std::uint64_t kGiB = 1024 * kMiB;
inline constexpr std::uint64_t kPage = 4 * kKiB;

// Placement bits (drm_xe_gem_create.placement): bit n = region instance n.
inline constexpr std::uint32_t kSysmem = 1u << 0;
inline constexpr std::uint32_t kVram0 = 1u << 1;  // tile 0 VRAM on every discrete profile
inline constexpr std::uint32_t kVram1 = 1u << 2;  // tile 1 VRAM (pvc)

// PAT indices of the built-in tables (profiles/*.json, from xe_pat.c).
inline constexpr std::uint16_t kB580PatNonCoherent = 0;  // XE_COH_NONE
inline constexpr std::uint16_t kB580PatCoherent = 1;     // XE_COH_AT_LEAST_1WAY
inline constexpr std::uint16_t kB580PatCoherent2 = 2;    // XE_COH_AT_LEAST_1WAY
inline constexpr std::uint16_t kB580PatReserved = 16;    // coherency 0: reserved
inline constexpr std::uint16_t kB580PatEntries = 28;
inline constexpr std::uint16_t kPvcPatNonCoherent = 0;
inline constexpr std::uint16_t kPvcPatCoherent = 3;
inline constexpr std::uint16_t kPvcPatEntries = 8;

inline constexpr std::uint32_t kFaultVm =
    DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;

// ---------------------------------------------------------------------------
// Entry points

// Which door an ioctl goes through.
enum class Path { kSimIoctl, kIoctl, kDrmIoctl };

inline const char* path_name(Path p) {
  switch (p) {
    case Path::kSimIoctl:
      return "drm_sim_ioctl";
    case Path::kIoctl:
      return "ioctl";
    case Path::kDrmIoctl:
      return "drmIoctl";
  }
  return "?";
}

// Issues request on fd through p. Returns 0 or -errno whatever the path
// (ioctl(2) and drmIoctl return -1 and set errno; drm_sim_ioctl returns -errno).
inline int call(Path p, int fd, unsigned long request, void* arg) {
  switch (p) {
    case Path::kSimIoctl:
      return drm_sim_ioctl(fd, request, arg);
    case Path::kIoctl: {
      const int r = ::ioctl(fd, request, arg);
      return r == -1 ? -errno : r;
    }
    case Path::kDrmIoctl: {
      const int r = drmIoctl(fd, request, arg);
      return r == -1 ? -errno : r;
    }
  }
  return -EINVAL;
}

// Owns an fd; closes it (with the interposed close()) when it goes.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd() { reset(); }
  ScopedFd(ScopedFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// drm_sim_open(profile), expecting success.
inline ScopedFd open_sim(const char* profile = nullptr) {
  const int fd = drm_sim_open(profile);
  EXPECT_GE(fd, 0) << "drm_sim_open(" << (profile != nullptr ? profile : "NULL") << ") = " << fd;
  return ScopedFd(fd);
}

// Writes text to a new temporary file whose name ends in ".json"; returns the
// path (the caller unlinks it).
inline std::string write_profile_file(const std::string& text) {
  char path[] = "/tmp/drm_sim_ioctl_test_XXXXXX.json";
  const int fd = ::mkstemps(path, 5);
  EXPECT_GE(fd, 0) << "mkstemps failed: errno " << errno;
  if (fd < 0) return {};
  const ssize_t n = ::write(fd, text.data(), text.size());
  EXPECT_EQ(n, static_cast<ssize_t>(text.size()));
  ::close(fd);
  return path;
}

// ---------------------------------------------------------------------------
// VM and GEM

inline int vm_create(int fd, std::uint32_t flags, std::uint32_t* id = nullptr,
                     Path p = Path::kSimIoctl) {
  drm_xe_vm_create c{};
  c.flags = flags;
  const int r = call(p, fd, DRM_IOCTL_XE_VM_CREATE, &c);
  if (id != nullptr) *id = c.vm_id;
  return r;
}

inline std::uint32_t make_vm(int fd, std::uint32_t flags = 0) {
  std::uint32_t id = 0;
  EXPECT_EQ(vm_create(fd, flags, &id), 0) << "VM_CREATE flags 0x" << std::hex << flags;
  return id;
}

inline int vm_destroy(int fd, std::uint32_t id, Path p = Path::kSimIoctl) {
  drm_xe_vm_destroy d{};
  d.vm_id = id;
  return call(p, fd, DRM_IOCTL_XE_VM_DESTROY, &d);
}

inline drm_xe_gem_create gem_args(std::uint64_t size, std::uint32_t placement,
                                  std::uint16_t cpu_caching) {
  drm_xe_gem_create c{};
  c.size = size;
  c.placement = placement;
  c.cpu_caching = cpu_caching;
  return c;
}

inline int gem_create(int fd, drm_xe_gem_create* c, Path p = Path::kSimIoctl) {
  return call(p, fd, DRM_IOCTL_XE_GEM_CREATE, c);
}

// A BO; system memory and write-back by default (VRAM BOs need WC).
inline std::uint32_t make_bo(int fd, std::uint64_t size, std::uint32_t placement = kSysmem,
                             std::uint16_t cpu_caching = DRM_XE_GEM_CPU_CACHING_WB,
                             std::uint32_t vm_id = 0) {
  drm_xe_gem_create c = gem_args(size, placement, cpu_caching);
  c.vm_id = vm_id;
  EXPECT_EQ(gem_create(fd, &c), 0) << "GEM_CREATE size 0x" << std::hex << size;
  return c.handle;
}

inline int gem_close(int fd, std::uint32_t handle, Path p = Path::kSimIoctl) {
  drm_gem_close c{};
  c.handle = handle;
  return call(p, fd, DRM_IOCTL_GEM_CLOSE, &c);
}

// ---------------------------------------------------------------------------
// VM_BIND ops

inline drm_xe_vm_bind_op map_bo(std::uint32_t handle, std::uint64_t addr, std::uint64_t range,
                                std::uint64_t offset = 0, std::uint16_t pat = kB580PatCoherent) {
  drm_xe_vm_bind_op o{};
  o.obj = handle;
  o.obj_offset = offset;
  o.addr = addr;
  o.range = range;
  o.op = DRM_XE_VM_BIND_OP_MAP;
  o.pat_index = pat;
  return o;
}

inline drm_xe_vm_bind_op map_userptr(std::uint64_t userptr, std::uint64_t addr, std::uint64_t range,
                                     std::uint16_t pat = kB580PatCoherent) {
  drm_xe_vm_bind_op o{};
  o.userptr = userptr;
  o.addr = addr;
  o.range = range;
  o.op = DRM_XE_VM_BIND_OP_MAP_USERPTR;
  o.pat_index = pat;
  return o;
}

inline drm_xe_vm_bind_op map_null(std::uint64_t addr, std::uint64_t range,
                                  std::uint16_t pat = kB580PatCoherent) {
  drm_xe_vm_bind_op o{};
  o.addr = addr;
  o.range = range;
  o.op = DRM_XE_VM_BIND_OP_MAP;
  o.flags = DRM_XE_VM_BIND_FLAG_NULL;
  o.pat_index = pat;
  return o;
}

inline drm_xe_vm_bind_op map_mirror(std::uint64_t addr, std::uint64_t range,
                                    std::uint32_t extra_flags = 0,
                                    std::uint16_t pat = kB580PatCoherent) {
  drm_xe_vm_bind_op o{};
  o.addr = addr;
  o.range = range;
  o.op = DRM_XE_VM_BIND_OP_MAP;
  o.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR | extra_flags;
  o.pat_index = pat;
  return o;
}

inline drm_xe_vm_bind_op unmap(std::uint64_t addr, std::uint64_t range) {
  drm_xe_vm_bind_op o{};
  o.addr = addr;
  o.range = range;
  o.op = DRM_XE_VM_BIND_OP_UNMAP;
  return o;
}

// Upstream validates the BO of an UNMAP_ALL too (a WB BO needs a coherent PAT).
inline drm_xe_vm_bind_op unmap_all(std::uint32_t handle) {
  drm_xe_vm_bind_op o{};
  o.obj = handle;
  o.pat_index = kB580PatCoherent;
  o.op = DRM_XE_VM_BIND_OP_UNMAP_ALL;
  return o;
}

inline drm_xe_vm_bind_op prefetch(std::uint64_t addr, std::uint64_t range, std::uint32_t region) {
  drm_xe_vm_bind_op o{};
  o.addr = addr;
  o.range = range;
  o.op = DRM_XE_VM_BIND_OP_PREFETCH;
  o.prefetch_mem_region_instance = region;
  return o;
}

// VM_BIND arguments for one op (carried inline, num_binds == 1).
inline drm_xe_vm_bind bind_args(std::uint32_t vm, const drm_xe_vm_bind_op& op) {
  drm_xe_vm_bind b{};
  b.vm_id = vm;
  b.num_binds = 1;
  b.bind = op;
  return b;
}

// VM_BIND arguments for an array; ops must outlive the call (vector_of_binds
// points into it when there is more than one op).
inline drm_xe_vm_bind bind_args(std::uint32_t vm, const std::vector<drm_xe_vm_bind_op>& ops) {
  if (ops.size() == 1) return bind_args(vm, ops[0]);
  drm_xe_vm_bind b{};
  b.vm_id = vm;
  b.num_binds = static_cast<std::uint32_t>(ops.size());
  b.vector_of_binds = reinterpret_cast<std::uintptr_t>(ops.data());
  return b;
}

inline int bind(int fd, std::uint32_t vm, const drm_xe_vm_bind_op& op, Path p = Path::kSimIoctl) {
  drm_xe_vm_bind b = bind_args(vm, op);
  return call(p, fd, DRM_IOCTL_XE_VM_BIND, &b);
}

inline int bind(int fd, std::uint32_t vm, const std::vector<drm_xe_vm_bind_op>& ops,
                Path p = Path::kSimIoctl) {
  drm_xe_vm_bind b = bind_args(vm, ops);
  return call(p, fd, DRM_IOCTL_XE_VM_BIND, &b);
}

inline int madvise_pat(int fd, std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                       std::uint32_t pat, Path p = Path::kSimIoctl) {
  drm_xe_madvise m{};
  m.vm_id = vm;
  m.start = start;
  m.range = range;
  m.type = DRM_XE_MEM_RANGE_ATTR_PAT;
  m.pat_index.val = pat;
  return call(p, fd, DRM_IOCTL_XE_MADVISE, &m);
}

// ---------------------------------------------------------------------------
// Device queries

// DRM_XE_DEVICE_QUERY's two calls (size, then data). Empty on failure.
inline std::vector<unsigned char> device_query(int fd, std::uint32_t query) {
  drm_xe_device_query q{};
  q.query = query;
  EXPECT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &q), 0) << "query " << query;
  std::vector<unsigned char> blob(q.size);
  if (blob.empty()) return blob;
  q.data = reinterpret_cast<std::uintptr_t>(blob.data());
  EXPECT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &q), 0) << "query " << query;
  return blob;
}

// info[] of DRM_XE_DEVICE_QUERY_CONFIG.
inline std::vector<std::uint64_t> config_info(int fd) {
  const std::vector<unsigned char> blob = device_query(fd, DRM_XE_DEVICE_QUERY_CONFIG);
  if (blob.size() < sizeof(drm_xe_query_config)) return {};
  const auto* c = reinterpret_cast<const drm_xe_query_config*>(blob.data());
  return std::vector<std::uint64_t>(c->info, c->info + c->num_params);
}

inline std::vector<drm_xe_mem_region> mem_regions(int fd) {
  const std::vector<unsigned char> blob = device_query(fd, DRM_XE_DEVICE_QUERY_MEM_REGIONS);
  if (blob.size() < sizeof(drm_xe_query_mem_regions)) return {};
  const auto* m = reinterpret_cast<const drm_xe_query_mem_regions*>(blob.data());
  return std::vector<drm_xe_mem_region>(m->mem_regions, m->mem_regions + m->num_mem_regions);
}

// End of the GPU VA space: 1 << DRM_XE_QUERY_CONFIG_VA_BITS.
inline std::uint64_t va_end(int fd) {
  const std::vector<std::uint64_t> info = config_info(fd);
  if (info.size() <= DRM_XE_QUERY_CONFIG_VA_BITS) return 0;
  return 1ull << info[DRM_XE_QUERY_CONFIG_VA_BITS];
}

// ---------------------------------------------------------------------------
// VM layout, read back

// Both calls of the attribute query over [start, start + range).
inline int query_attrs(int fd, std::uint32_t vm, std::uint64_t start, std::uint64_t range,
                       std::vector<drm_xe_mem_range_attr>* out, Path p = Path::kSimIoctl) {
  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = vm;
  q.start = start;
  q.range = range;
  if (const int r = call(p, fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q); r != 0) return r;
  out->assign(q.num_mem_ranges, drm_xe_mem_range_attr{});
  if (out->empty()) return 0;
  q.vector_of_mem_attr = reinterpret_cast<std::uintptr_t>(out->data());
  const int r = call(p, fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
  out->resize(q.num_mem_ranges);
  return r;
}

// Every VMA of the VM, as the attribute query reports it.
inline std::vector<drm_xe_mem_range_attr> attrs_of(int fd, std::uint32_t vm) {
  std::vector<drm_xe_mem_range_attr> out;
  EXPECT_EQ(query_attrs(fd, vm, 0, va_end(fd), &out), 0) << "attribute query of vm " << vm;
  return out;
}

// "[0x100000,0x200000) loc=0 policy=0 atomic=0 pat=1"
inline std::string attr_line(const drm_xe_mem_range_attr& a) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "[0x%" PRIx64 ",0x%" PRIx64 ") loc=%d policy=%u atomic=%u pat=%u",
                static_cast<std::uint64_t>(a.start), static_cast<std::uint64_t>(a.end),
                static_cast<std::int32_t>(a.preferred_mem_loc.devmem_fd),
                a.preferred_mem_loc.migration_policy, a.atomic.val, a.pat_index.val);
  return buf;
}

// The layout as user space sees it: one attr_line per VMA.
inline std::string layout(int fd, std::uint32_t vm) {
  std::string s;
  for (const auto& a : attrs_of(fd, vm)) s += attr_line(a) + "\n";
  return s;
}

// The VMA records behind the query (backing, offset, creation flags, PTE
// tiles): what "the VM is exactly as before" has to compare.
inline std::string vma_records(int fd, std::uint32_t vm) {
  auto file = drm_sim::file_from_fd(fd);
  auto v = file ? file->vm(vm) : nullptr;
  if (v == nullptr) return "<no vm>\n";
  std::string s;
  for (const drm_sim::Vma& x : v->vmas()) {
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "[0x%" PRIx64 ",0x%" PRIx64 ") %s bo=%u off=0x%" PRIx64
                  " flags=0x%x default_pat=%u ptes=0x%x purgeable=%u\n",
                  x.start, x.end, drm_sim::to_string(x.kind), x.bo, x.offset, x.flags,
                  x.default_pat, x.pte_tiles, x.attrs.purgeable);
    s += buf;
  }
  return s;
}

// Both views: compare this string before and after to prove "unchanged".
inline std::string full_layout(int fd, std::uint32_t vm) {
  return layout(fd, vm) + "--\n" + vma_records(fd, vm);
}

// ---------------------------------------------------------------------------
// Simulator extensions

inline drm_sim_vm_stats vm_stats(int fd, std::uint32_t vm) {
  drm_sim_vm_stats s{};
  s.vm_id = vm;
  EXPECT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_SIM_VM_STATS, &s), 0) << "SIM_VM_STATS of vm " << vm;
  return s;
}

inline int fault_inject(int fd, std::uint32_t op, std::uint64_t n, std::uint32_t flags = 0) {
  drm_sim_fault_inject f{};
  f.op = op;
  f.n = n;
  f.flags = flags;
  return drm_sim_ioctl(fd, DRM_IOCTL_SIM_FAULT_INJECT, &f);
}

// Every VM of fd's file passes the VMA invariant checker.
inline void expect_invariants(int fd) {
  auto file = drm_sim::file_from_fd(fd);
  if (file == nullptr) return;
  for (std::uint32_t id : file->vm_ids()) {
    if (auto v = file->vm(id)) {
      EXPECT_EQ(v->check_invariants(), "") << "vm " << id;
    }
  }
}

// Fixture: one DRM file on a fresh device (default profile unless a test
// reopens another); the VM invariants are checked after every test.
class IoctlTest : public ::testing::Test {
 protected:
  void SetUp() override { open_device(nullptr); }
  void TearDown() override {
    if (dev_.get() >= 0) expect_invariants(dev_.get());
  }
  // Replaces the device with a new one of the given profile.
  void open_device(const char* profile) {
    dev_ = open_sim(profile);
    ASSERT_GE(dev_.get(), 0);
  }
  int fd() const { return dev_.get(); }

  ScopedFd dev_;
};

}  // namespace drm_sim_test
