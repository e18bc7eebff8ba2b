// DRM_IOCTL_XE_VM_CREATE, _VM_DESTROY and _VM_BIND end to end (spec §1, §2,
// §6): the flag rules of VM creation, every argument check of VM_BIND (one
// test per rule of check_op()/check_bo() in drm_sim/ioctl/vm_ioctls.cpp, in
// the upstream order of vm_bind_ioctl_check_args() and
// xe_vm_bind_ioctl_validate_bo()), the syncs, the binds that work, and the
// all-or-nothing rule for bind arrays (including injected allocation failures
// and signals, and the restart of the identical ioctl).
//
// Layouts are read back through DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS; the
// "exactly as before" checks also compare the VMA records behind it.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "tests/unit/ioctl_test_util.h"

namespace drm_sim_test {
namespace {

// ---------------------------------------------------------------------------
// VM_CREATE

class VmCreateTest : public IoctlTest {
 protected:
  int create(drm_xe_vm_create* c) { return drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_CREATE, c); }
};

TEST_F(VmCreateTest, VmIdsStartAtOne) {
  // when
  const std::uint32_t first = make_vm(fd());
  const std::uint32_t second = make_vm(fd(), kFaultVm);
  // then
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(second, 2u);
}

TEST_F(VmCreateTest, LrModeAloneIsAccepted) {
  EXPECT_EQ(vm_create(fd(), DRM_XE_VM_CREATE_FLAG_LR_MODE), 0);
}

TEST_F(VmCreateTest, FaultModeWithLrModeIsAccepted) {
  EXPECT_EQ(vm_create(fd(), kFaultVm), 0);
}

TEST_F(VmCreateTest, ScratchPageAloneIsAccepted) {
  EXPECT_EQ(vm_create(fd(), DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE), 0);
}

TEST_F(VmCreateTest, FaultModeWithoutLrModeIsRejected) {
  EXPECT_EQ(vm_create(fd(), DRM_XE_VM_CREATE_FLAG_FAULT_MODE), -EINVAL);
}

// pvc has no needs_scratch (xe_pci.c), so scratch pages and fault mode exclude
// each other there.
TEST_F(VmCreateTest, ScratchPageWithFaultModeIsRejectedOnPvc) {
  // given
  open_device("pvc");
  // when / then
  EXPECT_EQ(vm_create(fd(), kFaultVm | DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE), -EINVAL);
}

TEST_F(VmCreateTest, UnknownFlagIsRejected) {
  EXPECT_EQ(vm_create(fd(), 1u << 31), -EINVAL);
}

TEST_F(VmCreateTest, FaultModeOnADeviceWithoutUsmIsRejected) {
  // given a device without unified shared memory
  const std::string path = write_profile_file(R"({
    "name": "no-usm", "features": { "discrete": false, "has_usm": false },
    "regions": [ { "class": "system", "instance": 0, "size": "1GiB" } ],
    "pat": [1, 2]
  })");
  ASSERT_FALSE(path.empty());
  const int dev = drm_sim_open(path.c_str());
  ::unlink(path.c_str());
  ASSERT_GE(dev, 0);
  dev_ = ScopedFd(dev);
  // when
  const int r = vm_create(fd(), kFaultVm);
  // then
  EXPECT_EQ(r, -EINVAL);
  EXPECT_EQ(vm_create(fd(), DRM_XE_VM_CREATE_FLAG_LR_MODE), 0);
}

TEST_F(VmCreateTest, ExtensionsAreRejected) {
  // given
  drm_xe_user_extension ext{};
  drm_xe_vm_create c{};
  c.extensions = reinterpret_cast<std::uintptr_t>(&ext);
  // when / then
  EXPECT_EQ(create(&c), -EINVAL);
}

TEST_F(VmCreateTest, EveryReservedWordMustBeZero) {
  for (int i = 0; i < 2; ++i) {
    // given
    drm_xe_vm_create c{};
    c.reserved[i] = 1;
    // when / then
    EXPECT_EQ(create(&c), -EINVAL) << "reserved[" << i << "]";
  }
}

// ---------------------------------------------------------------------------
// VM_DESTROY

class VmDestroyTest : public IoctlTest {};

TEST_F(VmDestroyTest, DestroyedVmCannotBeBound) {
  // given
  const std::uint32_t vm = make_vm(fd());
  // when
  ASSERT_EQ(vm_destroy(fd(), vm), 0);
  // then: upstream xe_vm_lookup() fails -> -EINVAL
  EXPECT_EQ(bind(fd(), vm, map_null(kMiB, 64 * kKiB)), -EINVAL);
}

TEST_F(VmDestroyTest, UnknownVmIdFailsWithENOENT) {
  EXPECT_EQ(vm_destroy(fd(), 7), -ENOENT);
}

TEST_F(VmDestroyTest, DestroyingTwiceFailsWithENOENT) {
  // given
  const std::uint32_t vm = make_vm(fd());
  // when / then
  ASSERT_EQ(vm_destroy(fd(), vm), 0);
  EXPECT_EQ(vm_destroy(fd(), vm), -ENOENT);
}

TEST_F(VmDestroyTest, NonZeroPadFailsWithEINVAL) {
  // given
  const std::uint32_t vm = make_vm(fd());
  drm_xe_vm_destroy d{};
  d.vm_id = vm;
  d.pad = 1;
  // when
  const int r = drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_DESTROY, &d);
  // then
  EXPECT_EQ(r, -EINVAL);
  EXPECT_EQ(vm_destroy(fd(), vm), 0);
}

TEST_F(VmDestroyTest, EveryReservedWordMustBeZero) {
  const std::uint32_t vm = make_vm(fd());
  for (int i = 0; i < 2; ++i) {
    // given
    drm_xe_vm_destroy d{};
    d.vm_id = vm;
    d.reserved[i] = 1;
    // when / then
    EXPECT_EQ(drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_DESTROY, &d), -EINVAL) << "reserved[" << i << "]";
  }
}

TEST_F(VmDestroyTest, DestroyingAVmReleasesTheBosItMaps) {
  // given a closed BO kept alive only by its VMA
  const std::uint32_t vm = make_vm(fd());
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB);
  ASSERT_EQ(bind(fd(), vm, map_bo(bo, kMiB, 64 * kKiB)), 0);
  ASSERT_EQ(gem_close(fd(), bo), 0);
  // when
  ASSERT_EQ(vm_destroy(fd(), vm), 0);
  // then
  drm_sim::Device& dev = drm_sim::file_from_fd(fd())->device();
  std::lock_guard<std::mutex> g(dev.bo_mutex());
  EXPECT_EQ(dev.bo_count_locked(), 0u);
}

