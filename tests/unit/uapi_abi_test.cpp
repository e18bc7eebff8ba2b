// The xe uapi header seen from C++: struct sizes, field offsets, ioctl request
// codes and constant values, checked against the spec (xe-vm-semantics.md
// sections 1 and 2). The header also checks the sizes at compile time; these
// tests keep the numbers visible and cover the fields the header does not.
#include <drm_sim/drm_sim_ext.h>
#include <drm_sim/xe_drm.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace {

TEST(UapiAbi, StructSizes) {
  EXPECT_EQ(sizeof(drm_xe_user_extension), 16u);
  EXPECT_EQ(sizeof(drm_xe_ext_set_property), 48u);
  EXPECT_EQ(sizeof(drm_xe_device_query), 40u);
  EXPECT_EQ(sizeof(drm_xe_engine_class_instance), 8u);
  EXPECT_EQ(sizeof(drm_xe_engine), 32u);
  EXPECT_EQ(sizeof(drm_xe_query_engines), 8u);
  EXPECT_EQ(sizeof(drm_xe_mem_region), 88u);
  EXPECT_EQ(sizeof(drm_xe_query_mem_regions), 8u);
  EXPECT_EQ(sizeof(drm_xe_query_config), 8u);
  EXPECT_EQ(sizeof(drm_xe_gt), 96u);
  EXPECT_EQ(sizeof(drm_xe_query_gt_list), 8u);
  EXPECT_EQ(sizeof(drm_xe_query_topology_mask), 8u);
  EXPECT_EQ(sizeof(drm_xe_query_engine_cycles), 40u);
  EXPECT_EQ(sizeof(drm_xe_query_uc_fw_version), 32u);
  EXPECT_EQ(sizeof(drm_xe_gem_create), 56u);
  EXPECT_EQ(sizeof(drm_xe_gem_mmap_offset), 40u);
  EXPECT_EQ(sizeof(drm_xe_vm_create), 32u);
  EXPECT_EQ(sizeof(drm_xe_vm_destroy), 24u);
  EXPECT_EQ(sizeof(drm_xe_vm_bind_op), 80u);
  EXPECT_EQ(sizeof(drm_xe_vm_bind), 136u);
  EXPECT_EQ(sizeof(drm_xe_sync), 48u);
  EXPECT_EQ(sizeof(drm_xe_madvise), 64u);
  EXPECT_EQ(sizeof(drm_xe_mem_range_attr), 64u);
  EXPECT_EQ(sizeof(drm_xe_vm_query_mem_range_attr), 64u);
}

TEST(UapiAbi, VmCreateDestroyLayout) {
  EXPECT_EQ(offsetof(drm_xe_vm_create, extensions), 0u);
  EXPECT_EQ(offsetof(drm_xe_vm_create, flags), 8u);
  EXPECT_EQ(offsetof(drm_xe_vm_create, vm_id), 12u);
  EXPECT_EQ(offsetof(drm_xe_vm_create, reserved), 16u);
  EXPECT_EQ(offsetof(drm_xe_vm_destroy, vm_id), 0u);
  EXPECT_EQ(offsetof(drm_xe_vm_destroy, pad), 4u);
  EXPECT_EQ(offsetof(drm_xe_vm_destroy, reserved), 8u);
}

TEST(UapiAbi, QueryMmapSyncLayout) {
  EXPECT_EQ(offsetof(drm_xe_device_query, query), 8u);
  EXPECT_EQ(offsetof(drm_xe_device_query, size), 12u);
  EXPECT_EQ(offsetof(drm_xe_device_query, data), 16u);
  EXPECT_EQ(offsetof(drm_xe_device_query, reserved), 24u);

  EXPECT_EQ(offsetof(drm_xe_gem_mmap_offset, handle), 8u);
  EXPECT_EQ(offsetof(drm_xe_gem_mmap_offset, flags), 12u);
  EXPECT_EQ(offsetof(drm_xe_gem_mmap_offset, offset), 16u);
  EXPECT_EQ(offsetof(drm_xe_gem_mmap_offset, reserved), 24u);

  EXPECT_EQ(offsetof(drm_xe_sync, type), 8u);
  EXPECT_EQ(offsetof(drm_xe_sync, flags), 12u);
  EXPECT_EQ(offsetof(drm_xe_sync, handle), 16u);
  EXPECT_EQ(offsetof(drm_xe_sync, addr), 16u);
  EXPECT_EQ(offsetof(drm_xe_sync, timeline_value), 24u);
  EXPECT_EQ(offsetof(drm_xe_sync, reserved), 32u);

  EXPECT_EQ(offsetof(drm_xe_mem_region, min_page_size), 4u);
  EXPECT_EQ(offsetof(drm_xe_mem_region, total_size), 8u);
  EXPECT_EQ(offsetof(drm_xe_mem_region, cpu_visible_size), 24u);
  EXPECT_EQ(offsetof(drm_xe_query_mem_regions, mem_regions), 8u);
  EXPECT_EQ(offsetof(drm_xe_query_config, info), 8u);
  EXPECT_EQ(offsetof(drm_xe_gt, near_mem_regions), 16u);
  EXPECT_EQ(offsetof(drm_xe_gt, reserved), 40u);
}

