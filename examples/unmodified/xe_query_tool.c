/*
 * xe_query_tool — an ordinary xe program that knows nothing about drm_sim.
 *
 * Built only against libdrm (pkg-config libdrm) and the xe uapi header, as a
 * program would include the kernel's <drm/xe_drm.h>. It opens a render node
 * (argv[1], default /dev/dri/renderD128), asks libdrm for the driver version,
 * queries CONFIG and MEM_REGIONS, creates a VM, binds a NULL range, reads the
 * range's attributes back, opens the node a second time and queries again.
 *
 * Run it under LD_PRELOAD=libdrm_sim_preload.so to get a simulated device:
 *     LD_PRELOAD=build/default/umd/libdrm_sim_preload.so ./xe_query_tool
 * Without a GPU (and without the preload library) it fails cleanly: exit 2.
 */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xf86drm.h>

#include "drm_sim/xe_drm.h" /* stands in for <drm/xe_drm.h> */

static int query(int fd, uint32_t what, void** out, uint32_t* size) {
  struct drm_xe_device_query q;
  memset(&q, 0, sizeof q);
  q.query = what;
  if (drmIoctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &q) != 0) return -errno;
  *out = calloc(1, q.size);
  if (*out == NULL) return -ENOMEM;
  q.data = (uintptr_t)*out;
  if (drmIoctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &q) != 0) {
    free(*out);
    *out = NULL;
    return -errno;
  }
  *size = q.size;
  return 0;
}