// ---------------------------------------------------------------------------
// VM_BIND: the ioctl-level arguments

class VmBindArgsTest : public IoctlTest {
 protected:
  void SetUp() override {
    IoctlTest::SetUp();
    vm_ = make_vm(fd());
  }
  int bind_raw(drm_xe_vm_bind* b) { return drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_BIND, b); }

  std::uint32_t vm_ = 0;
};

// Upstream xe_vm_bind_ioctl(): the VM lookup comes first, -EINVAL.
TEST_F(VmBindArgsTest, UnknownVmIdIsRejectedWithEINVAL) {
  EXPECT_EQ(bind(fd(), 99, map_null(kMiB, 64 * kKiB)), -EINVAL);
}

TEST_F(VmBindArgsTest, ExtensionsMustBeZero) {
  // given
  drm_xe_vm_bind b = bind_args(vm_, map_null(kMiB, 64 * kKiB));
  b.extensions = 1;
  // when / then
  EXPECT_EQ(bind_raw(&b), -EINVAL);
}

TEST_F(VmBindArgsTest, PadMustBeZero) {
  // given
  drm_xe_vm_bind b = bind_args(vm_, map_null(kMiB, 64 * kKiB));
  b.pad = 1;
  // when / then
  EXPECT_EQ(bind_raw(&b), -EINVAL);
}

TEST_F(VmBindArgsTest, Pad2MustBeZero) {
  // given
  drm_xe_vm_bind b = bind_args(vm_, map_null(kMiB, 64 * kKiB));
  b.pad2 = 1;
  // when / then
  EXPECT_EQ(bind_raw(&b), -EINVAL);
}

TEST_F(VmBindArgsTest, EveryReservedWordMustBeZero) {
  for (int i = 0; i < 2; ++i) {
    // given
    drm_xe_vm_bind b = bind_args(vm_, map_null(kMiB, 64 * kKiB));
    b.reserved[i] = 1;
    // when / then
    EXPECT_EQ(bind_raw(&b), -EINVAL) << "reserved[" << i << "]";
  }
}

TEST_F(VmBindArgsTest, UnknownExecQueueFailsWithENOENT) {
  // given
  drm_xe_vm_bind b = bind_args(vm_, map_null(kMiB, 64 * kKiB));
  b.exec_queue_id = 5;
  // when / then
  EXPECT_EQ(bind_raw(&b), -ENOENT);
}

TEST_F(VmBindArgsTest, UnknownBoHandleFailsWithENOENT) {
  EXPECT_EQ(bind(fd(), vm_, map_bo(77, kMiB, 64 * kKiB)), -ENOENT);
}

TEST_F(VmBindArgsTest, UnmapAllOfAnUnknownHandleFailsWithENOENT) {
  EXPECT_EQ(bind(fd(), vm_, unmap_all(77)), -ENOENT);
}

