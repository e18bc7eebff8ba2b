/*
 * drm_sim/xe_drm.h — the subset of the Linux xe DRM uapi that drm_sim serves.
 *
 * ABI contract: every name, ioctl number, struct layout and constant value
 * here equals the upstream kernel's include/uapi/drm/xe_drm.h (v6.18 plus the
 * v7.0 multi-device placement and v7.1 purgeable-state additions), so code
 * written against the real kernel header builds and behaves the same with
 * drm_sim. The include guard is the upstream one: include this header or the
 * kernel's, never a mix. The layout is written independently from the
 * project spec (xe-vm-semantics.md, sections 1 and 2).
 *
 * Declared: the structs of the ioctls drm_sim serves and the device-query
 * replies. The other upstream ioctl offsets are listed so the numbering stays
 * visible, but their request macros and structs are left out.
 *
 * All structs are naturally aligned with explicit padding (no compiler
 * padding); sizes and key offsets are checked at the end of this file.
 */
/* Upstream's include guard, so this header and the kernel's never both apply. */
#ifndef _UAPI_XE_DRM_H_ /* NOLINT(bugprone-reserved-identifier) */
#define _UAPI_XE_DRM_H_ /* NOLINT(bugprone-reserved-identifier) */

#include <drm.h>
#include <stddef.h>

#if defined(__cplusplus)
extern "C" {
#endif

/* The kernel uapi style (flexible array members, anonymous unions holding
 * unnamed structs) is an extension in C++ and before C11; keep -Wpedantic
 * quiet for these declarations only. */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wc99-extensions"
#pragma clang diagnostic ignored "-Wnested-anon-types"
#pragma clang diagnostic ignored "-Wflexible-array-extensions"
#pragma clang diagnostic ignored "-Wgnu-anonymous-struct"
#endif
#endif

/* ---------------------------------------------------------------------------
 * ioctl numbers: offsets from DRM_COMMAND_BASE (0x40). Upstream keeps this
 * range dense; simulator extensions start at 0x50 (drm_sim_ext.h).
 */
#define DRM_XE_DEVICE_QUERY 0x00
#define DRM_XE_GEM_CREATE 0x01
#define DRM_XE_GEM_MMAP_OFFSET 0x02
#define DRM_XE_VM_CREATE 0x03
#define DRM_XE_VM_DESTROY 0x04
#define DRM_XE_VM_BIND 0x05
#define DRM_XE_EXEC_QUEUE_CREATE 0x06
#define DRM_XE_EXEC_QUEUE_DESTROY 0x07
#define DRM_XE_EXEC_QUEUE_GET_PROPERTY 0x08
#define DRM_XE_EXEC 0x09
#define DRM_XE_WAIT_USER_FENCE 0x0a
#define DRM_XE_OBSERVATION 0x0b
#define DRM_XE_MADVISE 0x0c                  /* v6.18 */
#define DRM_XE_VM_QUERY_MEM_RANGE_ATTRS 0x0d /* v6.18 */
#define DRM_XE_EXEC_QUEUE_SET_PROPERTY 0x0e
#define DRM_XE_VM_GET_PROPERTY 0x0f

/* Request codes, only for the ioctls whose argument struct is declared below. */
#define DRM_IOCTL_XE_DEVICE_QUERY \
  DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_DEVICE_QUERY, struct drm_xe_device_query)
#define DRM_IOCTL_XE_GEM_CREATE \
  DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_GEM_CREATE, struct drm_xe_gem_create)
#define DRM_IOCTL_XE_GEM_MMAP_OFFSET \
  DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_GEM_MMAP_OFFSET, struct drm_xe_gem_mmap_offset)
#define DRM_IOCTL_XE_VM_CREATE \
  DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_VM_CREATE, struct drm_xe_vm_create)
#define DRM_IOCTL_XE_VM_DESTROY \
  DRM_IOW(DRM_COMMAND_BASE + DRM_XE_VM_DESTROY, struct drm_xe_vm_destroy)
