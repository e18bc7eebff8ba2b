// differential_repro_b580_uapi71_seed5_seq119.cpp — minimal reproducer written by
// drm_sim_differential.
//
// Found by: drm_sim_differential --seed 5 --ops 300 --only 119 --profile b580-uapi71
// Shrunk from 120 ops to 7.
//
// Mismatch (crash:SIGSEGV) at step 6:
//   the simulator process died (SIGSEGV) during this step: bind UNMAP [0xb4000,0xe5000) pat=11 ;
//   MAP bo=h2 [0x8c000,0xb8000) @0x0 pat=23
//
// Every expectation of the last step comes from the reference model
// (tests/model/ref_model.cpp); the earlier steps assert what the simulator
// returned when the model agreed. Paste under tests/unit/ or tests/model/.
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

[[maybe_unused]] void inject(int fd, std::uint32_t op, std::uint32_t flags, std::uint64_t n) {
  drm_sim_fault_inject f{};
  f.op = op;
  f.flags = flags;
  f.n = n;
  ASSERT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_SIM_FAULT_INJECT, &f), 0);
}

[[maybe_unused]] void clear_faults(int fd) {
  inject(fd, DRM_SIM_FAULT_CLEAR, 0, 0);
}

TEST(DifferentialRepro, DifferentialReproB580Uapi71Seed5Seq119) {
  const int fd = drm_sim_open("b580-uapi71");
  ASSERT_GE(fd, 0);
  drm_xe_vm_create vc{};
  vc.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
  ASSERT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &vc), 0);
  const std::uint32_t vm = vc.vm_id;
  std::map<std::uint32_t, std::uint32_t> bo_ids;  // device BO id -> model BO id
  std::uint32_t next_bo = 0;
  int rc = 0;

  // step 0: gem_create size=0x18000 placement=0x3 WC
  {
    drm_xe_gem_create c{};
    auto call = [&] {
      c = drm_xe_gem_create{};
      c.size = 0x18000;
      c.placement = 0x3;
      c.cpu_caching = 2;
      return drm_sim_ioctl(fd, DRM_IOCTL_XE_GEM_CREATE, &c);
    };
    rc = call();
    ASSERT_EQ(rc, 0);
    if (rc == 0) bo_ids[drm_sim::file_from_fd(fd)->bo_of(c.handle).value()] = ++next_bo;
  }

  // step 1: gem_create size=0x2c000 placement=0x3 WC
  {
    drm_xe_gem_create c{};
    auto call = [&] {
      c = drm_xe_gem_create{};
      c.size = 0x2c000;
      c.placement = 0x3;
      c.cpu_caching = 2;
      return drm_sim_ioctl(fd, DRM_IOCTL_XE_GEM_CREATE, &c);
    };
    rc = call();
    ASSERT_EQ(rc, 0);
    if (rc == 0) bo_ids[drm_sim::file_from_fd(fd)->bo_of(c.handle).value()] = ++next_bo;
  }

  // step 2: bind MAP bo=h1 [0xb8000,0xba000) @0x4000 pat=23 IMMEDIATE|DUMPABLE
  {
    auto call = [&] {
      drm_xe_vm_bind_op ops[1] = {};
      ops[0].op = 0;
      ops[0].obj = 1;
      ops[0].pat_index = 23;
      ops[0].obj_offset = 0x4000;
      ops[0].addr = 0xb8000;
      ops[0].range = 0x2000;
      ops[0].flags = 0xa;
      drm_xe_vm_bind b{};
      b.vm_id = vm;
      b.num_binds = 1;
      b.bind = ops[0];
      return drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_BIND, &b);
    };
    rc = call();
    ASSERT_EQ(rc, 0);
  }

  // step 3: bind MAP bo=h2 [0xb3000,0xb4000) @0x3000 pat=14 DUMPABLE
  {
    auto call = [&] {
      drm_xe_vm_bind_op ops[1] = {};
      ops[0].op = 0;
      ops[0].obj = 2;
      ops[0].pat_index = 14;
      ops[0].obj_offset = 0x3000;
      ops[0].addr = 0xb3000;
      ops[0].range = 0x1000;
      ops[0].flags = 0x8;
      drm_xe_vm_bind b{};
      b.vm_id = vm;
      b.num_binds = 1;
      b.bind = ops[0];
      return drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_BIND, &b);
    };
    rc = call();
    ASSERT_EQ(rc, 0);
  }

  // step 4: madvise [0x8d000,0xb8000) PURGEABLE_STATE DONTNEED
  {
    auto call = [&] {
      drm_xe_madvise m{};
      m.vm_id = vm;
      m.start = 0x8d000;
      m.range = 0x2b000;
      m.type = 3;
      m.purge_state_val.val = 1;
      return drm_sim_ioctl(fd, DRM_IOCTL_XE_MADVISE, &m);
    };
    rc = call();
    ASSERT_EQ(rc, 0);
  }

  // step 5: gem_close h1
  {
    auto call = [&] {
      drm_gem_close c{};
      c.handle = 1;
      return drm_sim_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
    };
    rc = call();
    ASSERT_EQ(rc, 0);
  }

  // step 6: bind UNMAP [0xb4000,0xe5000) pat=11 ; MAP bo=h2 [0x8c000,0xb8000) @0x0 pat=23
  {
    auto call = [&] {
      drm_xe_vm_bind_op ops[2] = {};
      ops[0].op = 1;
      ops[0].pat_index = 11;
      ops[0].addr = 0xb4000;
      ops[0].range = 0x31000;
      ops[1].op = 0;
      ops[1].obj = 2;
      ops[1].pat_index = 23;
      ops[1].addr = 0x8c000;
      ops[1].range = 0x2c000;
      drm_xe_vm_bind b{};
      b.vm_id = vm;
      b.num_binds = 2;
      b.vector_of_binds = reinterpret_cast<std::uintptr_t>(ops);
      return drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_BIND, &b);
    };
    rc = call();
    // The simulator crashed in this call (crash:SIGSEGV).
    EXPECT_EQ(rc, -EBUSY);
    EXPECT_EQ(
        drm_sim_model::describe_sim(fd, vm, bo_ids),
        std::string(
            R"repro([0xb3000,0xb4000) bo#2@0x3000 flags=0x8 dpat=14 loc=0 ri=0 pol=0 atomic=0 pat=14 purge=1
[0xb8000,0xba000) bo#1@0x4000 flags=0xa dpat=23 loc=0 ri=0 pol=0 atomic=0 pat=23 purge=0
bo#1 size=0x18000 handles=0 vmas=1 dontneed=0 atomic=0
bo#2 size=0x2c000 handles=1 vmas=1 dontneed=1 atomic=0
)repro"));
    int qrc = 0;
    EXPECT_EQ(drm_sim_model::query_sim(fd, vm, 0, 0x1000000000000ull, 0, &qrc),
              std::string(R"repro(count=2 sizeof=64
fill rc=0 num=2
[0xb3000,0xb4000) loc=0x0 pol=0 atomic=0 pat=14
[0xb8000,0xba000) loc=0x0 pol=0 atomic=0 pat=23
)repro"));
  }
  close(fd);
}

}  // namespace