TEST_F(VmBindArgsTest, UnreadableBindVectorFailsWithEFAULT) {
  // given num_binds > 1 and a vector the process cannot read
  void* page = ::mmap(nullptr, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  drm_xe_vm_bind b{};
  b.vm_id = vm_;
  b.num_binds = 2;
  b.vector_of_binds = reinterpret_cast<std::uintptr_t>(page);
  // when
  const int r = bind_raw(&b);
  // then
  EXPECT_EQ(r, -EFAULT);
  ::munmap(page, kPage);
}

TEST_F(VmBindArgsTest, NullBindVectorFailsWithEFAULT) {
  // given
  drm_xe_vm_bind b{};
  b.vm_id = vm_;
  b.num_binds = 3;
  // when / then
  EXPECT_EQ(bind_raw(&b), -EFAULT);
}

TEST_F(VmBindArgsTest, PrefetchOfAMirrorRangeWithoutCpuPagesIsAFault) {
  // given a mirror range on a fault-mode VM with no CPU mapping behind it
  const std::uint32_t fvm = make_vm(fd(), kFaultVm);
  ASSERT_EQ(bind(fd(), fvm, map_mirror(kMiB, kMiB)), 0);
  // when
  const int to_system = bind(fd(), fvm, prefetch(kMiB, kMiB, 0));
  const int to_preferred =
      bind(fd(), fvm,
           prefetch(kMiB, kMiB, static_cast<std::uint32_t>(DRM_XE_CONSULT_MEM_ADVISE_PREF_LOC)));
  // then
  EXPECT_EQ(to_system, -EFAULT);
  EXPECT_EQ(to_preferred, -EFAULT);
}

// ---------------------------------------------------------------------------
// VM_BIND: syncs (xe_sync_entry_parse)

class VmBindSyncTest : public VmBindArgsTest {
 protected:
  int bind_with(const drm_xe_vm_bind_op& op, std::vector<drm_xe_sync>& syncs) {
    drm_xe_vm_bind b = bind_args(vm_, op);
    b.num_syncs = static_cast<std::uint32_t>(syncs.size());
    b.syncs = reinterpret_cast<std::uintptr_t>(syncs.data());
    return bind_raw(&b);
  }
  static drm_xe_sync user_fence(std::uint64_t* addr, std::uint64_t value) {
    drm_xe_sync s{};
    s.type = DRM_XE_SYNC_TYPE_USER_FENCE;
    s.flags = DRM_XE_SYNC_FLAG_SIGNAL;
    s.addr = reinterpret_cast<std::uintptr_t>(addr);
    s.timeline_value = value;
    return s;
  }
};

TEST_F(VmBindSyncTest, UserFenceIsSignalledWithTimelineValueAfterTheBind) {
  // given
  alignas(8) std::uint64_t fence = 0;
  std::vector<drm_xe_sync> syncs = {user_fence(&fence, 0x1234'5678'9abc'def0ull)};
  // when
  const int r = bind_with(map_null(kMiB, 64 * kKiB), syncs);
  // then
  EXPECT_EQ(r, 0);
  EXPECT_EQ(fence, 0x1234'5678'9abc'def0ull);
}

TEST_F(VmBindSyncTest, UserFenceIsNotSignalledWhenTheBindFails) {
  // given an allocation failure armed for the bind
  alignas(8) std::uint64_t fence = 0;
  std::vector<drm_xe_sync> syncs = {user_fence(&fence, 7)};
  ASSERT_EQ(fault_inject(fd(), DRM_SIM_FAULT_FAIL_ALLOC_AT, 1), 0);
  // when
  const int r = bind_with(map_null(kMiB, 64 * kKiB), syncs);
  // then
  EXPECT_EQ(r, -ENOMEM);
  EXPECT_EQ(fence, 0u);
  ASSERT_EQ(fault_inject(fd(), DRM_SIM_FAULT_CLEAR, 0), 0);
}

TEST_F(VmBindSyncTest, UserFenceAddressNotQwordAlignedIsRejected) {
  // given
  alignas(8) std::uint64_t fence[2] = {0, 0};
  drm_xe_sync s = user_fence(fence, 1);
  s.addr += 4;
  std::vector<drm_xe_sync> syncs = {s};
  // when / then
  EXPECT_EQ(bind_with(map_null(kMiB, 64 * kKiB), syncs), -EINVAL);
}

TEST_F(VmBindSyncTest, SyncobjSyncFailsWithENOENT) {
  // given
  // drm_sim serves no syncobjs: every handle is unknown (non-LR VM, wait sync)
  drm_xe_sync s{};
  s.type = DRM_XE_SYNC_TYPE_SYNCOBJ;
  s.handle = 1;
  std::vector<drm_xe_sync> syncs = {s};
  // when / then
  EXPECT_EQ(bind_with(map_null(kMiB, 64 * kKiB), syncs), -ENOENT);
}

TEST_F(VmBindSyncTest, TimelineSyncobjSyncFailsWithENOENT) {
  // given
  drm_xe_sync s{};
  s.type = DRM_XE_SYNC_TYPE_TIMELINE_SYNCOBJ;
  s.handle = 1;
  s.timeline_value = 1;
  std::vector<drm_xe_sync> syncs = {s};
  // when / then
  EXPECT_EQ(bind_with(map_null(kMiB, 64 * kKiB), syncs), -ENOENT);
}

TEST_F(VmBindSyncTest, UnknownSyncTypeIsRejected) {
  // given
  alignas(8) std::uint64_t fence = 0;
  drm_xe_sync s = user_fence(&fence, 1);
  s.type = 3;
  std::vector<drm_xe_sync> syncs = {s};
  // when / then
  EXPECT_EQ(bind_with(map_null(kMiB, 64 * kKiB), syncs), -EINVAL);
}

TEST_F(VmBindSyncTest, UnknownSyncFlagIsRejected) {
  // given
  alignas(8) std::uint64_t fence = 0;
  drm_xe_sync s = user_fence(&fence, 1);
  s.flags |= 1u << 1;
  std::vector<drm_xe_sync> syncs = {s};
  // when / then
  EXPECT_EQ(bind_with(map_null(kMiB, 64 * kKiB), syncs), -EINVAL);
}

TEST_F(VmBindSyncTest, EverySyncReservedWordMustBeZero) {
  for (int i = 0; i < 2; ++i) {
    // given
    alignas(8) std::uint64_t fence = 0;
    drm_xe_sync s = user_fence(&fence, 1);
    s.reserved[i] = 1;
    std::vector<drm_xe_sync> syncs = {s};
    // when / then
    EXPECT_EQ(bind_with(map_null(kMiB, 64 * kKiB), syncs), -EINVAL) << "reserved[" << i << "]";
  }
}

TEST_F(VmBindSyncTest, UnreadableSyncArrayFailsWithEFAULT) {
  // given
  void* page = ::mmap(nullptr, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  drm_xe_vm_bind b = bind_args(vm_, map_null(kMiB, 64 * kKiB));
  b.num_syncs = 1;
  b.syncs = reinterpret_cast<std::uintptr_t>(page);
  // when
  const int r = bind_raw(&b);
  // then
  EXPECT_EQ(r, -EFAULT);
  EXPECT_EQ(layout(fd(), vm_), "");
  ::munmap(page, kPage);
}

// ---------------------------------------------------------------------------
// VM_BIND: per-op checks (check_op), one rule per test. Each test starts from
// an op that binds successfully elsewhere in this file and breaks one field.

class VmBindCheckOpTest : public IoctlTest {
 protected:
  void SetUp() override {
    IoctlTest::SetUp();
    vm_ = make_vm(fd());
    fault_vm_ = make_vm(fd(), kFaultVm);
    bo_ = make_bo(fd(), kMiB);
  }
  int bind_vm(const drm_xe_vm_bind_op& o) { return bind(fd(), vm_, o); }
  int bind_fault_vm(const drm_xe_vm_bind_op& o) { return bind(fd(), fault_vm_, o); }

  std::uint32_t vm_ = 0;
  std::uint32_t fault_vm_ = 0;
  std::uint32_t bo_ = 0;
};

// Upstream's vm_bind_ioctl_check_args() reads neither an op's extensions nor
// its pad and reserved words, so code that leaves them set works on the real
// kernel and must work here too.
TEST_F(VmBindCheckOpTest, OpExtensionsPadAndReservedWordsAreNotRead) {
  for (int field = 0; field < 6; ++field) {
    // given an op with one of the unread words set
    drm_xe_vm_bind_op o = map_null(kMiB + static_cast<std::uint64_t>(field) * kMiB, 64 * kKiB);
    switch (field) {
      case 0:
        o.extensions = 1;
        break;
      case 1:
        o.pad = 1;
        break;
      case 2:
        o.pad2 = 1;
        break;
      default:
        o.reserved[field - 3] = 1;
        break;
    }
    // when / then it binds
    EXPECT_EQ(bind_vm(o), 0) << "field " << field;
  }
}

TEST_F(VmBindCheckOpTest, PatIndexPastTheTableIsRejected) {
  EXPECT_EQ(bind_vm(map_null(kMiB, 64 * kKiB, kB580PatEntries)), -EINVAL);
  EXPECT_EQ(bind_vm(map_null(kMiB, 64 * kKiB, 0xffff)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, ReservedPatEntryIsRejected) {
  EXPECT_EQ(bind_vm(map_null(kMiB, 64 * kKiB, kB580PatReserved)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, UnknownOpIsRejected) {
  // given
  drm_xe_vm_bind_op o = map_null(kMiB, 64 * kKiB);
  o.op = DRM_XE_VM_BIND_OP_PREFETCH + 1;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, UnknownFlagIsRejected) {
  // given
  drm_xe_vm_bind_op o = map_null(kMiB, 64 * kKiB);
  o.flags |= 1u << 31;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, NullBindWithAnObjectIsRejected) {
  // given
  drm_xe_vm_bind_op o = map_bo(bo_, kMiB, 64 * kKiB);
  o.flags = DRM_XE_VM_BIND_FLAG_NULL;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, MirrorBindWithAnObjectIsRejected) {
  // given
  drm_xe_vm_bind_op o = map_bo(bo_, kMiB, 64 * kKiB);
  o.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
  // when / then
  EXPECT_EQ(bind_fault_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, NullBindWithAnOffsetIsRejected) {
  // given
  drm_xe_vm_bind_op o = map_null(kMiB, 64 * kKiB);
  o.obj_offset = 64 * kKiB;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, MirrorBindWithAnOffsetIsRejected) {
  // given
  drm_xe_vm_bind_op o = map_mirror(kMiB, 64 * kKiB);
  o.cpu_addr_mirror_offset = 64 * kKiB;
  // when / then
  EXPECT_EQ(bind_fault_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, NullFlagOnAnUnmapIsRejected) {
  // given
  drm_xe_vm_bind_op o = unmap(kMiB, 64 * kKiB);
  o.flags = DRM_XE_VM_BIND_FLAG_NULL;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, MirrorFlagOnAnUnmapIsRejected) {
  // given
  drm_xe_vm_bind_op o = unmap(kMiB, 64 * kKiB);
  o.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR;
  // when / then
  EXPECT_EQ(bind_fault_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, NullAndMirrorTogetherAreRejected) {
  // given
  drm_xe_vm_bind_op o = map_mirror(kMiB, 64 * kKiB, DRM_XE_VM_BIND_FLAG_NULL);
  // when / then
  EXPECT_EQ(bind_fault_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, MirrorOnAVmWithoutFaultModeIsRejected) {
  EXPECT_EQ(bind_vm(map_mirror(kMiB, 64 * kKiB)), -EINVAL);
  const std::uint32_t lr_vm = make_vm(fd(), DRM_XE_VM_CREATE_FLAG_LR_MODE);
  EXPECT_EQ(bind(fd(), lr_vm, map_mirror(kMiB, 64 * kKiB)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, MapWithoutObjectNullOrMirrorIsRejected) {
  // given
  drm_xe_vm_bind_op o = map_null(kMiB, 64 * kKiB);
  o.flags = 0;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, UnmapAllWithoutObjectIsRejected) {
  EXPECT_EQ(bind_vm(unmap_all(0)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, UnmapAllWithAnAddressIsRejected) {
  // given
  drm_xe_vm_bind_op o = unmap_all(bo_);
  o.addr = kMiB;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, UnmapAllWithARangeIsRejected) {
  // given
  drm_xe_vm_bind_op o = unmap_all(bo_);
  o.range = 64 * kKiB;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, UserptrWithAnObjectIsRejected) {
  // given
  drm_xe_vm_bind_op o = map_userptr(0x7000'0000, kMiB, 64 * kKiB);
  o.obj = bo_;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, UserptrWithANonCoherentPatIsRejected) {
  EXPECT_EQ(bind_vm(map_userptr(0x7000'0000, kMiB, 64 * kKiB, kB580PatNonCoherent)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, PrefetchWithAnObjectIsRejected) {
  // given
  drm_xe_vm_bind_op o = prefetch(kMiB, 64 * kKiB, 0);
  o.obj = bo_;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, UnmapWithAnObjectIsRejected) {
  // given
  drm_xe_vm_bind_op o = unmap(kMiB, 64 * kKiB);
  o.obj = bo_;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, PrefetchRegionOnAMapIsRejected) {
  // given
  drm_xe_vm_bind_op o = map_null(kMiB, 64 * kKiB);
  o.prefetch_mem_region_instance = 1;
  // when / then
  EXPECT_EQ(bind_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, PrefetchToARegionTheDeviceLacksIsRejected) {
  EXPECT_EQ(bind_fault_vm(prefetch(kMiB, 64 * kKiB, 5)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, PrefetchToRegion32OrAboveIsRejected) {
  EXPECT_EQ(bind_fault_vm(prefetch(kMiB, 64 * kKiB, 32)), -EINVAL);
  EXPECT_EQ(bind_fault_vm(prefetch(kMiB, 64 * kKiB, 0x7fff'ffff)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, AutoresetWithoutMirrorIsRejected) {
  // given
  drm_xe_vm_bind_op o = map_null(kMiB, 64 * kKiB);
  o.flags |= DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET;
  // when / then
  EXPECT_EQ(bind_fault_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, AutoresetOnAnUnmapIsRejected) {
  // given
  drm_xe_vm_bind_op o = unmap(kMiB, 64 * kKiB);
  o.flags = DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET;
  // when / then
  EXPECT_EQ(bind_fault_vm(o), -EINVAL);
}

TEST_F(VmBindCheckOpTest, ObjectOffsetNotPageAlignedIsRejected) {
  EXPECT_EQ(bind_vm(map_bo(bo_, kMiB, 64 * kKiB, 0x800)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, AddressNotPageAlignedIsRejected) {
  EXPECT_EQ(bind_vm(map_null(kMiB + 0x800, 64 * kKiB)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, RangeNotPageAlignedIsRejected) {
  EXPECT_EQ(bind_vm(map_null(kMiB, 64 * kKiB + 0x800)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, ZeroRangeIsRejected) {
  EXPECT_EQ(bind_vm(map_null(kMiB, 0)), -EINVAL);
  EXPECT_EQ(bind_vm(unmap(kMiB, 0)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, RangeLargerThanTheVaSpaceIsRejected) {
  // given
  const std::uint64_t end = va_end(fd());
  // when / then
  ASSERT_EQ(end, 1ull << 48);
  EXPECT_EQ(bind_vm(map_null(0, end + kPage)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, RangeEndingPastTheVaSpaceIsRejected) {
  // given
  const std::uint64_t end = va_end(fd());
  // when / then
  EXPECT_EQ(bind_vm(map_null(end - kPage, 2 * kPage)), -EINVAL);
  EXPECT_EQ(bind_vm(unmap(end, kPage)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, RangeWrappingAroundTheAddressSpaceIsRejected) {
  EXPECT_EQ(bind_vm(map_null(~0ull - kPage + 1, 2 * kPage)), -EINVAL);
}

TEST_F(VmBindCheckOpTest, RangeEndingExactlyAtTheVaEndIsAccepted) {
  // given
  const std::uint64_t end = va_end(fd());
  // when
  const int r = bind_vm(map_null(end - 64 * kKiB, 64 * kKiB));
  // then
  EXPECT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), vm_), "[0xffffffff0000,0x1000000000000) loc=0 policy=0 atomic=0 pat=1\n");
}

// ---------------------------------------------------------------------------
// VM_BIND: BO checks (check_bo / upstream xe_vm_bind_ioctl_validate_bo)

class VmBindCheckBoTest : public IoctlTest {
 protected:
  void SetUp() override {
    IoctlTest::SetUp();
    vm_ = make_vm(fd());
  }
  std::uint32_t vm_ = 0;
};

TEST_F(VmBindCheckBoTest, RangeLargerThanTheBoIsRejected) {
  // given
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB);
  // when / then
  EXPECT_EQ(bind(fd(), vm_, map_bo(bo, kMiB, 128 * kKiB)), -EINVAL);
}

TEST_F(VmBindCheckBoTest, OffsetPastBoSizeMinusRangeIsRejected) {
  // given
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB);
  // when / then
  EXPECT_EQ(bind(fd(), vm_, map_bo(bo, kMiB, 32 * kKiB, 36 * kKiB)), -EINVAL);
  EXPECT_EQ(bind(fd(), vm_, map_bo(bo, kMiB, kPage, 64 * kKiB)), -EINVAL);
}

TEST_F(VmBindCheckBoTest, RangeAndOffsetReachingTheBoEndAreAccepted) {
  // given
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB);
  // when / then
  EXPECT_EQ(bind(fd(), vm_, map_bo(bo, kMiB, 32 * kKiB, 32 * kKiB)), 0);
}

TEST_F(VmBindCheckBoTest, NonCoherentPatWithAWriteBackBoIsRejected) {
  // given
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  // when / then
  EXPECT_EQ(bind(fd(), vm_, map_bo(bo, kMiB, 64 * kKiB, 0, kB580PatNonCoherent)), -EINVAL);
}

TEST_F(VmBindCheckBoTest, NonCoherentPatWithAWriteCombinedBoIsAccepted) {
  // given
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WC);
  // when / then
  EXPECT_EQ(bind(fd(), vm_, map_bo(bo, kMiB, 64 * kKiB, 0, kB580PatNonCoherent)), 0);
}

TEST_F(VmBindCheckBoTest, BoPrivateToAnotherVmIsRejected) {
  // given a BO created private to another VM
  const std::uint32_t other = make_vm(fd());
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB, other);
  // when
  const int r = bind(fd(), vm_, map_bo(bo, kMiB, 64 * kKiB));
  // then
  EXPECT_EQ(r, -EINVAL);
  EXPECT_EQ(bind(fd(), other, map_bo(bo, kMiB, 64 * kKiB)), 0);
}

class VmBindCheckBoPvcTest : public VmBindCheckBoTest {
 protected:
  void SetUp() override {
    IoctlTest::SetUp();
    open_device("pvc");
    vm_ = make_vm(fd());
    vram_bo_ = make_bo(fd(), 128 * kKiB, kVram0, DRM_XE_GEM_CPU_CACHING_WC);
  }
  std::uint32_t vram_bo_ = 0;
};

TEST_F(VmBindCheckBoPvcTest, VramBoBinds64KAligned) {
  EXPECT_EQ(bind(fd(), vm_, map_bo(vram_bo_, kMiB, 64 * kKiB, 64 * kKiB, kPvcPatNonCoherent)), 0);
}

TEST_F(VmBindCheckBoPvcTest, VramBoAddressNot64KAlignedIsRejected) {
  EXPECT_EQ(bind(fd(), vm_, map_bo(vram_bo_, kMiB + kPage, 64 * kKiB, 0, kPvcPatNonCoherent)),
            -EINVAL);
}

TEST_F(VmBindCheckBoPvcTest, VramBoRangeNot64KAlignedIsRejected) {
  EXPECT_EQ(bind(fd(), vm_, map_bo(vram_bo_, kMiB, 68 * kKiB, 0, kPvcPatNonCoherent)), -EINVAL);
}

TEST_F(VmBindCheckBoPvcTest, VramBoOffsetNot64KAlignedIsRejected) {
  EXPECT_EQ(bind(fd(), vm_, map_bo(vram_bo_, kMiB, 64 * kKiB, kPage, kPvcPatNonCoherent)), -EINVAL);
}

TEST_F(VmBindCheckBoPvcTest, SystemMemoryBoBinds4KAligned) {
  // given
  const std::uint32_t bo = make_bo(fd(), 64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  // when / then
  EXPECT_EQ(bind(fd(), vm_, map_bo(bo, kMiB + kPage, kPage, kPage, kPvcPatCoherent)), 0);
}

// ---------------------------------------------------------------------------
// VM_BIND: binds that work

class VmBindMapTest : public IoctlTest {
 protected:
  void SetUp() override {
    IoctlTest::SetUp();
    vm_ = make_vm(fd());
    fault_vm_ = make_vm(fd(), kFaultVm);
  }
  std::vector<drm_sim::Vma> vmas(std::uint32_t vm) {
    return drm_sim::file_from_fd(fd())->vm(vm)->vmas();
  }

  std::uint32_t vm_ = 0;
  std::uint32_t fault_vm_ = 0;
};

TEST_F(VmBindMapTest, MapOfABoCreatesOneVmaWithDefaultAttributes) {
  // given
  const std::uint32_t bo = make_bo(fd(), kMiB);
  // when
  const int r = bind(fd(), vm_, map_bo(bo, 2 * kMiB, 512 * kKiB, 256 * kKiB, kB580PatCoherent2));
  // then: DEFAULT_DEVICE, ALL_PAGES, UNDEFINED atomic, pat = the bind's pat_index
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), vm_), "[0x200000,0x280000) loc=0 policy=0 atomic=0 pat=2\n");
  const auto v = vmas(vm_);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, drm_sim::VmaKind::kBo);
  EXPECT_EQ(v[0].offset, 256 * kKiB);
}

TEST_F(VmBindMapTest, MapOfAUserptrCreatesOneVmaWithDefaultAttributes) {
  // given some CPU memory
  void* mem = std::aligned_alloc(kPage, 64 * kKiB);
  ASSERT_NE(mem, nullptr);
  const auto cpu = reinterpret_cast<std::uintptr_t>(mem);
  // when
  const int r = bind(fd(), vm_, map_userptr(cpu, 4 * kMiB, 64 * kKiB, kB580PatCoherent));
  // then
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), vm_), "[0x400000,0x410000) loc=0 policy=0 atomic=0 pat=1\n");
  const auto v = vmas(vm_);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, drm_sim::VmaKind::kUserptr);
  EXPECT_EQ(v[0].offset, cpu);
  std::free(mem);
}

TEST_F(VmBindMapTest, MapOfANullRangeCreatesOneVmaWithDefaultAttributes) {
  // when
  const int r = bind(fd(), vm_, map_null(kMiB, 2 * kMiB, kB580PatNonCoherent));
  // then
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), vm_), "[0x100000,0x300000) loc=0 policy=0 atomic=0 pat=0\n");
  const auto v = vmas(vm_);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, drm_sim::VmaKind::kNull);
}

TEST_F(VmBindMapTest, MapOfAMirrorRangeCreatesOneVmaWithDefaultAttributes) {
  // when
  const int r = bind(fd(), fault_vm_, map_mirror(kGiB, 16 * kMiB, 0, kB580PatCoherent2));
  // then
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), fault_vm_), "[0x40000000,0x41000000) loc=0 policy=0 atomic=0 pat=2\n");
  const auto v = vmas(fault_vm_);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, drm_sim::VmaKind::kMirror);
}

TEST_F(VmBindMapTest, MapOverExistingVmasReplacesWhatItCovers) {
  // given NULL VMAs at [1M,2M) and [3M,4M)
  const std::uint32_t bo = make_bo(fd(), 2 * kMiB);
  ASSERT_EQ(bind(fd(), vm_, map_null(kMiB, kMiB)), 0);
  ASSERT_EQ(bind(fd(), vm_, map_null(3 * kMiB, kMiB)), 0);
  // when a BO is mapped over [1.5M, 3.5M)
  const int r = bind(fd(), vm_, map_bo(bo, kMiB + kMiB / 2, 2 * kMiB, 0, kB580PatCoherent2));
  // then both edges survive as REMAP pieces
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), vm_),
            "[0x100000,0x180000) loc=0 policy=0 atomic=0 pat=1\n"
            "[0x180000,0x380000) loc=0 policy=0 atomic=0 pat=2\n"
            "[0x380000,0x400000) loc=0 policy=0 atomic=0 pat=1\n");
}

TEST_F(VmBindMapTest, PartialUnmapLeavesBothEndsWithTheTailOffsetAdvanced) {
  // given a 1 MiB BO mapped at [1M, 2M)
  const std::uint32_t bo = make_bo(fd(), kMiB);
  ASSERT_EQ(bind(fd(), vm_, map_bo(bo, kMiB, kMiB)), 0);
  // when the middle [1.25M, 1.5M) is unmapped
  const int r = bind(fd(), vm_, unmap(kMiB + 256 * kKiB, 256 * kKiB));
  // then
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), vm_),
            "[0x100000,0x140000) loc=0 policy=0 atomic=0 pat=1\n"
            "[0x180000,0x200000) loc=0 policy=0 atomic=0 pat=1\n");
  const auto v = vmas(vm_);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].offset, 0u);
  EXPECT_EQ(v[1].offset, 512 * kKiB);
  EXPECT_EQ(v[0].bo, v[1].bo);
}

TEST_F(VmBindMapTest, UnmapOfAWholeVmaRemovesIt) {
  // given
  ASSERT_EQ(bind(fd(), vm_, map_null(kMiB, kMiB)), 0);
  ASSERT_EQ(bind(fd(), vm_, map_null(4 * kMiB, kMiB)), 0);
  // when
  const int r = bind(fd(), vm_, unmap(kMiB, kMiB));
  // then
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), vm_), "[0x400000,0x500000) loc=0 policy=0 atomic=0 pat=1\n");
}

TEST_F(VmBindMapTest, UnmapOfAHoleSucceedsAndChangesNothing) {
  // given
  ASSERT_EQ(bind(fd(), vm_, map_null(kMiB, kMiB)), 0);
  const std::string before = full_layout(fd(), vm_);
  // when
  const int r = bind(fd(), vm_, unmap(8 * kMiB, kMiB));
  // then
  EXPECT_EQ(r, 0);
  EXPECT_EQ(full_layout(fd(), vm_), before);
}

TEST_F(VmBindMapTest, UnmapAllRemovesEveryVmaOfTheBoAndNothingElse) {
  // given BO x mapped at three addresses, BO y once, and a NULL range
  const std::uint32_t x = make_bo(fd(), kMiB);
  const std::uint32_t y = make_bo(fd(), kMiB);
  ASSERT_EQ(
      bind(fd(), vm_,
           std::vector<drm_xe_vm_bind_op>{map_bo(x, kMiB, kMiB), map_bo(x, 4 * kMiB, 64 * kKiB),
                                          map_bo(x, 8 * kMiB, 512 * kKiB, 512 * kKiB),
                                          map_bo(y, 16 * kMiB, kMiB), map_null(32 * kMiB, kMiB)}),
      0);
  // when
  const int r = bind(fd(), vm_, unmap_all(x));
  // then
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), vm_),
            "[0x1000000,0x1100000) loc=0 policy=0 atomic=0 pat=1\n"
            "[0x2000000,0x2100000) loc=0 policy=0 atomic=0 pat=1\n");
}

TEST_F(VmBindMapTest, MirrorMapMergesWithAdjacentDefaultMirrorVmas) {
  // given mirror VMAs at [1M,2M) and [3M,4M)
  ASSERT_EQ(bind(fd(), fault_vm_, map_mirror(kMiB, kMiB)), 0);
  ASSERT_EQ(bind(fd(), fault_vm_, map_mirror(3 * kMiB, kMiB)), 0);
  // when the hole between them is mapped as mirror
  const int r = bind(fd(), fault_vm_, map_mirror(2 * kMiB, kMiB));
  // then
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), fault_vm_), "[0x100000,0x400000) loc=0 policy=0 atomic=0 pat=1\n");
}

