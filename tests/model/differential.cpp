// tests/model/differential.cpp — the differential runner, the shrinker and
// the reproducer writer (see differential.h).
#include "differential.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <set>
#include <sstream>
#include <stdexcept>
#include <type_traits>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"
#include "sim_observer.h"

namespace drm_sim_model {
namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// "model" and "sim" texts, with the lines only one side has marked.
std::string diff_text(const std::string& model, const std::string& sim) {
  const std::vector<std::string> m = lines_of(model);
  const std::vector<std::string> s = lines_of(sim);
  const std::multiset<std::string> ms(m.begin(), m.end());
  const std::multiset<std::string> ss(s.begin(), s.end());
  std::string out = "  model (expected):\n";
  for (const auto& l : m) out += (ss.count(l) != 0 ? "      " : "    - ") + l + "\n";
  out += "  simulator:\n";
  for (const auto& l : s) out += (ms.count(l) != 0 ? "      " : "    + ") + l + "\n";
  return out;
}

std::string hex(std::uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

bool retained_matters(const Op& op) {
  return op.kind == OpKind::kMadvise && op.madvise.type == DRM_XE_VMA_ATTR_PURGEABLE_STATE &&
         op.madvise.with_retained;
}

}  // namespace

namespace {

const char* const kBucketNames[RunStats::kBuckets] = {
    "0",       "-EINVAL", "-ENOENT", "-EBUSY",  "-EINTR",      "-ENOMEM", "fill -ENOSPC",
    "-EFAULT", "-EEXIST", "-EPERM",  "-EACCES", "-EOPNOTSUPP", "other"};

int rc_bucket(int rc) {
  switch (-rc) {
    case 0:
      return 0;
    case EINVAL:
      return 1;
    case ENOENT:
      return 2;
    case EBUSY:
      return 3;
    case EINTR:
      return 4;
    case ENOMEM:
      return 5;
    case EFAULT:
      return 7;
    case EEXIST:
      return 8;
    case EPERM:
      return 9;
    case EACCES:
      return 10;
    case EOPNOTSUPP:
      return 11;
    default:
      return 12;
  }
}

}  // namespace

std::string RunStats::coverage() const {
  std::string s;
  for (int k = 0; k < kKinds; ++k) {
    std::string line;
    for (int b = 0; b < kBuckets; ++b) {
      if (rc_hist[k][b] == 0) continue;
      line += std::string(line.empty() ? "" : ", ") + kBucketNames[b] + " x" +
              std::to_string(rc_hist[k][b]);
    }
    if (!line.empty())
      s += std::string("  ") + op_kind_name(static_cast<OpKind>(k)) + ": " + line + "\n";
  }
  s += "  madvise: REMAPs " + std::to_string(madvise_splits) + ", VMAs advised " +
       std::to_string(vmas_advised) + ", skipped " + std::to_string(vmas_skipped) + "\n";
  return s;
}

void RunStats::add(const RunStats& o) {
  for (int k = 0; k < kKinds; ++k) {
    for (int b = 0; b < kBuckets; ++b) rc_hist[k][b] += o.rc_hist[k][b];
  }
  madvise_splits += o.madvise_splits;
  vmas_advised += o.vmas_advised;
  vmas_skipped += o.vmas_skipped;
  ops += o.ops;
  ioctls += o.ioctls;
  signals_armed += o.signals_armed;
  eintr += o.eintr;
  allocs_armed += o.allocs_armed;
  enomem += o.enomem;
  madvise_partial += o.madvise_partial;
  restarts += o.restarts;
  accesses += o.accesses;
  pages_compared += o.pages_compared;
  bo_accesses += o.bo_accesses;
  gc_deferred += o.gc_deferred;
  userptr_accesses += o.userptr_accesses;
  purges += o.purges;
}

const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kGemCreate:
      return "gem_create";
    case OpKind::kGemClose:
      return "gem_close";
    case OpKind::kMmapOffset:
      return "mmap_offset";
    case OpKind::kBind:
      return "bind";
    case OpKind::kMadvise:
      return "madvise";
    case OpKind::kQuery:
      return "query";
    case OpKind::kCpuMap:
      return "cpu_map";
    case OpKind::kCpuUnmap:
      return "cpu_unmap";
    case OpKind::kGpuAccess:
      return "gpu_access";
    case OpKind::kCpuAccess:
      return "cpu_access";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// One device, one VM, one model

Differential::Differential(const std::string& profile, std::uint64_t observe_pages)
    : observe_pages_(observe_pages), model_(DeviceDesc::from_profile(profile)) {
  fd_ = drm_sim_open(profile.c_str());
  if (fd_ < 0) throw std::runtime_error("drm_sim_open(" + profile + ") failed");
  drm_xe_vm_create c{};
  c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
  if (drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_CREATE, &c) != 0) {
    ::close(fd_);
    throw std::runtime_error("VM_CREATE failed on " + profile);
  }
  vm_ = c.vm_id;
}

Differential::~Differential() {
  if (fd_ >= 0) ::close(fd_);
}

void Differential::arm(const Injection& in) {
  drm_sim_fault_inject f{};
  f.op = in.kind == Injection::Kind::kSignal ? DRM_SIM_FAULT_SIGNAL_AT_WAIT
                                             : DRM_SIM_FAULT_FAIL_ALLOC_AT;
  f.flags = in.fatal ? DRM_SIM_FAULT_FLAG_FATAL : 0;
  f.n = in.n;
  if (drm_sim_ioctl(fd_, DRM_IOCTL_SIM_FAULT_INJECT, &f) != 0) {
    throw std::runtime_error("SIM_FAULT_INJECT failed");
  }
  armed_ = true;
}

void Differential::disarm() {
  drm_sim_fault_inject f{};
  f.op = DRM_SIM_FAULT_CLEAR;
  if (drm_sim_ioctl(fd_, DRM_IOCTL_SIM_FAULT_INJECT, &f) != 0) {
    throw std::runtime_error("SIM_FAULT_INJECT(CLEAR) failed");
  }
  armed_ = false;
}

