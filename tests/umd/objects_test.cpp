// Device, Vm, BufferObject and SvmAllocation against a scripted FakeBackend:
// the exact ioctls each object issues and how their results come back.
#include <cerrno>

#include "scripted_xe.h"
#include "umd/objects/buffer_object.h"
#include "umd/objects/svm_allocation.h"
#include "umd/uapi/build.h"

namespace umd_test {
namespace {

using Names = std::vector<std::string>;

class ObjectsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    xe_.regions = {ScriptedXe::region(DRM_XE_MEM_REGION_CLASS_SYSMEM, 0, 1ull << 34),
                   ScriptedXe::region(DRM_XE_MEM_REGION_CLASS_VRAM, 1, 12ull << 30, 12ull << 30)};
    xe_.install(fake_);
  }
  std::unique_ptr<Device> open() {
    auto d = Device::over_backend(fake_);
    EXPECT_TRUE(d.has_value()) << to_string(d.result());
    return d ? std::move(*d) : nullptr;
  }

  FakeBackend fake_;
  ScriptedXe xe_;
};

TEST_F(ObjectsTest, OpeningADeviceAsksVersionThenConfigAndMemRegionsWithTwoCallsEach) {
  // when
  auto dev = open();
  // then
  ASSERT_NE(dev, nullptr);
  const auto calls = fake_.calls();
  EXPECT_EQ(names(calls),
            (Names{"VERSION", "DEVICE_QUERY", "DEVICE_QUERY", "DEVICE_QUERY", "DEVICE_QUERY"}));
  const auto q1 = calls[1].as<drm_xe_device_query>();
  const auto q2 = calls[2].as<drm_xe_device_query>();
  const auto q3 = calls[3].as<drm_xe_device_query>();
  const auto q4 = calls[4].as<drm_xe_device_query>();
  EXPECT_EQ(q1.query, static_cast<std::uint32_t>(DRM_XE_DEVICE_QUERY_CONFIG));
  EXPECT_EQ(q1.size, 0u);
  EXPECT_EQ(q2.query, static_cast<std::uint32_t>(DRM_XE_DEVICE_QUERY_CONFIG));
  EXPECT_EQ(q2.size, sizeof(drm_xe_query_config) + 5 * 8);
  EXPECT_NE(q2.data, 0u);
  EXPECT_EQ(q3.query, static_cast<std::uint32_t>(DRM_XE_DEVICE_QUERY_MEM_REGIONS));
  EXPECT_EQ(q3.size, 0u);
  EXPECT_EQ(q4.size, sizeof(drm_xe_query_mem_regions) + 2 * sizeof(drm_xe_mem_region));
  EXPECT_EQ(dev->driver_name(), "xe");
  EXPECT_EQ(dev->config().pci_device_id, 0xe20b);
  ASSERT_EQ(dev->mem_regions().size(), 2u);
  EXPECT_EQ(dev->vram_regions().size(), 1u);
  EXPECT_EQ(dev->system_region()->instance, 0);
}

TEST_F(ObjectsTest, ADriverThatIsNotXeIsNotSupported) {
  xe_.driver = "i915";
  EXPECT_EQ(Device::over_backend(fake_).result(), Result::kNotSupported);
  EXPECT_EQ(names(fake_.calls()), (Names{"VERSION"}));
}

TEST_F(ObjectsTest, AFailingQuerySurfacesAsTheUmdResult) {
  fake_.inject_for(DRM_IOCTL_XE_DEVICE_QUERY, ENODEV, 1);
  EXPECT_EQ(Device::over_backend(fake_).result(), Result::kDeviceLost);
}

TEST_F(ObjectsTest, InterruptedOpenIsRestartedByTheDefaultPolicy) {
  fake_.inject(EINTR, 2);
  auto dev = Device::over_backend(fake_);
  ASSERT_TRUE(dev.has_value());
  EXPECT_EQ((*dev)->restart_counters().restarts, 2u);
  EXPECT_EQ(names(fake_.calls()), (Names{"VERSION", "VERSION", "VERSION", "DEVICE_QUERY",
                                         "DEVICE_QUERY", "DEVICE_QUERY", "DEVICE_QUERY"}));
}

