// tests/model/sim_observer.h — what the differential test observes of the
// simulator, as text, in the same format as the reference model's state.
//
// Header-only and dependent on nothing but drm_sim and the standard library,
// so that a reproducer written by drm_sim_differential can include it from
// any test directory (`#include "model/sim_observer.h"`) and compare the
// simulator with the expectation the model printed.
//
// State text: one line per VMA in address order, then one line per live BO
// in model-id order:
//
//   [0x1000,0x3000) bo#2@0x0 flags=0x0 dpat=1 loc=0 ri=0 pol=0 atomic=0 pat=1 purge=0
//   bo#2 size=0x4000 handles=1 vmas=1 dontneed=0 atomic=0
//
// BOs are named by model id (creation order of successful GEM_CREATEs),
// never by device id or handle. Locking: takes the VM's and the device's
// locks through their public inspection calls; call between ioctls.
#pragma once

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"
#include "state_text.h"

namespace drm_sim_model {

// bo_ids: device BO id -> model BO id.
inline std::string describe_sim(int fd, std::uint32_t vm_id,
                                const std::map<std::uint32_t, std::uint32_t>& bo_ids) {
  auto file = drm_sim::file_from_fd(fd);
  auto vm = file ? file->vm(vm_id) : nullptr;
  if (vm == nullptr) return "<no vm>\n";
  std::string s;
  for (const drm_sim::Vma& v : vm->vmas()) {
    std::uint32_t bo = 0;
    if (v.kind == drm_sim::VmaKind::kBo) {
      const auto it = bo_ids.find(v.bo);
      bo = it == bo_ids.end() ? 100000 + v.bo : it->second;  // 1000xx: a BO the model never made
    }
    std::uint32_t flags = 0;
    if ((v.flags & drm_sim::vma_flag::kReadonly) != 0) flags |= DRM_XE_VM_BIND_FLAG_READONLY;
    if ((v.flags & drm_sim::vma_flag::kImmediate) != 0) flags |= DRM_XE_VM_BIND_FLAG_IMMEDIATE;
    if ((v.flags & drm_sim::vma_flag::kDumpable) != 0) flags |= DRM_XE_VM_BIND_FLAG_DUMPABLE;
    if ((v.flags & drm_sim::vma_flag::kAutoreset) != 0) {
      flags |= DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET;
    }
    s += format_vma(v.start, v.end, drm_sim::to_string(v.kind), bo, v.offset, flags, v.default_pat,
                    v.attrs.devmem_fd, v.attrs.region_instance, v.attrs.migration_policy,
                    v.attrs.atomic, v.attrs.pat, v.attrs.purgeable);
    if (v.attrs.purged != 0) s += " PURGED";
    s += "\n";
  }
  std::map<std::uint32_t, std::uint32_t> by_model;  // model id -> device id
  for (const auto& [dev, model] : bo_ids) by_model[model] = dev;
  drm_sim::Device& dev = file->device();
  std::lock_guard<std::mutex> lock(dev.bo_mutex());
  for (const auto& [model, dev_id] : by_model) {
    const drm_sim::Bo* b = dev.bo_locked(dev_id);
    if (b == nullptr) continue;
    s += format_bo(model, b->size, b->handle_refs, b->vma_refs, b->dontneed_refs, b->atomic);
    if (dev.bos().purged(dev_id)) s += " PURGED";
    s += "\n";
  }
  return s;
}

// The page holding addr in the file's simulated process, as the model's
// RefModel::page_digest() gives it: nullopt when not CPU-mapped, else its
// tag (tag backing) or the FNV-1a of its 4 KiB (data backing). Moves nothing.
inline std::optional<std::uint64_t> sim_page_digest(int fd, std::uint64_t addr) {
  auto file = drm_sim::file_from_fd(fd);
  if (file == nullptr) return std::nullopt;
  const bool data = file->device().profile().backing == drm_sim::BackingMode::kData;
  std::vector<std::byte> buf(data ? 4096 : 0);
  std::uint64_t tag = 0;
  if (!file->svm().peek_page(addr, &tag, buf)) return std::nullopt;
  if (!data) return tag;
  return fnv1a(reinterpret_cast<const unsigned char*>(buf.data()), buf.size());
}

// The attribute query's two calls over [start, start+range): the count call,
// then a fill call with room for count + slack elements (slack -1: one short,
// which must fail with -ENOSPC; skipped when that leaves no room). Returns
// the text "count=N\n" then, when the fill call was made, "fill rc=R num=N\n"
// and one format_attr line per element. *count_rc gets the count call's rc
// (nothing else is done when it fails). after_count (optional) runs between
// the two calls, e.g. to disarm a fault injection meant for the first.
inline std::string query_sim(int fd, std::uint32_t vm_id, std::uint64_t start, std::uint64_t range,
                             int slack, int* count_rc,
                             const std::function<void()>& after_count = {}) {
  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = vm_id;
  q.start = start;
  q.range = range;
  *count_rc = drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
  if (after_count) after_count();
  if (*count_rc != 0) return {};
  std::string s = "count=" + std::to_string(q.num_mem_ranges) +
                  " sizeof=" + std::to_string(q.sizeof_mem_range_attr) + "\n";
  const std::uint32_t count = q.num_mem_ranges;
  if (count == 0) return s;
  const std::int64_t cap = static_cast<std::int64_t>(count) + (slack < 0 && count < 2 ? 0 : slack);
  std::vector<drm_xe_mem_range_attr> out(static_cast<std::size_t>(cap));
  q.num_mem_ranges = static_cast<std::uint32_t>(cap);
  q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
  q.vector_of_mem_attr = reinterpret_cast<std::uintptr_t>(out.data());
  const int rc = drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
  s += "fill rc=" + std::to_string(rc);
  if (rc != 0) return s + "\n";
  s += " num=" + std::to_string(q.num_mem_ranges) + "\n";
  for (std::uint32_t i = 0; i < q.num_mem_ranges && i < out.size(); ++i) {
    const drm_xe_mem_range_attr& a = out[i];
    s += format_attr(a.start, a.end, a.preferred_mem_loc.devmem_fd,
                     a.preferred_mem_loc.migration_policy, a.atomic.val, a.pat_index.val) +
         "\n";
  }
  return s;
}

}  // namespace drm_sim_model
