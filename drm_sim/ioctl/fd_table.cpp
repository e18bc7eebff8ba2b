#include "drm_sim/ioctl/fd_table.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <shared_mutex>
#include <unordered_map>

#include "drm_sim/core/last_lookup.h"

namespace drm_sim {

namespace {

constexpr int kBitmapFds = 65536;

struct Table {
  std::shared_mutex mu;
  std::atomic<std::uint64_t> generation{0};  // bumped by every install and forget
  std::unordered_map<int, std::shared_ptr<DrmFile>> files;
  std::atomic<std::uint64_t> bits[kBitmapFds / 64] = {};
  std::atomic<int> high_fds{0};  // files with fd >= kBitmapFds

  void mark(int fd, bool on) {
    if (fd >= kBitmapFds) {
      high_fds.fetch_add(on ? 1 : -1);
      return;
    }
    const std::uint64_t bit = 1ull << (fd % 64);
    if (on) {
      bits[fd / 64].fetch_or(bit, std::memory_order_release);
    } else {
      bits[fd / 64].fetch_and(~bit, std::memory_order_release);
    }
  }
};

// Never destroyed: interposed close() may run during static destruction.
Table& table() {
  static Table* t = new Table;
  return *t;
}

// The calling thread's last ioctl file.
__attribute__((tls_model("initial-exec"))) thread_local LastLookup<int, DrmFile> t_last_file;

}  // namespace

bool maybe_sim_fd(int fd) {
  if (fd < 0) return false;
  Table& t = table();
  if (fd >= kBitmapFds) return t.high_fds.load(std::memory_order_acquire) > 0;
  return (t.bits[fd / 64].load(std::memory_order_acquire) >> (fd % 64)) & 1u;
}

std::shared_ptr<DrmFile> file_from_fd(int fd) {
  if (!maybe_sim_fd(fd)) return nullptr;
  Table& t = table();
  std::shared_lock<std::shared_mutex> g(t.mu);
  auto it = t.files.find(fd);
  return it == t.files.end() ? nullptr : it->second;
}

std::shared_ptr<DrmFile> file_for_ioctl(int fd) {
  if (!maybe_sim_fd(fd)) return nullptr;
  const std::uint64_t gen = table().generation.load(std::memory_order_acquire);
  return t_last_file.get(fd, gen, [fd] { return file_from_fd(fd); });
}

int install_file(std::shared_ptr<DrmFile> file) {
  const int fd = static_cast<int>(syscall(SYS_memfd_create, "drm_sim", MFD_CLOEXEC));
  if (fd < 0) return -errno;
  Table& t = table();
  std::unique_lock<std::shared_mutex> g(t.mu);
  t.files[fd] = std::move(file);
  t.mark(fd, true);
  t.generation.fetch_add(1, std::memory_order_acq_rel);
  return fd;
}

bool forget_fd(int fd) {
  if (!maybe_sim_fd(fd)) return false;
  std::shared_ptr<DrmFile> victim;
  Table& t = table();
  {
    std::unique_lock<std::shared_mutex> g(t.mu);
    auto it = t.files.find(fd);
    if (it == t.files.end()) return false;
    victim = std::move(it->second);
    t.files.erase(it);
    t.mark(fd, false);
    t.generation.fetch_add(1, std::memory_order_acq_rel);
  }
  return true;  // victim released here, outside the table lock
}

}  // namespace drm_sim
