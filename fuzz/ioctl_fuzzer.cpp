// fuzz/ioctl_fuzzer.cpp — libFuzzer harness for drm_sim's ioctl ABI.
//
// Each input is a small program (format: ioctl_program.h): open one or two
// simulated devices, run up to kMaxOps ioctls with fuzzed argument structs
// whose embedded user pointers point into harness-owned buffers of fuzzed
// sizes (exact, too short, too long, misaligned, guard page, unmapped, NULL),
// then disarm fault injection and close every fd, so no VM, BO or device
// outlives the input (LeakSanitizer stays quiet and inputs are independent).
//
// Oracles (each aborts with a message on stderr):
//   - every call returns 0 or a negative errno in [-4095, -1] (through
//     ioctl(2): -1 with errno in [1, 4095]);
//   - a NULL argument of a served request gives -EFAULT, an unknown request
//     -ENOTTY, a non-drm_sim fd -EBADF;
//   - a successful VM_CREATE returns a nonzero vm_id, GEM_CREATE a nonzero
//     handle;
//   - a failed VM_BIND leaves the VM's VMAs exactly as before (spec §6: bind
//     arrays are all-or-nothing), except -EFAULT with syncs (user fences are
//     written after the bind);
//   - the library's own invariant checker (DRM_SIM_CHECK_INVARIANTS) and
//     asserts, ASan and UBSan.
//
// DRM_SIM_FUZZ_TRACE=1 prints every decoded op and its result on stderr
// (for reading a reproducer).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"
#include "ioctl_program.h"

