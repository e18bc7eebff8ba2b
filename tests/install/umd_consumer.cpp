// An outside C++20 program built against the installed UMD layer
// (drm_sim::umd / drm_sim_umd.pc): opens a simulated device through the UMD,
// creates a fault-mode VM, mirrors a CPU range, advises part of it to system
// memory and reads the layout back with the two-call query. Exits non-zero
// with the reason on any failure.
#include <cstdio>

#include "umd/objects/device.h"
#include "umd/objects/mem_advice.h"
#include "umd/objects/svm_allocation.h"
#include "umd/objects/vm.h"

using namespace drm_sim::umd;

int main() {
  auto dev = Device::open_profile("small");
  if (!dev) {
    std::fprintf(stderr, "open_profile: %s\n", to_string(dev.result()));
    return 1;
  }
  auto vm = Vm::create(**dev);
  if (!vm) {
    std::fprintf(stderr, "Vm::create: %s\n", to_string(vm.result()));
    return 1;
  }
  const GpuRange cpu{0x40000000, 64 * 4096};
  auto svm = SvmAllocation::adopt(**vm, cpu);
  if (!svm) {
    std::fprintf(stderr, "SvmAllocation::adopt: %s\n", to_string(svm.result()));
    return 1;
  }
  if (const Result r = svm->advise(GpuRange{cpu.start + 16 * 4096, 16 * 4096},
                                   MemAdvice::kSetPreferredLocationSystem);
      r != Result::kSuccess) {
    std::fprintf(stderr, "advise: %s\n", to_string(r));
    return 1;
  }
  auto ranges = (*vm)->query_mem_ranges(cpu);
  if (!ranges || ranges->size() != 3) {
    std::fprintf(stderr, "query: %s, %zu ranges (want 3)\n", to_string(ranges.result()),
                 ranges ? ranges->size() : 0);
    return 1;
  }
  std::printf("umd consumer: driver %s, %s", (*dev)->driver_name().c_str(),
              to_string(*ranges).c_str());
  std::printf("\n");
  return 0;
}
