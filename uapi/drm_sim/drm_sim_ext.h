/*
 * drm_sim/drm_sim_ext.h — simulator-only ioctls (not part of the xe uapi).
 *
 * They live at driver offsets 0x50–0x5f, above every upstream xe ioctl, and
 * are named DRM_SIM_* so that nobody mistakes them for kernel uapi. They give
 * programs the simulator's statistics and fault injection.
 *
 * Thread safety: as every drm_sim ioctl, they may be called from any thread.
 * Errors: the negative errno of each struct's comment, plus -EINVAL for a
 * non-zero MBZ field and -EFAULT for an unreadable or unwritable pointer.
 */
#ifndef DRM_SIM_DRM_SIM_EXT_H
#define DRM_SIM_DRM_SIM_EXT_H

#include <drm.h>
#include <stddef.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_SIM_VM_STATS 0x50
#define DRM_SIM_FAULT_INJECT 0x51
#define DRM_SIM_CPU_MMAP 0x52
#define DRM_SIM_MEM_ACCESS 0x53
#define DRM_SIM_MEM_STATS 0x54

/* Per-VM counters (madvise, binds, invalidations). */
struct drm_sim_vm_stats {
	__u32 vm_id;           /* in */
	__u32 pad;             /* MBZ */
	__u64 binds;           /* bind ops executed */
	__u64 bind_rollbacks;  /* bind arrays rolled back */
	__u64 madvise_calls;   /* madvise calls that reached the VM */
	__u64 madvise_splits;  /* REMAPs planned by madvise */
	__u64 vmas_advised;    /* VMAs whose attribute changed */
	__u64 vmas_skipped;    /* VMAs left unchanged (skip invalidation) */
	__u64 pte_zaps;        /* VMAs whose GPU PTEs were zapped */
	__u64 tlb_invalidations; /* range TLB invalidations, per tile */
	__u64 queries;         /* attribute queries */
	__u64 num_vmas;        /* VMAs now */
	__u64 vma_bytes;       /* host bytes used by the VMA tree */
	__u64 reserved[4];     /* MBZ */
};

#define DRM_SIM_FAULT_SIGNAL_AT_WAIT 0 /* signal at the n-th killable/interruptible wait */
#define DRM_SIM_FAULT_SIGNAL_EVERY 1   /* signal at every such wait */
#define DRM_SIM_FAULT_FAIL_ALLOC_AT 2  /* fail the n-th allocation with ENOMEM */
#define DRM_SIM_FAULT_CLEAR 3          /* disarm every injected signal and failure */
#define DRM_SIM_FAULT_SIGNAL_RANDOM 4  /* signal at each such wait with probability_ppm, seed n */
#define DRM_SIM_FAULT_SET_SIGNAL_RETURN 5 /* n = DRM_SIM_SIGNAL_RETURN_*: the device's convention */
#define DRM_SIM_FAULT_REAL_SIGNALS 6   /* flags FATAL: real signals with a handler count as fatal */
#define DRM_SIM_FAULT_FLAG_FATAL (1u << 0) /* the signal is fatal (SIGKILL-like) */

/* What an interrupted ioctl returns (DRM_SIM_FAULT_SET_SIGNAL_RETURN). */
#define DRM_SIM_SIGNAL_RETURN_EINTR 0      /* upstream xe: -EINTR (the default) */
#define DRM_SIM_SIGNAL_RETURN_ERESTARTSYS 1 /* restarted transparently when the signal's
                                            * handler has SA_RESTART, else -EINTR */

/* Arms the device's fault plan (counted from this call). Fields an op does
 * not use must be zero. */
