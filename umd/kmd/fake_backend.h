// umd/kmd/fake_backend.h — a scriptable, recording KmdBackend for UMD tests.
//
// Every call is recorded (request code, a copy of the _IOC_SIZE(request)
// argument bytes as the UMD sent them, the result returned, whether it was
// injected). Then, in this order:
//   1. an injected failure armed with inject() (any request) or inject_for()
//      (one request) is returned without going further — "n times -EINTR,
//      then the real thing";
//   2. a handler installed with on(request) answers;
//   3. otherwise the optional delegate (e.g. a LibdrmBackend on a drm_sim fd)
//      answers;
//   4. otherwise the call succeeds (returns 0) without touching arg.
//
// Owns: the records, the script and the handlers; the delegate is borrowed.
// Locking: an internal mutex; calls from several threads are recorded in the
// order they entered. Handlers and the delegate run without the mutex held.
// Errors: only the scripted ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "umd/kmd/kmd_backend.h"

namespace drm_sim::umd {

class FakeBackend final : public KmdBackend {
 public:
  using Handler = std::function<int(void* arg)>;

  struct Call {
    unsigned long request = 0;
    std::vector<std::byte> arg;  // the bytes the UMD passed in
    int rc = 0;                  // what the backend returned
    bool injected = false;       // rc came from inject()/inject_for()

    // The recorded argument as T (sizeof(T) must equal the recorded size).
    template <class T>
    T as() const {
      T v{};
      if (arg.size() == sizeof(T)) std::memcpy(&v, arg.data(), sizeof(T));
      return v;
    }
  };

  explicit FakeBackend(KmdBackend* delegate = nullptr) : delegate_(delegate) {}

  int ioctl(unsigned long request, void* arg) override;

  // The next n calls, whatever their request, return -err (err > 0).
  void inject(int err, std::uint32_t n);
  // The next n calls of `request` return -err.
  void inject_for(unsigned long request, int err, std::uint32_t n);
  // Answers `request` with h (0 or -errno) instead of the delegate.
  void on(unsigned long request, Handler h);

  std::vector<Call> calls() const;
  // The request codes of every call, in order.
  std::vector<unsigned long> requests() const;
  std::size_t call_count() const;
  void clear_calls();

 private:
  struct Injection {
    bool any_request = true;
    unsigned long request = 0;
    int err = 0;
    std::uint32_t remaining = 0;
  };

  KmdBackend* delegate_;
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::deque<Injection> injections_;
  std::map<unsigned long, Handler> handlers_;
};

}  // namespace drm_sim::umd