Differential::Outcome Differential::sim_apply(const Op& op) {
  Outcome o;
  ++stats_.ioctls;
  switch (op.kind) {
    case OpKind::kGemCreate: {
      drm_xe_gem_create c{};
      c.size = op.size;
      c.placement = op.placement;
      c.cpu_caching = op.cpu_caching;
      o.rc = drm_sim_ioctl(fd_, DRM_IOCTL_XE_GEM_CREATE, &c);
      if (o.rc == 0) o.handle = c.handle;
      break;
    }
    case OpKind::kGemClose: {
      drm_gem_close c{};
      c.handle = op.handle;
      o.rc = drm_sim_ioctl(fd_, DRM_IOCTL_GEM_CLOSE, &c);
      break;
    }
    case OpKind::kMmapOffset: {
      drm_xe_gem_mmap_offset m{};
      m.handle = op.handle;
      o.rc = drm_sim_ioctl(fd_, DRM_IOCTL_XE_GEM_MMAP_OFFSET, &m);
      break;
    }
    case OpKind::kBind: {
      std::vector<drm_xe_vm_bind_op> v(op.binds.size());
      for (std::size_t i = 0; i < v.size(); ++i) {
        const BindArgs& a = op.binds[i];
        v[i].obj = a.obj;
        v[i].pat_index = a.pat;
        v[i].obj_offset = a.obj_offset;
        v[i].range = a.range;
        v[i].addr = a.addr;
        v[i].op = a.op;
        v[i].flags = a.flags;
        v[i].prefetch_mem_region_instance = a.region;
      }
      drm_xe_vm_bind b{};
      b.vm_id = vm_;
      b.num_binds = static_cast<std::uint32_t>(v.size());
      if (v.size() == 1) {
        b.bind = v[0];
      } else {
        b.vector_of_binds = reinterpret_cast<std::uintptr_t>(v.data());
      }
      o.rc = drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_BIND, &b);
      break;
    }
    case OpKind::kMadvise: {
      const MadviseArgs& a = op.madvise;
      drm_xe_madvise m{};
      m.vm_id = vm_;
      m.start = a.start;
      m.range = a.range;
      m.type = a.type;
      std::uint32_t retained = 0;
      switch (a.type) {
        case DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC:
          m.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(a.devmem_fd);
          m.preferred_mem_loc.migration_policy = a.migration_policy;
          break;
        case DRM_XE_VMA_ATTR_PURGEABLE_STATE:
          m.purge_state_val.val = a.val;
          if (a.with_retained) {
            m.purge_state_val.retained_ptr = reinterpret_cast<std::uintptr_t>(&retained);
          }
          break;
        default:
          m.atomic.val = a.val;  // atomic.val and pat_index.val share offset 32
          break;
      }
      o.rc = drm_sim_ioctl(fd_, DRM_IOCTL_XE_MADVISE, &m);
      o.retained = retained;
      break;
    }
    case OpKind::kQuery:
      ++stats_.ioctls;
      // An injected fault is meant for the count call only.
      o.query = query_sim(fd_, vm_, op.q_start, op.q_range, op.q_slack, &o.rc, [this] {
        if (armed_) disarm();
      });
      break;
    case OpKind::kCpuMap:
    case OpKind::kCpuUnmap: {
      drm_sim_cpu_mmap c{};
      c.addr = op.cpu_addr;
      c.size = op.cpu_size;
      c.op = op.kind == OpKind::kCpuMap ? DRM_SIM_CPU_MMAP_MAP : DRM_SIM_CPU_MMAP_UNMAP;
      o.rc = drm_sim_ioctl(fd_, DRM_IOCTL_SIM_CPU_MMAP, &c);
      break;
    }
    case OpKind::kGpuAccess:
    case OpKind::kCpuAccess: {
      const std::size_t n = op.accesses.size();
      std::vector<drm_sim_mem_access> v(n);
      std::vector<std::vector<std::uint8_t>> bufs(n);
      for (std::size_t i = 0; i < n; ++i) {
        const Access& a = op.accesses[i];
        v[i].addr = a.addr;
        v[i].size = a.size;
        v[i].op = a.op;
        v[i].value = a.value;
        bufs[i].assign(a.size, 0);
        if (a.op == DRM_SIM_ACCESS_WRITE) {
          for (std::uint32_t k = 0; k < a.size; ++k) bufs[i][k] = write_byte(a.value, k);
        }
        v[i].data = reinterpret_cast<std::uintptr_t>(bufs[i].data());
      }
      drm_sim_mem_access_batch b{};
      b.vm_id = op.kind == OpKind::kGpuAccess ? vm_ : 0;
      b.tile = op.kind == OpKind::kGpuAccess ? op.tile : 0;
      b.num = static_cast<std::uint32_t>(n);
      b.accesses = reinterpret_cast<std::uintptr_t>(v.data());
      o.rc = drm_sim_ioctl(fd_, DRM_IOCTL_SIM_MEM_ACCESS, &b);
      o.acc.resize(n);
      const bool data = model_.device().data_backed;
      for (std::size_t i = 0; i < n; ++i) {
        o.acc[i].result = v[i].result;
        o.acc[i].value = v[i].value;
        if (data && v[i].op == DRM_SIM_ACCESS_READ && v[i].result == 0) {
          o.acc[i].data_digest = digest(bufs[i].data(), bufs[i].size());
        }
      }
      stats_.accesses += n;
      break;
    }
  }
  return o;
}

std::string Differential::compare_memory(
    const RefModel& m,
    std::vector<std::pair<std::uint64_t, std::optional<std::uint64_t>>>* differing) {
  std::string out;
  int shown = 0;
  for (std::uint64_t p = 0; p < observe_pages_; ++p) {
    const std::uint64_t addr = p * kPage;
    const std::optional<std::uint64_t> want = m.page_digest(addr);
    const std::optional<std::uint64_t> got = sim_page_digest(fd_, addr);
    ++stats_.pages_compared;
    if (want == got) continue;
    if (differing != nullptr) differing->emplace_back(addr, want);
    if (shown++ < 8) {
      const auto text = [](const std::optional<std::uint64_t>& d) {
        return d ? "content " + hex(*d) : std::string("not mapped");
      };
      out += "  page " + hex(addr) + ": model " + text(want) + ", simulator " + text(got) + "\n";
    }
  }
  return out;
}

Differential::Outcome Differential::model_apply(RefModel& m, const Op& op, const Outcome* sim) {
  Outcome o;
  switch (op.kind) {
    case OpKind::kGemCreate:
      o.rc = m.gem_create(op.size, op.placement, op.cpu_caching, &o.handle);
      break;
    case OpKind::kGemClose:
      o.rc = m.gem_close(op.handle);
      break;
    case OpKind::kMmapOffset:
      o.rc = m.gem_mmap_offset(op.handle);
      break;
    case OpKind::kBind:
      o.rc = m.bind(op.binds, sim != nullptr && sim->rc == -EFAULT,
                    sim != nullptr && !sim->purged_now.empty() ? &sim->purged_now : nullptr);
      break;
    case OpKind::kMadvise:
      o.rc = m.madvise(op.madvise, &o.retained);
      break;
    case OpKind::kQuery:
      o.rc = 0;
      o.query = m.query_text(op.q_start, op.q_range, op.q_slack);
      break;
    case OpKind::kCpuMap:
      o.rc = m.cpu_map(op.cpu_addr, op.cpu_size);
      break;
    case OpKind::kCpuUnmap:
      o.rc = m.cpu_unmap(op.cpu_addr, op.cpu_size);
      break;
    case OpKind::kGpuAccess:
    case OpKind::kCpuAccess: {
      std::vector<int> hints;
      if (sim != nullptr) {
        for (const AccessOut& a : sim->acc) hints.push_back(a.result);
      }
      o.rc = m.access(op.kind == OpKind::kGpuAccess, op.accesses, &o.acc, hints, op.tile);
      break;
    }
  }
  return o;
}

