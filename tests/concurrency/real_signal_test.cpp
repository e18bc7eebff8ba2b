// Real POSIX signals sent while a simulated wait blocks (issue 5): a holder
// thread keeps a VM's lock (it sits in the device's event sink in the middle
// of a bind, where the lock is held for write); a victim thread then blocks
// on that lock in an ioctl, and the test sends it a real signal — with
// pthread_kill, or from a POSIX timer, thread-directed or process-directed —
// with a handler installed with or without SA_RESTART, on a device in the
// upstream -EINTR mode or in the -ERESTARTSYS mode:
//   - the interruptible read lock of the query returns -EINTR (the handler
//     ran), except in -ERESTARTSYS mode with SA_RESTART, where the front
//     door restarts the ioctl, which then completes once the lock is free;
//   - the killable write lock of madvise ignores a non-fatal signal (the
//     handler runs when the wait ends) and is interrupted when the device
//     treats real signals as fatal.
// Real threads and signals: labelled `concurrency`, so also run under TSan.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <thread>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"

namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kPage = 4096;

std::atomic<int> g_handled{0};
std::atomic<pid_t> g_handled_tid{0};

void count_handler(int) {
  g_handled.fetch_add(1);
  g_handled_tid.store(static_cast<pid_t>(syscall(SYS_gettid)));
}

// Installs count_handler for signo (with or without SA_RESTART) for the scope.
class ScopedHandler {
 public:
  ScopedHandler(int signo, bool restart) : signo_(signo) {
    g_handled.store(0);
    g_handled_tid.store(0);
    struct sigaction sa {};
    sa.sa_handler = count_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(signo, &sa, &old_);
  }
  ~ScopedHandler() { sigaction(signo_, &old_, nullptr); }
  ScopedHandler(const ScopedHandler&) = delete;
  ScopedHandler& operator=(const ScopedHandler&) = delete;

 private:
  int signo_;
  struct sigaction old_ {};
};

template <typename Pred>
bool wait_for(Pred p, std::chrono::milliseconds limit = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!p()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Blocks the first event it sees (the caller holds the VM lock) until
// released.
class HoldingSink final : public drm_sim::EventSink {
 public:
  void on_event(const drm_sim::Event&) override {
    if (held_.exchange(true)) return;
    while (!release_.load()) std::this_thread::sleep_for(1ms);
  }
  bool holding() const { return held_.load(); }
  void release() { release_.store(true); }

 private:
  std::atomic<bool> held_{false};
  std::atomic<bool> release_{false};
};

// A device with one VM holding a NULL VMA; hold() parks a thread inside a
// bind with the VM lock held for write.
class LockedVm {
 public:
  LockedVm() {
    fd_ = drm_sim_open("b580");
    EXPECT_GE(fd_, 0);
    file_ = drm_sim::file_from_fd(fd_);
    drm_xe_vm_create c{};
    c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
    EXPECT_EQ(drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_CREATE, &c), 0);
    vm_ = c.vm_id;
    EXPECT_EQ(bind_null(0x100000), 0);
  }
  ~LockedVm() {
    unhold();
    device().set_event_sink(nullptr);
    file_.reset();
    ::close(fd_);
  }
  LockedVm(const LockedVm&) = delete;
  LockedVm& operator=(const LockedVm&) = delete;

  drm_sim::Device& device() { return file_->device(); }
  drm_sim::FaultPlan& plan() { return device().plan(); }

  void hold() {
    device().set_event_sink(&sink_);
    holder_ = std::thread([this] { EXPECT_EQ(bind_null(0x200000), 0); });
    ASSERT_TRUE(wait_for([&] { return sink_.holding(); }));
  }
  void unhold() {
    sink_.release();
    if (holder_.joinable()) holder_.join();
  }

  int bind_null(std::uint64_t addr) {
    drm_xe_vm_bind b{};
    b.vm_id = vm_;
    b.num_binds = 1;
    b.bind.addr = addr;
    b.bind.range = 4 * kPage;
    b.bind.op = DRM_XE_VM_BIND_OP_MAP;
    b.bind.flags = DRM_XE_VM_BIND_FLAG_NULL;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_BIND, &b);
  }
  // Interruptible wait: the VM read lock.
  int query() {
    drm_xe_vm_query_mem_range_attr q{};
    q.vm_id = vm_;
    q.range = 1ull << 40;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
  }
  // Killable wait only (PAT over the NULL VMA: no BO, no notifier lock).
  int madvise_null() {
    drm_xe_madvise m{};
    m.vm_id = vm_;
    m.start = 0x100000;
    m.range = 4 * kPage;
    m.type = DRM_XE_MEM_RANGE_ATTR_PAT;
    m.pat_index.val = 2;
    return drm_sim_ioctl(fd_, DRM_IOCTL_XE_MADVISE, &m);
  }

 private:
  int fd_ = -1;
  std::shared_ptr<drm_sim::DrmFile> file_;
  std::uint32_t vm_ = 0;
  HoldingSink sink_;
  std::thread holder_;
};

