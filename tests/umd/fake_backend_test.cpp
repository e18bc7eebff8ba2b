// FakeBackend: records what the UMD sent, injects failures before anything
// else, answers with handlers, otherwise delegates or succeeds.
#include <cerrno>

#include "umd_test_util.h"

namespace umd_test {
namespace {

TEST(FakeBackendTest, RecordsTheRequestAndACopyOfTheArgumentAsSent) {
  // given
  FakeBackend fake;
  fake.on(DRM_IOCTL_XE_VM_CREATE, [](void* p) {
    static_cast<drm_xe_vm_create*>(p)->vm_id = 9;  // the driver's answer
    return 0;
  });
  drm_xe_vm_create c{};
  c.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE;
  // when
  EXPECT_EQ(fake.ioctl(DRM_IOCTL_XE_VM_CREATE, &c), 0);
  // then
  ASSERT_EQ(fake.call_count(), 1u);
  const auto call = fake.calls()[0];
  EXPECT_EQ(call.request, DRM_IOCTL_XE_VM_CREATE);
  EXPECT_EQ(call.arg.size(), sizeof(drm_xe_vm_create));
  EXPECT_EQ(call.as<drm_xe_vm_create>().flags, DRM_XE_VM_CREATE_FLAG_LR_MODE);
  EXPECT_EQ(call.as<drm_xe_vm_create>().vm_id, 0u) << "recorded before the answer";
  EXPECT_EQ(c.vm_id, 9u);
  EXPECT_EQ(call.rc, 0);
  EXPECT_FALSE(call.injected);
}

TEST(FakeBackendTest, InjectedFailuresComeFirstThenTheHandlerAnswers) {
  FakeBackend fake;
  int handled = 0;
  fake.on(DRM_IOCTL_XE_MADVISE, [&](void*) {
    ++handled;
    return 0;
  });
  fake.inject(EINTR, 2);
  drm_xe_madvise m{};
  EXPECT_EQ(fake.ioctl(DRM_IOCTL_XE_MADVISE, &m), -EINTR);
  EXPECT_EQ(fake.ioctl(DRM_IOCTL_XE_MADVISE, &m), -EINTR);
  EXPECT_EQ(fake.ioctl(DRM_IOCTL_XE_MADVISE, &m), 0);
  EXPECT_EQ(handled, 1);
  const auto calls = fake.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_TRUE(calls[0].injected);
  EXPECT_TRUE(calls[1].injected);
  EXPECT_FALSE(calls[2].injected);
}

TEST(FakeBackendTest, InjectForHitsOnlyItsRequest) {
  FakeBackend fake;
  fake.inject_for(DRM_IOCTL_XE_MADVISE, EAGAIN, 1);
  drm_xe_vm_create c{};
  drm_xe_madvise m{};
  EXPECT_EQ(fake.ioctl(DRM_IOCTL_XE_VM_CREATE, &c), 0);
  EXPECT_EQ(fake.ioctl(DRM_IOCTL_XE_MADVISE, &m), -EAGAIN);
  EXPECT_EQ(fake.ioctl(DRM_IOCTL_XE_MADVISE, &m), 0);
}

TEST(FakeBackendTest, WithoutHandlerOrDelegateEveryCallSucceeds) {
  FakeBackend fake;
  drm_xe_vm_destroy d{};
  EXPECT_EQ(fake.ioctl(DRM_IOCTL_XE_VM_DESTROY, &d), 0);
}

TEST(FakeBackendTest, DelegatesToARealBackendAfterTheInjections) {
  // given a FakeBackend in front of a simulated device
  const int fd = drm_sim_open("b580");
  ASSERT_GE(fd, 0);
  LibdrmBackend real(fd);
  FakeBackend fake(&real);
  fake.inject(EINTR, 1);
  drm_xe_vm_create c{};
  // when
  const int first = fake.ioctl(DRM_IOCTL_XE_VM_CREATE, &c);
  const int second = fake.ioctl(DRM_IOCTL_XE_VM_CREATE, &c);
  // then: the injected EINTR never reached the simulator
  EXPECT_EQ(first, -EINTR);
  EXPECT_EQ(second, 0);
  EXPECT_EQ(c.vm_id, 1u);
  ::close(fd);
}

TEST(LibdrmBackendTest, ReturnsMinusErrnoLikeAKernelHandler) {
  const int fd = drm_sim_open(nullptr);
  ASSERT_GE(fd, 0);
  LibdrmBackend backend(fd);
  drm_xe_vm_destroy d{};
  d.vm_id = 42;  // no such VM
  EXPECT_EQ(backend.ioctl(DRM_IOCTL_XE_VM_DESTROY, &d), -ENOENT);
  ::close(fd);
}

}  // namespace
}  // namespace umd_test
