// tests/umd/umd_test_util.h — shared pieces of the UMD tests.
//
// Owns: SimRig, a simulated device seen through a recording FakeBackend (the
// fd from drm_sim_open, a LibdrmBackend on it, a FakeBackend delegating to
// that, and a umd::Device over the fake), and request_name(), which turns a
// request code into a short name so ioctl sequences read as sentences.
// Nothing here is a template beyond trivial helpers.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "drm_sim/drm_sim.h"
#include "umd/kmd/fake_backend.h"
#include "umd/kmd/libdrm_backend.h"
#include "umd/objects/device.h"
#include "umd/objects/vm.h"

namespace umd_test {

using namespace drm_sim::umd;  // NOLINT(google-build-using-namespace)

inline constexpr std::uint64_t kPage = 4096;
inline constexpr std::uint64_t kMiB = 1024 * 1024;

inline std::string request_name(unsigned long request) {
  switch (request) {
    case DRM_IOCTL_VERSION:
      return "VERSION";
    case DRM_IOCTL_GEM_CLOSE:
      return "GEM_CLOSE";
    case DRM_IOCTL_XE_DEVICE_QUERY:
      return "DEVICE_QUERY";
    case DRM_IOCTL_XE_GEM_CREATE:
      return "GEM_CREATE";
    case DRM_IOCTL_XE_GEM_MMAP_OFFSET:
      return "GEM_MMAP_OFFSET";
    case DRM_IOCTL_XE_VM_CREATE:
      return "VM_CREATE";
    case DRM_IOCTL_XE_VM_DESTROY:
      return "VM_DESTROY";
    case DRM_IOCTL_XE_VM_BIND:
      return "VM_BIND";
    case DRM_IOCTL_XE_MADVISE:
      return "MADVISE";
    case DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS:
      return "QUERY_MEM_RANGE_ATTRS";
    case DRM_IOCTL_SIM_VM_STATS:
      return "SIM_VM_STATS";
    case DRM_IOCTL_SIM_FAULT_INJECT:
      return "SIM_FAULT_INJECT";
    default:
      return "0x" + std::to_string(request);
  }
}

inline std::vector<std::string> names(const std::vector<FakeBackend::Call>& calls,
                                      std::size_t from = 0) {
  std::vector<std::string> out;
  for (std::size_t i = from; i < calls.size(); ++i) out.push_back(request_name(calls[i].request));
  return out;
}

// A simulated device opened by profile, every ioctl recorded.
class SimRig {
 public:
  explicit SimRig(const char* profile, RestartOptions restart = {})
      : fd_(drm_sim_open(profile)), real_(fd_), fake_(&real_) {
    EXPECT_GE(fd_, 0) << "drm_sim_open(" << (profile ? profile : "null") << ")";
    auto d = Device::over_backend(fake_, restart);
    EXPECT_TRUE(d.has_value()) << to_string(d.result());
    if (d) device_ = std::move(*d);
  }
  ~SimRig() {
    device_.reset();
    if (fd_ >= 0) ::close(fd_);
  }
  SimRig(const SimRig&) = delete;
  SimRig& operator=(const SimRig&) = delete;

  int fd() const { return fd_; }
  Device& device() { return *device_; }
  FakeBackend& fake() { return fake_; }
  std::vector<FakeBackend::Call> calls() const { return fake_.calls(); }
  std::size_t mark() const { return fake_.call_count(); }

 private:
  int fd_;
  LibdrmBackend real_;
  FakeBackend fake_;
  std::unique_ptr<Device> device_;
};

}  // namespace umd_test