// Whether thread tid sleeps in the driver's signal-aware wait
// (drm_sim/sync/signal_wait.h): it is in rt_sigtimedwait
// (/proc/self/task/<tid>/syscall), or between two sleeps with every
// asynchronous signal blocked (SigBlk in .../status has signo). From then
// on any signal sent to it is noticed by the driver.
bool in_driver_wait(pid_t tid, int signo) {
  const std::string dir = "/proc/self/task/" + std::to_string(tid);
  long nr = -1;
  if (std::FILE* f = std::fopen((dir + "/syscall").c_str(), "r")) {
    if (std::fscanf(f, "%ld", &nr) != 1) nr = -1;
    std::fclose(f);
  }
  if (nr == SYS_rt_sigtimedwait) return true;
  unsigned long long mask = 0;
  if (std::FILE* f = std::fopen((dir + "/status").c_str(), "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (std::sscanf(line, "SigBlk: %llx", &mask) == 1) break;
    }
    std::fclose(f);
  }
  return ((mask >> (signo - 1)) & 1u) != 0;
}

// Runs op on a victim thread; returns once it sleeps in the driver's
// signal-aware wait for the VM lock (a signal sent earlier would reach its
// handler while the thread still runs, unseen by the driver). The destructor
// releases the lock holder first, so a failed assertion cannot hang the test.
class Victim {
 public:
  template <typename Op>
  Victim(LockedVm& vm, Op op) : vm_(vm) {
    thread_ = std::thread([this, op] {
      tid_.store(static_cast<pid_t>(syscall(SYS_gettid)));
      rc_.store(op());
      done_.store(true);
    });
    handle_ = thread_.native_handle();
    EXPECT_TRUE(wait_for([&] { return tid_.load() != 0 && in_driver_wait(tid_.load(), SIGUSR1); }))
        << "the victim did not block in the driver";
    EXPECT_FALSE(done_.load()) << "the victim did not block";
  }
  ~Victim() {
    vm_.unhold();
    if (thread_.joinable()) thread_.join();
  }
  Victim(const Victim&) = delete;
  Victim& operator=(const Victim&) = delete;

  void kill(int signo) { pthread_kill(handle_, signo); }
  pid_t tid() const { return tid_.load(); }
  bool done() const { return done_.load(); }
  int join() {
    if (thread_.joinable()) thread_.join();
    return rc_.load();
  }

 private:
  LockedVm& vm_;
  std::thread thread_;
  pthread_t handle_{};
  std::atomic<pid_t> tid_{0};
  std::atomic<int> rc_{1};
  std::atomic<bool> done_{false};
};

TEST(RealSignalTest, PthreadKillInterruptsABlockedQueryWithEintr) {
  for (const bool sa_restart : {false, true}) {  // upstream mode: SA_RESTART changes nothing
    SCOPED_TRACE(sa_restart ? "SA_RESTART" : "no SA_RESTART");
    // given a query blocked behind a writer
    ScopedHandler h(SIGUSR1, sa_restart);
    LockedVm vm;
    vm.hold();
    Victim v(vm, [&] { return vm.query(); });
    // when the victim gets SIGUSR1
    v.kill(SIGUSR1);
    // then its query returns -EINTR while the lock is still held, after the handler ran on it
    EXPECT_EQ(v.join(), -EINTR);
    EXPECT_EQ(g_handled.load(), 1);
    EXPECT_EQ(g_handled_tid.load(), v.tid());
    EXPECT_EQ(vm.plan().real_signals(), 1u);
    EXPECT_EQ(vm.plan().transparent_restarts(), 0u);
    vm.unhold();
    EXPECT_EQ(vm.query(), 0);
  }
}

