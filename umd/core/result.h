// umd/core/result.h — the UMD's own result codes.
//
// Owns: the Result enum, the single errno -> Result mapping
// (result_from_errno; no other function in the UMD looks at an errno value)
// and to_string(). Locking: none; pure functions, callable from any thread.
// Errors: none; an errno the table does not know becomes kUnknown.
#pragma once

#include <cstdint>

namespace drm_sim::umd {

enum class Result : std::uint8_t {
  kSuccess = 0,
  kInvalidArgument,   // EINVAL, EFAULT, E2BIG, ERANGE, EOVERFLOW
  kNotFound,          // ENOENT, ENXIO: no such object, VM, file or device node
  kPermissionDenied,  // EPERM, EACCES
  kOutOfMemory,       // ENOMEM
  kNoSpace,           // ENOSPC: a buffer or table is too small (redo the query)
  kDeviceLost,        // ENODEV, EIO, EBADF, ECANCELED: the device or its fd is gone
  kInterrupted,       // EINTR: a signal interrupted the call; restarting it is safe
  kBusy,              // EAGAIN, EBUSY, EDEADLK: try again later
  kTimeout,           // ETIME, ETIMEDOUT
  kNotSupported,      // EOPNOTSUPP, ENOTTY, ENOSYS, ENOLINK
  kUnknown,           // any other errno
};

// The one place where an errno becomes a Result. `rc` is what a KmdBackend
// returns: 0 or a negative errno (a positive errno is accepted too).
Result result_from_errno(int rc);

// "success", "invalid argument", ... (never null).
const char* to_string(Result r);

inline bool succeeded(Result r) {
  return r == Result::kSuccess;
}

}  // namespace drm_sim::umd