#define DRM_IOCTL_XE_VM_BIND DRM_IOW(DRM_COMMAND_BASE + DRM_XE_VM_BIND, struct drm_xe_vm_bind)
/* Write-only: the kernel copies nothing back (retained_ptr is a separate store). */
#define DRM_IOCTL_XE_MADVISE DRM_IOW(DRM_COMMAND_BASE + DRM_XE_MADVISE, struct drm_xe_madvise)
#define DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS                  \
  DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_VM_QUERY_MEM_RANGE_ATTRS, \
           struct drm_xe_vm_query_mem_range_attr)

/* ---------------------------------------------------------------------------
 * Extension chains: every struct's `extensions` field is a user pointer to the
 * first link (0 = none). drm_sim rejects or ignores chains as upstream does.
 */
struct drm_xe_user_extension {
  __u64 next_extension; /* user pointer to the next link, 0 ends the chain */
  __u32 name;           /* meaning depends on the struct that owns the chain */
  __u32 pad;            /* MBZ */
};

/* Generic "set one property" link. */
struct drm_xe_ext_set_property {
  struct drm_xe_user_extension base;
  __u32 property;
  __u32 pad; /* MBZ */
  union {
    __u64 value; /* the value itself */
    __u64 ptr;   /* or a user pointer to it, for properties that need one */
  };
  __u64 reserved[2]; /* MBZ */
};

/* ---------------------------------------------------------------------------
 * DRM_IOCTL_XE_DEVICE_QUERY. Call once with size 0 to learn the size, then
 * again with a buffer of exactly that size in `data`.
 */
struct drm_xe_device_query {
  __u64 extensions;
#define DRM_XE_DEVICE_QUERY_ENGINES 0       /* struct drm_xe_query_engines */
#define DRM_XE_DEVICE_QUERY_MEM_REGIONS 1   /* struct drm_xe_query_mem_regions */
#define DRM_XE_DEVICE_QUERY_CONFIG 2        /* struct drm_xe_query_config */
#define DRM_XE_DEVICE_QUERY_GT_LIST 3       /* struct drm_xe_query_gt_list */
#define DRM_XE_DEVICE_QUERY_HWCONFIG 4      /* opaque key/value table */
#define DRM_XE_DEVICE_QUERY_GT_TOPOLOGY 5   /* struct drm_xe_query_topology_mask[] */
#define DRM_XE_DEVICE_QUERY_ENGINE_CYCLES 6 /* struct drm_xe_query_engine_cycles */
#define DRM_XE_DEVICE_QUERY_UC_FW_VERSION 7 /* struct drm_xe_query_uc_fw_version */
#define DRM_XE_DEVICE_QUERY_OA_UNITS 8
#define DRM_XE_DEVICE_QUERY_PXP_STATUS 9
#define DRM_XE_DEVICE_QUERY_EU_STALL 10
  __u32 query;       /* DRM_XE_DEVICE_QUERY_* */
  __u32 size;        /* in: 0 or the exact size; out: the required size */
  __u64 data;        /* user pointer to the reply buffer */
  __u64 reserved[2]; /* MBZ */
};

/* Engine identity; also an input of exec-queue creation and ENGINE_CYCLES. */
struct drm_xe_engine_class_instance {
#define DRM_XE_ENGINE_CLASS_RENDER 0
#define DRM_XE_ENGINE_CLASS_COPY 1
#define DRM_XE_ENGINE_CLASS_VIDEO_DECODE 2
#define DRM_XE_ENGINE_CLASS_VIDEO_ENHANCE 3
#define DRM_XE_ENGINE_CLASS_COMPUTE 4
#define DRM_XE_ENGINE_CLASS_VM_BIND 5 /* kernel-only queue class for binds */
  __u16 engine_class;
  __u16 engine_instance;
  __u16 gt_id;
  __u16 pad; /* MBZ */
};

struct drm_xe_engine {
  struct drm_xe_engine_class_instance instance;
  __u64 reserved[3];
};