TEST_F(VmBindMapTest, MirrorMapDoesNotMergeWithANeighbourWithNonDefaultAttributes) {
  // given mirror VMAs at [1M,2M) (PAT changed by madvise) and [3M,4M)
  ASSERT_EQ(bind(fd(), fault_vm_, map_mirror(kMiB, kMiB)), 0);
  ASSERT_EQ(bind(fd(), fault_vm_, map_mirror(3 * kMiB, kMiB)), 0);
  ASSERT_EQ(madvise_pat(fd(), fault_vm_, kMiB, kMiB, kB580PatCoherent2), 0);
  // when
  const int r = bind(fd(), fault_vm_, map_mirror(2 * kMiB, kMiB));
  // then only the default neighbour is absorbed
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), fault_vm_),
            "[0x100000,0x200000) loc=0 policy=0 atomic=0 pat=2\n"
            "[0x200000,0x400000) loc=0 policy=0 atomic=0 pat=1\n");
}

TEST_F(VmBindMapTest, MirrorMapDoesNotMergeWithANullNeighbour) {
  // given
  ASSERT_EQ(bind(fd(), fault_vm_, map_null(kMiB, kMiB)), 0);
  // when
  const int r = bind(fd(), fault_vm_, map_mirror(2 * kMiB, kMiB));
  // then
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), fault_vm_),
            "[0x100000,0x200000) loc=0 policy=0 atomic=0 pat=1\n"
            "[0x200000,0x300000) loc=0 policy=0 atomic=0 pat=1\n");
}

