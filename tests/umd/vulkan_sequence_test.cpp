// vkAllocateMemory/vkFreeMemory through the UMD against the real simulator,
// every ioctl recorded: the exact sequence (request codes and key fields) for
// each row of the placement table, and that every profile accepts every
// memory type in every mode.
#include "scripted_xe.h"
#include "umd/uapi/build.h"
#include "umd/vulkan/allocator.h"

namespace umd_test {
namespace {

using vk::AllocationRequest;
using vk::MemoryAllocator;
using Names = std::vector<std::string>;

class VulkanSequenceTest : public ::testing::Test {
 protected:
  void open(const char* profile, VmMode mode = VmMode::kFault) {
    rig_ = std::make_unique<SimRig>(profile);
    auto vm = Vm::create(rig_->device(), {mode, false});
    ASSERT_TRUE(vm.has_value());
    vm_ = std::move(*vm);
    auto a = MemoryAllocator::for_vm(*vm_);
    ASSERT_TRUE(a.has_value());
    alloc_ = std::make_unique<MemoryAllocator>(std::move(*a));
  }
  // Allocates, records the allocation's ioctls, frees, records the free's.
  void run(const AllocationRequest& r) {
    const std::size_t mark = rig_->mark();
    auto m = alloc_->allocate(r);
    ASSERT_TRUE(m.has_value()) << to_string(m.result());
    range_ = (*m)->gpu_range();
    handle_ = (*m)->bo_handle();
    const std::size_t after_alloc = rig_->mark();
    m->reset();
    const auto all = rig_->calls();
    alloc_calls_.assign(all.begin() + static_cast<long>(mark),
                        all.begin() + static_cast<long>(after_alloc));
    free_calls_.assign(all.begin() + static_cast<long>(after_alloc), all.end());
    for (const auto& c : all) EXPECT_EQ(c.rc, 0) << request_name(c.request);
  }

  std::unique_ptr<SimRig> rig_;
  std::unique_ptr<Vm> vm_;
  std::unique_ptr<MemoryAllocator> alloc_;
  std::vector<FakeBackend::Call> alloc_calls_;
  std::vector<FakeBackend::Call> free_calls_;
  GpuRange range_;
  std::uint32_t handle_ = 0;
};

TEST_F(VulkanSequenceTest, DeviceLocalIsGemCreateInVramThenABindAndTheReverseOnFree) {
  // given
  open("b580");
  // when
  run({0, 3 * kMiB});
  // then
  ASSERT_EQ(names(alloc_calls_), (Names{"GEM_CREATE", "VM_BIND"}));
  const auto gem = alloc_calls_[0].as<drm_xe_gem_create>();
  EXPECT_EQ(gem.size, 3 * kMiB);
  EXPECT_EQ(gem.placement, region_bit(1));
  EXPECT_EQ(gem.cpu_caching, DRM_XE_GEM_CPU_CACHING_WC);
  EXPECT_EQ(gem.flags, 0u);
  const auto bind = alloc_calls_[1].as<drm_xe_vm_bind>();
  EXPECT_EQ(bind.vm_id, vm_->id());
  EXPECT_EQ(bind.num_binds, 1u);
  EXPECT_EQ(bind.bind.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_MAP));
  EXPECT_EQ(bind.bind.obj, handle_);
  EXPECT_EQ(bind.bind.obj_offset, 0u);
  EXPECT_EQ(bind.bind.addr, range_.start);
  EXPECT_EQ(bind.bind.range, 3 * kMiB);
  EXPECT_EQ(bind.bind.pat_index, 6u);
  EXPECT_EQ(bind.bind.flags, 0u);
  EXPECT_EQ(range_.start % (64 * 1024), 0u);
  ASSERT_EQ(names(free_calls_), (Names{"VM_BIND", "GEM_CLOSE"}));
  const auto unbind = free_calls_[0].as<drm_xe_vm_bind>();
  EXPECT_EQ(unbind.bind.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_UNMAP));
  EXPECT_EQ(unbind.bind.addr, range_.start);
  EXPECT_EQ(unbind.bind.range, 3 * kMiB);
  EXPECT_EQ(free_calls_[1].as<drm_gem_close>().handle, handle_);
}

TEST_F(VulkanSequenceTest, HostCachedIsAWriteBackSystemBoBoundCoherent) {
  open("b580");
  run({2, kMiB});
  ASSERT_EQ(names(alloc_calls_), (Names{"GEM_CREATE", "VM_BIND"}));
  EXPECT_EQ(alloc_calls_[0].as<drm_xe_gem_create>().placement, region_bit(0));
  EXPECT_EQ(alloc_calls_[0].as<drm_xe_gem_create>().cpu_caching, DRM_XE_GEM_CPU_CACHING_WB);
  EXPECT_EQ(alloc_calls_[1].as<drm_xe_vm_bind>().bind.pat_index, 1u);
}

