// drm_sim/core/last_lookup.h — a one-entry cache of a table lookup, meant to
// be thread_local: the last key looked up, the table generation it was read
// under and a weak reference to what it found.
//
// The table owner bumps its generation (acq_rel) after every change and the
// caller loads it (acquire) before get(): under an unchanged generation the
// table still maps the key to the cached object, so a hit skips the table's
// lock. A closed or destroyed object is never kept alive (weak reference).
// Owns: a weak reference. Locking: none (one thread's own copy). Errors: none.
#pragma once

#include <cstdint>
#include <memory>

namespace drm_sim {

template <class Key, class T>
class LastLookup {
 public:
  // The object for key k: the cached one when k and gen match and it still
  // lives, else lookup()'s result (which is remembered, null included).
  template <class Lookup>
  std::shared_ptr<T> get(const Key& k, std::uint64_t gen, Lookup&& lookup) {
    if (generation_ == gen && key_ == k) {
      if (auto v = value_.lock()) return v;
    }
    std::shared_ptr<T> v = lookup();
    key_ = k;
    generation_ = gen;
    value_ = v;
    return v;
  }

 private:
  Key key_{};
  std::uint64_t generation_ = ~std::uint64_t{0};  // none yet: tables count up from 0
  std::weak_ptr<T> value_;
};

}  // namespace drm_sim