TEST_F(VmBindMapTest, StatsCountEveryBindOp) {
  // given
  const drm_sim_vm_stats before = vm_stats(fd(), vm_);
  // when
  ASSERT_EQ(bind(fd(), vm_,
                 std::vector<drm_xe_vm_bind_op>{map_null(kMiB, kMiB), map_null(4 * kMiB, kMiB),
                                                unmap(kMiB + kPage, kPage)}),
            0);
  // then
  const drm_sim_vm_stats after = vm_stats(fd(), vm_);
  EXPECT_EQ(after.binds - before.binds, 3u);
  EXPECT_EQ(after.bind_rollbacks, before.bind_rollbacks);
  EXPECT_EQ(after.num_vmas, 3u);
}

// ---------------------------------------------------------------------------
// Bind arrays are all-or-nothing (spec §6)
//
// Every test starts from this VM (b580-uapi71, so that a BO can be made
// purgeable and a bind of it fail with EBUSY inside the VM):
//
//   [1M,2M) BO a      [3M,4M) NULL      [32M,32M+64K) BO p (DONTNEED)
//
// and the three good ops of the array turn it into
//
//   [1M,1.25M) a  [1.5M,2M) a@+512K  [3M,3.5M) NULL  [3.5M,5M) NULL
//   [8M,9M) BO b  [32M,32M+64K) p