TEST(UapiAbi, GemCreateLayout) {
  EXPECT_EQ(offsetof(drm_xe_gem_create, size), 8u);
  EXPECT_EQ(offsetof(drm_xe_gem_create, placement), 16u);
  EXPECT_EQ(offsetof(drm_xe_gem_create, flags), 20u);
  EXPECT_EQ(offsetof(drm_xe_gem_create, vm_id), 24u);
  EXPECT_EQ(offsetof(drm_xe_gem_create, handle), 28u);
  EXPECT_EQ(offsetof(drm_xe_gem_create, cpu_caching), 32u);
  EXPECT_EQ(offsetof(drm_xe_gem_create, pad), 34u);
  EXPECT_EQ(offsetof(drm_xe_gem_create, reserved), 40u);
}

TEST(UapiAbi, VmBindLayout) {
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, obj), 8u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, pat_index), 12u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, pad), 14u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, obj_offset), 16u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, userptr), 16u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, cpu_addr_mirror_offset), 16u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, range), 24u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, addr), 32u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, op), 40u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, flags), 44u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, prefetch_mem_region_instance), 48u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, pad2), 52u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind_op, reserved), 56u);

  EXPECT_EQ(offsetof(drm_xe_vm_bind, vm_id), 8u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind, exec_queue_id), 12u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind, pad), 16u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind, num_binds), 20u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind, bind), 24u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind, vector_of_binds), 24u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind, pad2), 104u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind, num_syncs), 108u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind, syncs), 112u);
  EXPECT_EQ(offsetof(drm_xe_vm_bind, reserved), 120u);
}

TEST(UapiAbi, MadviseLayout) {
  EXPECT_EQ(offsetof(drm_xe_madvise, extensions), 0u);
  EXPECT_EQ(offsetof(drm_xe_madvise, start), 8u);
  EXPECT_EQ(offsetof(drm_xe_madvise, range), 16u);
  EXPECT_EQ(offsetof(drm_xe_madvise, vm_id), 24u);
  EXPECT_EQ(offsetof(drm_xe_madvise, type), 28u);
  EXPECT_EQ(offsetof(drm_xe_madvise, preferred_mem_loc.devmem_fd), 32u);
  EXPECT_EQ(offsetof(drm_xe_madvise, preferred_mem_loc.migration_policy), 36u);
  EXPECT_EQ(offsetof(drm_xe_madvise, preferred_mem_loc.region_instance), 38u);
  EXPECT_EQ(sizeof(drm_xe_madvise{}.preferred_mem_loc.region_instance), 2u);
  EXPECT_EQ(offsetof(drm_xe_madvise, preferred_mem_loc.reserved), 40u);
  EXPECT_EQ(offsetof(drm_xe_madvise, atomic.val), 32u);
  EXPECT_EQ(offsetof(drm_xe_madvise, atomic.pad), 36u);
  EXPECT_EQ(offsetof(drm_xe_madvise, atomic.reserved), 40u);
  EXPECT_EQ(offsetof(drm_xe_madvise, pat_index.val), 32u);
  EXPECT_EQ(offsetof(drm_xe_madvise, pat_index.pad), 36u);
  EXPECT_EQ(offsetof(drm_xe_madvise, pat_index.reserved), 40u);
  EXPECT_EQ(offsetof(drm_xe_madvise, purge_state_val.val), 32u);
  EXPECT_EQ(offsetof(drm_xe_madvise, purge_state_val.pad), 36u);
  EXPECT_EQ(offsetof(drm_xe_madvise, purge_state_val.retained_ptr), 40u);
  EXPECT_EQ(offsetof(drm_xe_madvise, reserved), 48u);
}