struct drm_sim_fault_inject {
	__u32 op;              /* DRM_SIM_FAULT_* */
	__u32 flags;           /* DRM_SIM_FAULT_FLAG_* */
	__u64 n;               /* k-th wait / n-th allocation, 1-based; SIGNAL_RANDOM: the
	                        * seed; SET_SIGNAL_RETURN: DRM_SIM_SIGNAL_RETURN_* */
	__u32 probability_ppm; /* SIGNAL_RANDOM: chance per wait in millionths, 1..1000000 */
	__u32 signo;           /* SIGNAL_*: the signal number injected signals model, for
	                        * SA_RESTART (0: SIGINT) */
	__u64 reserved;        /* MBZ */
};
/* The simulated process's address space (what CPU-address-mirror VMAs
 * mirror): anonymous mappings made and removed, and mappings of buffer
 * objects.
 *
 * MAP: anonymous memory at [addr, addr+size) (-EEXIST over any mapping).
 * MAP_BO: maps the BO whose fake offset DRM_XE_GEM_MMAP_OFFSET returned, as
 * mmap(fd, mmap_offset) would: [addr, addr+size) shows the BO's bytes from
 * (mmap_offset - the BO's fake offset) on. mmap_offset may point inside the
 * BO (page aligned). Errors: -EINVAL for a misaligned mmap_offset, an
 * offset no BO behind one of this file's GEM handles owns (unknown, closed or
 * another file's), or a range beyond the BO's end; -EBUSY while the BO is
 * DONTNEED (uapi 7.1 purgeable); -EEXIST over any mapping. The mapping holds
 * a reference on the BO: GEM_CLOSE of its last handle keeps the BO alive
 * until the mapping goes away.
 * UNMAP: removes every mapping (anonymous or BO, whole or in part) in the
 * range; holes are fine. Unmapping anonymous memory invalidates the GPU's
 * mirror ranges over it in every VM of the file; unmapping (the last piece
 * of) a BO mapping drops its reference.
 *
 * CPU accesses (DRM_SIM_MEM_ACCESS, vm_id 0) inside a BO mapping read and
 * write the BO wherever its pages are, VRAM included (through the BAR, no
 * migration), except that a BO whose BO-wide atomic attribute (madvise
 * ATOMIC) is CPU or GLOBAL is first moved to system memory when the touch
 * finds it in VRAM (spec section 3: such a BO loses its CPU mappings). A
 * purged BO's pages fault: -EFAULT (the kernel sends SIGBUS). GPU accesses
 * through a CPU-address-mirror VMA to an address that is a BO mapping fail
 * with -EFAULT (only anonymous process memory is mirrored). */
#define DRM_SIM_CPU_MMAP_MAP 0
#define DRM_SIM_CPU_MMAP_UNMAP 1
#define DRM_SIM_CPU_MMAP_MAP_BO 2
struct drm_sim_cpu_mmap {
	__u64 addr;        /* 4 KiB aligned */
	__u64 size;        /* 4 KiB aligned, > 0 */
	__u32 op;          /* DRM_SIM_CPU_MMAP_* */
	__u32 pad;         /* MBZ */
	__u64 mmap_offset; /* MAP_BO: from DRM_XE_GEM_MMAP_OFFSET (+ a page-aligned
	                    * offset into the BO); other ops: MBZ */
	__u64 reserved;    /* MBZ */
};

/* One memory access. Data-backed profiles: WRITE copies size bytes from
 * data, READ copies them to data, ATOMIC adds value to the aligned 8-byte
 * word at addr and returns the old word in value. Tag-backed profiles: each
 * page's content is a 64-bit tag: WRITE sets it to value, READ returns it in
 * value, ATOMIC adds value and returns the old tag. An access never crosses
 * a 4 KiB page. */
#define DRM_SIM_ACCESS_READ 0
#define DRM_SIM_ACCESS_WRITE 1
#define DRM_SIM_ACCESS_ATOMIC 2
struct drm_sim_mem_access {
	__u64 addr;
	__u32 size;
	__u32 op;      /* DRM_SIM_ACCESS_* */
	__u64 value;   /* in/out */
	__u64 data;    /* user pointer to size bytes (data-backed profiles) */
	__s32 result;  /* out: 0 or -errno */
	__u32 pad;     /* MBZ */
};

/* A batch of accesses by the GPU (vm_id != 0: through that VM's GPU fault
 * path, spec §7) or by the CPU (vm_id == 0: the file's process memory; CPU
 * touches of VRAM pages migrate them back). Stops at the first failing
 * access; the ioctl returns its errno. */
struct drm_sim_mem_access_batch {
	__u32 vm_id;
	__u16 tile;        /* faulting tile (GPU accesses) */
	__u16 pad;         /* MBZ */
	__u32 num;
	__u32 pad2;        /* MBZ */
	__u64 accesses;    /* user pointer to num struct drm_sim_mem_access */
	__u64 reserved[2]; /* MBZ */
};