TEST(DeviceOpenTest, AMissingRenderNodeIsNotFound) {
  EXPECT_EQ(Device::open_path("/nonexistent/dri/renderD128").result(), Result::kNotFound);
}

TEST(DeviceOpenTest, AnUnknownProfileIsNotFound) {
  EXPECT_EQ(Device::open_profile("no-such-profile").result(), Result::kNotFound);
}

TEST(DeviceOpenTest, ASimulatedProfileReportsItsConfigAndRegions) {
  auto dev = Device::open_profile("pvc");
  ASSERT_TRUE(dev.has_value());
  const Device& d = **dev;
  EXPECT_GE(d.fd(), 0);
  EXPECT_EQ(d.driver_name(), "xe");
  EXPECT_EQ(d.config().pci_device_id, 0x0bd5);
  EXPECT_EQ(d.config().va_bits, 57u);
  EXPECT_TRUE(d.config().has_vram);
  EXPECT_EQ(d.config().min_alignment, 65536u);
  ASSERT_EQ(d.mem_regions().size(), 3u);
  EXPECT_EQ(d.mem_regions()[2],
            (MemRegion{MemClass::kVram, 2, 65536, 64ull << 30, 0, 64ull << 30, 0}));
  EXPECT_EQ(d.pat(), (PatConfig{1, 3}));
}

TEST_F(ObjectsTest, AVmIsCreatedWithItsModeFlagsAndDestroyedById) {
  auto dev = open();
  const std::size_t mark = fake_.call_count();
  {
    auto vm = Vm::create(*dev, {VmMode::kFault, false});
    ASSERT_TRUE(vm.has_value());
    EXPECT_EQ((*vm)->id(), 1u);
    EXPECT_TRUE((*vm)->fault_mode());
  }
  const auto calls = fake_.calls();
  EXPECT_EQ(names(calls, mark), (Names{"VM_CREATE", "VM_DESTROY"}));
  EXPECT_EQ(
      calls[mark].as<drm_xe_vm_create>().flags,
      static_cast<std::uint32_t>(DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE));
  EXPECT_EQ(calls[mark + 1].as<drm_xe_vm_destroy>().vm_id, 1u);
}

TEST_F(ObjectsTest, ABufferObjectIsClosedWithItsHandle) {
  auto dev = open();
  const std::size_t mark = fake_.call_count();
  GemCreateDesc d;
  d.size = 64 * 1024;
  d.placement = region_bit(1);
  {
    auto bo = BufferObject::create(*dev, d);
    ASSERT_TRUE(bo.has_value());
    EXPECT_EQ(bo->handle(), 1u);
    BufferObject moved = std::move(*bo);  // ownership moves, no close yet
    EXPECT_EQ(moved.handle(), 1u);
  }
  const auto calls = fake_.calls();
  EXPECT_EQ(names(calls, mark), (Names{"GEM_CREATE", "GEM_CLOSE"}));
  EXPECT_EQ(calls[mark].as<drm_xe_gem_create>().placement, 0x2u);
  EXPECT_EQ(calls[mark + 1].as<drm_gem_close>().handle, 1u);
}

TEST_F(ObjectsTest, ARefusedBufferObjectReportsTheDriversResult) {
  auto dev = open();
  fake_.inject_for(DRM_IOCTL_XE_GEM_CREATE, ENOMEM, 1);
  const std::size_t mark = fake_.call_count();
  EXPECT_EQ(BufferObject::create(*dev, GemCreateDesc{}).result(), Result::kOutOfMemory);
  EXPECT_EQ(names(fake_.calls(), mark), (Names{"GEM_CREATE"})) << "nothing to close";
}

