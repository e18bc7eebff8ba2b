// drm_sim_demo — opens a simulated xe device, creates a fault-mode VM, binds
// a BO, a NULL range and a CPU-address-mirror range through libdrm's
// drmIoctl(), advises part of the mirror with DRM_IOCTL_XE_MADVISE and prints
// the VMA layout read back with DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS.
#include <unistd.h>
#include <xf86drm.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "drm_sim/drm_sim.h"

namespace {

void usage(FILE* out) {
  std::fprintf(out,
               "usage: drm_sim_demo [--profile NAME|PATH] [--help]\n"
               "\n"
               "Opens a simulated xe device (default profile: b580), creates a VM, binds a\n"
               "buffer object, a NULL range and a CPU-address-mirror range, advises part of\n"
               "the mirror, and prints the VMA layout as the attribute query reports it.\n"
               "Set DRM_SIM_DEBUG=all to see the driver's debug log.\n");
}

int check(int ret, const char* what) {
  if (ret != 0) {
    std::fprintf(stderr, "drm_sim_demo: %s failed: %s\n", what, std::strerror(errno));
    std::exit(1);
  }
  return ret;
}

}  // namespace

int main(int argc, char** argv) {
  const char* profile = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (std::strcmp(argv[i], "--profile") == 0 && i + 1 < argc) {
      profile = argv[++i];
      continue;
    }
    std::fprintf(stderr, "drm_sim_demo: unknown argument '%s'\n", argv[i]);
    usage(stderr);
    return 2;
  }

  const int fd = drm_sim_open(profile);
  if (fd < 0) {
    std::fprintf(
        stderr, "drm_sim_demo: cannot open profile '%s': %s%s\n", profile ? profile : "b580",
        fd == -ENOENT ? "no built-in profile and no file of that name" : std::strerror(-fd),
        std::getenv("DRM_SIM_DEBUG") == nullptr ? " (DRM_SIM_DEBUG=profile says why)" : "");
    return 1;
  }
  drmVersionPtr ver = drmGetVersion(fd);
  std::printf("device: driver \"%s\" (%s), profile %s\n", ver ? ver->name : "?",
              ver ? ver->desc : "?", drm_sim_profile_name(fd));
  drmFreeVersion(ver);

  drm_xe_vm_create vc{};
  vc.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
  check(drmIoctl(fd, DRM_IOCTL_XE_VM_CREATE, &vc), "VM_CREATE");
  std::printf("vm %u created (LR + FAULT mode)\n", vc.vm_id);

  constexpr std::uint64_t kMiB = 1ull << 20;
  drm_xe_gem_create gc{};
  gc.size = 4 * kMiB;
  gc.placement = 1u << 1;  // VRAM instance 1 (system memory on integrated parts falls back)
  gc.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
  if (drmIoctl(fd, DRM_IOCTL_XE_GEM_CREATE, &gc) != 0) {
    gc.placement = 1u << 0;
    check(drmIoctl(fd, DRM_IOCTL_XE_GEM_CREATE, &gc), "GEM_CREATE");
  }

  drm_xe_vm_bind_op ops[3]{};
  ops[0].obj = gc.handle;
  ops[0].addr = 0x100000;
  ops[0].range = 4 * kMiB;
  ops[0].op = DRM_XE_VM_BIND_OP_MAP;
  ops[1].addr = 0x800000;
  ops[1].range = 2 * kMiB;
  ops[1].op = DRM_XE_VM_BIND_OP_MAP;
  ops[1].flags = DRM_XE_VM_BIND_FLAG_NULL;
  ops[2].addr = 0x1000000;
  ops[2].range = 16 * kMiB;
  ops[2].op = DRM_XE_VM_BIND_OP_MAP;
  ops[2].flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR | DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET;
  drm_xe_vm_bind vb{};
  vb.vm_id = vc.vm_id;
  vb.num_binds = 3;
  vb.vector_of_binds = reinterpret_cast<std::uintptr_t>(ops);
  check(drmIoctl(fd, DRM_IOCTL_XE_VM_BIND, &vb), "VM_BIND");
  std::printf(
      "bound: BO %u at 0x100000 (4 MiB), NULL at 0x800000 (2 MiB), mirror at 0x1000000 (16 MiB)\n",
      gc.handle);

  drm_xe_madvise ma{};
  ma.vm_id = vc.vm_id;
  ma.start = 0x1400000;
  ma.range = 4 * kMiB;
  ma.type = DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC;
  ma.preferred_mem_loc.devmem_fd = static_cast<std::uint32_t>(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM);
  check(drmIoctl(fd, DRM_IOCTL_XE_MADVISE, &ma), "MADVISE");
  std::printf("madvise [0x1400000, 0x1800000): preferred location = system memory\n\n");

  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = vc.vm_id;
  q.start = 0;
  q.range = 1ull << 32;
  check(drmIoctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q), "QUERY (count)");
  std::vector<drm_xe_mem_range_attr> attrs(q.num_mem_ranges);
  q.vector_of_mem_attr = reinterpret_cast<std::uintptr_t>(attrs.data());
  check(drmIoctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q), "QUERY (fill)");
  std::printf("%-24s %-10s %-10s %-7s %s\n", "VMA [start, end)", "pref_loc", "migration", "atomic",
              "pat");
  for (std::uint32_t i = 0; i < q.num_mem_ranges; ++i) {
    const auto& a = attrs[i];
    const auto loc = static_cast<std::int32_t>(a.preferred_mem_loc.devmem_fd);
    char range[64];
    std::snprintf(range, sizeof range, "[0x%" PRIx64 ", 0x%" PRIx64 ")",
                  static_cast<std::uint64_t>(a.start), static_cast<std::uint64_t>(a.end));
    std::printf(
        "%-24s %-10s %-10s %-7u %u\n", range, loc == 0 ? "device" : (loc == -1 ? "system" : "fd"),
        a.preferred_mem_loc.migration_policy ? "system" : "all", a.atomic.val, a.pat_index.val);
  }
  close(fd);
  return 0;
}