TEST(UapiAbi, MadviseUnionMembersAlias) {
  drm_xe_madvise m{};
  m.preferred_mem_loc.devmem_fd = static_cast<__u32>(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM);
  m.preferred_mem_loc.migration_policy = DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES;
  m.preferred_mem_loc.region_instance = 3;
  m.preferred_mem_loc.reserved = 0x1122334455667788ull;
  // Read the bytes back as the other members see them (memcpy, not type punning).
  unsigned char raw[sizeof m];
  std::memcpy(raw, &m, sizeof m);
  __u32 val = 0;
  __u16 policy = 0;
  __u16 region = 0;
  __u64 tail = 0;
  std::memcpy(&val, raw + 32, sizeof val);
  std::memcpy(&policy, raw + 36, sizeof policy);
  std::memcpy(&region, raw + 38, sizeof region);
  std::memcpy(&tail, raw + 40, sizeof tail);
  EXPECT_EQ(val, 0xffffffffu);
  EXPECT_EQ(policy, DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES);
  EXPECT_EQ(region, 3u);
  EXPECT_EQ(tail, 0x1122334455667788ull);
}

TEST(UapiAbi, MemRangeAttrLayout) {
  EXPECT_EQ(offsetof(drm_xe_vm_query_mem_range_attr, vm_id), 8u);
  EXPECT_EQ(offsetof(drm_xe_vm_query_mem_range_attr, num_mem_ranges), 12u);
  EXPECT_EQ(offsetof(drm_xe_vm_query_mem_range_attr, start), 16u);
  EXPECT_EQ(offsetof(drm_xe_vm_query_mem_range_attr, range), 24u);
  EXPECT_EQ(offsetof(drm_xe_vm_query_mem_range_attr, sizeof_mem_range_attr), 32u);
  EXPECT_EQ(offsetof(drm_xe_vm_query_mem_range_attr, vector_of_mem_attr), 40u);
  EXPECT_EQ(offsetof(drm_xe_vm_query_mem_range_attr, reserved), 48u);

  EXPECT_EQ(offsetof(drm_xe_mem_range_attr, start), 8u);
  EXPECT_EQ(offsetof(drm_xe_mem_range_attr, end), 16u);
  EXPECT_EQ(offsetof(drm_xe_mem_range_attr, preferred_mem_loc.devmem_fd), 24u);
  EXPECT_EQ(offsetof(drm_xe_mem_range_attr, preferred_mem_loc.migration_policy), 28u);
  EXPECT_EQ(offsetof(drm_xe_mem_range_attr, atomic.val), 32u);
  EXPECT_EQ(offsetof(drm_xe_mem_range_attr, atomic.reserved), 36u);
  EXPECT_EQ(offsetof(drm_xe_mem_range_attr, pat_index.val), 40u);
  EXPECT_EQ(offsetof(drm_xe_mem_range_attr, pat_index.reserved), 44u);
  EXPECT_EQ(offsetof(drm_xe_mem_range_attr, reserved), 48u);
}

