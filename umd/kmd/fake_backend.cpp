// Recording first, then injections, handlers, the delegate, success.
#include "umd/kmd/fake_backend.h"

#include <asm/ioctl.h>

#include <utility>

namespace drm_sim::umd {

int FakeBackend::ioctl(unsigned long request, void* arg) {
  Call call;
  call.request = request;
  const std::size_t size = _IOC_SIZE(request);
  if (arg != nullptr && size > 0) {
    call.arg.resize(size);
    std::memcpy(call.arg.data(), arg, size);
  }
  Handler handler;
  std::size_t index = 0;
  {
    std::lock_guard<std::mutex> g(mu_);
    for (auto it = injections_.begin(); it != injections_.end(); ++it) {
      if (!it->any_request && it->request != request) continue;
      call.rc = -it->err;
      call.injected = true;
      if (--it->remaining == 0) injections_.erase(it);
      break;
    }
    if (call.injected) {
      calls_.push_back(std::move(call));
      return calls_.back().rc;
    }
    if (auto h = handlers_.find(request); h != handlers_.end()) handler = h->second;
    index = calls_.size();
    calls_.push_back(std::move(call));
  }
  int rc = 0;
  if (handler) {
    rc = handler(arg);
  } else if (delegate_ != nullptr) {
    rc = delegate_->ioctl(request, arg);
  }
  std::lock_guard<std::mutex> g(mu_);
  calls_[index].rc = rc;
  return rc;
}

void FakeBackend::inject(int err, std::uint32_t n) {
  if (n == 0) return;
  std::lock_guard<std::mutex> g(mu_);
  injections_.push_back(Injection{true, 0, err, n});
}

void FakeBackend::inject_for(unsigned long request, int err, std::uint32_t n) {
  if (n == 0) return;
  std::lock_guard<std::mutex> g(mu_);
  injections_.push_back(Injection{false, request, err, n});
}

void FakeBackend::on(unsigned long request, Handler h) {
  std::lock_guard<std::mutex> g(mu_);
  handlers_[request] = std::move(h);
}

std::vector<FakeBackend::Call> FakeBackend::calls() const {
  std::lock_guard<std::mutex> g(mu_);
  return calls_;
}

std::vector<unsigned long> FakeBackend::requests() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<unsigned long> out;
  out.reserve(calls_.size());
  for (const auto& c : calls_) out.push_back(c.request);
  return out;
}

std::size_t FakeBackend::call_count() const {
  std::lock_guard<std::mutex> g(mu_);
  return calls_.size();
}

void FakeBackend::clear_calls() {
  std::lock_guard<std::mutex> g(mu_);
  calls_.clear();
}

}  // namespace drm_sim::umd
