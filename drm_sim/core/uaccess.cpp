#include "drm_sim/core/uaccess.h"

#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace drm_sim {
namespace {

// Our own pid for process_vm_readv/writev. glibc no longer caches getpid(),
// and a second system call per copy doubled the cost of the attribute query.
// A fork handler clears the cache in the child, which then reads its own pid.
std::atomic<pid_t> g_self_pid{0};

void forget_pid() {
  g_self_pid.store(0, std::memory_order_relaxed);
}

pid_t self_pid() {
  pid_t p = g_self_pid.load(std::memory_order_relaxed);
  if (p != 0) return p;
  static const int registered = pthread_atfork(nullptr, nullptr, &forget_pid);
  (void)registered;
  p = getpid();
  g_self_pid.store(p, std::memory_order_relaxed);
  return p;
}

}  // namespace

Status copy_from_user(void* dst, std::uint64_t user_src, std::size_t n) {
  if (n == 0) return Status::ok();
  if (user_src == 0) return Status::err(EFAULT);
  iovec local{dst, n};
  iovec remote{reinterpret_cast<void*>(user_src), n};  // NOLINT(performance-no-int-to-ptr)
  const ssize_t got = process_vm_readv(self_pid(), &local, 1, &remote, 1, 0);
  if (got == static_cast<ssize_t>(n)) return Status::ok();
  return Status::err(EFAULT);
}

Status copy_to_user(std::uint64_t user_dst, const void* src, std::size_t n) {
  if (n == 0) return Status::ok();
  if (user_dst == 0) return Status::err(EFAULT);
  iovec local{const_cast<void*>(src), n};
  iovec remote{reinterpret_cast<void*>(user_dst), n};  // NOLINT(performance-no-int-to-ptr)
  const ssize_t put = process_vm_writev(self_pid(), &local, 1, &remote, 1, 0);
  if (put == static_cast<ssize_t>(n)) return Status::ok();
  return Status::err(EFAULT);
}

}  // namespace drm_sim
