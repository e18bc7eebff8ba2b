// The three doors into the simulator give the same answers: drm_sim_ioctl()
// (returns -errno), ioctl(2) as interposed by libdrm_sim (returns -1 and sets
// errno) and libdrm's drmIoctl() (the same, and restarts on EINTR/EAGAIN).
// ioctl(2) on any other fd still reaches the kernel untouched.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <xf86drm.h>

#include <string>
#include <vector>

#include "tests/unit/ioctl_test_util.h"

namespace drm_sim_test {
namespace {

// What one run of the script below observed.
struct ScriptResult {
  std::vector<int> rcs;     // 0 or -errno of each ioctl, in order
  std::string queried;      // the attribute query's reply, through the same path
  std::string full;         // full_layout() afterwards
  std::uint64_t binds = 0;  // DRM_IOCTL_SIM_VM_STATS
  std::uint64_t rollbacks = 0;
};

// A fixed sequence of successes and failures, every ioctl through path p.
ScriptResult run_script(Path p) {
  ScriptResult out;
  ScopedFd dev = open_sim();
  const int fd = dev.get();
  auto& rcs = out.rcs;

  std::uint32_t vm = 0;
  rcs.push_back(vm_create(fd, 0, &vm, p));
  drm_xe_gem_create bo = gem_args(kMiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  rcs.push_back(gem_create(fd, &bo, p));
  drm_xe_gem_create bad_bo = gem_args(0, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  rcs.push_back(gem_create(fd, &bad_bo, p));
  rcs.push_back(
      bind(fd, vm,
           std::vector<drm_xe_vm_bind_op>{map_bo(bo.handle, kMiB, kMiB), map_null(4 * kMiB, kMiB),
                                          map_null(8 * kMiB, 64 * kKiB)},
           p));
  rcs.push_back(bind(fd, vm, map_bo(bo.handle, 16 * kMiB, 2 * kMiB), p));
  rcs.push_back(bind(fd, 99, map_null(16 * kMiB, kMiB), p));
  rcs.push_back(bind(fd, vm, unmap(kMiB + 256 * kKiB, 256 * kKiB), p));
  drm_xe_vm_bind queued = bind_args(vm, map_null(16 * kMiB, kMiB));
  queued.exec_queue_id = 3;
  rcs.push_back(call(p, fd, DRM_IOCTL_XE_VM_BIND, &queued));
  rcs.push_back(madvise_pat(fd, vm, 4 * kMiB, kMiB, kB580PatCoherent2, p));
  rcs.push_back(bind(
      fd, vm,
      std::vector<drm_xe_vm_bind_op>{map_null(32 * kMiB, kMiB), map_bo(77, 40 * kMiB, 64 * kKiB)},
      p));
  std::vector<drm_xe_mem_range_attr> attrs;
  rcs.push_back(query_attrs(fd, vm, 0, 1ull << 48, &attrs, p));
  rcs.push_back(gem_close(fd, bo.handle, p));
  rcs.push_back(gem_close(fd, bo.handle, p));
  rcs.push_back(vm_destroy(fd, 42, p));

  for (const auto& a : attrs) out.queried += attr_line(a) + "\n";
  out.full = full_layout(fd, vm);
  const drm_sim_vm_stats st = vm_stats(fd, vm);
  out.binds = st.binds;
  out.rollbacks = st.bind_rollbacks;
  return out;
}

const std::vector<int> kScriptRcs = {
    0,        // VM_CREATE
    0,        // GEM_CREATE
    -EINVAL,  // GEM_CREATE size 0
    0,        // VM_BIND array of three MAPs
    -EINVAL,  // VM_BIND range past the BO
    -EINVAL,  // VM_BIND unknown vm_id
    0,        // VM_BIND partial UNMAP
    -ENOENT,  // VM_BIND unknown exec queue
    0,        // MADVISE PAT
    -ENOENT,  // VM_BIND array with an unknown BO handle
    0,        // VM_QUERY_MEM_RANGE_ATTRS
    0,        // GEM_CLOSE
    -EINVAL,  // GEM_CLOSE again
    -ENOENT,  // VM_DESTROY unknown
};

constexpr const char* kScriptLayout =
    "[0x100000,0x140000) loc=0 policy=0 atomic=0 pat=1\n"
    "[0x180000,0x200000) loc=0 policy=0 atomic=0 pat=1\n"
    "[0x400000,0x500000) loc=0 policy=0 atomic=0 pat=2\n"
    "[0x800000,0x810000) loc=0 policy=0 atomic=0 pat=1\n";

class IoctlPathsTest : public ::testing::TestWithParam<Path> {};

std::string path_param_name(const ::testing::TestParamInfo<Path>& param) {
  return path_name(param.param);
}

TEST_P(IoctlPathsTest, ScriptReturnsTheUpstreamResults) {
  // when
  const ScriptResult r = run_script(GetParam());
  // then
  EXPECT_EQ(r.rcs, kScriptRcs);
  EXPECT_EQ(r.queried, kScriptLayout);
}

TEST_P(IoctlPathsTest, ScriptEndsInTheSameStateAsThroughDrmSimIoctl) {
  // given
  const ScriptResult reference = run_script(Path::kSimIoctl);
  // when
  const ScriptResult r = run_script(GetParam());
  // then
  EXPECT_EQ(r.full, reference.full);
  EXPECT_EQ(r.binds, reference.binds);
  EXPECT_EQ(r.rollbacks, reference.rollbacks);
}

INSTANTIATE_TEST_SUITE_P(EveryPath, IoctlPathsTest,
                         ::testing::Values(Path::kSimIoctl, Path::kIoctl, Path::kDrmIoctl),
                         path_param_name);

// ---------------------------------------------------------------------------
// Return conventions

class IoctlConventionsTest : public IoctlTest {
 protected:
  drm_xe_gem_create bad_ = gem_args(0, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
};

TEST_F(IoctlConventionsTest, DrmSimIoctlReturnsNegativeErrno) {
  EXPECT_EQ(drm_sim_ioctl(fd(), DRM_IOCTL_XE_GEM_CREATE, &bad_), -EINVAL);
}

TEST_F(IoctlConventionsTest, IoctlReturnsMinusOneAndSetsErrno) {
  // when
  errno = 0;
  const int r = ::ioctl(fd(), DRM_IOCTL_XE_GEM_CREATE, &bad_);
  const int err = errno;
  // then
  EXPECT_EQ(r, -1);
  EXPECT_EQ(err, EINVAL);
}

TEST_F(IoctlConventionsTest, DrmIoctlReturnsMinusOneAndSetsErrno) {
  // when
  errno = 0;
  const int r = drmIoctl(fd(), DRM_IOCTL_XE_GEM_CREATE, &bad_);
  const int err = errno;
  // then
  EXPECT_EQ(r, -1);
  EXPECT_EQ(err, EINVAL);
}

TEST_F(IoctlConventionsTest, SuccessReturnsZeroAndCopiesTheResultOutOnEveryPath) {
  for (const Path p : {Path::kSimIoctl, Path::kIoctl, Path::kDrmIoctl}) {
    // when
    drm_xe_vm_create c{};
    const int r = call(p, fd(), DRM_IOCTL_XE_VM_CREATE, &c);
    // then
    EXPECT_EQ(r, 0) << path_name(p);
    EXPECT_NE(c.vm_id, 0u) << path_name(p);
  }
}

TEST_F(IoctlConventionsTest, UnknownRequestFailsWithENOTTYOnEveryPath) {
  // given DRM_XE_EXEC, an upstream ioctl number that drm_sim does not serve
  const unsigned long exec = DRM_IOW(DRM_COMMAND_BASE + DRM_XE_EXEC, drm_xe_vm_destroy);
  drm_xe_vm_destroy arg{};
  for (const Path p : {Path::kSimIoctl, Path::kIoctl, Path::kDrmIoctl}) {
    // when / then
    EXPECT_EQ(call(p, fd(), exec, &arg), -ENOTTY) << path_name(p);
  }
}

TEST_F(IoctlConventionsTest, NullArgumentFailsWithEFAULTOnEveryPath) {
  for (const Path p : {Path::kSimIoctl, Path::kIoctl, Path::kDrmIoctl}) {
    // when / then
    EXPECT_EQ(call(p, fd(), DRM_IOCTL_XE_VM_CREATE, nullptr), -EFAULT) << path_name(p);
  }
}

TEST(IoctlConventions, DrmSimIoctlOnANonSimFdFailsWithEBADF) {
  // given
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  // when
  drm_xe_vm_create c{};
  const int r = drm_sim_ioctl(p[0], DRM_IOCTL_XE_VM_CREATE, &c);
  // then
  EXPECT_EQ(r, -EBADF);
  ::close(p[0]);
  ::close(p[1]);
}

// ---------------------------------------------------------------------------
// Other fds reach the kernel

class KernelPassThroughTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::pipe(pipe_), 0); }
  void TearDown() override {
    ::close(pipe_[0]);
    ::close(pipe_[1]);
  }
  int pipe_[2] = {-1, -1};
};

TEST_F(KernelPassThroughTest, IoctlOnAPipeReachesTheKernel) {
  // given three bytes in the pipe
  ASSERT_EQ(::write(pipe_[1], "abc", 3), 3);
  // when
  int available = -1;
  const int r = ::ioctl(pipe_[0], FIONREAD, &available);
  // then
  EXPECT_EQ(r, 0);
  EXPECT_EQ(available, 3);
}

TEST_F(KernelPassThroughTest, DrmIoctlOnAPipeReachesTheKernel) {
  ASSERT_EQ(::write(pipe_[1], "abcde", 5), 5);
  int available = -1;
  EXPECT_EQ(drmIoctl(pipe_[0], FIONREAD, &available), 0);
  EXPECT_EQ(available, 5);
}

TEST_F(KernelPassThroughTest, DrmRequestOnAPipeFailsWithENOTTYFromTheKernel) {
  // when
  drm_version v{};
  errno = 0;
  const int r = ::ioctl(pipe_[0], DRM_IOCTL_VERSION, &v);
  const int err = errno;
  // then
  EXPECT_EQ(r, -1);
  EXPECT_EQ(err, ENOTTY);
}

TEST(KernelPassThrough, DrmRequestOnDevNullFailsWithENOTTYFromTheKernel) {
  // given
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  // when
  drm_xe_vm_create c{};
  errno = 0;
  const int r = ::ioctl(null_fd, DRM_IOCTL_XE_VM_CREATE, &c);
  const int err = errno;
  // then
  EXPECT_EQ(r, -1);
  EXPECT_EQ(err, ENOTTY);
  EXPECT_EQ(c.vm_id, 0u);
  ::close(null_fd);
}

// ---------------------------------------------------------------------------
// Interrupted ioctls: ioctl(2) reports EINTR, drmIoctl restarts

class InterruptedBindTest : public IoctlTest {
 protected:
  void SetUp() override {
    IoctlTest::SetUp();
    vm_ = make_vm(fd());
    bo_ = make_bo(fd(), kMiB);
  }
  // A signal arrives at the VM lock and interrupts the first interruptible
  // wait after it (the BO lock).
  void arm_signal() { ASSERT_EQ(fault_inject(fd(), DRM_SIM_FAULT_SIGNAL_AT_WAIT, 1), 0); }
  void TearDown() override {
    EXPECT_EQ(fault_inject(fd(), DRM_SIM_FAULT_CLEAR, 0), 0);
    IoctlTest::TearDown();
  }