TEST_F(VulkanSequenceTest, LowPriorityDeviceLocalMayLiveInSystemMemory) {
  open("b580");
  run({0, kMiB, 0.1f});
  ASSERT_EQ(names(alloc_calls_), (Names{"GEM_CREATE", "VM_BIND"}));
  EXPECT_EQ(alloc_calls_[0].as<drm_xe_gem_create>().placement, region_bit(0) | region_bit(1));
  EXPECT_EQ(alloc_calls_[0].as<drm_xe_gem_create>().cpu_caching, DRM_XE_GEM_CPU_CACHING_WC);
}

TEST_F(VulkanSequenceTest, PageableDeviceLocalOnAFaultVmIsAMirrorPreferringVram) {
  // given
  open("b580");
  // when
  run({0, 2 * kMiB, 0.5f, true});
  // then: no BO, a mirror bind at the CPU address, then one madvise
  ASSERT_EQ(names(alloc_calls_), (Names{"VM_BIND", "MADVISE"}));
  const auto bind = alloc_calls_[0].as<drm_xe_vm_bind>();
  EXPECT_EQ(bind.bind.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_MAP));
  EXPECT_EQ(bind.bind.obj, 0u);
  EXPECT_EQ(bind.bind.flags, static_cast<std::uint32_t>(DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR |
                                                        DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET));
  EXPECT_EQ(bind.bind.addr, range_.start);
  EXPECT_EQ(bind.bind.range, 2 * kMiB);
  EXPECT_EQ(bind.bind.pat_index, 1u);
  const auto m = alloc_calls_[1].as<drm_xe_madvise>();
  EXPECT_EQ(m.vm_id, vm_->id());
  EXPECT_EQ(m.start, range_.start);
  EXPECT_EQ(m.range, 2 * kMiB);
  EXPECT_EQ(m.type, static_cast<std::uint32_t>(DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC));
  EXPECT_EQ(m.preferred_mem_loc.devmem_fd,
            static_cast<std::uint32_t>(DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE));
  EXPECT_EQ(m.preferred_mem_loc.migration_policy, DRM_XE_MIGRATE_ALL_PAGES);
  ASSERT_EQ(names(free_calls_), (Names{"VM_BIND"}));
  EXPECT_EQ(free_calls_[0].as<drm_xe_vm_bind>().bind.op,
            static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_UNMAP));
}

TEST_F(VulkanSequenceTest, PageableLowPriorityMirrorPrefersSystemAndReadsBackSo) {
  // given
  open("b580");
  // when
  auto m = alloc_->allocate({0, 4 * kMiB, 0.0f, true});
  // then
  ASSERT_TRUE(m.has_value());
  const auto last = rig_->calls().back().as<drm_xe_madvise>();
  EXPECT_EQ(last.preferred_mem_loc.devmem_fd, 0xffffffffu);
  auto ranges = vm_->query_mem_ranges((*m)->gpu_range());
  ASSERT_TRUE(ranges.has_value());
  ASSERT_EQ(ranges->size(), 1u);
  EXPECT_EQ((*ranges)[0].range, (*m)->gpu_range());
  EXPECT_EQ((*ranges)[0].preferred, PreferredLocation::system());
}

TEST_F(VulkanSequenceTest, PageableOnANonFaultVmIsAnEvictableBo) {
  open("b580", VmMode::kLongRunning);
  run({0, kMiB, 0.5f, true});
  ASSERT_EQ(names(alloc_calls_), (Names{"GEM_CREATE", "VM_BIND"}));
  EXPECT_EQ(alloc_calls_[0].as<drm_xe_gem_create>().placement, region_bit(0) | region_bit(1));
}

TEST_F(VulkanSequenceTest, PvcSecondTileVramIsRoundedTo64KibAndBoundWithTheXeHpcWcPat) {
  open("pvc");
  run({1, 100 * 1024});
  ASSERT_EQ(names(alloc_calls_), (Names{"GEM_CREATE", "VM_BIND"}));
  const auto gem = alloc_calls_[0].as<drm_xe_gem_create>();
  EXPECT_EQ(gem.placement, region_bit(2));
  EXPECT_EQ(gem.size, 128u * 1024);
  const auto bind = alloc_calls_[1].as<drm_xe_vm_bind>();
  EXPECT_EQ(bind.bind.range, 128u * 1024);
  EXPECT_EQ(bind.bind.addr % (64 * 1024), 0u);
  EXPECT_EQ(bind.bind.pat_index, 1u);
}