struct ArrayVm {
  std::uint32_t vm = 0;
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::uint32_t p = 0;
};

ArrayVm populate_array_vm(int fd) {
  ArrayVm s;
  s.vm = make_vm(fd);
  s.a = make_bo(fd, kMiB);
  s.b = make_bo(fd, kMiB);
  s.p = make_bo(fd, 64 * kKiB);
  EXPECT_EQ(bind(fd, s.vm,
                 std::vector<drm_xe_vm_bind_op>{map_bo(s.a, kMiB, kMiB), map_null(3 * kMiB, kMiB),
                                                map_bo(s.p, 32 * kMiB, 64 * kKiB)}),
            0);
  drm_xe_madvise m{};
  m.vm_id = s.vm;
  m.start = 32 * kMiB;
  m.range = 64 * kKiB;
  m.type = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
  m.purge_state_val.val = DRM_XE_VMA_PURGEABLE_STATE_DONTNEED;
  EXPECT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_MADVISE, &m), 0);
  return s;
}

std::vector<drm_xe_vm_bind_op> good_ops(const ArrayVm& s) {
  return {unmap(kMiB + 256 * kKiB, 256 * kKiB),                // REMAP a into two pieces
          map_null(3 * kMiB + 512 * kKiB, kMiB + 512 * kKiB),  // REMAP NULL (prev), MAP NULL
          map_bo(s.b, 8 * kMiB, kMiB)};                        // MAP b
}

