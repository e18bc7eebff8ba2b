/*
 * c_abi_test.c — the xe uapi header seen by a C11 compiler.
 *
 * Checks sizeof/offsetof of every struct field that the spec
 * (xe-vm-semantics.md section 2) fixes, the ioctl request codes of section 1
 * and the constant values. Needs nothing from libdrm_sim at run time.
 * Exit status: 0 when every check passes, 1 otherwise.
 */
#include <drm_sim/drm_sim_ext.h>
#include <drm_sim/xe_drm.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static int g_checks;
static int g_failures;

static void check_eq(const char* what, unsigned long long got, unsigned long long want) {
  ++g_checks;
  if (got != want) {
    ++g_failures;
    fprintf(stderr, "FAIL %s: got %llu (0x%llx), want %llu (0x%llx)\n", what, got, got, want, want);
  }
}

#define SIZE(type, want) check_eq("sizeof(" #type ")", sizeof(struct type), (want))
#define OFF(type, field, want) \
  check_eq("offsetof(" #type ", " #field ")", offsetof(struct type, field), (want))
#define MEMBER_SIZE(type, field, want) \
  check_eq("sizeof(" #type "." #field ")", sizeof(((struct type*)0)->field), (want))
#define VALUE(name, want) check_eq(#name, (unsigned long long)(name), (want))

static void check_vm_create_destroy(void) {
  SIZE(drm_xe_vm_create, 32);
  OFF(drm_xe_vm_create, extensions, 0);
  OFF(drm_xe_vm_create, flags, 8);
  OFF(drm_xe_vm_create, vm_id, 12);
  OFF(drm_xe_vm_create, reserved, 16);
  MEMBER_SIZE(drm_xe_vm_create, reserved, 16);

  SIZE(drm_xe_vm_destroy, 24);
  OFF(drm_xe_vm_destroy, vm_id, 0);
  OFF(drm_xe_vm_destroy, pad, 4);
  OFF(drm_xe_vm_destroy, reserved, 8);
  MEMBER_SIZE(drm_xe_vm_destroy, reserved, 16);
}

static void check_device_query_and_friends(void) {
  SIZE(drm_xe_device_query, 40);
  OFF(drm_xe_device_query, extensions, 0);
  OFF(drm_xe_device_query, query, 8);
  OFF(drm_xe_device_query, size, 12);
  OFF(drm_xe_device_query, data, 16);
  OFF(drm_xe_device_query, reserved, 24);

  SIZE(drm_xe_gem_mmap_offset, 40);
  OFF(drm_xe_gem_mmap_offset, extensions, 0);
  OFF(drm_xe_gem_mmap_offset, handle, 8);
  OFF(drm_xe_gem_mmap_offset, flags, 12);
  OFF(drm_xe_gem_mmap_offset, offset, 16);
  OFF(drm_xe_gem_mmap_offset, reserved, 24);

  SIZE(drm_xe_sync, 48);
  OFF(drm_xe_sync, extensions, 0);
  OFF(drm_xe_sync, type, 8);
  OFF(drm_xe_sync, flags, 12);
  OFF(drm_xe_sync, handle, 16);
  OFF(drm_xe_sync, addr, 16);
  OFF(drm_xe_sync, timeline_value, 24);
  OFF(drm_xe_sync, reserved, 32);

  SIZE(drm_xe_user_extension, 16);
  SIZE(drm_xe_mem_region, 88);
  OFF(drm_xe_mem_region, mem_class, 0);
  OFF(drm_xe_mem_region, instance, 2);
  OFF(drm_xe_mem_region, min_page_size, 4);
  OFF(drm_xe_mem_region, total_size, 8);
  OFF(drm_xe_mem_region, used, 16);
  OFF(drm_xe_mem_region, cpu_visible_size, 24);
  OFF(drm_xe_mem_region, cpu_visible_used, 32);
  OFF(drm_xe_mem_region, reserved, 40);
  SIZE(drm_xe_query_mem_regions, 8);
  OFF(drm_xe_query_mem_regions, mem_regions, 8);
  SIZE(drm_xe_query_config, 8);
  OFF(drm_xe_query_config, info, 8);
  SIZE(drm_xe_gt, 96);
  OFF(drm_xe_gt, reference_clock, 12);
  OFF(drm_xe_gt, near_mem_regions, 16);
  OFF(drm_xe_gt, far_mem_regions, 24);
  OFF(drm_xe_gt, ip_ver_major, 32);
  OFF(drm_xe_gt, reserved, 40);
  SIZE(drm_xe_query_gt_list, 8);
}

static void check_gem_create(void) {
  SIZE(drm_xe_gem_create, 56);
  OFF(drm_xe_gem_create, extensions, 0);
  OFF(drm_xe_gem_create, size, 8);
  OFF(drm_xe_gem_create, placement, 16);
  OFF(drm_xe_gem_create, flags, 20);
  OFF(drm_xe_gem_create, vm_id, 24);
  OFF(drm_xe_gem_create, handle, 28);
  OFF(drm_xe_gem_create, cpu_caching, 32);
  OFF(drm_xe_gem_create, pad, 34);
  MEMBER_SIZE(drm_xe_gem_create, pad, 6);
  OFF(drm_xe_gem_create, reserved, 40);
  MEMBER_SIZE(drm_xe_gem_create, reserved, 16);
}

static void check_vm_bind(void) {
  SIZE(drm_xe_vm_bind_op, 80);
  OFF(drm_xe_vm_bind_op, extensions, 0);
  OFF(drm_xe_vm_bind_op, obj, 8);
  OFF(drm_xe_vm_bind_op, pat_index, 12);
  OFF(drm_xe_vm_bind_op, pad, 14);
  OFF(drm_xe_vm_bind_op, obj_offset, 16);
  OFF(drm_xe_vm_bind_op, userptr, 16);
  OFF(drm_xe_vm_bind_op, cpu_addr_mirror_offset, 16);
  OFF(drm_xe_vm_bind_op, range, 24);
  OFF(drm_xe_vm_bind_op, addr, 32);
  OFF(drm_xe_vm_bind_op, op, 40);
  OFF(drm_xe_vm_bind_op, flags, 44);
  OFF(drm_xe_vm_bind_op, prefetch_mem_region_instance, 48);
  OFF(drm_xe_vm_bind_op, pad2, 52);
  OFF(drm_xe_vm_bind_op, reserved, 56);
  MEMBER_SIZE(drm_xe_vm_bind_op, reserved, 24);

  SIZE(drm_xe_vm_bind, 136);
  OFF(drm_xe_vm_bind, extensions, 0);
  OFF(drm_xe_vm_bind, vm_id, 8);
  OFF(drm_xe_vm_bind, exec_queue_id, 12);
  OFF(drm_xe_vm_bind, pad, 16);
  OFF(drm_xe_vm_bind, num_binds, 20);
  OFF(drm_xe_vm_bind, bind, 24);
  OFF(drm_xe_vm_bind, vector_of_binds, 24);
  OFF(drm_xe_vm_bind, pad2, 104);
  OFF(drm_xe_vm_bind, num_syncs, 108);
  OFF(drm_xe_vm_bind, syncs, 112);
  OFF(drm_xe_vm_bind, reserved, 120);
}

static void check_madvise(void) {
  SIZE(drm_xe_madvise, 64);
  OFF(drm_xe_madvise, extensions, 0);
  OFF(drm_xe_madvise, start, 8);
  OFF(drm_xe_madvise, range, 16);
  OFF(drm_xe_madvise, vm_id, 24);
  OFF(drm_xe_madvise, type, 28);
  OFF(drm_xe_madvise, preferred_mem_loc, 32);
  MEMBER_SIZE(drm_xe_madvise, preferred_mem_loc, 16);
  OFF(drm_xe_madvise, preferred_mem_loc.devmem_fd, 32);
  OFF(drm_xe_madvise, preferred_mem_loc.migration_policy, 36);
  MEMBER_SIZE(drm_xe_madvise, preferred_mem_loc.migration_policy, 2);
  OFF(drm_xe_madvise, preferred_mem_loc.region_instance, 38);
  MEMBER_SIZE(drm_xe_madvise, preferred_mem_loc.region_instance, 2);
  OFF(drm_xe_madvise, preferred_mem_loc.reserved, 40);
  OFF(drm_xe_madvise, atomic.val, 32);
  OFF(drm_xe_madvise, atomic.pad, 36);
  OFF(drm_xe_madvise, atomic.reserved, 40);
  OFF(drm_xe_madvise, pat_index.val, 32);
  OFF(drm_xe_madvise, pat_index.pad, 36);
  OFF(drm_xe_madvise, pat_index.reserved, 40);
  OFF(drm_xe_madvise, purge_state_val.val, 32);
  OFF(drm_xe_madvise, purge_state_val.pad, 36);
  OFF(drm_xe_madvise, purge_state_val.retained_ptr, 40);
  MEMBER_SIZE(drm_xe_madvise, purge_state_val, 16);
  OFF(drm_xe_madvise, reserved, 48);
  MEMBER_SIZE(drm_xe_madvise, reserved, 16);
}

static void check_query_mem_range_attrs(void) {
  SIZE(drm_xe_vm_query_mem_range_attr, 64);
  OFF(drm_xe_vm_query_mem_range_attr, extensions, 0);
  OFF(drm_xe_vm_query_mem_range_attr, vm_id, 8);
  OFF(drm_xe_vm_query_mem_range_attr, num_mem_ranges, 12);
  OFF(drm_xe_vm_query_mem_range_attr, start, 16);
  OFF(drm_xe_vm_query_mem_range_attr, range, 24);
  OFF(drm_xe_vm_query_mem_range_attr, sizeof_mem_range_attr, 32);
  OFF(drm_xe_vm_query_mem_range_attr, vector_of_mem_attr, 40);
  OFF(drm_xe_vm_query_mem_range_attr, reserved, 48);

  SIZE(drm_xe_mem_range_attr, 64);
  OFF(drm_xe_mem_range_attr, extensions, 0);
  OFF(drm_xe_mem_range_attr, start, 8);
  OFF(drm_xe_mem_range_attr, end, 16);
  OFF(drm_xe_mem_range_attr, preferred_mem_loc.devmem_fd, 24);
  OFF(drm_xe_mem_range_attr, preferred_mem_loc.migration_policy, 28);
  OFF(drm_xe_mem_range_attr, atomic.val, 32);
  OFF(drm_xe_mem_range_attr, atomic.reserved, 36);
  OFF(drm_xe_mem_range_attr, pat_index.val, 40);
  OFF(drm_xe_mem_range_attr, pat_index.reserved, 44);
  OFF(drm_xe_mem_range_attr, reserved, 48);
}

static void check_ioctls(void) {
  VALUE(DRM_COMMAND_BASE, 0x40);
  VALUE(DRM_XE_DEVICE_QUERY, 0x00);
  VALUE(DRM_XE_GEM_CREATE, 0x01);
  VALUE(DRM_XE_GEM_MMAP_OFFSET, 0x02);
  VALUE(DRM_XE_VM_CREATE, 0x03);
  VALUE(DRM_XE_VM_DESTROY, 0x04);
  VALUE(DRM_XE_VM_BIND, 0x05);
  VALUE(DRM_XE_MADVISE, 0x0c);
  VALUE(DRM_XE_VM_QUERY_MEM_RANGE_ATTRS, 0x0d);
  /* Values given by the spec. */
  VALUE(DRM_IOCTL_XE_GEM_CREATE, 0xc0386441u);
  VALUE(DRM_IOCTL_XE_VM_CREATE, 0xc0206443u);
  VALUE(DRM_IOCTL_XE_VM_BIND, 0x40886445u);
  VALUE(DRM_IOCTL_XE_MADVISE, 0x4040644cu);
  VALUE(DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, 0xc040644du);
  /* Derived from the directions of section 1 and the checked sizes. */
  VALUE(DRM_IOCTL_XE_DEVICE_QUERY, 0xc0286440u);
  VALUE(DRM_IOCTL_XE_GEM_MMAP_OFFSET, 0xc0286442u);
  VALUE(DRM_IOCTL_XE_VM_DESTROY, 0x40186444u);
}

static void check_constants(void) {
  VALUE(DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE, 1u << 0);
  VALUE(DRM_XE_VM_CREATE_FLAG_LR_MODE, 1u << 1);
  VALUE(DRM_XE_VM_CREATE_FLAG_FAULT_MODE, 1u << 2);
  VALUE(DRM_XE_GEM_CPU_CACHING_WB, 1);
  VALUE(DRM_XE_GEM_CPU_CACHING_WC, 2);
  VALUE(DRM_XE_MEM_REGION_CLASS_SYSMEM, 0);
  VALUE(DRM_XE_MEM_REGION_CLASS_VRAM, 1);

  VALUE(DRM_XE_VM_BIND_OP_MAP, 0);
  VALUE(DRM_XE_VM_BIND_OP_UNMAP, 1);
  VALUE(DRM_XE_VM_BIND_OP_MAP_USERPTR, 2);
  VALUE(DRM_XE_VM_BIND_OP_UNMAP_ALL, 3);
  VALUE(DRM_XE_VM_BIND_OP_PREFETCH, 4);
  VALUE(DRM_XE_VM_BIND_FLAG_READONLY, 1u << 0);
  VALUE(DRM_XE_VM_BIND_FLAG_IMMEDIATE, 1u << 1);
  VALUE(DRM_XE_VM_BIND_FLAG_NULL, 1u << 2);
  VALUE(DRM_XE_VM_BIND_FLAG_DUMPABLE, 1u << 3);
  VALUE(DRM_XE_VM_BIND_FLAG_CHECK_PXP, 1u << 4);
  VALUE(DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR, 1u << 5);
  VALUE(DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET, 1u << 6);
  /* -1 stored into the u32 prefetch_mem_region_instance field. */
  check_eq("(__u32)DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC", (__u32)DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC,
           0xffffffffu);

  VALUE(DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC, 0);
  VALUE(DRM_XE_MEM_RANGE_ATTR_ATOMIC, 1);
  VALUE(DRM_XE_MEM_RANGE_ATTR_PAT, 2);
  VALUE(DRM_XE_VMA_ATTR_PURGEABLE_STATE, 3);
  VALUE(DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE, 0);
  check_eq("(__u32)DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM", (__u32)DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM,
           0xffffffffu);
  VALUE(DRM_XE_MIGRATE_ALL_PAGES, 0);
  VALUE(DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES, 1);
  VALUE(DRM_XE_ATOMIC_UNDEFINED, 0);
  VALUE(DRM_XE_ATOMIC_DEVICE, 1);
  VALUE(DRM_XE_ATOMIC_GLOBAL, 2);
  VALUE(DRM_XE_ATOMIC_CPU, 3);
  VALUE(DRM_XE_VMA_PURGEABLE_STATE_WILLNEED, 0);
  VALUE(DRM_XE_VMA_PURGEABLE_STATE_DONTNEED, 1);
}

/* The union members of drm_xe_madvise alias the same 16 bytes. */
static void check_madvise_aliasing(void) {
  struct drm_xe_madvise m = {0};
  m.type = DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC;
  m.preferred_mem_loc.devmem_fd = (__u32)DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM;
  m.preferred_mem_loc.migration_policy = DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES;
  m.preferred_mem_loc.region_instance = 2;
  check_eq("atomic.val aliases devmem_fd", m.atomic.val, 0xffffffffu);
  check_eq("atomic.pad aliases policy|region_instance", m.atomic.pad,
           (2u << 16) | DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES);
  m.purge_state_val.retained_ptr = (__u64)(uintptr_t)&m;
  check_eq("pat_index.reserved aliases retained_ptr", m.pat_index.reserved, (__u64)(uintptr_t)&m);
}

/* Simulator extension: DRM_SIM_CPU_MMAP's struct keeps its size and its
 * fields' offsets; MAP_BO's mmap_offset took the first reserved word. */
static void check_sim_cpu_mmap(void) {
  SIZE(drm_sim_cpu_mmap, 40);
  OFF(drm_sim_cpu_mmap, addr, 0);
  OFF(drm_sim_cpu_mmap, size, 8);
  OFF(drm_sim_cpu_mmap, op, 16);
  OFF(drm_sim_cpu_mmap, pad, 20);
  OFF(drm_sim_cpu_mmap, mmap_offset, 24);
  OFF(drm_sim_cpu_mmap, reserved, 32);
  VALUE(DRM_SIM_CPU_MMAP_MAP, 0);
  VALUE(DRM_SIM_CPU_MMAP_UNMAP, 1);
  VALUE(DRM_SIM_CPU_MMAP_MAP_BO, 2);
  VALUE(DRM_IOCTL_SIM_CPU_MMAP, 0x40286492);
}

int main(void) {
  check_vm_create_destroy();
  check_device_query_and_friends();
  check_gem_create();
  check_vm_bind();
  check_madvise();
  check_query_mem_range_attrs();
  check_ioctls();
  check_constants();
  check_madvise_aliasing();
  check_sim_cpu_mmap();
  printf("c_abi_test: %d checks, %d failures\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