TEST_F(ObjectsTest, AnSvmAllocationIsAMirrorBindWithAutoresetAndUnbindsOnDestruction) {
  auto dev = open();
  auto vm = Vm::create(*dev);
  ASSERT_TRUE(vm.has_value());
  const std::size_t mark = fake_.call_count();
  const GpuRange cpu{0x7f0000000000, 16 * kPage};
  {
    auto svm = SvmAllocation::adopt(**vm, cpu);
    ASSERT_TRUE(svm.has_value());
    EXPECT_EQ(svm->range(), cpu);
  }
  const auto calls = fake_.calls();
  EXPECT_EQ(names(calls, mark), (Names{"VM_BIND", "VM_BIND"}));
  const auto map = calls[mark].as<drm_xe_vm_bind>();
  EXPECT_EQ(map.vm_id, 1u);
  EXPECT_EQ(map.num_binds, 1u);
  EXPECT_EQ(map.bind.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_MAP));
  EXPECT_EQ(map.bind.flags, static_cast<std::uint32_t>(DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR |
                                                       DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET));
  EXPECT_EQ(map.bind.addr, cpu.start);
  EXPECT_EQ(map.bind.range, cpu.size);
  EXPECT_EQ(map.bind.pat_index, 1u) << "Xe2 cached-coherent PAT";
  const auto unmap = calls[mark + 1].as<drm_xe_vm_bind>();
  EXPECT_EQ(unmap.bind.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_UNMAP));
  EXPECT_EQ(unmap.bind.addr, cpu.start);
  EXPECT_EQ(unmap.bind.range, cpu.size);
}

TEST_F(ObjectsTest, SvmNeedsAFaultModeVmAndIssuesNothingOtherwise) {
  auto dev = open();
  auto vm = Vm::create(*dev, {VmMode::kLongRunning, false});
  const std::size_t mark = fake_.call_count();
  EXPECT_EQ(SvmAllocation::adopt(**vm, {0x100000, kPage}).result(), Result::kInvalidArgument);
  EXPECT_EQ(fake_.call_count(), mark);
}

TEST_F(ObjectsTest, SvmAdviceOutsideTheAllocationIsRefusedBeforeAnyIoctl) {
  auto dev = open();
  auto vm = Vm::create(*dev);
  auto svm = SvmAllocation::adopt(**vm, {0x100000, 4 * kPage});
  ASSERT_TRUE(svm.has_value());
  const std::size_t mark = fake_.call_count();
  EXPECT_EQ(svm->advise({0x100000, 8 * kPage}, MemAdvice::kAtomicsDevice),
            Result::kInvalidArgument);
  EXPECT_EQ(svm->advise({0x0ff000, kPage}, MemAdvice::kAtomicsDevice), Result::kInvalidArgument);
  EXPECT_EQ(fake_.call_count(), mark);
  EXPECT_EQ(svm->advise({0x101000, kPage}, MemAdvice::kAtomicsDevice), Result::kSuccess);
  const auto m = fake_.calls().back().as<drm_xe_madvise>();
  EXPECT_EQ(m.start, 0x101000u);
  EXPECT_EQ(m.range, kPage);
  EXPECT_EQ(m.atomic.val, static_cast<std::uint32_t>(DRM_XE_ATOMIC_DEVICE));
}

TEST_F(ObjectsTest, PrefetchRefusedByTheDriverIsNotSupported) {
  auto dev = open();
  auto vm = Vm::create(*dev);
  fake_.inject_for(DRM_IOCTL_XE_VM_BIND, EOPNOTSUPP, 1);
  const std::size_t mark = fake_.call_count();
  EXPECT_EQ((*vm)->prefetch({0x100000, kPage}, PrefetchTarget::preferred_location()),
            Result::kNotSupported);
  const auto b = fake_.calls()[mark].as<drm_xe_vm_bind>();
  EXPECT_EQ(b.bind.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_PREFETCH));
  EXPECT_EQ(b.bind.prefetch_mem_region_instance, 0xffffffffu);
}

// --- the two-call attribute query ------------------------------------------------

