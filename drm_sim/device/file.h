// drm_sim/device/file.h — one open DRM file (what a drm_sim fd refers to).
//
// Owns: its SvmSpace (the simulated process memory: anonymous mappings), its
// CpuBoMappings (the process's mappings of BOs, each holding a BO reference;
// kept disjoint from the anonymous ones under the mmap lock), its GEM handles (each holds a handle
// reference on a device BO) and its VMs. VM ids and BO handles are per file, starting at 1.
// Locking: an internal mutex guards the handle and VM tables; it is never held while a Vm lock is
// taken (callers get a shared_ptr<Vm> and drop it). vm() first tries the calling thread's last
// lookup (a weak reference, valid while a process-wide VM-table generation is unchanged). The
// CPU-side members below take the mmap lock (CpuBoMappings::lock()) first: mmap lock -> internal
// mutex -> Device::bo_mutex -> memory mutex. Errors: ENOENT for unknown handles or VM ids (callers
// map to the uapi's errno where upstream differs), ENOMEM past the per-file limits.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "drm_sim/device/device.h"
#include "drm_sim/mem/cpu_bo_map.h"
#include "drm_sim/vm/vm.h"

namespace drm_sim {

// Hands out the lowest free id >= 1, as the kernel's idr_alloc(.., 1, 0) and
// an ALLOC1 xarray do (a freed GEM handle or VM id is reused first).
class LowestFreeId {
 public:
  std::uint32_t alloc();
  void release(std::uint32_t id);

 private:
  std::uint32_t next_ = 1;
  std::set<std::uint32_t> freed_;
};

class DrmFile {
 public:
  explicit DrmFile(std::shared_ptr<Device> dev);
  ~DrmFile();
  DrmFile(const DrmFile&) = delete;
  DrmFile& operator=(const DrmFile&) = delete;

  Device& device() { return *dev_; }
  // The simulated process address space behind this file's mirror VMAs.
  SvmSpace& svm() { return *svm_; }
  const std::shared_ptr<Device>& device_ptr() const { return dev_; }

  // The simulated process's CPU side (DRM_SIM_CPU_MMAP, CPU accesses).
  // Anonymous memory: SvmSpace::cpu_map, plus EEXIST over a BO mapping.
  Status cpu_map(std::uint64_t addr, std::uint64_t size);
  // mmap() of a BO's fake offset (+ a page-aligned offset into the BO).
  // EINVAL: misaligned or empty range, misaligned offset, no BO behind one
  // of this file's handles at that offset, or the range passes the BO's
  // end; EBUSY: the BO is DONTNEED (7.1); EEXIST: over any mapping.
  Status cpu_map_bo(std::uint64_t addr, std::uint64_t size, std::uint64_t mmap_offset);
  // munmap(): BO mappings in the range are cut or removed (their references
  // dropped, possibly freeing a closed BO), then the anonymous memory goes
  // (SvmSpace::cpu_unmap); returns the anonymous extents unmapped.
  Result<std::vector<VaRange>> cpu_unmap(std::uint64_t addr, std::uint64_t size);
  // One CPU access: BoStore::cpu_access inside a BO mapping (with the BO's
  // BO-wide atomic attribute), else SvmSpace::cpu_access.
  Status cpu_access(MemAccess& a);
  std::size_t cpu_bo_mapping_count();  // BO mapping pieces (tests)

  // GEM handles.
  Result<std::uint32_t> create_bo(const Bo& desc);  // returns the new handle
  Result<std::uint32_t> bo_of(std::uint32_t handle);
  Status close_handle(std::uint32_t handle);
  std::size_t handle_count();

  // VMs.
  Result<std::uint32_t> create_vm(std::uint32_t flags);
  Status destroy_vm(std::uint32_t id);
  std::shared_ptr<Vm> vm(std::uint32_t id);
  std::vector<std::uint32_t> vm_ids();

  // Releases everything (the last close of the fd).
  void release();

 private:
  std::shared_ptr<Device> dev_;
  std::shared_ptr<SvmSpace> svm_;
  CpuBoMappings cpu_bos_;
  void apply_ref_changes(const std::vector<CpuBoMappings::RefChange>& changes);

  std::mutex mu_;
  std::unordered_map<std::uint32_t, std::uint32_t> handles_;  // handle -> BO id
  std::unordered_map<std::uint32_t, std::shared_ptr<Vm>> vms_;
  LowestFreeId handle_ids_;
  LowestFreeId vm_ids_;
};

}  // namespace drm_sim