  std::uint32_t vm_ = 0;
  std::uint32_t bo_ = 0;
};

TEST_F(InterruptedBindTest, IoctlReportsEINTRAndLeavesTheVmUnchanged) {
  // given
  arm_signal();
  drm_xe_vm_bind b = bind_args(vm_, map_bo(bo_, kMiB, kMiB));
  // when
  errno = 0;
  const int r = ::ioctl(fd(), DRM_IOCTL_XE_VM_BIND, &b);
  const int err = errno;
  // then
  EXPECT_EQ(r, -1);
  EXPECT_EQ(err, EINTR);
  EXPECT_EQ(layout(fd(), vm_), "");
}

TEST_F(InterruptedBindTest, DrmSimIoctlReportsEINTR) {
  // given
  arm_signal();
  // when / then
  EXPECT_EQ(bind(fd(), vm_, map_bo(bo_, kMiB, kMiB), Path::kSimIoctl), -EINTR);
}

TEST_F(InterruptedBindTest, DrmIoctlRestartsTheInterruptedBind) {
  // given
  arm_signal();
  drm_xe_vm_bind b = bind_args(vm_, map_bo(bo_, kMiB, kMiB));
  // when
  const int r = drmIoctl(fd(), DRM_IOCTL_XE_VM_BIND, &b);
  // then
  EXPECT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), vm_), "[0x100000,0x200000) loc=0 policy=0 atomic=0 pat=1\n");
}

}  // namespace
}  // namespace drm_sim_test
