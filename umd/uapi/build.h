// umd/uapi/build.h — one pure function per ioctl: UMD description -> uapi struct.
//
// Each build_* fills every field of its uapi struct from the UMD's own
// description (umd/uapi/desc.h): the fields the description names, and zero
// in every extension, pad and reserved field. Pointers into caller memory
// (query buffers, bind vectors) are stored as the uapi's u64 and must stay
// valid until the ioctl has run. parse_* read replies back. No function here
// issues an ioctl, allocates driver state or reads global state.
// Owns: nothing. Locking: none (pure). Errors: parse_* return
// kInvalidArgument for a reply that is too short or malformed; builders do no
// validation (the driver answers a bad description with its errno).
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "drm_sim/xe_drm.h"
#include "umd/core/expected.h"
#include "umd/uapi/desc.h"

namespace drm_sim::umd {

// DRM_IOCTL_VERSION: name/date/desc buffers (any may be empty).
drm_version build_version(std::span<char> name, std::span<char> date, std::span<char> desc);

// DRM_IOCTL_XE_DEVICE_QUERY: the size call when reply is empty, else the
// data call with size = reply.size().
drm_xe_device_query build_device_query(std::uint32_t query, std::span<std::byte> reply);
Expected<DeviceConfig> parse_config(std::span<const std::byte> reply);
Expected<std::vector<MemRegion>> parse_mem_regions(std::span<const std::byte> reply);

drm_xe_gem_create build_gem_create(const GemCreateDesc& d);
drm_gem_close build_gem_close(std::uint32_t handle);

drm_xe_vm_create build_vm_create(const VmCreateDesc& d);
drm_xe_vm_destroy build_vm_destroy(std::uint32_t vm_id);

drm_xe_vm_bind_op build_vm_bind_op(const BindOpDesc& d);
// One op is embedded in the struct; more are passed through vector_of_binds,
// which then points at ops.data().
drm_xe_vm_bind build_vm_bind(std::uint32_t vm_id, std::span<const drm_xe_vm_bind_op> ops);

drm_xe_madvise build_madvise(std::uint32_t vm_id, const MadviseDesc& d);

// DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS: the count call when out is empty,
// else the fill call with num_mem_ranges = out.size().
drm_xe_vm_query_mem_range_attr build_mem_range_query(std::uint32_t vm_id, GpuRange range,
                                                     std::span<drm_xe_mem_range_attr> out);
MemRange parse_mem_range(const drm_xe_mem_range_attr& a);

}  // namespace drm_sim::umd
