// The UMD against the real simulator (drm_sim_open + LibdrmBackend): SVM
// allocations with the compute runtime's advice read back through the
// attribute query, buffer objects, and prefetch surfacing as a UMD result.
#include "umd/objects/buffer_object.h"
#include "umd/objects/svm_allocation.h"
#include "umd_test_util.h"

namespace umd_test {
namespace {

GpuRange pages(const SvmAllocation& a, std::uint64_t first, std::uint64_t count) {
  return {a.range().start + first * kPage, count * kPage};
}

class SvmIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dev = Device::open_profile("b580");
    ASSERT_TRUE(dev.has_value()) << to_string(dev.result());
    dev_ = std::move(*dev);
    auto vm = Vm::create(*dev_, {VmMode::kFault, false});
    ASSERT_TRUE(vm.has_value()) << to_string(vm.result());
    vm_ = std::move(*vm);
    auto svm = SvmAllocation::create(*vm_, 16 * kPage);
    ASSERT_TRUE(svm.has_value()) << to_string(svm.result());
    svm_.emplace(std::move(*svm));
  }
  std::vector<MemRange> layout() {
    auto r = vm_->query_mem_ranges(svm_->range());
    EXPECT_TRUE(r.has_value()) << to_string(r.result());
    return r ? *r : std::vector<MemRange>{};
  }
  MemRange piece(std::uint64_t first, std::uint64_t count, PreferredLocation loc,
                 AtomicAccess atomic = AtomicAccess::kNone, std::uint16_t pat = 1) {
    return MemRange{pages(*svm_, first, count), loc, atomic, pat};
  }

  std::unique_ptr<Device> dev_;
  std::unique_ptr<Vm> vm_;
  std::optional<SvmAllocation> svm_;
};

TEST_F(SvmIntegrationTest, AFreshAllocationIsOneMirrorVmaWithDefaultAttributes) {
  EXPECT_EQ(layout(), (std::vector<MemRange>{piece(0, 16, PreferredLocation::device())}));
  EXPECT_EQ(svm_->range().size, 16 * kPage);
  EXPECT_NE(svm_->data(), nullptr);
}

TEST_F(SvmIntegrationTest, AdviceOnThreeSubRangesReadsBackAsFourPieces) {
  // when
  ASSERT_EQ(svm_->advise(pages(*svm_, 4, 4), MemAdvice::kSetPreferredLocationSystem),
            Result::kSuccess);
  ASSERT_EQ(svm_->advise(pages(*svm_, 8, 4), MemAdvice::kAtomicsDevice), Result::kSuccess);
  ASSERT_EQ(svm_->set_pat(pages(*svm_, 12, 4), 2), Result::kSuccess);
  // then
  const std::vector<MemRange> expected = {
      piece(0, 4, PreferredLocation::device()),
      piece(4, 4, PreferredLocation::system()),
      piece(8, 4, PreferredLocation::device(), AtomicAccess::kDevice),
      piece(12, 4, PreferredLocation::device(), AtomicAccess::kNone, 2),
  };
  EXPECT_EQ(layout(), expected) << to_string(layout());
}

TEST_F(SvmIntegrationTest, ClearingThePreferredLocationRestoresTheDefaultButKeepsTheSplit) {
  ASSERT_EQ(svm_->advise(pages(*svm_, 4, 4), MemAdvice::kSetPreferredLocationSystem),
            Result::kSuccess);
  ASSERT_EQ(svm_->advise(pages(*svm_, 4, 4), MemAdvice::kClearPreferredLocation), Result::kSuccess);
  EXPECT_EQ(layout(), (std::vector<MemRange>{piece(0, 4, PreferredLocation::device()),
                                             piece(4, 4, PreferredLocation::device()),
                                             piece(8, 8, PreferredLocation::device())}))
      << "madvise never merges";
}

TEST_F(SvmIntegrationTest, EachAtomicAdviceReadsBackAsItsAccessMode) {
  const struct {
    MemAdvice advice;
    AtomicAccess expected;
  } rows[] = {{MemAdvice::kAtomicsDevice, AtomicAccess::kDevice},
              {MemAdvice::kAtomicsSystem, AtomicAccess::kSystem},
              {MemAdvice::kAtomicsHost, AtomicAccess::kHost},
              {MemAdvice::kAtomicsNone, AtomicAccess::kNone}};
  for (const auto& r : rows) {
    ASSERT_EQ(svm_->advise(r.advice), Result::kSuccess) << to_string(r.advice);
    const auto l = layout();
    ASSERT_EQ(l.size(), 1u);
    EXPECT_EQ(l[0].atomic, r.expected) << to_string(r.advice);
  }
}

TEST_F(SvmIntegrationTest, WholeRangeAdviceNeedsNoSplit) {
  ASSERT_EQ(svm_->advise(MemAdvice::kSetPreferredLocationSystem), Result::kSuccess);
  EXPECT_EQ(layout(), (std::vector<MemRange>{piece(0, 16, PreferredLocation::system())}));
}