std::optional<Mismatch> Differential::compare(const Op& op, const Outcome& exp, const Outcome& got,
                                              const RefModel& m, std::size_t index, bool restart) {
  const std::string kind = op_kind_name(op.kind);
  std::string category;
  std::string detail;
  if (got.rc != exp.rc) {
    category = "rc:" + kind;
    detail =
        "  rc: model " + std::to_string(exp.rc) + ", simulator " + std::to_string(got.rc) + "\n";
  } else if (op.kind == OpKind::kGemCreate && got.rc == 0 && got.handle != exp.handle) {
    category = "handle:" + kind;
    detail = "  handle: model " + std::to_string(exp.handle) + ", simulator " +
             std::to_string(got.handle) + "\n";
  } else if (retained_matters(op) && got.rc == 0 && got.retained != exp.retained) {
    category = "retained:" + kind;
    detail = "  *retained_ptr: model " + std::to_string(exp.retained) + ", simulator " +
             std::to_string(got.retained) + "\n";
  } else if (op.kind == OpKind::kQuery && got.query != exp.query) {
    category = "query:" + kind;
    detail = "  query results differ\n" + diff_text(exp.query, got.query);
  } else if (!exp.acc.empty()) {
    // Accesses up to the failing one (or all) ran: results, values, read data.
    // A batch refused as a whole (rc set, no access failed) ran none.
    bool ran = exp.rc == 0;
    for (const AccessOut& e : exp.acc) ran = ran || e.result != 0;
    for (std::size_t i = 0; ran && i < exp.acc.size() && i < got.acc.size(); ++i) {
      const AccessOut& e = exp.acc[i];
      const AccessOut& g = got.acc[i];
      if (e.result != g.result || e.value != g.value || e.data_digest != g.data_digest) {
        category = "access:" + kind;
        detail = "  access " + std::to_string(i) + ": model result " + std::to_string(e.result) +
                 " value " + hex(e.value) + " data " + hex(e.data_digest) + ", simulator result " +
                 std::to_string(g.result) + " value " + hex(g.value) + " data " +
                 hex(g.data_digest) + "\n";
        break;
      }
      if (e.result != 0) break;
    }
  }
  if (category.empty()) return std::nullopt;
  Mismatch mm;
  mm.step = index;
  mm.in_restart = restart;
  mm.category = category;
  mm.detail = detail;
  mm.expected.rc = exp.rc;
  mm.expected.handle = exp.handle;
  mm.expected.retained = exp.retained;
  mm.expected.query = exp.query;
  mm.expected.acc = exp.acc;
  mm.expected.state = m.state_text();
  mm.expected.full_query = m.query_text(0, m.device().va_end, 0);
  return mm;
}

std::optional<Mismatch> Differential::compare_state(const Op& op, const RefModel& m,
                                                    std::size_t index, bool restart, int rc,
                                                    const std::string& why) {
  const std::string kind = op_kind_name(op.kind);
  const std::string model_state = m.state_text();
  const std::string sim_state = describe_sim(fd_, vm_, bo_ids_);
  const std::string model_fq = m.query_text(0, m.device().va_end, 0);
  std::string category;
  std::string detail;
  std::string mem;
  std::vector<std::pair<std::uint64_t, std::optional<std::uint64_t>>> pages;
  if (sim_state != model_state) {
    category = "state:" + kind;
    detail = "  VM state differs " + why + "\n" + diff_text(model_state, sim_state);
  } else if (mem = compare_memory(m, &pages); !mem.empty()) {
    category = "memory:" + kind;
    detail = "  process memory differs " + why + "\n" + mem;
  } else {
    int qrc = 0;
    stats_.ioctls += 2;
    const std::string sim_fq = query_sim(fd_, vm_, 0, m.device().va_end, 0, &qrc);
    if (qrc != 0 || sim_fq != model_fq) {
      category = "fullquery:" + kind;
      detail = "  query of the whole VA space differs " + why + " (count rc " +
               std::to_string(qrc) + ")\n" + diff_text(model_fq, sim_fq);
    }
  }
  if (category.empty()) return std::nullopt;
  Mismatch mm;
  mm.step = index;
  mm.in_restart = restart;
  mm.category = category;
  mm.detail = detail;
  mm.expected.rc = rc;
  mm.expected.state = model_state;
  mm.expected.full_query = model_fq;
  mm.expected.pages = std::move(pages);
  return mm;
}

std::set<std::uint32_t> Differential::purged_by_sim(const RefModel& m) {
  std::set<std::uint32_t> out;
  auto file = drm_sim::file_from_fd(fd_);
  drm_sim::Device& dev = file->device();
  for (const auto& [dev_id, model_id] : bo_ids_) {
    if (m.bo(model_id) == nullptr || m.purged(model_id)) continue;
    {
      std::lock_guard<std::mutex> g(dev.bo_mutex());
      if (dev.bo_locked(dev_id) == nullptr) continue;
    }
    if (dev.bos().purged(dev_id)) out.insert(model_id);
  }
  return out;
}

std::optional<Mismatch> Differential::sync_purges(RefModel& m, const Op& op, std::size_t index,
                                                  bool restart, int rc) {
  auto file = drm_sim::file_from_fd(fd_);
  drm_sim::Device& dev = file->device();
  for (const auto& [dev_id, model_id] : bo_ids_) {
    if (m.bo(model_id) == nullptr) continue;
    {
      std::lock_guard<std::mutex> g(dev.bo_mutex());
      if (dev.bo_locked(dev_id) == nullptr) continue;  // freed
    }
    const bool sim = dev.bos().purged(dev_id);
    if (sim == m.purged(model_id)) continue;
    // Memory pressure decided when; the BO was purgeable then: before the
    // call (model_ is the state before it) or after it.
    const bool before = model_.bo(model_id) != nullptr && !model_.purged(model_id) && [&] {
      for (const BoState& b : model_.live_bos()) {
        if (b.bo.id == model_id) return b.purgeable();
      }
      return false;
    }();
    const bool during = op.kind == OpKind::kBind && m.purgeable_in_last_bind(model_id);
    if (sim && m.bo_purged(model_id, before || during)) {
      ++stats_.purges;
      continue;
    }
    Mismatch mm;
    mm.step = index;
    mm.in_restart = restart;
    mm.category = "purge:" + std::string(op_kind_name(op.kind));
    mm.detail = "  BO " + std::to_string(model_id) +
                (sim ? " purged by the simulator while not purgeable (7.1)\n"
                     : " purged in the model, not in the simulator\n");
    mm.expected.rc = rc;
    mm.expected.state = m.state_text();
    mm.expected.full_query = m.query_text(0, m.device().va_end, 0);
    return mm;
  }
  return std::nullopt;
}

drm_sim_vm_stats Differential::vm_stats() {
  drm_sim_vm_stats st{};
  st.vm_id = vm_;
  ++stats_.ioctls;
  if (drm_sim_ioctl(fd_, DRM_IOCTL_SIM_VM_STATS, &st) != 0) {
    throw std::runtime_error("SIM_VM_STATS failed");
  }
  return st;
}

