// The errno -> Result table of the UMD (style item 5: exactly one function).
#include "umd/core/result.h"

#include <cerrno>

namespace drm_sim::umd {

Result result_from_errno(int rc) {
  const int err = rc < 0 ? -rc : rc;
  switch (err) {
    case 0:
      return Result::kSuccess;
    case EINVAL:
    case EFAULT:
    case E2BIG:
    case ERANGE:
    case EOVERFLOW:
      return Result::kInvalidArgument;
    case ENOENT:
    case ENXIO:
      return Result::kNotFound;
    case EPERM:
    case EACCES:
      return Result::kPermissionDenied;
    case ENOMEM:
      return Result::kOutOfMemory;
    case ENOSPC:
      return Result::kNoSpace;
    case ENODEV:
    case EIO:
    case EBADF:
    case ECANCELED:
      return Result::kDeviceLost;
    case EINTR:
      return Result::kInterrupted;
    case EAGAIN:  // == EWOULDBLOCK
    case EBUSY:
    case EDEADLK:
      return Result::kBusy;
    case ETIME:
    case ETIMEDOUT:
      return Result::kTimeout;
    case EOPNOTSUPP:  // == ENOTSUP on Linux
    case ENOTTY:
    case ENOSYS:
    case ENOLINK:
      return Result::kNotSupported;
    default:
      return Result::kUnknown;
  }
}

const char* to_string(Result r) {
  switch (r) {
    case Result::kSuccess:
      return "success";
    case Result::kInvalidArgument:
      return "invalid argument";
    case Result::kNotFound:
      return "not found";
    case Result::kPermissionDenied:
      return "permission denied";
    case Result::kOutOfMemory:
      return "out of memory";
    case Result::kNoSpace:
      return "no space";
    case Result::kDeviceLost:
      return "device lost";
    case Result::kInterrupted:
      return "interrupted";
    case Result::kBusy:
      return "busy";
    case Result::kTimeout:
      return "timeout";
    case Result::kNotSupported:
      return "not supported";
    case Result::kUnknown:
      return "unknown error";
  }
  return "unknown error";
}

}  // namespace drm_sim::umd
