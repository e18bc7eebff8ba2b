/*
 * drm_sim/drm_sim_ext.h — simulator-only ioctls (not part of the xe uapi).
 *
 * They live at driver offsets 0x50–0x5f, above every upstream xe ioctl, and
 * are named DRM_SIM_* so that nobody mistakes them for kernel uapi. They give
 * programs the simulator's statistics and fault injection.
 */
#ifndef DRM_SIM_DRM_SIM_EXT_H
#define DRM_SIM_DRM_SIM_EXT_H

#include <drm.h>

#if defined(__cplusplus)
extern "C" {
#endif

#define DRM_SIM_VM_STATS 0x50
#define DRM_SIM_FAULT_INJECT 0x51

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
#define DRM_SIM_FAULT_CLEAR 3          /* disarm everything */
#define DRM_SIM_FAULT_FLAG_FATAL (1u << 0) /* the signal is fatal (SIGKILL-like) */

/* Arms the device's fault plan (counted from this call). */
struct drm_sim_fault_inject {
	__u32 op;          /* DRM_SIM_FAULT_* */
	__u32 flags;       /* DRM_SIM_FAULT_FLAG_* */
	__u64 n;           /* k-th wait / n-th allocation, 1-based */
	__u64 reserved[2]; /* MBZ */
};

#define DRM_IOCTL_SIM_VM_STATS DRM_IOWR(DRM_COMMAND_BASE + DRM_SIM_VM_STATS, struct drm_sim_vm_stats)
#define DRM_IOCTL_SIM_FAULT_INJECT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_SIM_FAULT_INJECT, struct drm_sim_fault_inject)

#if defined(__cplusplus)
}
#endif

#endif /* DRM_SIM_DRM_SIM_EXT_H */