TEST(UapiAbi, IoctlNumbers) {
  EXPECT_EQ(DRM_COMMAND_BASE, 0x40);
  EXPECT_EQ(DRM_XE_DEVICE_QUERY, 0x00);
  EXPECT_EQ(DRM_XE_GEM_CREATE, 0x01);
  EXPECT_EQ(DRM_XE_GEM_MMAP_OFFSET, 0x02);
  EXPECT_EQ(DRM_XE_VM_CREATE, 0x03);
  EXPECT_EQ(DRM_XE_VM_DESTROY, 0x04);
  EXPECT_EQ(DRM_XE_VM_BIND, 0x05);
  EXPECT_EQ(DRM_XE_MADVISE, 0x0c);
  EXPECT_EQ(DRM_XE_VM_QUERY_MEM_RANGE_ATTRS, 0x0d);

  // Given by the spec.
  EXPECT_EQ(static_cast<std::uint32_t>(DRM_IOCTL_XE_GEM_CREATE), 0xc0386441u);
  EXPECT_EQ(static_cast<std::uint32_t>(DRM_IOCTL_XE_VM_CREATE), 0xc0206443u);
  EXPECT_EQ(static_cast<std::uint32_t>(DRM_IOCTL_XE_VM_BIND), 0x40886445u);
  EXPECT_EQ(static_cast<std::uint32_t>(DRM_IOCTL_XE_MADVISE), 0x4040644cu);
  EXPECT_EQ(static_cast<std::uint32_t>(DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS), 0xc040644du);
  // Derived from the spec's directions and the checked struct sizes.
  EXPECT_EQ(static_cast<std::uint32_t>(DRM_IOCTL_XE_DEVICE_QUERY), 0xc0286440u);
  EXPECT_EQ(static_cast<std::uint32_t>(DRM_IOCTL_XE_GEM_MMAP_OFFSET), 0xc0286442u);
  EXPECT_EQ(static_cast<std::uint32_t>(DRM_IOCTL_XE_VM_DESTROY), 0x40186444u);

  // Simulator extensions stay clear of every upstream xe offset.
  EXPECT_LT(DRM_XE_VM_GET_PROPERTY, 0x50);
}

TEST(UapiAbi, VmAndGemConstants) {
  EXPECT_EQ(DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE, 1 << 0);
  EXPECT_EQ(DRM_XE_VM_CREATE_FLAG_LR_MODE, 1 << 1);
  EXPECT_EQ(DRM_XE_VM_CREATE_FLAG_FAULT_MODE, 1 << 2);
  EXPECT_EQ(DRM_XE_GEM_CPU_CACHING_WB, 1);
  EXPECT_EQ(DRM_XE_GEM_CPU_CACHING_WC, 2);
  EXPECT_EQ(DRM_XE_MEM_REGION_CLASS_SYSMEM, 0);
  EXPECT_EQ(DRM_XE_MEM_REGION_CLASS_VRAM, 1);
  EXPECT_EQ(DRM_XE_QUERY_CONFIG_REV_AND_DEVICE_ID, 0);
  EXPECT_EQ(DRM_XE_QUERY_CONFIG_FLAGS, 1);
  EXPECT_EQ(DRM_XE_QUERY_CONFIG_FLAG_HAS_VRAM, 1 << 0);
  EXPECT_EQ(DRM_XE_QUERY_CONFIG_MIN_ALIGNMENT, 2);
  EXPECT_EQ(DRM_XE_QUERY_CONFIG_VA_BITS, 3);
  EXPECT_EQ(DRM_XE_QUERY_CONFIG_MAX_EXEC_QUEUE_PRIORITY, 4);
  EXPECT_EQ(DRM_XE_DEVICE_QUERY_ENGINES, 0);
  EXPECT_EQ(DRM_XE_DEVICE_QUERY_MEM_REGIONS, 1);
  EXPECT_EQ(DRM_XE_DEVICE_QUERY_CONFIG, 2);
  EXPECT_EQ(DRM_XE_DEVICE_QUERY_GT_LIST, 3);
  EXPECT_EQ(DRM_XE_SYNC_TYPE_SYNCOBJ, 0);
  EXPECT_EQ(DRM_XE_SYNC_TYPE_TIMELINE_SYNCOBJ, 1);
  EXPECT_EQ(DRM_XE_SYNC_TYPE_USER_FENCE, 2);
  EXPECT_EQ(DRM_XE_SYNC_FLAG_SIGNAL, 1 << 0);
}

TEST(UapiAbi, BindConstants) {
  EXPECT_EQ(DRM_XE_VM_BIND_OP_MAP, 0);
  EXPECT_EQ(DRM_XE_VM_BIND_OP_UNMAP, 1);
  EXPECT_EQ(DRM_XE_VM_BIND_OP_MAP_USERPTR, 2);
  EXPECT_EQ(DRM_XE_VM_BIND_OP_UNMAP_ALL, 3);
  EXPECT_EQ(DRM_XE_VM_BIND_OP_PREFETCH, 4);
  EXPECT_EQ(DRM_XE_VM_BIND_FLAG_READONLY, 1 << 0);
  EXPECT_EQ(DRM_XE_VM_BIND_FLAG_IMMEDIATE, 1 << 1);
  EXPECT_EQ(DRM_XE_VM_BIND_FLAG_NULL, 1 << 2);
  EXPECT_EQ(DRM_XE_VM_BIND_FLAG_DUMPABLE, 1 << 3);
  EXPECT_EQ(DRM_XE_VM_BIND_FLAG_CHECK_PXP, 1 << 4);
  EXPECT_EQ(DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR, 1 << 5);
  EXPECT_EQ(DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET, 1 << 6);
  drm_xe_vm_bind_op op{};
  op.prefetch_mem_region_instance = DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC;
  EXPECT_EQ(op.prefetch_mem_region_instance, 0xffffffffu);
}