std::optional<Mismatch> Differential::step(const Op& op, std::size_t index, StepRecord* rec) {
  const Injection& in = op.inject;
  const bool signal = in.kind == Injection::Kind::kSignal;
  const bool alloc = in.kind == Injection::Kind::kFailAlloc;
  RefModel after = model_;
  if (op.kind == OpKind::kGpuAccess) {
    for (const Access& a : op.accesses) {
      for (const Vma& v : model_.query(a.addr, kPage)) {
        if (v.start > a.addr) continue;
        stats_.bo_accesses += v.kind == VmaKind::kBo ? 1 : 0;
        stats_.userptr_accesses += v.kind == VmaKind::kUserptr ? 1 : 0;
      }
    }
  }
  if (signal) ++stats_.signals_armed;
  if (alloc) ++stats_.allocs_armed;
  // madvise counters are compared on calls without injected faults.
  const bool count = op.kind == OpKind::kMadvise && !signal && !alloc;
  const drm_sim_vm_stats st_before = count ? vm_stats() : drm_sim_vm_stats{};
  if (signal || alloc) arm(in);
  Outcome got = sim_apply(op);
  if (armed_) disarm();
  if (op.kind == OpKind::kCpuUnmap && alloc) {
    // An allocation failure in the garbage collector leaves the autoreset
    // queued (vm.h); the next VM ioctl (here a count query) must finish it.
    if (auto vm = drm_sim::file_from_fd(fd_)->vm(vm_); vm && vm->gc_pending() != 0) {
      ++stats_.gc_deferred;
      int qrc = 0;
      stats_.ioctls += 1;
      (void)query_sim(fd_, vm_, 0, kPage, 0, &qrc);
      if (vm->gc_pending() != 0) {
        Mismatch mm;
        mm.step = index;
        mm.category = "gc:cpu_unmap";
        mm.detail = "  deferred autoreset still queued after the next VM ioctl\n";
        mm.expected.rc = 0;
        rec->rc = got.rc;
        return mm;
      }
    }
  }
  // A bind's PREFETCH may purge BOs under pressure (7.1) and then meet
  // one (-EACCES): the model is told which BOs this call purged.
  if (op.kind == OpKind::kBind && got.rc == -EACCES) got.purged_now = purged_by_sim(after);
  Outcome exp = model_apply(after, op, &got);
  if (count && got.rc == exp.rc) {
    const drm_sim_vm_stats st = vm_stats();
    const auto& mb = model_.madvise_counters();
    const auto& ma = after.madvise_counters();
    const std::uint64_t d_sim[3] = {st.madvise_splits - st_before.madvise_splits,
                                    st.vmas_advised - st_before.vmas_advised,
                                    st.vmas_skipped - st_before.vmas_skipped};
    const std::uint64_t d_model[3] = {ma.splits - mb.splits, ma.advised - mb.advised,
                                      ma.skipped - mb.skipped};
    if (d_sim[0] != d_model[0] || d_sim[1] != d_model[1] || d_sim[2] != d_model[2]) {
      Mismatch mm;
      mm.step = index;
      mm.category = "stats:madvise";
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "  VM_STATS deltas (splits, advised, skipped): model (%" PRIu64 ", %" PRIu64
                    ", %" PRIu64 "), simulator (%" PRIu64 ", %" PRIu64 ", %" PRIu64 ")\n",
                    d_model[0], d_model[1], d_model[2], d_sim[0], d_sim[1], d_sim[2]);
      mm.detail = buf;
      mm.expected.rc = exp.rc;
      mm.expected.state = after.state_text();
      mm.expected.full_query = after.query_text(0, after.device().va_end, 0);
      mm.expected.stats = true;
      mm.expected.splits = d_model[0];
      mm.expected.advised = d_model[1];
      mm.expected.skipped = d_model[2];
      rec->rc = got.rc;
      return mm;
    }
  }
  ++stats_.ops;
  rec->rc = got.rc;
  bool restart = false;

  if (signal || alloc) {
    const bool hit = signal ? got.rc == -EINTR : got.rc == -ENOMEM;
    const bool is_madvise = op.kind == OpKind::kMadvise;
    const int pre = is_madvise ? model_.madvise_precheck(op.madvise) : 0;
    const bool waits_after = is_madvise && model_.madvise_waits_after_split(op.madvise);
    // Where the signal cannot miss (see differential.h).
    std::string forced;
    if (signal && in.n == 1) {
      if (op.kind == OpKind::kQuery) {
        forced = "any signal at the first wait interrupts the query's interruptible read lock";
      } else if (is_madvise && pre == 0 && in.fatal) {
        forced = "a fatal signal at the first wait interrupts the killable VM lock";
      } else if (is_madvise && pre == 0 && exp.rc == 0 && waits_after) {
        forced = "the pending signal interrupts the BO locks / SVM notifier lock after the split";
      } else if (op.kind == OpKind::kBind && in.fatal && exp.rc == 0) {
        forced = "a fatal signal at the first wait interrupts the killable VM lock";
      } else if (op.kind == OpKind::kGpuAccess && op.tile < model_.device().num_tiles) {
        forced = "any signal at the first wait interrupts the VM's interruptible read lock";
      }
    }
    // Where the signal cannot hit.
    std::string impossible;
    if (signal && hit && is_madvise) {
      if (pre != 0) {
        impossible = "madvise's argument checks run before the VM lock";
      } else if (!(in.fatal && in.n == 1) && !waits_after) {
        impossible =
            "past the VM lock this madvise takes no interruptible lock (no BO, mirror or "
            "userptr VMA in the range, or a failing ATOMIC placement check)";
      }
    }
    if ((!forced.empty() && !hit) || !impossible.empty()) {
      Mismatch mm;
      mm.step = index;
      mm.category = std::string(hit ? "eintr:" : "no-eintr:") + op_kind_name(op.kind);
      mm.detail = "  rc " + std::to_string(got.rc) + " under " +
                  (in.fatal ? "a fatal" : "a non-fatal") + " signal at wait " +
                  std::to_string(in.n) + "; model rc " + std::to_string(exp.rc) + ": " +
                  (hit ? impossible : forced) + "\n";
      RefModel partial = model_;
      if (!hit && is_madvise && !in.fatal) partial.madvise_split_only(op.madvise);
      mm.expected.rc = hit ? exp.rc : -EINTR;
      mm.expected.state = (hit ? after : partial).state_text();
      mm.expected.full_query = (hit ? after : partial).query_text(0, model_.device().va_end, 0);
      return mm;
    }
    if (hit && op.kind == OpKind::kGpuAccess) {
      // Accesses before the failing one took effect; the rest is issued again.
      ++(signal ? stats_.eintr : stats_.enomem);
      std::size_t k = 0;
      while (k < got.acc.size() && got.acc[k].result == 0) ++k;
      if (k == got.acc.size()) k = 0;  // the VM lock: nothing ran
      Op prefix = op;
      prefix.accesses.resize(k);
      prefix.inject = Injection{};
      Op rest = op;
      rest.accesses.erase(rest.accesses.begin(),
                          rest.accesses.begin() + static_cast<std::ptrdiff_t>(k));
      rest.inject = Injection{};
      RefModel partial = model_;
      Outcome pexp = model_apply(partial, prefix, &got);
      Outcome pgot = got;
      pgot.rc = 0;
      pgot.acc.resize(k);
      if (auto mm = compare(prefix, pexp, pgot, partial, index, false)) return mm;
      if (auto mm = sync_purges(partial, op, index, false, got.rc)) return mm;
      if (auto mm = compare_state(op, partial, index, false, got.rc,
                                  "after the accesses before the interrupted one")) {
        return mm;
      }
      model_ = std::move(partial);
      after = model_;
      got = sim_apply(rest);
      exp = model_apply(after, rest, &got);
      rec->restarted = true;
      rec->restart_rc = got.rc;
      ++stats_.restarts;
      restart = true;
    } else if (hit) {
      ++(signal ? stats_.eintr : stats_.enomem);
      RefModel partial = model_;
      if (is_madvise && signal && !(in.fatal && in.n == 1)) {
        partial.madvise_split_only(op.madvise);
        ++stats_.madvise_partial;
      }
      if (auto mm = sync_purges(partial, op, index, false, got.rc)) return mm;
      if (auto mm = compare_state(op, partial, index, false, got.rc,
                                  signal ? "after the interrupted call (before its restart)"
                                         : "after the failed allocation (before the retry)")) {
        return mm;
      }
      model_ = std::move(partial);
      after = model_;
      got = sim_apply(op);  // restarted unchanged, as a UMD does
      if (op.kind == OpKind::kBind && got.rc == -EACCES) got.purged_now = purged_by_sim(after);
      exp = model_apply(after, op, &got);
      rec->restarted = true;
      rec->restart_rc = got.rc;
      ++stats_.restarts;
      restart = true;
    }
  }

  if (auto mm = compare(op, exp, got, after, index, restart)) return mm;
  const int bucket = op.kind == OpKind::kQuery && got.query.find("fill rc=-28") != std::string::npos
                         ? 6
                         : rc_bucket(got.rc);
  ++stats_.rc_hist[static_cast<int>(op.kind)][bucket];
  stats_.madvise_splits += after.madvise_counters().splits - model_.madvise_counters().splits;
  stats_.vmas_advised += after.madvise_counters().advised - model_.madvise_counters().advised;
  stats_.vmas_skipped += after.madvise_counters().skipped - model_.madvise_counters().skipped;
  if (auto mm = sync_purges(after, op, index, restart, got.rc)) return mm;
  model_ = std::move(after);
  if (op.kind == OpKind::kGemCreate && got.rc == 0) {
    auto file = drm_sim::file_from_fd(fd_);
    if (auto id = file->bo_of(got.handle)) bo_ids_[id.value()] = model_.last_bo_id();
  }
  return compare_state(op, model_, index, restart, got.rc, "after the call");
}

