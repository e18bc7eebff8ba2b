// umd/core/expected.h — Expected<T>: a value or the Result that prevented it.
//
// Owns: the value when there is one. Locking: none (a plain value type).
// Errors: an Expected never holds Result::kSuccess without a value; reading
// the value of an error is a programming error (asserted).
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "umd/core/result.h"

namespace drm_sim::umd {

template <class T>
class Expected {
 public:
  Expected(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Expected(Result error) : v_(error) {         // NOLINT(google-explicit-constructor)
    assert(error != Result::kSuccess);
  }

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  // kSuccess when a value is held.
  Result result() const { return has_value() ? Result::kSuccess : std::get<1>(v_); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Result> v_;
};

}  // namespace drm_sim::umd