constexpr const char* kLayoutAfterGoodOps =
    "[0x100000,0x140000) loc=0 policy=0 atomic=0 pat=1\n"
    "[0x180000,0x200000) loc=0 policy=0 atomic=0 pat=1\n"
    "[0x300000,0x380000) loc=0 policy=0 atomic=0 pat=1\n"
    "[0x380000,0x500000) loc=0 policy=0 atomic=0 pat=1\n"
    "[0x800000,0x900000) loc=0 policy=0 atomic=0 pat=1\n"
    "[0x2000000,0x2010000) loc=0 policy=0 atomic=0 pat=1\n";

class BindArrayTest : public IoctlTest {
 protected:
  void SetUp() override {
    IoctlTest::SetUp();
    open_device("b580-uapi71");
    s_ = populate_array_vm(fd());
  }
  // The same VM on a fresh device after an uninterrupted run of the good ops.
  static std::string uninterrupted_layout() {
    ScopedFd other = open_sim("b580-uapi71");
    const ArrayVm s = populate_array_vm(other.get());
    EXPECT_EQ(bind(other.get(), s.vm, good_ops(s)), 0);
    return full_layout(other.get(), s.vm);
  }

  ArrayVm s_;
};

TEST_F(BindArrayTest, GoodOpsApplyTogether) {
  // when
  const int r = bind(fd(), s_.vm, good_ops(s_));
  // then
  ASSERT_EQ(r, 0);
  EXPECT_EQ(layout(fd(), s_.vm), kLayoutAfterGoodOps);
}

enum class Failure { kBadBoHandle, kRangePastTheBo, kPurgeableBo };

struct ArrayCase {
  Failure failure;
  std::size_t position;  // index of the failing op in the array
};

class BindArrayFailureTest : public BindArrayTest, public ::testing::WithParamInterface<ArrayCase> {
 protected:
  std::vector<drm_xe_vm_bind_op> array_with_failure() const {
    drm_xe_vm_bind_op bad{};
    switch (GetParam().failure) {
      case Failure::kBadBoHandle:
        bad = map_bo(999, 16 * kMiB, 64 * kKiB);
        break;
      case Failure::kRangePastTheBo:
        bad = map_bo(s_.a, 16 * kMiB, 2 * kMiB);
        break;
      case Failure::kPurgeableBo:
        bad = map_bo(s_.p, 16 * kMiB, 64 * kKiB);
        break;
    }
    std::vector<drm_xe_vm_bind_op> ops = good_ops(s_);
    ops.insert(ops.begin() + static_cast<std::ptrdiff_t>(GetParam().position), bad);
    return ops;
  }
  int expected_errno() const {
    switch (GetParam().failure) {
      case Failure::kBadBoHandle:
        return ENOENT;
      case Failure::kRangePastTheBo:
        return EINVAL;
      case Failure::kPurgeableBo:
        return EBUSY;
    }
    return 0;
  }
};

TEST_P(BindArrayFailureTest, FailingOpLeavesTheVmExactlyAsBefore) {
  // given
  const std::string before = full_layout(fd(), s_.vm);
  const std::vector<drm_xe_vm_bind_op> ops = array_with_failure();
  // when
  const int r = bind(fd(), s_.vm, ops);
  // then
  EXPECT_EQ(r, -expected_errno());
  EXPECT_EQ(full_layout(fd(), s_.vm), before);
}

std::string array_case_name(const ::testing::TestParamInfo<ArrayCase>& param) {
  const char* what = "";
  switch (param.param.failure) {
    case Failure::kBadBoHandle:
      what = "BadBoHandle";
      break;
    case Failure::kRangePastTheBo:
      what = "RangePastTheBo";
      break;
    case Failure::kPurgeableBo:
      what = "PurgeableBoEBUSY";
      break;
  }
  const char* where =
      param.param.position == 0 ? "First" : (param.param.position == 3 ? "Last" : "Middle");
  return std::string(what) + "_" + where;
}

INSTANTIATE_TEST_SUITE_P(
    FirstMiddleLast, BindArrayFailureTest,
    ::testing::Values(ArrayCase{Failure::kBadBoHandle, 0}, ArrayCase{Failure::kBadBoHandle, 2},
                      ArrayCase{Failure::kBadBoHandle, 3}, ArrayCase{Failure::kRangePastTheBo, 0},
                      ArrayCase{Failure::kRangePastTheBo, 2},
                      ArrayCase{Failure::kRangePastTheBo, 3}, ArrayCase{Failure::kPurgeableBo, 0},
                      ArrayCase{Failure::kPurgeableBo, 2}, ArrayCase{Failure::kPurgeableBo, 3}),
    array_case_name);

