// drm_sim/core/function_ref.h — a non-owning reference to a callable, so hot
// walks take callbacks without templates in headers or std::function
// allocations. Owns nothing; the callable must outlive the call.
// Locking: none (a FunctionRef is as thread-safe as its callable). Errors:
// none of its own; calling one forwards whatever the callable returns.
#pragma once

#include <type_traits>
#include <utility>

namespace drm_sim {

template <typename Sig>
class FunctionRef;

template <typename R, typename... A>
class FunctionRef<R(A...)> {
 public:
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef> &&
                                                    std::is_invocable_r_v<R, F&, A...>>>
  FunctionRef(F&& f)  // NOLINT(google-explicit-constructor, bugprone-forwarding-reference-overload)
      : obj_(const_cast<void*>(static_cast<const void*>(&f))), call_([](void* o, A... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
        }) {}
  R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, A...);
};

}  // namespace drm_sim