static int print_config(int fd, const char* who) {
  struct drm_xe_query_config* c = NULL;
  uint32_t size = 0;
  int r = query(fd, DRM_XE_DEVICE_QUERY_CONFIG, (void**)&c, &size);
  if (r != 0) {
    fprintf(stderr, "xe_query_tool: %s: DEVICE_QUERY CONFIG: %s\n", who, strerror(-r));
    return r;
  }
  printf("%s config: device_id 0x%04" PRIx64 " revision %" PRIu64 " va_bits %" PRIu64
         " min_alignment %" PRIu64 " has_vram %d\n",
         who, (uint64_t)(c->info[DRM_XE_QUERY_CONFIG_REV_AND_DEVICE_ID] & 0xffff),
         (uint64_t)((c->info[DRM_XE_QUERY_CONFIG_REV_AND_DEVICE_ID] >> 16) & 0xff),
         (uint64_t)c->info[DRM_XE_QUERY_CONFIG_VA_BITS],
         (uint64_t)c->info[DRM_XE_QUERY_CONFIG_MIN_ALIGNMENT],
         (c->info[DRM_XE_QUERY_CONFIG_FLAGS] & DRM_XE_QUERY_CONFIG_FLAG_HAS_VRAM) ? 1 : 0);
  free(c);
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf(
        "usage: xe_query_tool [RENDER_NODE]\n"
        "Opens RENDER_NODE (default /dev/dri/renderD128), prints the driver version,\n"
        "DEVICE_QUERY CONFIG and MEM_REGIONS, binds a NULL range in a new VM and\n"
        "prints its attributes from VM_QUERY_MEM_RANGE_ATTRS, then opens the node\n"
        "again and queries once more. Exit 0 on success, 1 when an ioctl fails,\n"
        "2 when there is no xe device. For a simulated device:\n"
        "  LD_PRELOAD=build/default/umd/libdrm_sim_preload.so xe_query_tool\n");
    return 0;
  }
  const char* path = argc > 1 ? argv[1] : "/dev/dri/renderD128";
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "xe_query_tool: cannot open %s: %s\n", path, strerror(errno));
    return 2;
  }

  drmVersionPtr v = drmGetVersion(fd);
  if (v == NULL) {
    fprintf(stderr, "xe_query_tool: %s: drmGetVersion failed: %s\n", path, strerror(errno));
    close(fd);
    return 2;
  }
  printf("driver: %s %d.%d.%d (%s)\n", v->name, v->version_major, v->version_minor,
         v->version_patchlevel, v->desc);
  const int is_xe = strcmp(v->name, "xe") == 0;
  drmFreeVersion(v);
  if (!is_xe) {
    fprintf(stderr, "xe_query_tool: %s is not an xe device\n", path);
    close(fd);
    return 2;
  }

  int rc = 1;
  if (print_config(fd, "first") != 0) goto out;

  struct drm_xe_query_mem_regions* regions = NULL;
  uint32_t size = 0;
  if (query(fd, DRM_XE_DEVICE_QUERY_MEM_REGIONS, (void**)&regions, &size) != 0) goto out;
  for (uint32_t i = 0; i < regions->num_mem_regions; ++i) {
    const struct drm_xe_mem_region* m = &regions->mem_regions[i];
    printf("region %u: %s instance %u size %" PRIu64 " MiB min_page %u\n", i,
           m->mem_class == DRM_XE_MEM_REGION_CLASS_VRAM ? "vram" : "system", m->instance,
           (uint64_t)(m->total_size >> 20), m->min_page_size);
  }
  free(regions);

  struct drm_xe_vm_create vc;
  memset(&vc, 0, sizeof vc);
  if (drmIoctl(fd, DRM_IOCTL_XE_VM_CREATE, &vc) != 0) {
    fprintf(stderr, "xe_query_tool: VM_CREATE: %s\n", strerror(errno));
    goto out;
  }
  printf("vm: %u\n", vc.vm_id);

  struct drm_xe_vm_bind b;
  memset(&b, 0, sizeof b);
  b.vm_id = vc.vm_id;
  b.num_binds = 1;
  b.bind.op = DRM_XE_VM_BIND_OP_MAP;
  b.bind.flags = DRM_XE_VM_BIND_FLAG_NULL;
  b.bind.addr = 0x100000;
  b.bind.range = 0x200000;
  if (drmIoctl(fd, DRM_IOCTL_XE_VM_BIND, &b) != 0) {
    fprintf(stderr, "xe_query_tool: VM_BIND NULL: %s\n", strerror(errno));
    goto out;
  }
  printf("bind NULL [0x%" PRIx64 ", 0x%" PRIx64 "): ok\n", (uint64_t)b.bind.addr,
         (uint64_t)(b.bind.addr + b.bind.range));

  struct drm_xe_vm_query_mem_range_attr qa;
  memset(&qa, 0, sizeof qa);
  qa.vm_id = vc.vm_id;
  qa.start = 0;
  qa.range = 0x1000000;
  if (drmIoctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &qa) != 0) goto out;
  struct drm_xe_mem_range_attr attrs[4];
  memset(attrs, 0, sizeof attrs);
  if (qa.num_mem_ranges > 4) qa.num_mem_ranges = 4;
  qa.vector_of_mem_attr = (uintptr_t)attrs;
  if (qa.num_mem_ranges > 0 && drmIoctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &qa) != 0) {
    goto out;
  }
  for (uint32_t i = 0; i < qa.num_mem_ranges; ++i) {
    printf("vma [0x%" PRIx64 ", 0x%" PRIx64 ") devmem_fd %d atomic %u pat %u\n",
           (uint64_t)attrs[i].start, (uint64_t)attrs[i].end,
           (int)attrs[i].preferred_mem_loc.devmem_fd, attrs[i].atomic.val, attrs[i].pat_index.val);
  }

  struct drm_xe_vm_destroy vd;
  memset(&vd, 0, sizeof vd);
  vd.vm_id = vc.vm_id;
  if (drmIoctl(fd, DRM_IOCTL_XE_VM_DESTROY, &vd) != 0) goto out;

  /* A second open of the same node: another DRM file on the same device. */
  int fd2 = open(path, O_RDWR | O_CLOEXEC);
  if (fd2 < 0) {
    fprintf(stderr, "xe_query_tool: second open of %s: %s\n", path, strerror(errno));
    goto out;
  }
  const int r2 = print_config(fd2, "second");
  close(fd2);
  if (r2 != 0) goto out;
  rc = 0;
out:
  close(fd);
  return rc;
}
