// libdrm_sim_preload.so, linked into this test program (as LD_PRELOAD would
// put it first): open() of the configured render-node path gives simulated
// fds, later opens share the device, every other path and fd is untouched,
// and ioctl()/close() reach libdrm_sim. The LD_PRELOAD run of an unmodified
// program is tests/umd/run_unmodified.sh.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"

namespace {

constexpr const char* kDefaultNode = "/dev/dri/renderD128";

class PreloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("DRM_SIM_PRELOAD_PATH");
    ::unsetenv("DRM_SIM_PRELOAD_PROFILE");
  }
  void TearDown() override { SetUp(); }
};

bool same_device(int a, int b) {
  auto fa = drm_sim::file_from_fd(a);
  auto fb = drm_sim::file_from_fd(b);
  return fa && fb && fa->device_ptr() == fb->device_ptr();
}

std::uint32_t create_vm(int fd) {
  drm_xe_vm_create c{};
  EXPECT_EQ(ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &c), 0) << errno;
  return c.vm_id;
}

TEST_F(PreloadTest, OpenOfTheDefaultRenderNodeGivesASimulatedDeviceOfTheDefaultProfile) {
  // when
  const int fd = ::open(kDefaultNode, O_RDWR | O_CLOEXEC);
  // then
  ASSERT_GE(fd, 0) << errno;
  EXPECT_EQ(drm_sim_is_sim_fd(fd), 1);
  EXPECT_STREQ(drm_sim_profile_name(fd), "b580");
  EXPECT_EQ(::close(fd), 0);
  EXPECT_EQ(drm_sim_is_sim_fd(fd), 0);
}

TEST_F(PreloadTest, TheProfileComesFromTheEnvironment) {
  // given
  ::setenv("DRM_SIM_PRELOAD_PROFILE", "pvc", 1);
  // when
  const int fd = ::open(kDefaultNode, O_RDWR);
  // then
  ASSERT_GE(fd, 0);
  EXPECT_STREQ(drm_sim_profile_name(fd), "pvc");
  ::close(fd);
}

TEST_F(PreloadTest, AnUnknownProfileFailsTheOpenWithEnoent) {
  ::setenv("DRM_SIM_PRELOAD_PROFILE", "no-such-gpu", 1);
  errno = 0;
  EXPECT_EQ(::open(kDefaultNode, O_RDWR), -1);
  EXPECT_EQ(errno, ENOENT);
}

TEST_F(PreloadTest, ASecondOpenOfThePathIsAnotherFileOnTheSameDevice) {
  // given
  const int a = ::open(kDefaultNode, O_RDWR);
  ASSERT_GE(a, 0);
  // when
  const int b = ::open(kDefaultNode, O_RDWR);
  // then: one device, two DRM files (VM ids are per file)
  ASSERT_GE(b, 0);
  EXPECT_NE(a, b);
  EXPECT_TRUE(same_device(a, b));
  EXPECT_EQ(create_vm(a), 1u);
  EXPECT_EQ(create_vm(b), 1u);
  ::close(a);
  ::close(b);
}

TEST_F(PreloadTest, SharingOutlivesTheFirstFdWhileAnotherIsOpen) {
  // given
  const int a = ::open(kDefaultNode, O_RDWR);
  const int b = ::open(kDefaultNode, O_RDWR);
  ASSERT_GE(b, 0);
  ::close(a);
  // when
  const int c = ::open(kDefaultNode, O_RDWR);
  // then
  ASSERT_GE(c, 0);
  EXPECT_TRUE(same_device(b, c));
  ::close(b);
  ::close(c);
}

TEST_F(PreloadTest, AfterTheLastCloseTheNextOpenMakesAFreshDevice) {
  // given
  const int a = ::open(kDefaultNode, O_RDWR);
  ASSERT_GE(a, 0);
  auto first = drm_sim::file_from_fd(a)->device_ptr();
  ::close(a);
  // when
  const int b = ::open(kDefaultNode, O_RDWR);
  // then
  ASSERT_GE(b, 0);
  EXPECT_NE(drm_sim::file_from_fd(b)->device_ptr(), first);
  ::close(b);
}

TEST_F(PreloadTest, TheConfiguredPathReplacesTheDefaultOne) {
  // given
  ::setenv("DRM_SIM_PRELOAD_PATH", "/dev/dri/renderD129", 1);
  // when
  const int sim = ::open("/dev/dri/renderD129", O_RDWR);
  errno = 0;
  const int real = ::open(kDefaultNode, O_RDWR);
  const int real_errno = errno;
  // then: the default node is now an ordinary path (absent on this machine)
  ASSERT_GE(sim, 0);
  EXPECT_EQ(drm_sim_is_sim_fd(sim), 1);
  if (::access(kDefaultNode, F_OK) != 0) {
    EXPECT_EQ(real, -1);
    EXPECT_EQ(real_errno, ENOENT);
  }
  if (real >= 0) ::close(real);
  ::close(sim);
}

TEST_F(PreloadTest, OpenatOpen64AndOpenat64ReachTheSimulatorToo) {
  const int a = ::openat(AT_FDCWD, kDefaultNode, O_RDWR);
  const int b = ::open64(kDefaultNode, O_RDWR);
  const int c = ::openat64(AT_FDCWD, kDefaultNode, O_RDWR);
  for (int fd : {a, b, c}) {
    ASSERT_GE(fd, 0);
    EXPECT_EQ(drm_sim_is_sim_fd(fd), 1);
  }
  EXPECT_TRUE(same_device(a, b));
  EXPECT_TRUE(same_device(a, c));
  for (int fd : {a, b, c}) ::close(fd);
}

TEST_F(PreloadTest, OtherPathsAreOpenedByLibcWithTheirModeArgument) {
  // given
  char dir[] = "/tmp/drm_sim_preload_XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  const std::string f1 = std::string(dir) + "/a";
  const std::string f2 = std::string(dir) + "/b";
  const mode_t old_mask = ::umask(0);
  // when: the variadic mode reaches libc through open and openat
  const int a = ::open(f1.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0640);
  const int b = ::openat(AT_FDCWD, f2.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0604);
  ::umask(old_mask);
  // then
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_EQ(drm_sim_is_sim_fd(a), 0);
  struct stat sa {};
  struct stat sb {};
  ASSERT_EQ(::fstat(a, &sa), 0);
  ASSERT_EQ(::fstat(b, &sb), 0);
  EXPECT_EQ(sa.st_mode & 0777, 0640u);
  EXPECT_EQ(sb.st_mode & 0777, 0604u);
  EXPECT_EQ(::close(a), 0);
  EXPECT_EQ(::close(b), 0);
  ::unlink(f1.c_str());
  ::unlink(f2.c_str());
  ::rmdir(dir);
}

TEST_F(PreloadTest, IoctlOnAnOrdinaryFdStillReachesTheKernel) {
  const int fd = ::open("/dev/null", O_RDWR);
  ASSERT_GE(fd, 0);
  drm_xe_vm_create c{};
  errno = 0;
  EXPECT_EQ(ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &c), -1);
  EXPECT_EQ(errno, ENOTTY);
  ::close(fd);
}

}  // namespace