/* Reply of DRM_XE_DEVICE_QUERY_ENGINES. */
struct drm_xe_query_engines {
  __u32 num_engines;
  __u32 pad; /* MBZ */
  struct drm_xe_engine engines[];
};

/* Memory classes of struct drm_xe_mem_region.mem_class. */
enum drm_xe_memory_class {
  DRM_XE_MEM_REGION_CLASS_SYSMEM = 0,
  DRM_XE_MEM_REGION_CLASS_VRAM /* device-local memory (discrete only) */
};

struct drm_xe_mem_region {
  __u16 mem_class;     /* enum drm_xe_memory_class */
  __u16 instance;      /* bit index in drm_xe_gem_create.placement */
  __u32 min_page_size; /* BO size and VRAM bind alignment, in bytes */
  __u64 total_size;
  __u64 used;
  __u64 cpu_visible_size; /* VRAM only; < total_size on small-BAR systems */
  __u64 cpu_visible_used; /* VRAM only */
  __u64 reserved[6];
};

/* Reply of DRM_XE_DEVICE_QUERY_MEM_REGIONS. */
struct drm_xe_query_mem_regions {
  __u32 num_mem_regions;
  __u32 pad; /* MBZ */
  struct drm_xe_mem_region mem_regions[];
};

/* Reply of DRM_XE_DEVICE_QUERY_CONFIG: info[] is indexed by the values below. */
struct drm_xe_query_config {
  __u32 num_params;                             /* entries in info[] */
  __u32 pad;                                    /* MBZ */
#define DRM_XE_QUERY_CONFIG_REV_AND_DEVICE_ID 0 /* bits 0-15 device id, 16-23 revision */
#define DRM_XE_QUERY_CONFIG_FLAGS 1             /* DRM_XE_QUERY_CONFIG_FLAG_* */
#define DRM_XE_QUERY_CONFIG_FLAG_HAS_VRAM (1 << 0)
#define DRM_XE_QUERY_CONFIG_FLAG_HAS_LOW_LATENCY (1 << 1)
#define DRM_XE_QUERY_CONFIG_FLAG_HAS_CPU_ADDR_MIRROR (1 << 2)
#define DRM_XE_QUERY_CONFIG_FLAG_HAS_NO_COMPRESSION_HINT (1 << 3)
#define DRM_XE_QUERY_CONFIG_FLAG_HAS_DISABLE_STATE_CACHE_PERF_FIX (1 << 4)
#define DRM_XE_QUERY_CONFIG_FLAG_HAS_PURGING_SUPPORT (1 << 5)
#define DRM_XE_QUERY_CONFIG_MIN_ALIGNMENT 2 /* typically 4 KiB or 64 KiB */
#define DRM_XE_QUERY_CONFIG_VA_BITS 3
#define DRM_XE_QUERY_CONFIG_MAX_EXEC_QUEUE_PRIORITY 4
  __u64 info[];
};

/* One GT (graphics or media unit of a tile). */
struct drm_xe_gt {
#define DRM_XE_QUERY_GT_TYPE_MAIN 0
#define DRM_XE_QUERY_GT_TYPE_MEDIA 1
  __u16 type;
  __u16 tile_id;
  __u16 gt_id;
  __u16 pad[3]; /* MBZ */
  __u32 reference_clock;
  __u64 near_mem_regions; /* mask of region instances close to this GT */
  __u64 far_mem_regions;  /* mask of the other reachable regions */
  __u16 ip_ver_major;
  __u16 ip_ver_minor;
  __u16 ip_ver_rev;
  __u16 pad2; /* MBZ */
  __u64 reserved[7];
};

/* Reply of DRM_XE_DEVICE_QUERY_GT_LIST. */
struct drm_xe_query_gt_list {
  __u32 num_gt;
  __u32 pad; /* MBZ */
  struct drm_xe_gt gt_list[];
};

