// umd/objects/mem_advice.h — the compute runtime's memory advice, as madvise.
//
// Intel's compute runtime exposes advice (Level Zero zeMemAdvise and the
// shared-system atomic attributes) and turns each into one
// DRM_IOCTL_XE_MADVISE; this is that mapping:
//
//   advice                         madvise type   value
//   kSetPreferredLocationDevice    PREFERRED_LOC  DEFAULT_DEVICE, ALL_PAGES
//   kSetPreferredLocationSystem    PREFERRED_LOC  DEFAULT_SYSTEM, ALL_PAGES
//   kClearPreferredLocation        PREFERRED_LOC  DEFAULT_DEVICE, ALL_PAGES (the bind default)
//   kAtomicsNone                   ATOMIC         UNDEFINED
//   kAtomicsDevice                 ATOMIC         DEVICE
//   kAtomicsSystem                 ATOMIC         GLOBAL
//   kAtomicsHost                   ATOMIC         CPU
//   pat_advice(index)              PAT            index
//
// Owns: nothing. Locking: none (to_madvise and pat_advice are pure; advise
// calls Vm::madvise). Errors: advise() returns the driver's Result.
#pragma once

#include "umd/core/result.h"
#include "umd/uapi/desc.h"

namespace drm_sim::umd {

class Vm;

enum class MemAdvice : std::uint8_t {
  kSetPreferredLocationDevice,
  kSetPreferredLocationSystem,
  kClearPreferredLocation,
  kAtomicsNone,
  kAtomicsDevice,
  kAtomicsSystem,
  kAtomicsHost,
};

const char* to_string(MemAdvice a);

MadviseDesc to_madvise(GpuRange range, MemAdvice advice);
MadviseDesc pat_advice(GpuRange range, std::uint16_t pat_index);

Result advise(Vm& vm, GpuRange range, MemAdvice advice);

}  // namespace drm_sim::umd
