// drm_sim/core/status.h — the error convention inside the simulated driver.
//
// Owns: nothing. Locking: none. Errors: a Status carries a positive errno
// value (0 = success); the uapi front door turns it into -errno exactly once.
// Result<T> is a value or a Status, never both. Nothing here throws.
#pragma once

#include <cassert>
#include <cerrno>
#include <utility>
#include <variant>

namespace drm_sim {

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  static constexpr Status ok() { return Status(); }
  static constexpr Status err(int errno_value) { return Status(errno_value); }
  constexpr bool is_ok() const { return errno_ == 0; }
  constexpr explicit operator bool() const { return is_ok(); }
  constexpr int error() const { return errno_; }
  // The kernel-style return value: 0 or -errno.
  constexpr int to_ret() const { return -errno_; }
  constexpr bool operator==(const Status&) const = default;

 private:
  constexpr explicit Status(int e) : errno_(e) {}
  int errno_ = 0;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  constexpr Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  constexpr Result(Status s) : v_(s) { assert(!s.is_ok()); }  // NOLINT(google-explicit-constructor)
  constexpr bool is_ok() const { return v_.index() == 0; }
  constexpr explicit operator bool() const { return is_ok(); }
  constexpr Status status() const { return is_ok() ? Status::ok() : std::get<1>(v_); }
  constexpr T& value() & { return std::get<0>(v_); }
  constexpr const T& value() const& { return std::get<0>(v_); }
  constexpr T&& value() && { return std::get<0>(std::move(v_)); }
  constexpr T* operator->() { return &value(); }
  constexpr const T* operator->() const { return &value(); }
  constexpr T& operator*() & { return value(); }
  constexpr const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Propagate a failing Status from an expression returning Status.
#define DRM_SIM_TRY(expr)                               \
  do {                                                  \
    ::drm_sim::Status drm_sim_try_s_ = (expr);          \
    if (!drm_sim_try_s_.is_ok()) return drm_sim_try_s_; \
  } while (0)

}  // namespace drm_sim