TEST_F(VulkanSequenceTest, IntegratedHostCachedIsWriteBackSystemMemory) {
  open("integrated");
  run({2, kMiB});
  ASSERT_EQ(names(alloc_calls_), (Names{"GEM_CREATE", "VM_BIND"}));
  EXPECT_EQ(alloc_calls_[0].as<drm_xe_gem_create>().placement, region_bit(0));
  EXPECT_EQ(alloc_calls_[0].as<drm_xe_gem_create>().cpu_caching, DRM_XE_GEM_CPU_CACHING_WB);
  EXPECT_EQ(alloc_calls_[1].as<drm_xe_vm_bind>().bind.pat_index, 1u);
}

TEST_F(VulkanSequenceTest, AFailedBindClosesTheBoItCreated) {
  // given the simulator refuses the bind
  open("b580");
  rig_->fake().inject_for(DRM_IOCTL_XE_VM_BIND, ENOMEM, 1);
  const std::size_t mark = rig_->mark();
  // when
  auto m = alloc_->allocate({0, kMiB});
  // then
  EXPECT_EQ(m.result(), Result::kOutOfMemory);
  EXPECT_EQ(names(rig_->calls(), mark), (Names{"GEM_CREATE", "VM_BIND", "GEM_CLOSE"}));
}

TEST(VulkanSmallBarTest, HostVisibleVramAsksForCpuVisibleVram) {
  // given a scripted small-BAR device (no built-in profile has one)
  FakeBackend fake;
  ScriptedXe xe;
  xe.regions = {ScriptedXe::region(DRM_XE_MEM_REGION_CLASS_SYSMEM, 0, 16ull << 30),
                ScriptedXe::region(DRM_XE_MEM_REGION_CLASS_VRAM, 1, 8ull << 30, 256ull << 20)};
  xe.install(fake);
  auto dev = Device::over_backend(fake);
  ASSERT_TRUE(dev.has_value());
  auto vm = Vm::create(**dev);
  auto alloc = MemoryAllocator::for_vm(**vm);
  ASSERT_TRUE(alloc.has_value());
  const int type = alloc->table().find_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
                                            VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  ASSERT_EQ(type, 3);
  const std::size_t mark = fake.call_count();
  // when
  auto m = alloc->allocate({static_cast<std::uint32_t>(type), kMiB});
  // then
  ASSERT_TRUE(m.has_value());
  const auto calls = fake.calls();
  ASSERT_EQ(names(calls, mark), (Names{"GEM_CREATE", "VM_BIND"}));
  EXPECT_EQ(calls[mark].as<drm_xe_gem_create>().flags,
            static_cast<std::uint32_t>(DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM));
  EXPECT_EQ(calls[mark].as<drm_xe_gem_create>().placement, region_bit(1));
}

// Every profile accepts every memory type, pageable or not, at low and
// default priority: the simulator's argument checks agree with the mapping.
class EveryTypeTest : public ::testing::TestWithParam<const char*> {};

TEST_P(EveryTypeTest, EveryMemoryTypeInEveryModeAllocatesAndFrees) {
  SimRig rig(GetParam());
  auto vm = Vm::create(rig.device());
  ASSERT_TRUE(vm.has_value());
  auto alloc = MemoryAllocator::for_vm(**vm);
  ASSERT_TRUE(alloc.has_value());
  for (std::uint32_t type = 0; type < alloc->table().type_count(); ++type) {
    for (bool pageable : {false, true}) {
      for (float priority : {0.0f, 0.5f, 1.0f}) {
        auto m = alloc->allocate({type, 192 * 1024, priority, pageable});
        EXPECT_TRUE(m.has_value()) << GetParam() << " type " << type << " pageable " << pageable
                                   << " priority " << priority << ": " << to_string(m.result());
      }
    }
  }
  for (const auto& c : rig.calls()) EXPECT_EQ(c.rc, 0) << request_name(c.request);
}

INSTANTIATE_TEST_SUITE_P(Profiles, EveryTypeTest,
                         ::testing::Values("b580", "pvc", "integrated", "small", "b580-uapi71",
                                           "b580-xelink"),
                         [](const auto& p) {
                           std::string n = p.param;
                           for (char& c : n) c = (c == '-') ? '_' : c;
                           return n;
                         });

}  // namespace
}  // namespace umd_test
