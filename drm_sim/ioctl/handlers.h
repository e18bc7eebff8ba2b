// drm_sim/ioctl/handlers.h — one function per ioctl, behind the front door.
//
// Each handler gets the DRM file and a kernel-side copy of the ioctl
// argument (the front door copies it in, and out for IOWR requests), runs
// the upstream checks in upstream order (each failing condition logged at
// debug level), then dispatches into the device and VM. Internal header.
//
// Locking: handlers take no lock across calls; the DrmFile and Vm take their
// own. Errors: Status with a positive errno; the front door negates it.
#pragma once

#include "drm_sim/core/status.h"
#include "drm_sim/device/file.h"

namespace drm_sim::ioctl {

Status version(DrmFile& f, void* arg);
Status gem_close(DrmFile& f, void* arg);
Status device_query(DrmFile& f, void* arg);
Status gem_create(DrmFile& f, void* arg);
Status gem_mmap_offset(DrmFile& f, void* arg);
Status vm_create(DrmFile& f, void* arg);
Status vm_destroy(DrmFile& f, void* arg);
Status vm_bind(DrmFile& f, void* arg);
Status madvise(DrmFile& f, void* arg);
Status query_mem_range_attrs(DrmFile& f, void* arg);
Status sim_vm_stats(DrmFile& f, void* arg);
Status sim_fault_inject(DrmFile& f, void* arg);
Status sim_cpu_mmap(DrmFile& f, void* arg);
Status sim_mem_access(DrmFile& f, void* arg);
Status sim_mem_stats(DrmFile& f, void* arg);

}  // namespace drm_sim::ioctl
