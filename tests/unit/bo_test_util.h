// tests/unit/bo_test_util.h — a simulated device for BO residency tests:
// the small profile (32 MiB VRAM, so pressure comes quickly; or its
// integrated variant, system memory only) in a chosen backing mode and uapi
// revision, BOs bound in one VM, CPU mappings of BOs and of anonymous
// memory, and GPU and CPU accesses through DRM_IOCTL_SIM_MEM_ACCESS batches.
//
// Helpers named like an operation return 0 or -errno; helpers that cannot
// fail in a correct simulator record a gtest failure instead.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/ioctl_test_util.h"

namespace drm_sim_test {

inline constexpr std::uint64_t kSmallVram = 32 * kMiB;  // profiles/small.json

// profiles/small.json with its backing mode and uapi revision replaced,
// written to a temporary file (removed by the caller). integrated: no VRAM
// region, not discrete, device atomics on system memory.
inline std::string small_profile(const std::string& backing, const std::string& uapi = "6.18",
                                 bool integrated = false) {
  std::ifstream in(std::string(DRM_SIM_SOURCE_DIR) + "/profiles/small.json");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string json = ss.str();
  const auto replace = [&](const std::string& from, const std::string& to) {
    const std::size_t at = json.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) json.replace(at, from.size(), to);
  };
  replace("\"backing\": \"data\"", "\"backing\": \"" + backing + "\"");
  replace("\"uapi\": \"6.18\"", "\"uapi\": \"" + uapi + "\"");
  replace("\"name\": \"small\"",
          "\"name\": \"small-" + backing + "-" + uapi + (integrated ? "-integrated" : "") + "\"");
  if (integrated) {
    replace("\"discrete\": true", "\"discrete\": false");
    replace("\"device_atomics_on_smem\": false", "\"device_atomics_on_smem\": true");
    const std::size_t vram = json.find(",\n    { \"class\": \"vram\"");
    EXPECT_NE(vram, std::string::npos);
    if (vram != std::string::npos) json.erase(vram, json.find('}', vram) + 1 - vram);
  }
  return write_profile_file(json);
}

// One GPU or CPU access and its outcome.
struct Access {
  std::uint64_t addr = 0;
  std::uint32_t op = DRM_SIM_ACCESS_READ;
  std::uint64_t value = 0;  // tag mode content, or the atomic's addend / old value
  std::uint64_t word = 0;   // data mode: the 8 bytes read or written
  int result = 0;
};

class BoSim {
 public:
  BoSim(const std::string& backing, std::uint32_t vm_flags, const std::string& uapi = "6.18",
        bool integrated = false)
      : path_(small_profile(backing, uapi, integrated)), data_(backing == "data") {
    fd_ = ScopedFd(drm_sim_open(path_.c_str()));
    EXPECT_GE(fd_.get(), 0);
    vm_ = make_vm(fd_.get(), vm_flags);
  }
  ~BoSim() { ::unlink(path_.c_str()); }
  BoSim(const BoSim&) = delete;
  BoSim& operator=(const BoSim&) = delete;

  int fd() const { return fd_.get(); }
  std::uint32_t vm() const { return vm_; }
  bool data() const { return data_; }
  drm_sim::Device& device() { return drm_sim::file_from_fd(fd())->device(); }

  std::uint32_t vram_bo(std::uint64_t size) {
    return make_bo(fd(), size, kVram0, DRM_XE_GEM_CPU_CACHING_WC);
  }
  std::uint32_t sys_bo(std::uint64_t size) { return make_bo(fd(), size, kSysmem); }
  // The device-wide BO id behind a handle (BoStore inspection).
  std::uint32_t bo_id(std::uint32_t handle) {
    auto id = drm_sim::file_from_fd(fd())->bo_of(handle);
    EXPECT_TRUE(id.is_ok()) << "handle " << handle;
    return id ? id.value() : 0;
  }
  int bind_bo(std::uint32_t handle, std::uint64_t addr, std::uint64_t size,
              std::uint64_t offset = 0, std::uint32_t flags = 0) {
    drm_xe_vm_bind_op o = map_bo(handle, addr, size, offset);
    o.flags = flags;
    return bind(fd(), vm_, o);
  }