TEST(UapiAbi, MadviseConstants) {
  EXPECT_EQ(DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC, 0);
  EXPECT_EQ(DRM_XE_MEM_RANGE_ATTR_ATOMIC, 1);
  EXPECT_EQ(DRM_XE_MEM_RANGE_ATTR_PAT, 2);
  EXPECT_EQ(DRM_XE_VMA_ATTR_PURGEABLE_STATE, 3);
  EXPECT_EQ(DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE, 0);
  EXPECT_EQ(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM, -1);
  EXPECT_EQ(DRM_XE_MIGRATE_ALL_PAGES, 0);
  EXPECT_EQ(DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES, 1);
  EXPECT_EQ(DRM_XE_ATOMIC_UNDEFINED, 0);
  EXPECT_EQ(DRM_XE_ATOMIC_DEVICE, 1);
  EXPECT_EQ(DRM_XE_ATOMIC_GLOBAL, 2);
  EXPECT_EQ(DRM_XE_ATOMIC_CPU, 3);
  EXPECT_EQ(DRM_XE_VMA_PURGEABLE_STATE_WILLNEED, 0);
  EXPECT_EQ(DRM_XE_VMA_PURGEABLE_STATE_DONTNEED, 1);

  // DEFAULT_SYSTEM stored in the u32 devmem_fd reads back as all ones.
  drm_xe_madvise m{};
  m.preferred_mem_loc.devmem_fd = static_cast<__u32>(DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM);
  EXPECT_EQ(m.preferred_mem_loc.devmem_fd, 0xffffffffu);
  EXPECT_EQ(static_cast<std::int32_t>(m.preferred_mem_loc.devmem_fd),
            DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM);
}

}  // namespace

// The simulator's statistics struct grows only by taking reserved words at
// its end: every field already there keeps its offset.
namespace {

TEST(SimUapiAbi, CpuMmapKeepsItsLayoutWithTheBoOffsetInTheFirstReservedWord) {
  EXPECT_EQ(sizeof(drm_sim_cpu_mmap), 40u);
  EXPECT_EQ(offsetof(drm_sim_cpu_mmap, addr), 0u);
  EXPECT_EQ(offsetof(drm_sim_cpu_mmap, size), 8u);
  EXPECT_EQ(offsetof(drm_sim_cpu_mmap, op), 16u);
  EXPECT_EQ(offsetof(drm_sim_cpu_mmap, pad), 20u);
  EXPECT_EQ(offsetof(drm_sim_cpu_mmap, mmap_offset), 24u);
  EXPECT_EQ(offsetof(drm_sim_cpu_mmap, reserved), 32u);
  EXPECT_EQ(DRM_SIM_CPU_MMAP_MAP_BO, 2);
  // The request code encodes the size: unchanged by the new field.
  EXPECT_EQ(DRM_IOCTL_SIM_CPU_MMAP, 0x40286492u);
}

TEST(SimUapiAbi, MemStatsLayoutIsAppendOnly) {
  EXPECT_EQ(sizeof(drm_sim_mem_stats), 144u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, gpu_accesses), 0u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, gpu_faults), 8u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, cpu_faults), 16u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, migrations_to_vram), 24u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, migrations_to_sys), 32u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, bytes_to_vram), 40u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, bytes_to_sys), 48u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, evictions), 56u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, gpu_invalidations), 64u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, sim_time_ns), 72u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, vram_used), 80u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, remote_accesses), 112u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, purges), 120u);
  EXPECT_EQ(offsetof(drm_sim_mem_stats, reserved), 128u);
  EXPECT_EQ(sizeof(drm_sim_mem_stats::reserved), 16u);
}

}  // namespace
