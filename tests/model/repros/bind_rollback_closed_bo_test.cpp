// tests/model/repros/bind_rollback_closed_bo_test.cpp — engine bug found by
// drm_sim_differential: rolling back a VM_BIND array crashes the simulator
// when an op of the array dropped the last VMA of a BO whose GEM handle was
// already closed.
//
// Spec §6: "An array of binds is all-or-nothing: on any error ... the VM is
// restored to its state before the call". Here op 0 unmaps the only VMA of
// BO a (handle closed, so the VMA holds its last reference) and op 1 fails
// inside the VM (-EBUSY: BO p is purgeable). The simulator frees BO a while
// applying op 0; the rollback then re-inserts a's VMA and takes a VMA
// reference on the freed BO: Device::get_vma_ref_locked() asserts
// (b != nullptr) in Debug builds and dereferences null (SIGSEGV) in
// RelWithDebInfo. Any in-VM failure does it (-ENOMEM from an injected
// allocation failure, -EINTR at a later wait, -EBUSY); the differential
// run finds it within a few hundred sequences.
//
// Fixed in 8faefd2 (BOs unmapped during an array are pinned until it commits
// or rolls back); now a regression test.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <string>

#include "drm_sim/drm_sim.h"
#include "drm_sim/ioctl/fd_table.h"
#include "model/sim_observer.h"

namespace {

constexpr std::uint64_t kPage = 4096;

std::uint32_t make_bo(int fd, std::map<std::uint32_t, std::uint32_t>* bo_ids) {
  drm_xe_gem_create c{};
  c.size = 4 * kPage;
  c.placement = 1;  // system memory
  c.cpu_caching = DRM_XE_GEM_CPU_CACHING_WB;
  EXPECT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_GEM_CREATE, &c), 0);
  const auto id = drm_sim::file_from_fd(fd)->bo_of(c.handle);
  EXPECT_TRUE(id.is_ok());
  if (id.is_ok()) (*bo_ids)[id.value()] = static_cast<std::uint32_t>(bo_ids->size() + 1);
  return c.handle;
}

drm_xe_vm_bind_op map_bo(std::uint32_t handle, std::uint64_t addr) {
  drm_xe_vm_bind_op o{};
  o.op = DRM_XE_VM_BIND_OP_MAP;
  o.obj = handle;
  o.pat_index = 1;  // coherent
  o.addr = addr;
  o.range = 4 * kPage;
  return o;
}

int bind(int fd, std::uint32_t vm, drm_xe_vm_bind_op* ops, std::uint32_t n) {
  drm_xe_vm_bind b{};
  b.vm_id = vm;
  b.num_binds = n;
  if (n == 1) {
    b.bind = ops[0];
  } else {
    b.vector_of_binds = reinterpret_cast<std::uintptr_t>(ops);
  }
  return drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_BIND, &b);
}

TEST(DifferentialRepro, ArrayRollbackAfterFreeingAClosedBo) {
  // given (b580-uapi71): BO a mapped at 0x10000 with its handle closed, and
  // BO p mapped at 0x20000 and made purgeable
  const int fd = drm_sim_open("b580-uapi71");
  ASSERT_GE(fd, 0);
  drm_xe_vm_create vc{};
  vc.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
  ASSERT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &vc), 0);
  const std::uint32_t vm = vc.vm_id;
  std::map<std::uint32_t, std::uint32_t> bo_ids;  // device BO id -> model BO id
  const std::uint32_t a = make_bo(fd, &bo_ids);
  const std::uint32_t p = make_bo(fd, &bo_ids);
  drm_xe_vm_bind_op map_a = map_bo(a, 0x10000);
  drm_xe_vm_bind_op map_p = map_bo(p, 0x20000);
  ASSERT_EQ(bind(fd, vm, &map_a, 1), 0);
  ASSERT_EQ(bind(fd, vm, &map_p, 1), 0);
  drm_xe_madvise m{};
  m.vm_id = vm;
  m.start = 0x20000;
  m.range = 4 * kPage;
  m.type = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
  m.purge_state_val.val = DRM_XE_VMA_PURGEABLE_STATE_DONTNEED;
  ASSERT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_MADVISE, &m), 0);
  drm_gem_close c{};
  c.handle = a;
  ASSERT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c), 0);
  const std::string before = drm_sim_model::describe_sim(fd, vm, bo_ids);
  // when: UNMAP a's VMA, then MAP the purgeable BO p (-EBUSY inside the VM)
  drm_xe_vm_bind_op ops[2] = {};
  ops[0].op = DRM_XE_VM_BIND_OP_UNMAP;
  ops[0].addr = 0x10000;
  ops[0].range = 4 * kPage;
  ops[1] = map_bo(p, 0x30000);
  const int rc = bind(fd, vm, ops, 2);  // the simulator crashes here
  // then: the array failed as a whole and the VM is exactly as before
  EXPECT_EQ(rc, -EBUSY);
  EXPECT_EQ(drm_sim_model::describe_sim(fd, vm, bo_ids), before);
  EXPECT_EQ(before,
            "[0x10000,0x14000) bo#1@0x0 flags=0x0 dpat=1 loc=0 ri=0 pol=0 atomic=0 pat=1 purge=0\n"
            "[0x20000,0x24000) bo#2@0x0 flags=0x0 dpat=1 loc=0 ri=0 pol=0 atomic=0 pat=1 purge=1\n"
            "bo#1 size=0x4000 handles=0 vmas=1 dontneed=0 atomic=0\n"
            "bo#2 size=0x4000 handles=1 vmas=1 dontneed=1 atomic=0\n");
  close(fd);
}

}  // namespace