/* Device-wide memory statistics. */
struct drm_sim_mem_stats {
	__u64 gpu_accesses;
	__u64 gpu_faults;
	__u64 cpu_faults;
	__u64 migrations_to_vram;
	__u64 migrations_to_sys;
	__u64 bytes_to_vram;
	__u64 bytes_to_sys;
	__u64 evictions;
	__u64 gpu_invalidations;
	__s64 sim_time_ns;
	__u64 vram_used[4];  /* per tile */
	__u64 remote_accesses; /* GPU accesses to system memory over the host link */
	__u64 purges;        /* purgeable (uapi 7.1 DONTNEED) BOs discarded under pressure */
	__u64 reserved[2];   /* MBZ */
};

#define DRM_IOCTL_SIM_CPU_MMAP DRM_IOW(DRM_COMMAND_BASE + DRM_SIM_CPU_MMAP, struct drm_sim_cpu_mmap)
#define DRM_IOCTL_SIM_MEM_ACCESS \
	DRM_IOW(DRM_COMMAND_BASE + DRM_SIM_MEM_ACCESS, struct drm_sim_mem_access_batch)
#define DRM_IOCTL_SIM_MEM_STATS DRM_IOWR(DRM_COMMAND_BASE + DRM_SIM_MEM_STATS, struct drm_sim_mem_stats)
#define DRM_IOCTL_SIM_VM_STATS DRM_IOWR(DRM_COMMAND_BASE + DRM_SIM_VM_STATS, struct drm_sim_vm_stats)
#define DRM_IOCTL_SIM_FAULT_INJECT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_SIM_FAULT_INJECT, struct drm_sim_fault_inject)

/* Compile-time layout checks (C11 and C++). */
#if defined(__cplusplus)
#define DRM_SIM_EXT_ABI_CHECK(expr, msg) static_assert(expr, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define DRM_SIM_EXT_ABI_CHECK(expr, msg) _Static_assert(expr, msg)
#endif
#if defined(DRM_SIM_EXT_ABI_CHECK)
DRM_SIM_EXT_ABI_CHECK(sizeof(struct drm_sim_fault_inject) == 32, "drm_sim_fault_inject");
DRM_SIM_EXT_ABI_CHECK(offsetof(struct drm_sim_fault_inject, n) == 8, "fault_inject.n");
DRM_SIM_EXT_ABI_CHECK(offsetof(struct drm_sim_fault_inject, probability_ppm) == 16,
                      "fault_inject.probability_ppm");
DRM_SIM_EXT_ABI_CHECK(offsetof(struct drm_sim_fault_inject, signo) == 20, "fault_inject.signo");
DRM_SIM_EXT_ABI_CHECK(offsetof(struct drm_sim_fault_inject, reserved) == 24,
                      "fault_inject.reserved");
/* drm_sim_cpu_mmap keeps its size; mmap_offset took reserved[0]. */
DRM_SIM_EXT_ABI_CHECK(sizeof(struct drm_sim_cpu_mmap) == 40, "drm_sim_cpu_mmap");
DRM_SIM_EXT_ABI_CHECK(offsetof(struct drm_sim_cpu_mmap, op) == 16, "cpu_mmap.op");
DRM_SIM_EXT_ABI_CHECK(offsetof(struct drm_sim_cpu_mmap, mmap_offset) == 24,
                      "cpu_mmap.mmap_offset");
DRM_SIM_EXT_ABI_CHECK(offsetof(struct drm_sim_cpu_mmap, reserved) == 32, "cpu_mmap.reserved");
/* drm_sim_mem_stats grows only by taking reserved words at its end. */
DRM_SIM_EXT_ABI_CHECK(sizeof(struct drm_sim_mem_stats) == 144, "drm_sim_mem_stats");
DRM_SIM_EXT_ABI_CHECK(offsetof(struct drm_sim_mem_stats, vram_used) == 80, "mem_stats.vram_used");
DRM_SIM_EXT_ABI_CHECK(offsetof(struct drm_sim_mem_stats, remote_accesses) == 112,
                      "mem_stats.remote_accesses");
DRM_SIM_EXT_ABI_CHECK(offsetof(struct drm_sim_mem_stats, purges) == 120, "mem_stats.purges");
DRM_SIM_EXT_ABI_CHECK(offsetof(struct drm_sim_mem_stats, reserved) == 128, "mem_stats.reserved");
#undef DRM_SIM_EXT_ABI_CHECK
#endif

#if defined(__cplusplus)
}
#endif

#endif /* DRM_SIM_DRM_SIM_EXT_H */