/* One element of the DRM_XE_DEVICE_QUERY_GT_TOPOLOGY reply (variable size). */
struct drm_xe_query_topology_mask {
  __u16 gt_id;
#define DRM_XE_TOPO_DSS_GEOMETRY 1
#define DRM_XE_TOPO_DSS_COMPUTE 2
#define DRM_XE_TOPO_L3_BANK 3
#define DRM_XE_TOPO_EU_PER_DSS 4
#define DRM_XE_TOPO_SIMD16_EU_PER_DSS 5
  __u16 type;
  __u32 num_bytes;
  __u8 mask[]; /* little-endian bit mask, num_bytes long */
};

/* DRM_XE_DEVICE_QUERY_ENGINE_CYCLES: eci and clockid in, the rest out. */
struct drm_xe_query_engine_cycles {
  struct drm_xe_engine_class_instance eci;
  __s32 clockid; /* CLOCK_* id for cpu_timestamp */
  __u32 width;   /* bits of the engine cycle counter */
  __u64 engine_cycles;
  __u64 cpu_timestamp; /* ns, taken just before reading the counter */
  __u64 cpu_delta;     /* ns spent around the counter read */
};

/* DRM_XE_DEVICE_QUERY_UC_FW_VERSION: uc_type in, versions out. */
struct drm_xe_query_uc_fw_version {
#define XE_QUERY_UC_TYPE_GUC_SUBMISSION 0
#define XE_QUERY_UC_TYPE_HUC 1
  __u16 uc_type;
  __u16 pad; /* MBZ */
  __u32 branch_ver;
  __u32 major_ver;
  __u32 minor_ver;
  __u32 patch_ver;
  __u32 pad2; /* MBZ */
  __u64 reserved;
};

/* ---------------------------------------------------------------------------
 * DRM_IOCTL_XE_GEM_CREATE
 */
struct drm_xe_gem_create {
#define DRM_XE_GEM_CREATE_EXTENSION_SET_PROPERTY 0
#define DRM_XE_GEM_CREATE_SET_PROPERTY_PXP_TYPE 0
  __u64 extensions;
  __u64 size;      /* multiple of the placement regions' min_page_size */
  __u32 placement; /* mask of memory-region instances the BO may live in */
#define DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING (1 << 0)
#define DRM_XE_GEM_CREATE_FLAG_SCANOUT (1 << 1)
#define DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM (1 << 2)
#define DRM_XE_GEM_CREATE_FLAG_NO_COMPRESSION (1 << 3)
  __u32 flags;  /* DRM_XE_GEM_CREATE_FLAG_* */
  __u32 vm_id;  /* nonzero: the BO is private to that VM */
  __u32 handle; /* out, nonzero */
#define DRM_XE_GEM_CPU_CACHING_WB 1
#define DRM_XE_GEM_CPU_CACHING_WC 2
  __u16 cpu_caching; /* DRM_XE_GEM_CPU_CACHING_*; VRAM-capable BOs need WC */
  __u16 pad[3];      /* MBZ */
  __u64 reserved[2]; /* MBZ */
};

/* DRM_IOCTL_XE_GEM_MMAP_OFFSET */
struct drm_xe_gem_mmap_offset {
  __u64 extensions;
  __u32 handle;
#define DRM_XE_MMAP_OFFSET_FLAG_PCI_BARRIER (1 << 0)
  __u32 flags;
  __u64 offset; /* out: fake offset for mmap(2) on the DRM fd */
  __u64 reserved[2];
};

/* ---------------------------------------------------------------------------
 * VM create / destroy
 */
struct drm_xe_vm_create {
  __u64 extensions;
#define DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE (1 << 0)
#define DRM_XE_VM_CREATE_FLAG_LR_MODE (1 << 1)          /* long-running */
#define DRM_XE_VM_CREATE_FLAG_FAULT_MODE (1 << 2)       /* requires LR_MODE */
#define DRM_XE_VM_CREATE_FLAG_NO_VM_OVERCOMMIT (1 << 3) /* requires FAULT_MODE */
  __u32 flags;
  __u32 vm_id; /* out */
  __u64 reserved[2];
};