TEST_F(BindArrayTest, RollbackInsideTheVmIsCounted) {
  // given an array whose last op fails after the others were applied
  const drm_sim_vm_stats before = vm_stats(fd(), s_.vm);
  std::vector<drm_xe_vm_bind_op> ops = good_ops(s_);
  ops.push_back(map_bo(s_.p, 16 * kMiB, 64 * kKiB));
  // when
  ASSERT_EQ(bind(fd(), s_.vm, ops), -EBUSY);
  // then
  const drm_sim_vm_stats after = vm_stats(fd(), s_.vm);
  EXPECT_EQ(after.bind_rollbacks - before.bind_rollbacks, 1u);
  EXPECT_EQ(after.binds, before.binds);
  EXPECT_EQ(after.num_vmas, before.num_vmas);
}

TEST_F(BindArrayTest, IdenticalArrayWithoutTheFailingOpThenSucceeds) {
  // given a failed array
  std::vector<drm_xe_vm_bind_op> ops = good_ops(s_);
  ops.insert(ops.begin() + 1, map_bo(s_.p, 16 * kMiB, 64 * kKiB));
  ASSERT_EQ(bind(fd(), s_.vm, ops), -EBUSY);
  // when
  const int r = bind(fd(), s_.vm, good_ops(s_));
  // then
  EXPECT_EQ(r, 0);
  EXPECT_EQ(full_layout(fd(), s_.vm), uninterrupted_layout());
}

// Runs the good ops with "fail the n-th allocation" armed for n = 1, 2, ...
// until the call succeeds. Returns the layouts seen after each failure and the
// errnos returned.
struct InjectedRun {
  std::vector<int> failed_rcs;
  std::vector<std::string> layouts_after_failure;
  int final_rc = -1;
};

InjectedRun run_with_injection(int fd, std::uint32_t vm, const std::vector<drm_xe_vm_bind_op>& ops,
                               std::uint32_t fault_op, std::uint32_t flags) {
  InjectedRun run;
  for (std::uint64_t n = 1; n <= 64; ++n) {
    EXPECT_EQ(fault_inject(fd, fault_op, n, flags), 0);
    const int r = bind(fd, vm, ops);
    EXPECT_EQ(fault_inject(fd, DRM_SIM_FAULT_CLEAR, 0), 0);
    if (r == 0) {
      run.final_rc = 0;
      return run;
    }
    run.failed_rcs.push_back(r);
    run.layouts_after_failure.push_back(full_layout(fd, vm));
  }
  return run;
}

TEST_F(BindArrayTest, EveryInjectedAllocationFailureLeavesTheVmAsBefore) {
  // given
  const std::string before = full_layout(fd(), s_.vm);
  // when
  const InjectedRun run =
      run_with_injection(fd(), s_.vm, good_ops(s_), DRM_SIM_FAULT_FAIL_ALLOC_AT, 0);
  // then: each op creates at least one VMA, so at least three allocations fail
  EXPECT_GE(run.failed_rcs.size(), 3u);
  for (std::size_t i = 0; i < run.failed_rcs.size(); ++i) {
    EXPECT_EQ(run.failed_rcs[i], -ENOMEM) << "allocation " << i + 1;
    EXPECT_EQ(run.layouts_after_failure[i], before) << "allocation " << i + 1;
  }
}

TEST_F(BindArrayTest, RestartAfterAllocationFailuresReachesTheUninterruptedLayout) {
  // when
  const InjectedRun run =
      run_with_injection(fd(), s_.vm, good_ops(s_), DRM_SIM_FAULT_FAIL_ALLOC_AT, 0);
  // then
  EXPECT_EQ(run.final_rc, 0);
  EXPECT_EQ(layout(fd(), s_.vm), kLayoutAfterGoodOps);
  EXPECT_EQ(full_layout(fd(), s_.vm), uninterrupted_layout());
}

TEST_F(BindArrayTest, AllocationFailuresAreCountedAsRollbacks) {
  // given
  const drm_sim_vm_stats before = vm_stats(fd(), s_.vm);
  // when
  const InjectedRun run =
      run_with_injection(fd(), s_.vm, good_ops(s_), DRM_SIM_FAULT_FAIL_ALLOC_AT, 0);
  // then
  const drm_sim_vm_stats after = vm_stats(fd(), s_.vm);
  EXPECT_EQ(after.bind_rollbacks - before.bind_rollbacks, run.failed_rcs.size());
  EXPECT_EQ(after.binds - before.binds, 3u);
}

TEST_F(BindArrayTest, EveryInjectedSignalLeavesTheVmAsBefore) {
  // given
  const std::string before = full_layout(fd(), s_.vm);
  // when
  const InjectedRun run =
      run_with_injection(fd(), s_.vm, good_ops(s_), DRM_SIM_FAULT_SIGNAL_AT_WAIT, 0);
  // then: the array locks BO b interruptibly, so at least one wait is interrupted
  EXPECT_GE(run.failed_rcs.size(), 1u);
  for (std::size_t i = 0; i < run.failed_rcs.size(); ++i) {
    EXPECT_EQ(run.failed_rcs[i], -EINTR) << "wait " << i + 1;
    EXPECT_EQ(run.layouts_after_failure[i], before) << "wait " << i + 1;
  }
}

TEST_F(BindArrayTest, RestartAfterSignalsReachesTheUninterruptedLayout) {
  // when
  const InjectedRun run =
      run_with_injection(fd(), s_.vm, good_ops(s_), DRM_SIM_FAULT_SIGNAL_AT_WAIT, 0);
  // then
  EXPECT_EQ(run.final_rc, 0);
  EXPECT_EQ(full_layout(fd(), s_.vm), uninterrupted_layout());
}

TEST_F(BindArrayTest, FatalSignalAtTheKillableVmLockLeavesTheVmAsBefore) {
  // given a fatal signal at the first wait (the VM lock, taken killable)
  const std::string before = full_layout(fd(), s_.vm);
  ASSERT_EQ(fault_inject(fd(), DRM_SIM_FAULT_SIGNAL_AT_WAIT, 1, DRM_SIM_FAULT_FLAG_FATAL), 0);
  // when
  const int r = bind(fd(), s_.vm, good_ops(s_));
  ASSERT_EQ(fault_inject(fd(), DRM_SIM_FAULT_CLEAR, 0), 0);
  // then
  EXPECT_EQ(r, -EINTR);
  EXPECT_EQ(full_layout(fd(), s_.vm), before);
}

}  // namespace
}  // namespace drm_sim_test