// ---------------------------------------------------------------------------
// Runs

std::optional<Mismatch> run_ops(const std::string& profile, const std::vector<Op>& ops,
                                RunStats* stats, std::vector<StepRecord>* records) {
  Differential d(profile);
  std::optional<Mismatch> mm;
  for (std::size_t i = 0; i < ops.size() && !mm; ++i) {
    StepRecord r;
    mm = d.step(ops[i], i, &r);
    if (records != nullptr) records->push_back(r);
  }
  if (stats != nullptr) stats->add(d.stats());
  return mm;
}

// ---------------------------------------------------------------------------
// Isolated runs (fork)

namespace {

constexpr std::size_t kMaxPackedBinds = 8;

// An Op as plain bytes, for the shared memory between a run's child and parent.
struct PackedOp {
  OpKind kind;
  std::uint64_t size;
  std::uint32_t placement;
  std::uint16_t cpu_caching;
  std::uint32_t handle;
  std::uint32_t n_binds;
  BindArgs binds[kMaxPackedBinds];
  MadviseArgs madvise;
  std::uint64_t q_start;
  std::uint64_t q_range;
  int q_slack;
  std::uint64_t cpu_addr;
  std::uint64_t cpu_size;
  std::uint32_t n_acc;
  Access acc[kMaxAccesses];
  std::uint16_t tile;
  Injection inject;
};
static_assert(std::is_trivially_copyable_v<PackedOp>);
static_assert(std::is_trivially_copyable_v<StepRecord>);
static_assert(std::is_trivially_copyable_v<RunStats>);

PackedOp pack(const Op& op) {
  PackedOp p{};
  p.kind = op.kind;
  p.size = op.size;
  p.placement = op.placement;
  p.cpu_caching = op.cpu_caching;
  p.handle = op.handle;
  p.n_binds = static_cast<std::uint32_t>(std::min(op.binds.size(), kMaxPackedBinds));
  for (std::uint32_t i = 0; i < p.n_binds; ++i) p.binds[i] = op.binds[i];
  p.madvise = op.madvise;
  p.q_start = op.q_start;
  p.q_range = op.q_range;
  p.q_slack = op.q_slack;
  p.cpu_addr = op.cpu_addr;
  p.cpu_size = op.cpu_size;
  p.n_acc = static_cast<std::uint32_t>(std::min(op.accesses.size(), kMaxAccesses));
  for (std::uint32_t i = 0; i < p.n_acc; ++i) p.acc[i] = op.accesses[i];
  p.tile = op.tile;
  p.inject = op.inject;
  return p;
}

Op unpack(const PackedOp& p) {
  Op op;
  op.kind = p.kind;
  op.size = p.size;
  op.placement = p.placement;
  op.cpu_caching = p.cpu_caching;
  op.handle = p.handle;
  op.binds.assign(p.binds, p.binds + p.n_binds);
  op.madvise = p.madvise;
  op.q_start = p.q_start;
  op.q_range = p.q_range;
  op.q_slack = p.q_slack;
  op.cpu_addr = p.cpu_addr;
  op.cpu_size = p.cpu_size;
  op.accesses.assign(p.acc, p.acc + p.n_acc);
  op.tile = p.tile;
  op.inject = p.inject;
  return op;
}

struct SharedHeader {
  std::size_t started;
  int result;  // 0 passed, 1 mismatch, 2 exception
  std::size_t mismatch_step;
  char category[96];
  RunStats stats;
};

const char* signal_name(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGABRT:
      return "SIGABRT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGALRM:
      return "SIGALRM (hang)";
    case SIGKILL:
      return "SIGKILL";
    default:
      return "signal";
  }
}

}  // namespace

