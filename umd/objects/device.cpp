// Opening a device: VERSION ("xe"), CONFIG and MEM_REGIONS, two calls each.
#include "umd/objects/device.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "drm_sim/drm_sim.h"
#include "umd/uapi/build.h"

namespace drm_sim::umd {

namespace {
KmdBackend& pick(KmdBackend* external, const std::unique_ptr<LibdrmBackend>& own) {
  return external != nullptr ? *external : *own;
}
}  // namespace

Device::Device(int fd, bool owns_fd, KmdBackend* external, RestartOptions restart,
               RestartingKmd::SleepFn sleep)
    : fd_(fd),
      owns_fd_(owns_fd),
      own_backend_(external == nullptr ? std::make_unique<LibdrmBackend>(fd) : nullptr),
      kmd_(pick(external, own_backend_), restart, std::move(sleep)) {}

Device::~Device() {
  if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

Expected<std::unique_ptr<Device>> Device::open_profile(const char* profile,
                                                       RestartOptions restart) {
  const int fd = drm_sim_open(profile);
  if (fd < 0) return result_from_errno(fd);
  return finish(std::unique_ptr<Device>(new Device(fd, true, nullptr, restart, {})));
}

Expected<std::unique_ptr<Device>> Device::open_path(const char* path, RestartOptions restart) {
  const int fd = ::open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return result_from_errno(-errno);
  return finish(std::unique_ptr<Device>(new Device(fd, true, nullptr, restart, {})));
}

Expected<std::unique_ptr<Device>> Device::over_backend(KmdBackend& backend, RestartOptions restart,
                                                       RestartingKmd::SleepFn sleep) {
  return finish(
      std::unique_ptr<Device>(new Device(-1, false, &backend, restart, std::move(sleep))));
}

Expected<std::unique_ptr<Device>> Device::finish(std::unique_ptr<Device> d) {
  const Result r = d->init();
  if (r != Result::kSuccess) return r;
  return d;
}

Result Device::call(unsigned long request, void* arg) {
  return result_from_errno(kmd_.call(request, arg));
}

Result Device::init() {
  char name[32] = {};
  drm_version v = build_version(std::span<char>(name, sizeof name - 1), {}, {});
  if (Result r = call(DRM_IOCTL_VERSION, &v); r != Result::kSuccess) return r;
  driver_name_.assign(name, v.name_len < sizeof name ? v.name_len : sizeof name - 1);
  if (driver_name_ != "xe") return Result::kNotSupported;

  std::vector<std::byte> reply;
  if (Result r = query(DRM_XE_DEVICE_QUERY_CONFIG, reply); r != Result::kSuccess) return r;
  auto config = parse_config(reply);
  if (!config) return config.result();
  config_ = *config;
  return refresh_mem_regions();
}

Result Device::refresh_mem_regions() {
  std::vector<std::byte> reply;
  if (Result r = query(DRM_XE_DEVICE_QUERY_MEM_REGIONS, reply); r != Result::kSuccess) return r;
  auto regions = parse_mem_regions(reply);
  if (!regions) return regions.result();
  regions_ = std::move(*regions);
  return Result::kSuccess;
}

Result Device::query(std::uint32_t query, std::vector<std::byte>& reply) {
  drm_xe_device_query q = build_device_query(query, {});
  if (Result r = call(DRM_IOCTL_XE_DEVICE_QUERY, &q); r != Result::kSuccess) return r;
  reply.assign(q.size, std::byte{0});
  if (reply.empty()) return Result::kInvalidArgument;
  q = build_device_query(query, reply);
  return call(DRM_IOCTL_XE_DEVICE_QUERY, &q);
}

const MemRegion* Device::system_region() const {
  for (const auto& r : regions_) {
    if (r.mem_class == MemClass::kSystem) return &r;
  }
  return nullptr;
}

std::vector<MemRegion> Device::vram_regions() const {
  std::vector<MemRegion> out;
  for (const auto& r : regions_) {
    if (r.mem_class == MemClass::kVram) out.push_back(r);
  }
  return out;
}

}  // namespace drm_sim::umd