struct drm_xe_vm_destroy {
  __u32 vm_id;
  __u32 pad; /* MBZ */
  __u64 reserved[2];
};

/* ---------------------------------------------------------------------------
 * DRM_IOCTL_XE_VM_BIND
 */
struct drm_xe_vm_bind_op {
  __u64 extensions;
  __u32 obj;       /* GEM handle; 0 for userptr, unmap, NULL and mirror binds */
  __u16 pat_index; /* platform PAT entry for the PTEs */
  __u16 pad;       /* MBZ */
  union {
    __u64 obj_offset;             /* byte offset into obj */
    __u64 userptr;                /* CPU address, for MAP_USERPTR */
    __s64 cpu_addr_mirror_offset; /* GPU-to-CPU VA delta; must be 0 today */
  };
  __u64 range; /* bytes; 0 for UNMAP_ALL */
  __u64 addr;  /* GPU VA; 0 for UNMAP_ALL */
#define DRM_XE_VM_BIND_OP_MAP 0x0
#define DRM_XE_VM_BIND_OP_UNMAP 0x1
#define DRM_XE_VM_BIND_OP_MAP_USERPTR 0x2
#define DRM_XE_VM_BIND_OP_UNMAP_ALL 0x3
#define DRM_XE_VM_BIND_OP_PREFETCH 0x4
  __u32 op;
#define DRM_XE_VM_BIND_FLAG_READONLY (1 << 0)
#define DRM_XE_VM_BIND_FLAG_IMMEDIATE (1 << 1)
#define DRM_XE_VM_BIND_FLAG_NULL (1 << 2) /* sparse: reads 0, writes dropped */
#define DRM_XE_VM_BIND_FLAG_DUMPABLE (1 << 3)
#define DRM_XE_VM_BIND_FLAG_CHECK_PXP (1 << 4)
#define DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR (1 << 5)   /* SVM range, FAULT_MODE VMs */
#define DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET (1 << 6) /* with CPU_ADDR_MIRROR on MAP */
#define DRM_XE_VM_BIND_FLAG_DECOMPRESS (1 << 7)
  __u32 flags;
/* prefetch_mem_region_instance value: use the VMA's preferred location. */
#define DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC (-1)
  __u32 prefetch_mem_region_instance; /* region instance (not a mask), PREFETCH only */
  __u32 pad2;                         /* MBZ */
  __u64 reserved[3];
};

struct drm_xe_vm_bind {
  __u64 extensions;
  __u32 vm_id;
  __u32 exec_queue_id; /* 0: the VM's default bind queue */
  __u32 pad;           /* MBZ */
  __u32 num_binds;
  union {
    struct drm_xe_vm_bind_op bind; /* num_binds == 1 */
    __u64 vector_of_binds;         /* num_binds > 1: user pointer to an array */
  };
  __u32 pad2; /* MBZ */
  __u32 num_syncs;
  __u64 syncs; /* user pointer to struct drm_xe_sync[num_syncs] */
  __u64 reserved[2];
};

/* In/out fence of a bind or exec. */
struct drm_xe_sync {
  __u64 extensions;
#define DRM_XE_SYNC_TYPE_SYNCOBJ 0x0
#define DRM_XE_SYNC_TYPE_TIMELINE_SYNCOBJ 0x1
#define DRM_XE_SYNC_TYPE_USER_FENCE 0x2
  __u32 type;
#define DRM_XE_SYNC_FLAG_SIGNAL (1 << 0)
  __u32 flags;
  union {
    __u32 handle; /* syncobj handle */
    __u64 addr;   /* user fence: qword-aligned address (a CPU pointer for binds) */
  };
  __u64 timeline_value; /* nonzero for TIMELINE_SYNCOBJ; value written to a user fence */
  __u64 reserved[2];
};

/* ---------------------------------------------------------------------------
 * DRM_IOCTL_XE_MADVISE (v6.18): one attribute over one GPU VA range.
 */