TEST(RealSignalTest, RestartSysModeRestartsUnderSaRestartAndCompletesWhenTheLockIsFree) {
  // given a device in -ERESTARTSYS mode and a query blocked behind a writer
  ScopedHandler h(SIGUSR1, true);
  LockedVm vm;
  vm.device().set_signal_return(drm_sim::SignalReturn::kRestartSys);
  vm.hold();
  Victim v(vm, [&] { return vm.query(); });
  // when the victim gets SIGUSR1 (SA_RESTART)
  v.kill(SIGUSR1);
  // then the front door restarts the query, which blocks again...
  ASSERT_TRUE(wait_for([&] { return vm.plan().transparent_restarts() == 1; }));
  EXPECT_TRUE(wait_for([&] { return g_handled.load() == 1; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(v.done());
  // ...and completes once the lock is released
  vm.unhold();
  EXPECT_EQ(v.join(), 0);
}

TEST(RealSignalTest, RestartSysModeWithoutSaRestartReturnsEintr) {
  ScopedHandler h(SIGUSR2, false);
  LockedVm vm;
  vm.device().set_signal_return(drm_sim::SignalReturn::kRestartSys);
  vm.hold();
  Victim v(vm, [&] { return vm.query(); });
  v.kill(SIGUSR2);
  EXPECT_EQ(v.join(), -EINTR);
  EXPECT_EQ(g_handled.load(), 1);
  EXPECT_EQ(vm.plan().transparent_restarts(), 0u);
}

TEST(RealSignalTest, KillableMadviseIgnoresANonFatalSignalUntilItsWaitEnds) {
  // given a madvise blocked on the killable VM lock
  ScopedHandler h(SIGUSR1, false);
  LockedVm vm;
  vm.hold();
  Victim v(vm, [&] { return vm.madvise_null(); });
  // when it gets a signal with a handler (non-fatal)
  v.kill(SIGUSR1);
  // then it keeps waiting, and the handler has not run yet (still pending)
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(v.done());
  EXPECT_EQ(g_handled.load(), 0);
  // when the lock is released: the madvise completes and the handler runs
  vm.unhold();
  EXPECT_EQ(v.join(), 0);
  EXPECT_TRUE(wait_for([&] { return g_handled.load() == 1; }));
  EXPECT_EQ(vm.plan().real_signals(), 1u);
}

TEST(RealSignalTest, KillableMadviseIsInterruptedWhenRealSignalsAreFatal) {
  ScopedHandler h(SIGUSR1, false);
  LockedVm vm;
  vm.plan().set_real_signals_fatal(true);
  vm.hold();
  Victim v(vm, [&] { return vm.madvise_null(); });
  v.kill(SIGUSR1);
  EXPECT_EQ(v.join(), -EINTR);
  EXPECT_EQ(g_handled.load(), 1);
}

// A POSIX timer armed to fire once after `delay`: thread-directed
// (SIGEV_THREAD_ID) when tid != 0, else process-directed.
class OneShotTimer {
 public:
  OneShotTimer(int signo, pid_t tid, std::chrono::milliseconds delay) {
    sigevent ev{};
    ev.sigev_signo = signo;
    if (tid != 0) {
      ev.sigev_notify = SIGEV_THREAD_ID;
      ev._sigev_un._tid = tid;
    } else {
      ev.sigev_notify = SIGEV_SIGNAL;
    }
    EXPECT_EQ(timer_create(CLOCK_MONOTONIC, &ev, &timer_), 0);
    itimerspec its{};
    its.it_value.tv_nsec = static_cast<long>(delay.count()) * 1'000'000L;
    EXPECT_EQ(timer_settime(timer_, 0, &its, nullptr), 0);
  }
  ~OneShotTimer() { timer_delete(timer_); }
  OneShotTimer(const OneShotTimer&) = delete;
  OneShotTimer& operator=(const OneShotTimer&) = delete;

 private:
  timer_t timer_{};
};

TEST(RealSignalTest, ThreadDirectedTimerInterruptsABlockedQuery) {
  for (const auto mode : {drm_sim::SignalReturn::kEintr, drm_sim::SignalReturn::kRestartSys}) {
    SCOPED_TRACE(mode == drm_sim::SignalReturn::kEintr ? "-EINTR mode" : "-ERESTARTSYS mode");
    ScopedHandler h(SIGALRM, false);  // no SA_RESTART: -EINTR in both modes
    LockedVm vm;
    vm.device().set_signal_return(mode);
    vm.hold();
    Victim v(vm, [&] { return vm.query(); });
    OneShotTimer t(SIGALRM, v.tid(), 20ms);
    EXPECT_EQ(v.join(), -EINTR);
    EXPECT_EQ(g_handled.load(), 1);
    EXPECT_EQ(g_handled_tid.load(), v.tid());
  }
}

TEST(RealSignalTest, ProcessDirectedTimerReachesTheThreadBlockedInTheDriver) {
  // given every other thread of the test blocking SIGALRM (the holder
  // inherits the mask), so the kernel can only pick the blocked victim,
  // which listens in sigtimedwait while it waits
  sigset_t alrm;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &alrm, &old);
  {
    ScopedHandler h(SIGALRM, true);
    LockedVm vm;
    vm.device().set_signal_return(drm_sim::SignalReturn::kRestartSys);
    vm.hold();
    Victim v(vm, [&] {
      pthread_sigmask(SIG_UNBLOCK, &alrm, nullptr);
      return vm.query();
    });
    // when a process-directed timer fires (SA_RESTART, -ERESTARTSYS mode)
    OneShotTimer t(SIGALRM, 0, 20ms);
    // then the victim's query is restarted transparently, and completes
    ASSERT_TRUE(wait_for([&] { return vm.plan().transparent_restarts() == 1; }));
    EXPECT_TRUE(wait_for([&] { return g_handled.load() == 1; }));
    EXPECT_EQ(g_handled_tid.load(), v.tid());
    vm.unhold();
    EXPECT_EQ(v.join(), 0);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

TEST(RealSignalTest, UncontendedWaitsNeverLookAtSignals) {
  // A kernel lock's fast path does not check signals either: a pending,
  // blocked signal does not interrupt an uncontended ioctl.
  ScopedHandler h(SIGUSR1, false);
  LockedVm vm;
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &usr1, &old);
  pthread_kill(pthread_self(), SIGUSR1);
  EXPECT_EQ(vm.query(), 0);
  EXPECT_EQ(vm.plan().real_signals(), 0u);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);  // the handler runs here
  EXPECT_EQ(g_handled.load(), 1);
}

}  // namespace