class QueryTest : public ObjectsTest {
 protected:
  // Each count call reports counts_[round]; a fill call with fewer slots
  // than vmas_now_ fails with -ENOSPC.
  void script(std::vector<std::uint32_t> counts, std::uint32_t vmas_after_count) {
    counts_ = std::move(counts);
    fake_.on(DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, [this, vmas_after_count](void* p) {
      auto* q = static_cast<drm_xe_vm_query_mem_range_attr*>(p);
      if (q->num_mem_ranges == 0) {
        const std::uint32_t n = counts_[std::min(round_, counts_.size() - 1)];
        ++round_;
        q->num_mem_ranges = n;
        q->sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
        return 0;
      }
      if (q->num_mem_ranges < vmas_after_count) return -ENOSPC;
      auto* out = reinterpret_cast<drm_xe_mem_range_attr*>(q->vector_of_mem_attr);  // NOLINT
      for (std::uint32_t i = 0; i < vmas_after_count; ++i) {
        out[i] = drm_xe_mem_range_attr{};
        out[i].start = 0x100000 + i * kPage;
        out[i].end = out[i].start + kPage;
      }
      q->num_mem_ranges = vmas_after_count;
      return 0;
    });
  }
  std::vector<std::uint32_t> counts_;
  std::size_t round_ = 0;
};

TEST_F(QueryTest, EnospcFromTheFillCallRedoesBothCalls) {
  // given a layout that grows from 2 to 3 VMAs between the first two calls
  auto dev = open();
  auto vm = Vm::create(*dev);
  script({2, 3}, 3);
  const std::size_t mark = fake_.call_count();
  // when
  auto ranges = (*vm)->query_mem_ranges({0x100000, 16 * kPage});
  // then
  ASSERT_TRUE(ranges.has_value());
  EXPECT_EQ(ranges->size(), 3u);
  EXPECT_EQ((*vm)->query_redos(), 1u);
  const auto calls = fake_.calls();
  EXPECT_EQ(names(calls, mark), (Names{"QUERY_MEM_RANGE_ATTRS", "QUERY_MEM_RANGE_ATTRS",
                                       "QUERY_MEM_RANGE_ATTRS", "QUERY_MEM_RANGE_ATTRS"}));
  EXPECT_EQ(calls[mark].as<drm_xe_vm_query_mem_range_attr>().num_mem_ranges, 0u);
  EXPECT_EQ(calls[mark + 1].as<drm_xe_vm_query_mem_range_attr>().num_mem_ranges, 2u);
  EXPECT_EQ(calls[mark + 1].rc, -ENOSPC);
  EXPECT_EQ(calls[mark + 2].as<drm_xe_vm_query_mem_range_attr>().num_mem_ranges, 0u);
  EXPECT_EQ(calls[mark + 3].as<drm_xe_vm_query_mem_range_attr>().num_mem_ranges, 3u);
  EXPECT_EQ(calls[mark + 3].as<drm_xe_vm_query_mem_range_attr>().sizeof_mem_range_attr, 64u);
}

TEST_F(QueryTest, ALayoutThatKeepsGrowingGivesUpWithNoSpaceAfterTheBound) {
  auto dev = open();
  auto vm = Vm::create(*dev);
  script({1}, 2);  // the count always lags
  const std::size_t mark = fake_.call_count();
  EXPECT_EQ((*vm)->query_mem_ranges({0x100000, kPage}).result(), Result::kNoSpace);
  EXPECT_EQ(fake_.call_count() - mark, 2u * Vm::kMaxQueryRounds);
}

TEST_F(QueryTest, AnEmptyRangeNeedsOnlyTheCountCall) {
  auto dev = open();
  auto vm = Vm::create(*dev);
  script({0}, 0);
  const std::size_t mark = fake_.call_count();
  auto ranges = (*vm)->query_mem_ranges({0x100000, kPage});
  ASSERT_TRUE(ranges.has_value());
  EXPECT_TRUE(ranges->empty());
  EXPECT_EQ(fake_.call_count() - mark, 1u);
}

TEST_F(QueryTest, FewerVmasThanCountedShortensTheAnswer) {
  auto dev = open();
  auto vm = Vm::create(*dev);
  script({3}, 1);
  auto ranges = (*vm)->query_mem_ranges({0x100000, 16 * kPage});
  ASSERT_TRUE(ranges.has_value());
  ASSERT_EQ(ranges->size(), 1u);
  EXPECT_EQ((*ranges)[0].range, (GpuRange{0x100000, kPage}));
}

}  // namespace
}  // namespace umd_test