struct drm_xe_madvise {
  __u64 extensions;
  __u64 start; /* 4 KiB aligned */
  __u64 range; /* 4 KiB aligned, >= 4 KiB */
  __u32 vm_id;
#define DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC 0
#define DRM_XE_MEM_RANGE_ATTR_ATOMIC 1
#define DRM_XE_MEM_RANGE_ATTR_PAT 2
/* v7.1; upstream spells this one with VMA_ATTR, not MEM_RANGE_ATTR. */
#define DRM_XE_VMA_ATTR_PURGEABLE_STATE 3
  __u32 type;
  union {
    /* type == DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC */
    struct {
#define DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE 0    /* VRAM of the faulting tile */
#define DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM (-1) /* system memory */
      __u32 devmem_fd; /* one of the two above, or (v7.0) an xe device fd */
#define DRM_XE_MIGRATE_ALL_PAGES 0
#define DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES 1
      __u16 migration_policy;
      /* v7.0 name; "pad" (MBZ) in v6.18. VRAM instance on devmem_fd's device,
       * MBZ when devmem_fd <= DEFAULT_DEVICE. */
      __u16 region_instance;
      __u64 reserved; /* MBZ */
    } preferred_mem_loc;

    /* type == DRM_XE_MEM_RANGE_ATTR_ATOMIC */
    struct {
#define DRM_XE_ATOMIC_UNDEFINED 0
#define DRM_XE_ATOMIC_DEVICE 1
#define DRM_XE_ATOMIC_GLOBAL 2
#define DRM_XE_ATOMIC_CPU 3
      __u32 val;
      __u32 pad;      /* MBZ */
      __u64 reserved; /* MBZ */
    } atomic;

    /* type == DRM_XE_MEM_RANGE_ATTR_PAT */
    struct {
      __u32 val; /* PAT index */
      __u32 pad; /* MBZ */
      __u64 reserved;
    } pat_index;

    /* type == DRM_XE_VMA_ATTR_PURGEABLE_STATE (v7.1), BO VMAs only */
    struct {
#define DRM_XE_VMA_PURGEABLE_STATE_WILLNEED 0
#define DRM_XE_VMA_PURGEABLE_STATE_DONTNEED 1
      __u32 val;
      __u32 pad; /* MBZ */
      /* Optional user pointer to a __u32 that must hold 0 on entry; set to 1
       * when the backing store still exists, left 0 when it was purged. */
      __u64 retained_ptr;
    } purge_state_val;
  };
  __u64 reserved[2]; /* MBZ */
};

/* ---------------------------------------------------------------------------
 * DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS (v6.18). First call with
 * num_mem_ranges 0, sizeof_mem_range_attr 0 and a null vector to get the count
 * and element size; then call again with a buffer. -ENOSPC: start over.
 */
struct drm_xe_mem_range_attr {
  __u64 extensions;
  __u64 start; /* whole VMA, not clipped to the query */
  __u64 end;   /* exclusive */
  struct {
    __u32 devmem_fd; /* DEFAULT_SYSTEM reads back as 0xffffffff */
    __u32 migration_policy;
  } preferred_mem_loc;
  struct {
    __u32 val;
    __u32 reserved;
  } atomic;
  struct {
    __u32 val;
    __u32 reserved;
  } pat_index;
  __u64 reserved[2];
};

struct drm_xe_vm_query_mem_range_attr {
  __u64 extensions;
  __u32 vm_id;
  __u32 num_mem_ranges; /* in: capacity of the vector; out: ranges found */
  __u64 start;
  __u64 range;
  __u64 sizeof_mem_range_attr; /* in: 0 or sizeof(struct drm_xe_mem_range_attr); out */
  __u64 vector_of_mem_attr;    /* user pointer to struct drm_xe_mem_range_attr[] */
  __u64 reserved[2];
};

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* ---------------------------------------------------------------------------
 * Compile-time ABI checks (sizes from the spec, offsets of the madvise union,
 * the ioctl numbers the spec lists). Skipped before C11; the tests cover it.
 */