IsolatedRun run_isolated(const std::string& profile, const std::vector<Op>* replay,
                         std::uint64_t seed, std::size_t n_ops, const GenConfig& cfg, bool quiet,
                         unsigned timeout_s) {
  const std::size_t n = replay != nullptr ? replay->size() : n_ops;
  const std::size_t bytes = sizeof(SharedHeader) + n * (sizeof(PackedOp) + sizeof(StepRecord)) + 64;
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw std::runtime_error("mmap of the shared run log failed");
  auto* hdr = new (mem) SharedHeader{};
  auto* packed = reinterpret_cast<PackedOp*>(static_cast<char*>(mem) + sizeof(SharedHeader));
  auto* recs = reinterpret_cast<StepRecord*>(packed + n);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::munmap(mem, bytes);
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {  // child: run, leave everything in the shared block
    ::alarm(timeout_s);
    if (quiet) {
      const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      if (null_fd >= 0) ::dup2(null_fd, STDERR_FILENO);
    }
    try {
      Differential d(profile, cfg.window_pages);
      OpGen gen(seed, cfg);
      const bool trace = std::getenv("DRM_SIM_MODEL_TRACE") != nullptr;
      for (std::size_t i = 0; i < n; ++i) {
        const Op op = replay != nullptr ? (*replay)[i] : gen.next(d.model());
        packed[i] = pack(op);
        hdr->started = i + 1;
        if (trace) std::fprintf(stderr, "%4zu  %s\n", i, to_string(op).c_str());
        StepRecord r;
        const auto mm = d.step(op, i, &r);
        recs[i] = r;
        hdr->stats = d.stats();
        if (mm) {
          hdr->result = 1;
          hdr->mismatch_step = i;
          std::snprintf(hdr->category, sizeof hdr->category, "%s", mm->category.c_str());
          break;
        }
      }
    } catch (const std::exception& e) {
      hdr->result = 2;
      std::snprintf(hdr->category, sizeof hdr->category, "exception: %s", e.what());
    }
    std::fflush(nullptr);
    ::_exit(0);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  IsolatedRun run;
  for (std::size_t i = 0; i < hdr->started; ++i) {
    run.ops.push_back(unpack(packed[i]));
    run.records.push_back(recs[i]);
  }
  run.stats = hdr->stats;
  if (WIFSIGNALED(status)) {
    run.failed = true;
    run.crashed = true;
    run.signal = WTERMSIG(status);
    run.category = std::string("crash:") + signal_name(run.signal);
    run.step = hdr->started == 0 ? 0 : hdr->started - 1;
  } else if (hdr->result != 0) {
    run.failed = true;
    run.category = hdr->category;
    run.step = hdr->mismatch_step;
  }
  ::munmap(mem, bytes);
  return run;
}

Mismatch explain(const std::string& profile, const IsolatedRun& run) {
  if (!run.crashed) {
    std::vector<Op> ops(run.ops.begin(),
                        run.ops.begin() + static_cast<std::ptrdiff_t>(run.step + 1));
    if (auto mm = run_ops(profile, ops, nullptr, nullptr)) return *mm;
    Mismatch m;  // not reproducible in this process
    m.step = run.step;
    m.category = run.category;
    m.detail = "  (the mismatch did not reproduce outside the child process)\n";
    return m;
  }
  // A crash: the model's view of the failing step, from the recorded outcomes.
  RefModel model(DeviceDesc::from_profile(profile));
  for (std::size_t i = 0; i < run.step; ++i) {
    const Op& op = run.ops[i];
    if (run.records[i].restarted && op.kind == OpKind::kMadvise &&
        op.inject.kind == Injection::Kind::kSignal && !(op.inject.fatal && op.inject.n == 1)) {
      model.madvise_split_only(op.madvise);
    }
    Differential::model_apply(model, op);
  }
  const Op& op = run.ops[run.step];
  Mismatch m;
  m.step = run.step;
  m.category = run.category;
  m.detail = "  the simulator process died (" + std::string(signal_name(run.signal)) +
             ") during this step: " + to_string(op) + "\n";
  RefModel interrupted = model;
  if (op.kind == OpKind::kMadvise && op.inject.kind == Injection::Kind::kSignal &&
      !(op.inject.fatal && op.inject.n == 1)) {
    interrupted.madvise_split_only(op.madvise);
  }
  m.expected.interrupted_state = interrupted.state_text();
  const Differential::Outcome exp = Differential::model_apply(model, op);
  m.expected.rc = exp.rc;
  m.expected.handle = exp.handle;
  m.expected.retained = exp.retained;
  m.expected.query = exp.query;
  m.expected.state = model.state_text();
  m.expected.full_query = model.query_text(0, model.device().va_end, 0);
  return m;
}

// ---------------------------------------------------------------------------
// Shrinking (delta debugging)

std::vector<Op> shrink(const std::string& profile, std::vector<Op> ops, const std::string& category,
                       std::size_t failing_step, std::size_t max_runs) {
  std::size_t runs = 0;
  const auto fails = [&](const std::vector<Op>& c) {
    ++runs;
    const IsolatedRun r = run_isolated(profile, &c, 0, 0, GenConfig{}, true);
    return r.failed && r.category == category;
  };
  ops.resize(std::min(ops.size(), failing_step + 1));  // nothing after the failing op matters

  bool progress = true;
  while (progress && runs < max_runs) {
    progress = false;
    // Remove chunks, halving their size down to single ops.
    for (std::size_t chunk = std::max<std::size_t>(ops.size() / 2, 1); runs < max_runs;
         chunk /= 2) {
      for (std::size_t at = 0; at < ops.size() && runs < max_runs;) {
        std::vector<Op> c = ops;
        const std::size_t n = std::min(chunk, c.size() - at);
        c.erase(c.begin() + static_cast<std::ptrdiff_t>(at),
                c.begin() + static_cast<std::ptrdiff_t>(at + n));
        if (!c.empty() && fails(c)) {
          ops = std::move(c);
          progress = true;
        } else {
          at += n;
        }
      }
      if (chunk <= 1) break;
    }
    // Simplify single ops: drop injections, drop elements of bind arrays.
    for (std::size_t i = 0; i < ops.size() && runs < max_runs; ++i) {
      if (ops[i].inject.kind != Injection::Kind::kNone) {
        std::vector<Op> c = ops;
        c[i].inject = Injection{};
        if (fails(c)) {
          ops = std::move(c);
          progress = true;
        }
      }
      for (std::size_t j = 0;
           ops[i].accesses.size() > 1 && j < ops[i].accesses.size() && runs < max_runs;) {
        std::vector<Op> c = ops;
        c[i].accesses.erase(c[i].accesses.begin() + static_cast<std::ptrdiff_t>(j));
        if (fails(c)) {
          ops = std::move(c);
          progress = true;
        } else {
          ++j;
        }
      }
      for (std::size_t j = 0;
           ops[i].binds.size() > 1 && j < ops[i].binds.size() && runs < max_runs;) {
        std::vector<Op> c = ops;
        c[i].binds.erase(c[i].binds.begin() + static_cast<std::ptrdiff_t>(j));
        if (fails(c)) {
          ops = std::move(c);
          progress = true;
        } else {
          ++j;
        }
      }
    }
  }
  return ops;
}

// ---------------------------------------------------------------------------
// Reproducer

namespace {

std::string raw(const std::string& s) {
  return "std::string(R\"repro(" + s + ")repro\")";
}

// The statements that build the op's arguments inside `auto call = [&] { ... };`.
// The drm_sim_open() line of a reproducer. A profile file of tests/model/profiles
// is named relative to that directory (DRM_SIM_MODEL_PROFILE_DIR, defined for the
// repros target), so the file builds anywhere.
std::string open_text(const std::string& profile) {
  const std::size_t slash = profile.find_last_of('/');
  if (slash == std::string::npos) return "  const int fd = drm_sim_open(\"" + profile + "\");\n";
  return "  const int fd = drm_sim_open((std::string(DRM_SIM_MODEL_PROFILE_DIR) + \"/" +
         profile.substr(slash + 1) + "\").c_str());\n";
}

bool access_kind(const Op& op) {
  return op.kind == OpKind::kGpuAccess || op.kind == OpKind::kCpuAccess;
}

std::string call_lambda(const Op& op) {
  std::ostringstream o;
  switch (op.kind) {
    case OpKind::kGemCreate:
      o << "    drm_xe_gem_create c{};\n"
        << "    auto call = [&] {\n"
        << "      c = drm_xe_gem_create{};\n"
        << "      c.size = " << hex(op.size) << ";\n"
        << "      c.placement = " << hex(op.placement) << ";\n"
        << "      c.cpu_caching = " << op.cpu_caching << ";\n"
        << "      return drm_sim_ioctl(fd, DRM_IOCTL_XE_GEM_CREATE, &c);\n"
        << "    };\n";
      break;
    case OpKind::kGemClose:
      o << "    auto call = [&] {\n"
        << "      drm_gem_close c{};\n"
        << "      c.handle = " << op.handle << ";\n"
        << "      return drm_sim_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);\n"
        << "    };\n";
      break;
    case OpKind::kMmapOffset:
      o << "    auto call = [&] {\n"
        << "      drm_xe_gem_mmap_offset m{};\n"
        << "      m.handle = " << op.handle << ";\n"
        << "      return drm_sim_ioctl(fd, DRM_IOCTL_XE_GEM_MMAP_OFFSET, &m);\n"
        << "    };\n";
      break;
    case OpKind::kBind: {
      const std::size_t n = op.binds.size();
      o << "    auto call = [&] {\n"
        << "      drm_xe_vm_bind_op ops[" << n << "] = {};\n";
      for (std::size_t i = 0; i < n; ++i) {
        const BindArgs& b = op.binds[i];
        o << "      ops[" << i << "].op = " << b.op << ";\n";
        if (b.obj != 0) o << "      ops[" << i << "].obj = " << b.obj << ";\n";
        o << "      ops[" << i << "].pat_index = " << b.pat << ";\n";
        if (b.obj_offset != 0)
          o << "      ops[" << i << "].obj_offset = " << hex(b.obj_offset) << ";\n";
        if (b.addr != 0) o << "      ops[" << i << "].addr = " << hex(b.addr) << ";\n";
        if (b.range != 0) o << "      ops[" << i << "].range = " << hex(b.range) << ";\n";
        if (b.flags != 0) o << "      ops[" << i << "].flags = " << hex(b.flags) << ";\n";
        if (b.region != 0) {
          o << "      ops[" << i << "].prefetch_mem_region_instance = " << hex(b.region) << ";\n";
        }
      }
      o << "      drm_xe_vm_bind b{};\n"
        << "      b.vm_id = vm;\n"
        << "      b.num_binds = " << n << ";\n";
      if (n == 1) {
        o << "      b.bind = ops[0];\n";
      } else {
        o << "      b.vector_of_binds = reinterpret_cast<std::uintptr_t>(ops);\n";
      }
      o << "      return drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_BIND, &b);\n"
        << "    };\n";
      break;
    }
    case OpKind::kMadvise: {
      const MadviseArgs& a = op.madvise;
      if (a.with_retained) o << "    std::uint32_t retained = 0;\n";
      o << "    auto call = [&] {\n";
      if (a.with_retained) o << "      retained = 0;\n";
      o << "      drm_xe_madvise m{};\n"
        << "      m.vm_id = vm;\n"
        << "      m.start = " << hex(a.start) << ";\n"
        << "      m.range = " << hex(a.range) << ";\n"
        << "      m.type = " << a.type << ";\n";
      switch (a.type) {
        case DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC:
          o << "      m.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(" << a.devmem_fd
            << ");\n"
            << "      m.preferred_mem_loc.migration_policy = " << a.migration_policy << ";\n";
          break;
        case DRM_XE_MEM_RANGE_ATTR_ATOMIC:
          o << "      m.atomic.val = " << a.val << ";\n";
          break;
        case DRM_XE_MEM_RANGE_ATTR_PAT:
          o << "      m.pat_index.val = " << a.val << ";\n";
          break;
        default:
          o << "      m.purge_state_val.val = " << a.val << ";\n";
          if (a.with_retained) {
            o << "      m.purge_state_val.retained_ptr = "
                 "reinterpret_cast<std::uintptr_t>(&retained);\n";
          }
          break;
      }
      o << "      return drm_sim_ioctl(fd, DRM_IOCTL_XE_MADVISE, &m);\n"
        << "    };\n";
      break;
    }
    case OpKind::kCpuMap:
    case OpKind::kCpuUnmap:
      o << "    auto call = [&] {\n"
        << "      drm_sim_cpu_mmap c{};\n"
        << "      c.addr = " << hex(op.cpu_addr) << ";\n"
        << "      c.size = " << hex(op.cpu_size) << ";\n"
        << "      c.op = "
        << (op.kind == OpKind::kCpuMap ? "DRM_SIM_CPU_MMAP_MAP" : "DRM_SIM_CPU_MMAP_UNMAP") << ";\n"
        << "      return drm_sim_ioctl(fd, DRM_IOCTL_SIM_CPU_MMAP, &c);\n"
        << "    };\n";
      break;
    case OpKind::kGpuAccess:
    case OpKind::kCpuAccess: {
      // Write payloads: byte k of a write of value v is drm_sim_model::write_byte(v, k).
      const std::size_t n = op.accesses.size();
      // A restart issues accesses first..n-1 again (the batch stops at the
      // first failing access; those before it took effect).
      o << "    drm_sim_mem_access acc[" << n << "] = {};\n"
        << "    std::vector<std::uint8_t> buf[" << n << "];\n"
        << "    std::uint32_t first = 0;\n"
        << "    auto call = [&] {\n";
      for (std::size_t i = 0; i < n; ++i) {
        const Access& a = op.accesses[i];
        o << "      acc[" << i << "] = drm_sim_mem_access{};\n"
          << "      acc[" << i << "].addr = " << hex(a.addr) << ";\n"
          << "      acc[" << i << "].size = " << a.size << ";\n"
          << "      acc[" << i << "].op = " << a.op << ";\n"
          << "      acc[" << i << "].value = " << hex(a.value) << "ull;\n"
          << "      buf[" << i << "].assign(" << a.size << ", 0);\n"
          << "      for (std::uint32_t k = 0; k < " << a.size << "; ++k) buf[" << i
          << "][k] = drm_sim_model::write_byte(" << hex(a.value) << "ull, k);\n"
          << "      acc[" << i << "].data = reinterpret_cast<std::uintptr_t>(buf[" << i
          << "].data());\n";
      }
      o << "      drm_sim_mem_access_batch b{};\n"
        << "      b.vm_id = " << (op.kind == OpKind::kGpuAccess ? "vm" : "0") << ";\n"
        << "      b.tile = " << op.tile << ";\n"
        << "      b.num = " << n << " - first;\n"
        << "      b.accesses = reinterpret_cast<std::uintptr_t>(acc + first);\n"
        << "      return drm_sim_ioctl(fd, DRM_IOCTL_SIM_MEM_ACCESS, &b);\n"
        << "    };\n";
      break;
    }
    case OpKind::kQuery:
      o << "    std::string q;\n"
        << "    auto call = [&] {\n"
        << "      int count_rc = 0;\n"
        << "      q = drm_sim_model::query_sim(fd, vm, " << hex(op.q_start) << ", "
        << hex(op.q_range) << ", " << op.q_slack << ", &count_rc, [&] { clear_faults(fd); });\n"
        << "      return count_rc;\n"
        << "    };\n";
      break;
  }
  return o.str();
}

// "0", "-EINVAL", ... (a number for an errno without a name here).
std::string rc_text(int rc) {
  switch (-rc) {
    case 0:
      return "0";
    case EINVAL:
      return "-EINVAL";
    case ENOENT:
      return "-ENOENT";
    case EBUSY:
      return "-EBUSY";
    case EINTR:
      return "-EINTR";
    case ENOMEM:
      return "-ENOMEM";
    case ENOSPC:
      return "-ENOSPC";
    case EFAULT:
      return "-EFAULT";
    case EOPNOTSUPP:
      return "-EOPNOTSUPP";
    case EPERM:
      return "-EPERM";
    case EACCES:
      return "-EACCES";
    default:
      return std::to_string(rc);
  }
}

std::string test_ident(const std::string& s) {
  std::string out;
  bool upper = true;
  for (const char ch : s) {
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0) {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
    upper = false;
  }
  return out.empty() ? "Repro" : out;
}

}  // namespace

std::string write_repro(const std::string& dir, const std::string& test_name,
                        const std::string& profile, const std::vector<Op>& ops,
                        const std::vector<StepRecord>& records, const Mismatch& m,
                        const std::string& header_comment) {
  const std::uint64_t va_end = DeviceDesc::from_profile(profile).va_end;
  std::ostringstream o;
  o << "// " << test_name << ".cpp — minimal reproducer written by drm_sim_differential.\n//\n";
  for (const std::string& l : lines_of(header_comment)) o << "// " << l << "\n";
  o << "//\n// Mismatch (" << m.category << ") at step " << m.step
    << (m.in_restart ? ", in the restarted call" : "") << ":\n";
  for (const std::string& l : lines_of(m.detail)) o << "// " << l << "\n";
  o << "//\n// Every expectation of the last step comes from the reference model\n"
       "// (tests/model/ref_model.cpp); the earlier steps assert what the simulator\n"
       "// returned when the model agreed. Paste under tests/unit/ or tests/model/.\n"
    << "#include <gtest/gtest.h>\n#include <unistd.h>\n\n"
    << "#include <cerrno>\n#include <cstdint>\n#include <map>\n#include <string>\n\n"
    << "#include \"drm_sim/drm_sim.h\"\n#include \"drm_sim/ioctl/fd_table.h\"\n"
    << "#include \"model/ref_model.h\"\n#include \"model/sim_observer.h\"\n#include "
       "<optional>\n#include <vector>\n\n"
    << "namespace {\n\n"
    << "[[maybe_unused]] void inject(int fd, std::uint32_t op, std::uint32_t flags, "
       "std::uint64_t n) {\n"
    << "  drm_sim_fault_inject f{};\n  f.op = op;\n  f.flags = flags;\n  f.n = n;\n"
    << "  ASSERT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_SIM_FAULT_INJECT, &f), 0);\n}\n\n"
    << "[[maybe_unused]] void clear_faults(int fd) { inject(fd, DRM_SIM_FAULT_CLEAR, 0, 0); }\n\n"
    << "TEST(DifferentialRepro, " << test_ident(test_name) << ") {\n"
    << open_text(profile) << "  ASSERT_GE(fd, 0);\n"
    << "  drm_xe_vm_create vc{};\n"
    << "  vc.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;\n"
    << "  ASSERT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &vc), 0);\n"
    << "  const std::uint32_t vm = vc.vm_id;\n"
    << "  std::map<std::uint32_t, std::uint32_t> bo_ids;  // device BO id -> model BO id\n"
    << "  [[maybe_unused]] std::uint32_t next_bo = 0;\n"
    << "  int rc = 0;\n";
  const std::size_t last = std::min(m.step, ops.size() - 1);
  for (std::size_t i = 0; i <= last; ++i) {
    const Op& op = ops[i];
    const StepRecord r = i < records.size() ? records[i] : StepRecord{};
    const bool failing = i == last;
    o << "\n  // step " << i << ": " << to_string(op) << "\n  {\n" << call_lambda(op);
    const bool stats = failing && m.expected.stats;
    if (stats) {
      o << "    drm_sim_vm_stats st0{};\n    st0.vm_id = vm;\n"
        << "    ASSERT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_SIM_VM_STATS, &st0), 0);\n";
    }
    const Injection& in = op.inject;
    if (in.kind != Injection::Kind::kNone) {
      o << "    inject(fd, "
        << (in.kind == Injection::Kind::kSignal ? "DRM_SIM_FAULT_SIGNAL_AT_WAIT"
                                                : "DRM_SIM_FAULT_FAIL_ALLOC_AT")
        << ", " << (in.fatal ? "DRM_SIM_FAULT_FLAG_FATAL" : "0") << ", " << in.n << ");\n"
        << "    rc = call();\n    clear_faults(fd);\n";
    } else {
      o << "    rc = call();\n";
    }
    const bool crash = m.category.rfind("crash:", 0) == 0;
    const bool expect_first = failing && !m.in_restart;
    if (failing && crash) {
      o << "    // The simulator crashed in this call (" << m.category << ").\n";
      if (in.kind != Injection::Kind::kNone) {
        const bool sig = in.kind == Injection::Kind::kSignal;
        o << "    // The model accepts " << rc_text(m.expected.rc) << ", or "
          << (sig ? "-EINTR" : "-ENOMEM")
          << " leaving the state below and then its result on the restart.\n"
          << "    if (rc == " << (sig ? "-EINTR" : "-ENOMEM") << ") {\n"
          << "      EXPECT_EQ(drm_sim_model::describe_sim(fd, vm, bo_ids), "
          << raw(m.expected.interrupted_state) << ");\n"
          << "      rc = call();  // restarted unchanged, as a UMD does\n    }\n";
      }
    }
    if (failing && crash) {
      o << "    EXPECT_EQ(rc, " << rc_text(m.expected.rc) << ");\n";
    } else if (expect_first) {
      o << "    EXPECT_EQ(rc, " << rc_text(m.expected.rc) << ");\n";
    } else {
      o << "    ASSERT_EQ(rc, " << rc_text(r.rc) << ");\n";
    }
    if (!(failing && crash) && (r.restarted || (failing && m.in_restart))) {
      if (access_kind(op)) {
        o << "    while (first < " << op.accesses.size() << " && acc[first].result == 0) ++first;\n"
          << "    if (first == " << op.accesses.size()
          << ") first = 0;  // stopped at the VM lock: none ran\n"
          << "    rc = call();  // the rest of the batch, issued again\n";
      } else {
        o << "    rc = call();  // restarted unchanged, as a UMD does\n";
      }
      if (failing) {
        o << "    EXPECT_EQ(rc, " << rc_text(m.expected.rc) << ");\n";
      } else {
        o << "    ASSERT_EQ(rc, " << rc_text(r.restart_rc) << ");\n";
      }
    }
    if (op.kind == OpKind::kGemCreate) {
      o << "    if (rc == 0) bo_ids[drm_sim::file_from_fd(fd)->bo_of(c.handle).value()] = "
           "++next_bo;\n";
    }
    if (op.kind == OpKind::kCpuUnmap && in.kind == Injection::Kind::kFailAlloc) {
      o << "    {  // the next VM ioctl runs an autoreset the failed allocation deferred\n"
        << "      int qrc = 0;\n"
        << "      (void)drm_sim_model::query_sim(fd, vm, 0, 0x1000, 0, &qrc);\n"
        << "    }\n";
    }
    if (stats) {
      o << "    drm_sim_vm_stats st1{};\n    st1.vm_id = vm;\n"
        << "    ASSERT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_SIM_VM_STATS, &st1), 0);\n"
        << "    EXPECT_EQ(st1.madvise_splits - st0.madvise_splits, " << m.expected.splits
        << "u);  // REMAPs planned\n"
        << "    EXPECT_EQ(st1.vmas_advised - st0.vmas_advised, " << m.expected.advised << "u);\n"
        << "    EXPECT_EQ(st1.vmas_skipped - st0.vmas_skipped, " << m.expected.skipped << "u);\n";
    }
    if (failing) {
      if (op.kind == OpKind::kGemCreate && m.expected.rc == 0) {
        o << "    EXPECT_EQ(c.handle, " << m.expected.handle << "u);\n";
      }
      if (retained_matters(op) && m.expected.rc == 0 && m.category.rfind("retained", 0) == 0) {
        o << "    EXPECT_EQ(retained, " << m.expected.retained << "u);\n";
      }
      if (op.kind == OpKind::kQuery && !m.expected.query.empty()) {
        o << "    EXPECT_EQ(q, " << raw(m.expected.query) << ");\n";
      }
      const bool access_op = op.kind == OpKind::kGpuAccess || op.kind == OpKind::kCpuAccess;
      // After a restart, expectation k is about access first + k.
      for (std::size_t k = 0; access_op && k < m.expected.acc.size(); ++k) {
        const AccessOut& e = m.expected.acc[k];
        o << "    EXPECT_EQ(acc[first + " << k << "].result, " << rc_text(e.result) << ");\n"
          << "    EXPECT_EQ(acc[first + " << k << "].value, " << hex(e.value) << "ull);\n";
        if (e.data_digest != 0) {
          o << "    EXPECT_EQ(drm_sim_model::digest(buf[first + " << k << "].data(), buf[first + "
            << k << "].size()), " << hex(e.data_digest) << "ull);\n";
        }
        if (e.result != 0) break;
      }
      for (const auto& [addr, d] : m.expected.pages) {
        o << "    EXPECT_EQ(drm_sim_model::sim_page_digest(fd, " << hex(addr) << "), ";
        if (d) {
          o << "std::optional<std::uint64_t>(" << hex(*d) << "ull)";
        } else {
          o << "std::optional<std::uint64_t>()";
        }
        o << ");  // model: " << (d ? "content digest" : "not CPU-mapped") << "\n";
      }
      o << "    EXPECT_EQ(drm_sim_model::describe_sim(fd, vm, bo_ids), " << raw(m.expected.state)
        << ");\n"
        << "    int qrc = 0;\n"
        << "    EXPECT_EQ(drm_sim_model::query_sim(fd, vm, 0, " << hex(va_end) << "ull, 0, &qrc), "
        << raw(m.expected.full_query) << ");\n";
    }
    o << "  }\n";
  }
  o << "  close(fd);\n}\n\n}  // namespace\n";

  const std::string path = dir + "/" + test_name + ".cpp";
  std::ofstream f(path);
  if (!f) return {};
  f << o.str();
  return f ? path : std::string{};
}

}  // namespace drm_sim_model