TEST_F(SvmIntegrationTest, DestroyingTheAllocationUnbindsIt) {
  const GpuRange r = svm_->range();
  svm_.reset();
  auto after = vm_->query_mem_ranges(r);
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->empty());
}

TEST_F(SvmIntegrationTest, AnUnalignedMadviseIsAnInvalidArgument) {
  const GpuRange odd{svm_->range().start + 100, kPage};
  EXPECT_EQ(vm_->madvise(to_madvise(odd, MemAdvice::kAtomicsDevice)), Result::kInvalidArgument);
}

TEST(PrefetchIntegrationTest, PrefetchSurfacesAsTheUmdsOwnResult) {
  // given a recorded path to the simulator and an SVM allocation whose CPU
  // pages exist in the simulated process (drm_sim's process memory is
  // declared with DRM_IOCTL_SIM_CPU_MMAP)
  SimRig rig("b580");
  auto vm = Vm::create(rig.device());
  ASSERT_TRUE(vm.has_value());
  drm_sim_cpu_mmap m{};
  m.addr = 0x40000000;
  m.size = 16 * kPage;
  ASSERT_EQ(drm_sim_ioctl(rig.fd(), DRM_IOCTL_SIM_CPU_MMAP, &m), 0);
  auto svm = SvmAllocation::adopt(**vm, {0x40000000, 16 * kPage});
  ASSERT_TRUE(svm.has_value());
  for (PrefetchTarget t : {PrefetchTarget::region(1), PrefetchTarget::region(0),
                           PrefetchTarget::preferred_location()}) {
    // when
    const Result r = svm->prefetch(t);
    // then the prefetch lands and the UMD reports success
    EXPECT_EQ(rig.calls().back().rc, 0);
    EXPECT_EQ(r, Result::kSuccess);
  }
}

TEST(PrefetchIntegrationTest, PrefetchWithoutCpuPagesSurfacesAsTheUmdsOwnResult) {
  // given an SVM allocation with no simulated CPU pages behind it
  SimRig rig("b580");
  auto vm = Vm::create(rig.device());
  ASSERT_TRUE(vm.has_value());
  auto svm = SvmAllocation::adopt(**vm, {0x40000000, 16 * kPage});
  ASSERT_TRUE(svm.has_value());
  // when
  const Result r = svm->prefetch(PrefetchTarget::region(1));
  // then the kernel's -EFAULT is the UMD's own result, never a crash
  EXPECT_EQ(rig.calls().back().rc, -EFAULT);
  EXPECT_NE(r, Result::kSuccess);
}

TEST(BufferObjectIntegrationTest, AVramBoIsCreatedBoundAndClosed) {
  auto dev = Device::open_profile("b580");
  ASSERT_TRUE(dev.has_value());
  auto vm = Vm::create(**dev);
  GemCreateDesc d;
  d.size = 2 * kMiB;
  d.placement = region_bit(1);
  d.cpu_caching = CpuCaching::kWriteCombined;
  auto bo = BufferObject::create(**dev, d);
  ASSERT_TRUE(bo.has_value()) << to_string(bo.result());
  BindOpDesc map;
  map.kind = BindKind::kMapBo;
  map.range = {0x10000000, 2 * kMiB};
  map.bo = bo->handle();
  map.pat_index = (*dev)->pat().write_combining;
  ASSERT_EQ((*vm)->bind(map), Result::kSuccess);
  auto l = (*vm)->query_mem_ranges(map.range);
  ASSERT_TRUE(l.has_value());
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0].range, map.range);
  EXPECT_EQ((*l)[0].pat_index, 6u);
}

TEST(BufferObjectIntegrationTest, WriteBackVramIsRefusedAsAnInvalidArgument) {
  auto dev = Device::open_profile("b580");
  GemCreateDesc d;
  d.size = kMiB;
  d.placement = region_bit(1);
  d.cpu_caching = CpuCaching::kWriteBack;  // VRAM-capable BOs must be WC
  EXPECT_EQ(BufferObject::create(**dev, d).result(), Result::kInvalidArgument);
}

TEST(BindIntegrationTest, AnArrayOfBindsIsOneIoctl) {
  SimRig rig("b580");
  auto vm = Vm::create(rig.device());
  BindOpDesc a;
  a.kind = BindKind::kMapNull;
  a.range = {0x100000, kMiB};
  BindOpDesc b = a;
  b.range = {0x300000, kMiB};
  const std::size_t mark = rig.mark();
  const BindOpDesc ops[] = {a, b};
  ASSERT_EQ((*vm)->bind(ops), Result::kSuccess);
  const auto calls = rig.calls();
  ASSERT_EQ(calls.size() - mark, 1u);
  EXPECT_EQ(calls[mark].as<drm_xe_vm_bind>().num_binds, 2u);
  auto l = (*vm)->query_mem_ranges({0, 0x1000000});
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->size(), 2u);
}

}  // namespace
}  // namespace umd_test
