// MemAdvice -> MadviseDesc (the table in mem_advice.h).
#include "umd/objects/mem_advice.h"

#include "umd/objects/vm.h"

namespace drm_sim::umd {

const char* to_string(MemAdvice a) {
  switch (a) {
    case MemAdvice::kSetPreferredLocationDevice:
      return "set-preferred-location-device";
    case MemAdvice::kSetPreferredLocationSystem:
      return "set-preferred-location-system";
    case MemAdvice::kClearPreferredLocation:
      return "clear-preferred-location";
    case MemAdvice::kAtomicsNone:
      return "atomics-none";
    case MemAdvice::kAtomicsDevice:
      return "atomics-device";
    case MemAdvice::kAtomicsSystem:
      return "atomics-system";
    case MemAdvice::kAtomicsHost:
      return "atomics-host";
  }
  return "?";
}

MadviseDesc to_madvise(GpuRange range, MemAdvice advice) {
  switch (advice) {
    case MemAdvice::kSetPreferredLocationDevice:
    case MemAdvice::kClearPreferredLocation:
      return {range, PreferredLocation::device()};
    case MemAdvice::kSetPreferredLocationSystem:
      return {range, PreferredLocation::system()};
    case MemAdvice::kAtomicsNone:
      return {range, AtomicAccess::kNone};
    case MemAdvice::kAtomicsDevice:
      return {range, AtomicAccess::kDevice};
    case MemAdvice::kAtomicsSystem:
      return {range, AtomicAccess::kSystem};
    case MemAdvice::kAtomicsHost:
      return {range, AtomicAccess::kHost};
  }
  return {range, PreferredLocation::device()};
}

MadviseDesc pat_advice(GpuRange range, std::uint16_t pat_index) {
  return {range, PatIndex{pat_index}};
}

Result advise(Vm& vm, GpuRange range, MemAdvice advice) {
  return vm.madvise(to_madvise(range, advice));
}

}  // namespace drm_sim::umd