#if defined(__cplusplus)
#define DRM_SIM_XE_ABI_CHECK(expr, msg) static_assert(expr, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define DRM_SIM_XE_ABI_CHECK(expr, msg) _Static_assert(expr, msg)
#endif

#if defined(DRM_SIM_XE_ABI_CHECK)

DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_user_extension) == 16, "drm_xe_user_extension");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_ext_set_property) == 48, "drm_xe_ext_set_property");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_device_query) == 40, "drm_xe_device_query");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_engine_class_instance) == 8,
                     "drm_xe_engine_class_instance");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_engine) == 32, "drm_xe_engine");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_query_engines) == 8, "drm_xe_query_engines");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_mem_region) == 88, "drm_xe_mem_region");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_query_mem_regions) == 8, "drm_xe_query_mem_regions");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_query_config) == 8, "drm_xe_query_config");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_gt) == 96, "drm_xe_gt");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_query_gt_list) == 8, "drm_xe_query_gt_list");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_query_topology_mask) == 8, "drm_xe_query_topology_mask");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_query_engine_cycles) == 40, "drm_xe_query_engine_cycles");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_query_uc_fw_version) == 32, "drm_xe_query_uc_fw_version");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_gem_create) == 56, "drm_xe_gem_create");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_gem_mmap_offset) == 40, "drm_xe_gem_mmap_offset");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_vm_create) == 32, "drm_xe_vm_create");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_vm_destroy) == 24, "drm_xe_vm_destroy");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_vm_bind_op) == 80, "drm_xe_vm_bind_op");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_vm_bind) == 136, "drm_xe_vm_bind");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_sync) == 48, "drm_xe_sync");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_madvise) == 64, "drm_xe_madvise");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_mem_range_attr) == 64, "drm_xe_mem_range_attr");
DRM_SIM_XE_ABI_CHECK(sizeof(struct drm_xe_vm_query_mem_range_attr) == 64,
                     "drm_xe_vm_query_mem_range_attr");

DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, start) == 8, "madvise.start");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, range) == 16, "madvise.range");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, vm_id) == 24, "madvise.vm_id");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, type) == 28, "madvise.type");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, preferred_mem_loc.devmem_fd) == 32,
                     "madvise.preferred_mem_loc.devmem_fd");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, preferred_mem_loc.migration_policy) == 36,
                     "madvise.preferred_mem_loc.migration_policy");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, preferred_mem_loc.region_instance) == 38,
                     "madvise.preferred_mem_loc.region_instance");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, preferred_mem_loc.reserved) == 40,
                     "madvise.preferred_mem_loc.reserved");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, atomic.val) == 32, "madvise.atomic.val");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, pat_index.val) == 32, "madvise.pat_index.val");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, purge_state_val.val) == 32,
                     "madvise.purge_state_val.val");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, purge_state_val.retained_ptr) == 40,
                     "madvise.purge_state_val.retained_ptr");
DRM_SIM_XE_ABI_CHECK(offsetof(struct drm_xe_madvise, reserved) == 48, "madvise.reserved");

DRM_SIM_XE_ABI_CHECK(DRM_IOCTL_XE_GEM_CREATE == 0xc0386441u, "DRM_IOCTL_XE_GEM_CREATE");
DRM_SIM_XE_ABI_CHECK(DRM_IOCTL_XE_VM_CREATE == 0xc0206443u, "DRM_IOCTL_XE_VM_CREATE");
DRM_SIM_XE_ABI_CHECK(DRM_IOCTL_XE_VM_BIND == 0x40886445u, "DRM_IOCTL_XE_VM_BIND");
DRM_SIM_XE_ABI_CHECK(DRM_IOCTL_XE_MADVISE == 0x4040644cu, "DRM_IOCTL_XE_MADVISE");
DRM_SIM_XE_ABI_CHECK(DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS == 0xc040644du,
                     "DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS");

#undef DRM_SIM_XE_ABI_CHECK
#endif /* DRM_SIM_XE_ABI_CHECK */

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_XE_DRM_H_ */