namespace {

using namespace drm_sim_fuzz;

struct RequestInfo {
  unsigned long code;
  const char* name;
};

// Every request code the simulator serves, in kRequests order.
constexpr RequestInfo kTable[kNumRequests] = {
    {DRM_IOCTL_VERSION, "VERSION"},
    {DRM_IOCTL_GEM_CLOSE, "GEM_CLOSE"},
    {DRM_IOCTL_XE_DEVICE_QUERY, "XE_DEVICE_QUERY"},
    {DRM_IOCTL_XE_GEM_CREATE, "XE_GEM_CREATE"},
    {DRM_IOCTL_XE_GEM_MMAP_OFFSET, "XE_GEM_MMAP_OFFSET"},
    {DRM_IOCTL_XE_VM_CREATE, "XE_VM_CREATE"},
    {DRM_IOCTL_XE_VM_DESTROY, "XE_VM_DESTROY"},
    {DRM_IOCTL_XE_VM_BIND, "XE_VM_BIND"},
    {DRM_IOCTL_XE_MADVISE, "XE_MADVISE"},
    {DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, "XE_VM_QUERY_MEM_RANGE_ATTRS"},
    {DRM_IOCTL_SIM_VM_STATS, "SIM_VM_STATS"},
    {DRM_IOCTL_SIM_FAULT_INJECT, "SIM_FAULT_INJECT"},
};

int find_request(unsigned long code) {
  for (int i = 0; i < kNumRequests; ++i) {
    if (kTable[i].code == code) return i;
  }
  return -1;
}

bool g_trace = false;

void trace(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void trace(const char* fmt, ...) {
  if (!g_trace) return;
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
}

[[noreturn]] void fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void fail(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fputs("drm_sim_ioctl_fuzzer: ORACLE FAILED: ", stderr);
  std::vfprintf(stderr, fmt, ap);
  std::fputc('\n', stderr);
  va_end(ap);
  std::abort();
}

// Reads the input; past its end every byte is 0.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  bool done() const { return pos_ >= n_; }
  std::uint8_t u8() { return pos_ < n_ ? p_[pos_++] : 0; }
  std::uint16_t u16() {
    const std::uint16_t lo = u8();
    return static_cast<std::uint16_t>(lo | (u8() << 8));
  }
  std::uint32_t u32() {
    const std::uint32_t lo = u16();
    return lo | (static_cast<std::uint32_t>(u16()) << 16);
  }
  std::uint64_t u64() {
    const std::uint64_t lo = u32();
    return lo | (static_cast<std::uint64_t>(u32()) << 32);
  }
  // Up to n bytes of the input (fewer at its end), without copying.
  std::pair<const std::uint8_t*, std::size_t> take(std::size_t n) {
    const std::size_t k = std::min(n, n_ - std::min(pos_, n_));
    const std::uint8_t* at = p_ + std::min(pos_, n_);
    pos_ += k;
    return {at, k};
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
};

// An RW region between two PROT_NONE guards. Buffers are placed at its end,
// so a copy that runs past a buffer faults (-EFAULT), and the guards are wide
// enough that no pointer the harness derives (guard + offset, or one fence
// per sync) can reach memory beyond them.
struct Arena {
  static constexpr std::size_t kGuard = 64 * 1024;
  static constexpr std::size_t kCap = 6 * 1024 * 1024;  // > 65536 bind ops * 80 B
  unsigned char* base = nullptr;                        // first RW byte
  unsigned char* end = nullptr;                         // first byte of the trailing guard

  void init() {
    const std::size_t total = kGuard + kCap + kGuard;
    void* m = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) fail("mmap arena: %s", std::strerror(errno));
    base = static_cast<unsigned char*>(m) + kGuard;
    end = base + kCap;
    if (mprotect(base, kCap, PROT_READ | PROT_WRITE) != 0) fail("mprotect arena");
  }
};

constexpr std::uint32_t kMaxFences = 1024;  // xe's limit on num_syncs
static_assert(kMaxFences * 8 + 255 * 8 < Arena::kGuard);

constexpr unsigned kNumArenas = 3;  // one per slot index
Arena g_arena[kNumArenas];
int g_devnull = -1;

// One long-lived device per (profile, A/B) pair, opened on first use: each
// input opens fresh DRM files on them (drm_sim_open_file) and closes them at
// its end, which releases every VM, VMA and GEM handle of the input. Parsing
// a JSON profile per input would cost more than the whole program (and
// flood the coverage map with the JSON parser). The devices outlive inputs,
// so the harness checks they hold no BO after each input (no refcount leak).
int g_device_fd[kNumProfiles][2];

int device_fd(unsigned profile, unsigned which) {
  int& fd = g_device_fd[profile][which];
  if (fd < 0) {
    fd = drm_sim_open(kProfiles[profile]);
    if (fd < 0) fail("drm_sim_open(%s): %d", kProfiles[profile], fd);
  }
  return fd;
}

std::size_t device_bo_count(int fd) {
  auto file = drm_sim::file_from_fd(fd);
  if (!file) fail("device fd %d is not a drm_sim fd", fd);
  drm_sim::Device& dev = file->device();
  std::lock_guard<std::mutex> g(dev.bo_mutex());
  return dev.bo_count_locked();
}

struct Fixup {
  unsigned slot = 0;
  std::uint8_t kind = 0;
  std::uint8_t param = 0;
  const std::uint8_t* payload = nullptr;
  std::size_t payload_len = 0;
};

const char* kind_name(std::uint8_t kind) {
  static const char* const names[] = {"null",  "exact",    "short",      "long",
                                      "guard", "unmapped", "misaligned", "straddle"};
  return names[kind & 7];
}

void fill(unsigned char* buf, std::size_t size, const Fixup* fx) {
  std::memset(buf, 0, size);
  if (fx == nullptr || fx->payload_len == 0) return;
  if ((fx->kind & kKindTile) != 0) {
    for (std::size_t off = 0; off < size; off += fx->payload_len) {
      std::memcpy(buf + off, fx->payload, std::min(fx->payload_len, size - off));
    }
  } else {
    std::memcpy(buf, fx->payload, std::min(fx->payload_len, size));
  }
}

// Places a buffer for a user pointer the kernel copies `need` bytes through,
// as `fx` says (nullptr: an exact zeroed buffer). Returns the user pointer.
std::uint64_t place(Arena& a, std::size_t need, const Fixup* fx) {
  const std::uint8_t kind = fx == nullptr ? kBufExact : (fx->kind & 7);
  const std::uint8_t param = fx == nullptr ? 0 : fx->param;
  need = std::min(need, Arena::kCap - 8);
  unsigned char* p = nullptr;
  switch (kind) {
    case kBufNull:
      return 0;
    case kBufExact:
      p = a.end - need;
      fill(p, need, fx);
      break;
    case kBufShort: {
      const std::size_t shortfall = std::size_t{param} + 1;
      const std::size_t size = need > shortfall ? need - shortfall : 0;
      p = a.end - size;
      fill(p, size, fx);
      break;
    }
    case kBufLong: {
      const std::size_t size = std::min(need + std::size_t{param} * 8, Arena::kCap);
      p = a.end - size;
      fill(p, size, fx);
      break;
    }
    case kBufGuard:
      p = a.end + std::size_t{param} * 8;
      break;
    case kBufUnmapped:
      return kUnmappedAddrs[param % (sizeof kUnmappedAddrs / sizeof kUnmappedAddrs[0])];
    case kBufMisaligned: {
      const std::size_t off = param % 7 + 1;
      p = a.end - need - off;
      fill(p, need + off, fx);
      break;
    }
    case kBufStraddle: {
      const std::size_t into_guard = (std::size_t{param} + 1) * 8;
      p = a.base - into_guard;
      fill(a.base, std::min(need, Arena::kCap), fx);
      break;
    }
  }
  return reinterpret_cast<std::uint64_t>(p);
}

template <typename T>
T load(const std::vector<unsigned char>& b, std::size_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}
template <typename T>
void store(std::vector<unsigned char>& b, std::size_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

struct Program {
  int fd_a = -1;
  int fd_b = -1;
  bool b_open = false;
  unsigned b_mode = 0;  // 0 none, 1 second file on A's device, 2 another device
  int dev_a = -1;       // the long-lived device fds behind A and B
  int dev_b = -1;

  void open_b() {
    fd_b = drm_sim_open_file(b_mode == 1 ? fd_a : dev_b);
    if (fd_b < 0) fail("open fd B (mode %u): %d", b_mode, fd_b);
    b_open = true;
  }
  void close_b() {
    if (!b_open) return;
    close(fd_b);  // interposed: releases the DRM file
    b_open = false;
  }
  int fd_value(std::uint8_t kind) const {
    switch (kind % 6) {
      case kFdA:
        return fd_a;
      case kFdB:
        return b_mode == 0 ? fd_a : fd_b;
      case kFdDevNull:
        return g_devnull;
      case kFdDefaultSystem:
        return -1;
      case kFdDefaultDevice:
        return 0;
      default:
        return 65536 + 4242;
    }
  }
};

// The fixup that names `slot` (the last one wins), or nullptr.
const Fixup* fixup_for(const std::vector<Fixup>& fx, unsigned slot) {
  const Fixup* found = nullptr;
  for (const auto& f : fx) {
    if (f.slot == slot) found = &f;
  }
  return found;
}

void trace_slot(const char* what, const Fixup* f, std::size_t need, std::uint64_t ptr) {
  trace("    %s: %s need=%zu ptr=0x%" PRIx64 "\n", what, f ? kind_name(f->kind) : "default", need,
        ptr);
}

// Sets every embedded user pointer of the argument (see ioctl_program.h).
// Returns whether the VM_BIND user fences point at valid memory (for the
// rollback oracle).
void apply_slots(int req, std::vector<unsigned char>& arg, const std::vector<Fixup>& fx,
                 const Program& prog, bool* fences_valid) {
  *fences_valid = true;
  switch (req) {
    case kVersion: {
      constexpr std::size_t kLen[3] = {offsetof(drm_version, name_len),
                                       offsetof(drm_version, date_len),
                                       offsetof(drm_version, desc_len)};
      constexpr std::size_t kPtr[3] = {offsetof(drm_version, name), offsetof(drm_version, date),
                                       offsetof(drm_version, desc)};
      for (unsigned i = 0; i < 3; ++i) {
        // The kernel copies min(len, strlen) <= 28 bytes: a buffer of
        // min(len, 4096) bytes is the same to it as one of len bytes.
        const std::size_t need = std::min<std::uint64_t>(load<std::uint64_t>(arg, kLen[i]), 4096);
        const Fixup* f = fixup_for(fx, i);
        std::uint64_t p = 0;
        if (f != nullptr || load<std::uint64_t>(arg, kPtr[i]) != 0) p = place(g_arena[i], need, f);
        store(arg, kPtr[i], p);
        trace_slot(i == 0 ? "name" : i == 1 ? "date" : "desc", f, need, p);
      }
      break;
    }
    case kDeviceQuery: {
      // Replies are tiny; a size above 64 KiB fails the size check first.
      const std::size_t need = std::min<std::uint32_t>(
          load<std::uint32_t>(arg, offsetof(drm_xe_device_query, size)), 65536);
      const Fixup* f = fixup_for(fx, 0);
      std::uint64_t p = 0;
      if (f != nullptr || load<std::uint64_t>(arg, offsetof(drm_xe_device_query, data)) != 0) {
        p = place(g_arena[0], need, f);
      }
      store(arg, offsetof(drm_xe_device_query, data), p);
      trace_slot("data", f, need, p);
      break;
    }
    case kVmBind: {
      const std::uint32_t num_binds = load<std::uint32_t>(arg, offsetof(drm_xe_vm_bind, num_binds));
      const std::uint32_t num_syncs = load<std::uint32_t>(arg, offsetof(drm_xe_vm_bind, num_syncs));
      const Fixup* fv = fixup_for(fx, 0);
      if (fv != nullptr || num_binds > 1) {
        const std::size_t need = std::size_t{num_binds} * sizeof(drm_xe_vm_bind_op);
        const std::uint64_t p = place(g_arena[0], need, fv);
        store(arg, offsetof(drm_xe_vm_bind, vector_of_binds), p);
        trace_slot("vector_of_binds", fv, need, p);
      }
      const Fixup* fs = fixup_for(fx, 1);
      const std::size_t sync_bytes = std::size_t{num_syncs} * sizeof(drm_xe_sync);
      std::uint64_t sp = 0;
      if (fs != nullptr || num_syncs > 0) sp = place(g_arena[1], sync_bytes, fs);
      store(arg, offsetof(drm_xe_vm_bind, syncs), sp);
      trace_slot("syncs", fs, sync_bytes, sp);
      // Each sync's user-fence address: one 8-byte fence per sync, together
      // placed as one buffer. Only syncs the harness wrote are patched.
      const Fixup* ff = fixup_for(fx, 2);
      const std::uint8_t fkind = ff == nullptr ? kBufExact : (ff->kind & 7);
      *fences_valid = fkind == kBufExact || fkind == kBufLong;
      const std::uint64_t fence_base = place(g_arena[2], std::size_t{num_syncs} * 8, ff);
      trace_slot("fences", ff, std::size_t{num_syncs} * 8, fence_base);
      // Addresses are compared as integers: sp may be any kUnmappedAddrs value.
      const auto lo = reinterpret_cast<std::uint64_t>(g_arena[1].base);
      const auto hi = reinterpret_cast<std::uint64_t>(g_arena[1].end) - sizeof(drm_xe_sync);
      const std::uint32_t patch =
          std::min<std::uint32_t>(num_syncs, Arena::kCap / sizeof(drm_xe_sync));
      for (std::uint32_t i = 0; i < patch; ++i) {
        const std::uint64_t at = sp + std::uint64_t{i} * sizeof(drm_xe_sync);  // may wrap
        if (sp == 0 || at < lo || at > hi) continue;
        // Past the 1024 syncs the kernel accepts, fences could leave the
        // guard region: NULL (the harness never hands out a wild pointer).
        const std::uint64_t addr =
            fence_base == 0 || i >= kMaxFences ? 0 : fence_base + std::uint64_t{i} * 8;
        std::memcpy(reinterpret_cast<void*>(at + offsetof(drm_xe_sync, addr)), &addr, sizeof addr);
      }
      break;
    }
    case kMadvise: {
      const Fixup* f = fixup_for(fx, 0);
      const std::size_t off = offsetof(drm_xe_madvise, purge_state_val.retained_ptr);
      const bool purge = load<std::uint32_t>(arg, offsetof(drm_xe_madvise, type)) ==
                         DRM_XE_VMA_ATTR_PURGEABLE_STATE;
      if (f != nullptr || (purge && load<std::uint64_t>(arg, off) != 0)) {
        const std::uint64_t p = place(g_arena[0], sizeof(std::uint32_t), f);
        store(arg, off, p);
        trace_slot("retained_ptr", f, 4, p);
      } else if (purge) {
        store(arg, off, std::uint64_t{0});
      }
      if (const Fixup* fd = fixup_for(fx, 1)) {
        const int v = prog.fd_value(fd->kind);
        store(arg, offsetof(drm_xe_madvise, preferred_mem_loc.devmem_fd),
              static_cast<std::uint32_t>(v));
        trace("    devmem_fd: %d\n", v);
      }
      break;
    }
    case kQueryMemRangeAttrs: {
      const std::uint32_t num =
          load<std::uint32_t>(arg, offsetof(drm_xe_vm_query_mem_range_attr, num_mem_ranges));
      const std::size_t need = std::size_t{num} * sizeof(drm_xe_mem_range_attr);
      const std::size_t off = offsetof(drm_xe_vm_query_mem_range_attr, vector_of_mem_attr);
      const Fixup* f = fixup_for(fx, 0);
      std::uint64_t p = 0;
      if (f != nullptr || load<std::uint64_t>(arg, off) != 0) p = place(g_arena[0], need, f);
      store(arg, off, p);
      trace_slot("vector_of_mem_attr", f, need, p);
      break;
    }
    default:
      break;
  }
}

void check_errno_range(int rc, const char* name) {
  if (rc == 0 || (rc >= -4095 && rc <= -1)) return;
  fail("%s returned %d: neither 0 nor a negative errno", name, rc);
}

std::optional<std::vector<drm_sim::Vma>> snapshot_vm(int fd, std::uint32_t vm_id) {
  auto file = drm_sim::file_from_fd(fd);
  if (!file) return std::nullopt;
  auto vm = file->vm(vm_id);
  if (!vm) return std::nullopt;
  return vm->vmas();
}

void run_op(Reader& r, Program& prog, unsigned index) {
  const std::uint8_t sel = r.u8();
  if (sel == kSelCloseB) {
    trace("op %u: close fd B\n", index);
    prog.close_b();
    return;
  }
  if (sel == kSelReopenB) {
    trace("op %u: reopen fd B\n", index);
    if (!prog.b_open && prog.b_mode != 0) prog.open_b();
    return;
  }
  unsigned long code = 0;
  int req = -1;
  if (sel < kSelCloseB) {
    req = sel % kNumRequests;
    code = kTable[req].code;
  } else {
    code = sel == kSelRaw64 ? static_cast<unsigned long>(r.u64()) : r.u32();
    req = find_request(code);
  }
  const std::uint8_t flags = r.u8();
  const std::size_t size = req >= 0 ? _IOC_SIZE(code) : kRawArgSize;
  std::vector<unsigned char> arg(size, 0);  // exact size: ASan sees over-reads
  {
    auto [bytes, n] = r.take(std::min<std::size_t>(r.u8(), size));
    if (n != 0) std::memcpy(arg.data(), bytes, n);
  }
  std::vector<Fixup> fixups(r.u8() % (kMaxFixups + 1));
  const unsigned nslots = req >= 0 ? kSlotCount[req] : 0;
  for (auto& f : fixups) {
    const std::uint8_t slot = r.u8();
    f.slot = nslots == 0 ? 0 : slot % nslots;
    f.kind = r.u8();
    f.param = r.u8();
    auto [payload, n] = r.take(r.u16());
    f.payload = payload;
    f.payload_len = n;
  }
  if (nslots == 0) fixups.clear();

  // Target fd.
  const unsigned target = flags & 3;
  bool sim_fd = true;
  int fd = prog.fd_a;
  if (target == kTargetB && prog.b_mode != 0) {
    fd = prog.fd_b;
    sim_fd = prog.b_open;
  } else if (target == kTargetBad) {
    static const int kBad[4] = {-1, 0, 65536 + 4242, 4095};
    const unsigned which = (flags >> kBadFdShift) & 3;
    fd = which == 1 ? g_devnull : kBad[which];
    sim_fd = false;
  }
  const bool null_arg = (flags & kFlagNullArg) != 0;
  const bool via_ioctl = (flags & kFlagViaIoctl) != 0 && sim_fd;
  const char* name = req >= 0 ? kTable[req].name : "raw";
  trace("op %u: %s (0x%lx) fd=%d%s%s%s fixups=%zu\n", index, name, code, fd,
        sim_fd ? "" : " (not drm_sim)", via_ioctl ? " via ioctl(2)" : "",
        null_arg ? " NULL arg" : "", fixups.size());

  // A raw code the simulator serves but the harness does not model (a newer
  // ioctl): its embedded pointers would be fuzzed addresses the kernel side
  // could write through, so it is not issued. The probe (NULL argument) fails
  // before any handler runs: -ENOTTY when unknown, else -EFAULT or -EINVAL.
  if (req < 0) {
    if (const int probe = drm_sim_ioctl(prog.fd_a, code, nullptr); probe != -ENOTTY) {
      check_errno_range(probe, "probe");
      trace("    served by drm_sim but not modelled by the harness (probe %d): skipped\n", probe);
      return;
    }
  }

  bool fences_valid = true;
  if (req >= 0) apply_slots(req, arg, fixups, prog, &fences_valid);

  // Rollback oracle: a failed bind leaves the VM as it was.
  std::optional<std::vector<drm_sim::Vma>> before;
  std::uint32_t bind_vm = 0;
  if (req == kVmBind && sim_fd && !null_arg) {
    bind_vm = load<std::uint32_t>(arg, offsetof(drm_xe_vm_bind, vm_id));
    before = snapshot_vm(fd, bind_vm);
  }

  void* argp = null_arg ? nullptr : arg.data();
  int rc = 0;
  if (via_ioctl) {
    errno = 0;
    const int r2 = ioctl(fd, code, argp);
    if (r2 == -1) {
      if (errno < 1 || errno > 4095) fail("%s via ioctl(2): -1 with errno %d", name, errno);
      rc = -errno;
    } else if (r2 != 0) {
      fail("%s via ioctl(2) returned %d", name, r2);
    }
  } else {
    rc = drm_sim_ioctl(fd, code, argp);
  }
  trace("    -> %d%s%s\n", rc, rc < 0 ? " " : "", rc < 0 ? std::strerror(-rc) : "");
  check_errno_range(rc, name);

  if (!sim_fd && rc != -EBADF)
    fail("%s on non-drm_sim fd %d returned %d, not -EBADF", name, fd, rc);
  if (sim_fd && req < 0 && rc != -ENOTTY)
    fail("unknown request 0x%lx returned %d, not -ENOTTY", code, rc);
  if (sim_fd && req >= 0 && null_arg && rc != -EFAULT) {
    fail("%s with a NULL argument returned %d, not -EFAULT", name, rc);
  }
  if (rc == 0 && !null_arg && req == kVmCreate &&
      load<std::uint32_t>(arg, offsetof(drm_xe_vm_create, vm_id)) == 0) {
    fail("VM_CREATE succeeded with vm_id 0");
  }
  if (rc == 0 && !null_arg && req == kGemCreate &&
      load<std::uint32_t>(arg, offsetof(drm_xe_gem_create, handle)) == 0) {
    fail("GEM_CREATE succeeded with handle 0");
  }
  if (before && rc != 0) {
    const std::uint32_t num_syncs = load<std::uint32_t>(arg, offsetof(drm_xe_vm_bind, num_syncs));
    const bool fence_fault = rc == -EFAULT && num_syncs > 0 && !fences_valid;
    auto after = snapshot_vm(fd, bind_vm);
    if (!fence_fault && after && *after != *before) {
      fail("VM_BIND on vm %u failed with %d but changed the VM (%zu VMAs before, %zu after)",
           bind_vm, rc, before->size(), after->size());
    }
  }
}

void init_once() {
  static bool done = false;
  if (done) return;
  done = true;
  g_trace = std::getenv("DRM_SIM_FUZZ_TRACE") != nullptr;
  for (auto& a : g_arena) a.init();
  for (auto& per_profile : g_device_fd) per_profile[0] = per_profile[1] = -1;
  g_devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (g_devnull < 0) fail("open /dev/null");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  init_once();
  Reader r(data, size);
  Program prog;
  const std::uint8_t h0 = r.u8();
  const std::uint8_t h1 = r.u8();
  const unsigned profile_a = h0 % kNumProfiles;
  const unsigned profile_b = (h1 / 4) % kNumProfiles;
  prog.b_mode = (h1 % 4) == 0 ? 0 : (h1 % 4) == 1 ? 1 : 2;
  prog.dev_a = device_fd(profile_a, 0);
  prog.dev_b = prog.b_mode == 2 ? device_fd(profile_b, 1) : prog.dev_a;
  prog.fd_a = drm_sim_open_file(prog.dev_a);
  if (prog.fd_a < 0) fail("open fd A (%s): %d", kProfiles[profile_a], prog.fd_a);
  if (prog.b_mode != 0) prog.open_b();
  trace("open: A=%d (%s), B=%d (%s)\n", prog.fd_a, kProfiles[profile_a], prog.fd_b,
        prog.b_mode == 0   ? "none"
        : prog.b_mode == 1 ? "second file on A's device"
                           : kProfiles[profile_b]);

  for (unsigned i = 0; i < kMaxOps && !r.done(); ++i) run_op(r, prog, i);

  // Disarm fault injection and release everything this input created.
  drm_sim_fault_inject clear{};
  clear.op = DRM_SIM_FAULT_CLEAR;
  for (int dev : {prog.dev_a, prog.dev_b}) {
    if (drm_sim_ioctl(dev, DRM_IOCTL_SIM_FAULT_INJECT, &clear) != 0) fail("FAULT_CLEAR failed");
  }
  prog.close_b();
  close(prog.fd_a);
  if (drm_sim_is_sim_fd(prog.fd_a) != 0) fail("fd A still a drm_sim fd after close");
  for (int dev : {prog.dev_a, prog.dev_b}) {
    if (const std::size_t n = device_bo_count(dev); n != 0) {
      fail("%zu BOs left on device %s after every file of the input was closed", n,
           drm_sim_profile_name(dev));
    }
  }
  return 0;
}