  // A batch through the GPU (vm != 0) or the CPU (vm == 0); stops at the
  // first failure like the ioctl. Returns the ioctl's result.
  int run(std::uint32_t vm, std::vector<Access>& batch, std::uint16_t tile = 0) {
    std::vector<drm_sim_mem_access> a(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      a[i].addr = batch[i].addr;
      a[i].size = 8;
      a[i].op = batch[i].op;
      a[i].value = batch[i].value;
      a[i].data = reinterpret_cast<std::uintptr_t>(&batch[i].word);
    }
    drm_sim_mem_access_batch b{};
    b.vm_id = vm;
    b.tile = tile;
    b.num = static_cast<std::uint32_t>(a.size());
    b.accesses = reinterpret_cast<std::uintptr_t>(a.data());
    const int r = drm_sim_ioctl(fd(), DRM_IOCTL_SIM_MEM_ACCESS, &b);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      batch[i].value = a[i].value;
      batch[i].result = a[i].result;
    }
    return r;
  }
  int gpu(Access& a, std::uint16_t tile = 0) {
    std::vector<Access> b{a};
    const int r = run(vm_, b, tile);
    a = b[0];
    return r;
  }
  // Stores `content` at addr through the GPU: the 8-byte word (data mode)
  // or the page's tag (tag mode).
  int gpu_store(std::uint64_t addr, std::uint64_t content, std::uint16_t tile = 0) {
    Access a{addr, DRM_SIM_ACCESS_WRITE, content, content, 0};
    return gpu(a, tile);
  }
  // What the GPU loads from addr (the word or the tag); -errno in *rc.
  std::uint64_t gpu_load(std::uint64_t addr, int* rc = nullptr, std::uint16_t tile = 0) {
    Access a{addr, DRM_SIM_ACCESS_READ, 0, 0, 0};
    const int r = gpu(a, tile);
    if (rc != nullptr) *rc = r;
    return data_ ? a.word : a.value;
  }

  // DRM_XE_GEM_MMAP_OFFSET's fake offset (0 when it fails; -errno in *rc).
  std::uint64_t mmap_offset(std::uint32_t handle, int* rc = nullptr) {
    drm_xe_gem_mmap_offset m{};
    m.handle = handle;
    const int r = drm_sim_ioctl(fd(), DRM_IOCTL_XE_GEM_MMAP_OFFSET, &m);
    if (rc != nullptr) *rc = r;
    return r == 0 ? m.offset : 0;
  }
  // DRM_SIM_CPU_MMAP: MAP_BO of a fake offset, MAP (anonymous), UNMAP.
  int cpu_map_bo(std::uint64_t addr, std::uint64_t size, std::uint64_t offset) {
    drm_sim_cpu_mmap m{};
    m.addr = addr;
    m.size = size;
    m.op = DRM_SIM_CPU_MMAP_MAP_BO;
    m.mmap_offset = offset;
    return drm_sim_ioctl(fd(), DRM_IOCTL_SIM_CPU_MMAP, &m);
  }
  int cpu_map(std::uint64_t addr, std::uint64_t size) {
    drm_sim_cpu_mmap m{};
    m.addr = addr;
    m.size = size;
    m.op = DRM_SIM_CPU_MMAP_MAP;
    return drm_sim_ioctl(fd(), DRM_IOCTL_SIM_CPU_MMAP, &m);
  }
  int cpu_unmap(std::uint64_t addr, std::uint64_t size) {
    drm_sim_cpu_mmap m{};
    m.addr = addr;
    m.size = size;
    m.op = DRM_SIM_CPU_MMAP_UNMAP;
    return drm_sim_ioctl(fd(), DRM_IOCTL_SIM_CPU_MMAP, &m);
  }
  // CPU counterparts of gpu_store / gpu_load (vm_id 0).
  int cpu_store(std::uint64_t addr, std::uint64_t content) {
    std::vector<Access> b{{addr, DRM_SIM_ACCESS_WRITE, content, content, 0}};
    return run(0, b);
  }
  std::uint64_t cpu_load(std::uint64_t addr, int* rc = nullptr) {
    std::vector<Access> b{{addr, DRM_SIM_ACCESS_READ, 0, 0, 0}};
    const int r = run(0, b);
    if (rc != nullptr) *rc = r;
    return data_ ? b[0].word : b[0].value;
  }
  // madvise ATOMIC over [start, start+range) of the VM.
  int madvise_atomic(std::uint64_t start, std::uint64_t range, std::uint32_t val) {
    drm_xe_madvise m{};
    m.vm_id = vm_;
    m.start = start;
    m.range = range;
    m.type = DRM_XE_MEM_RANGE_ATTR_ATOMIC;
    m.atomic.val = val;
    return drm_sim_ioctl(fd(), DRM_IOCTL_XE_MADVISE, &m);
  }

  drm_sim_mem_stats stats() {
    drm_sim_mem_stats s{};
    EXPECT_EQ(drm_sim_ioctl(fd(), DRM_IOCTL_SIM_MEM_STATS, &s), 0);
    return s;
  }
  // VRAM in use as DEVICE_QUERY MEM_REGIONS reports it.
  std::uint64_t vram_used() {
    std::uint64_t used = 0;
    for (const drm_xe_mem_region& r : mem_regions(fd())) {
      if (r.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM) used += r.used;
    }
    return used;
  }

 private:
  std::string path_;
  bool data_;
  ScopedFd fd_;
  std::uint32_t vm_ = 0;
};

}  // namespace drm_sim_test
