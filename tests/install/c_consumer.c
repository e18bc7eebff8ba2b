/*
 * c_consumer.c — a C11 user-mode-driver stand-in built against the
 * *installed* drm_sim package (pkg-config or find_package), outside this
 * repository's build. See run_install_test.sh.
 *
 * Opens the default simulated device, checks the DRM driver name through
 * libdrm, creates a VM and a 64 KiB system-memory BO, binds the BO twice
 * (whole BO, and its second half elsewhere), reads the VMAs back with
 * DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS and prints one line per VMA.
 * Exit status: 0 when every step matched, 1 otherwise.
 */
#include <drm_sim/drm_sim.h>
#include <xf86drm.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KIB(x) ((uint64_t)(x) << 10)

enum { kPatIndex = 1 };

static int g_failures;

static void fail(const char *what) {
  ++g_failures;
  fprintf(stderr, "c_consumer: FAIL %s\n", what);
}

/* drmIoctl returns -1 with errno set. */
static int xioctl(int fd, unsigned long request, void *arg, const char *what) {
  if (drmIoctl(fd, request, arg) != 0) {
    fprintf(stderr, "c_consumer: FAIL %s: %s\n", what, strerror(errno));
    ++g_failures;
    return -1;
  }
  return 0;
}

struct expected_vma {
  uint64_t start, end;
};

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr lines in order */
  const int fd = drm_sim_open(NULL);
  if (fd < 0) {
    fprintf(stderr, "c_consumer: FAIL drm_sim_open(NULL): %s\n", strerror(-fd));
    return 1;
  }
  if (!drm_sim_is_sim_fd(fd)) fail("drm_sim_is_sim_fd");
  const char *profile = drm_sim_profile_name(fd);
  printf("opened fd %d, profile %s\n", fd, profile ? profile : "(null)");

  drmVersionPtr ver = drmGetVersion(fd);
  if (ver == NULL) {
    fail("drmGetVersion");
  } else {
    printf("driver %s %d.%d.%d (%s)\n", ver->name, ver->version_major, ver->version_minor,
           ver->version_patchlevel, ver->desc ? ver->desc : "");
    if (ver->name == NULL || strcmp(ver->name, "xe") != 0) fail("driver name is not \"xe\"");
    drmFreeVersion(ver);
  }

  struct drm_xe_vm_create vc;
  memset(&vc, 0, sizeof vc);
  if (xioctl(fd, DRM_IOCTL_XE_VM_CREATE, &vc, "DRM_IOCTL_XE_VM_CREATE") != 0) goto out;
  if (vc.vm_id == 0) fail("VM_CREATE returned vm_id 0");

  struct drm_xe_gem_create gc;
  memset(&gc, 0, sizeof gc);
  gc.size = KIB(64);
  gc.placement = 1u << 0; /* region instance 0: system memory */
  gc.cpu_caching = DRM_XE_GEM_CPU_CACHING_WB;
  if (xioctl(fd, DRM_IOCTL_XE_GEM_CREATE, &gc, "DRM_IOCTL_XE_GEM_CREATE") != 0) goto out;
  if (gc.handle == 0) fail("GEM_CREATE returned handle 0");

  /* Two binds in one call: the whole BO at 1 MiB, its second half at 3 MiB. */
  const struct expected_vma want[2] = {
      {0x100000, 0x100000 + KIB(64)},
      {0x300000, 0x300000 + KIB(32)},
  };
  struct drm_xe_vm_bind_op ops[2];
  memset(ops, 0, sizeof ops);
  ops[0].obj = gc.handle;
  /* A WB-cached BO needs an at-least-1-way coherent PAT entry: index 1 on Xe2
   * (the default profile, b580); index 0 is non-coherent and gives EINVAL. */
  ops[0].pat_index = kPatIndex;
  ops[0].obj_offset = 0;
  ops[0].addr = want[0].start;
  ops[0].range = want[0].end - want[0].start;
  ops[0].op = DRM_XE_VM_BIND_OP_MAP;
  ops[1] = ops[0];
  ops[1].obj_offset = KIB(32);
  ops[1].addr = want[1].start;
  ops[1].range = want[1].end - want[1].start;

  struct drm_xe_vm_bind vb;
  memset(&vb, 0, sizeof vb);
  vb.vm_id = vc.vm_id;
  vb.num_binds = 2;
  vb.vector_of_binds = (uint64_t)(uintptr_t)ops;
  if (xioctl(fd, DRM_IOCTL_XE_VM_BIND, &vb, "DRM_IOCTL_XE_VM_BIND") != 0) goto out;

  /* Query: first the count and element size, then the elements. */
  struct drm_xe_vm_query_mem_range_attr q;
  memset(&q, 0, sizeof q);
  q.vm_id = vc.vm_id;
  q.start = 0;
  q.range = 1ull << 32;
  if (xioctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q, "QUERY_MEM_RANGE_ATTRS (count)") != 0)
    goto out;
  printf("query: %u VMAs, element size %" PRIu64 "\n", q.num_mem_ranges,
         (uint64_t)q.sizeof_mem_range_attr);
  if (q.num_mem_ranges != 2) fail("query count is not 2");
  if (q.sizeof_mem_range_attr != sizeof(struct drm_xe_mem_range_attr)) fail("query element size");
  if (q.num_mem_ranges == 0) goto out;

  const uint32_t n = q.num_mem_ranges;
  struct drm_xe_mem_range_attr *attrs = calloc(n, sizeof *attrs);
  if (attrs == NULL) {
    fail("calloc");
    goto out;
  }
  q.vector_of_mem_attr = (uint64_t)(uintptr_t)attrs;
  if (xioctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q, "QUERY_MEM_RANGE_ATTRS (fill)") == 0) {
    if (q.num_mem_ranges != n) fail("fill call changed the count");
    for (uint32_t i = 0; i < q.num_mem_ranges && i < n; ++i) {
      const struct drm_xe_mem_range_attr *a = &attrs[i];
      printf("vma %u: [0x%" PRIx64 ", 0x%" PRIx64 ") devmem_fd %d migration %u atomic %u pat %u\n",
             i, (uint64_t)a->start, (uint64_t)a->end, (int32_t)a->preferred_mem_loc.devmem_fd,
             a->preferred_mem_loc.migration_policy, a->atomic.val, a->pat_index.val);
      if (i < 2 && (a->start != want[i].start || a->end != want[i].end)) fail("VMA bounds");
      if (a->pat_index.val != kPatIndex) fail("VMA pat_index");
      if (a->atomic.val != DRM_XE_ATOMIC_UNDEFINED) fail("VMA atomic attribute");
      if (a->preferred_mem_loc.devmem_fd != DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE)
        fail("VMA preferred location");
    }
  }
  free(attrs);

  struct drm_xe_vm_destroy vd;
  memset(&vd, 0, sizeof vd);
  vd.vm_id = vc.vm_id;
  xioctl(fd, DRM_IOCTL_XE_VM_DESTROY, &vd, "DRM_IOCTL_XE_VM_DESTROY");

out:
  if (close(fd) != 0) fail("close");
  if (g_failures != 0) {
    fprintf(stderr, "c_consumer: %d failure(s)\n", g_failures);
    return 1;
  }
  printf("c_consumer: OK\n");
  return 0;
}
