// umd/kmd/kmd_backend.h — the UMD's one interface to the kernel driver.
//
// Every ioctl the UMD issues goes through KmdBackend::ioctl(): exactly one
// attempt, no restart, and the kernel-handler convention for the result (0 or
// a negative errno; never -1 with errno). Restarting is RestartingKmd's job;
// turning an errno into the UMD's Result is result_from_errno()'s.
//
// Implementations: LibdrmBackend (a DRM fd, real ioctl(2)), FakeBackend
// (records and scripts calls for unit tests).
// Owns: nothing (the interface). Locking: implementations say whether
// concurrent calls are allowed; both in this folder allow them.
// Errors: the driver's, as -errno; an implementation adds none of its own.
#pragma once

namespace drm_sim::umd {

class KmdBackend {
 public:
  virtual ~KmdBackend() = default;
  // One attempt of `request` with `arg` (a DRM_IOCTL_* code and its struct).
  // Returns 0 or -errno.
  virtual int ioctl(unsigned long request, void* arg) = 0;

 protected:
  KmdBackend() = default;
  KmdBackend(const KmdBackend&) = default;
  KmdBackend& operator=(const KmdBackend&) = default;
};

}  // namespace drm_sim::umd
