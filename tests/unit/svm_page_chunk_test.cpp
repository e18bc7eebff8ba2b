// SvmSpace's 4 KiB VRAM chunks and 4 KiB GPU ranges (a 4 KiB mirror VMA
// faults one page at a time): they are indexed per page of their CPU mapping
// rather than with the larger ones, and every path that finds chunks or
// ranges by address must still see them: CPU touches, hits, CPU unmaps that
// cut the mapping, larger chunks faulted over them (evicted in address order
// with the larger ones), the chunk choice next to them, other tiles and
// VMs, prefetch, invalidation, madvise splits, eviction under pressure and
// the address space's destruction.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <vector>

#include "drm_sim/device/device.h"
#include "drm_sim/mem/svm.h"
#include "drm_sim/vm/events.h"

namespace drm_sim {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kBase = 1ull << 32;  // 2 MiB aligned

std::uint64_t pg(std::uint64_t i) {
  return kBase + i * kPage;
}

Profile tag_profile(std::uint64_t vram) {
  auto p = load_profile("small");
  EXPECT_TRUE(p.is_ok());
  p->backing = BackingMode::kTag;
  p->regions[1].size = vram;
  return *p;
}

class SvmPageChunkTest : public ::testing::Test {
 protected:
  void make(std::uint64_t vram = 32 * kMiB) {
    dev_ = std::make_unique<Device>(tag_profile(vram));
    svm_ = std::make_unique<SvmSpace>(dev_->memory(), dev_->profile());
    svm_->set_event_sink(&sink_);
    ASSERT_TRUE(svm_->cpu_map(kBase, 2 * kMiB).is_ok());
  }
  void TearDown() override {
    svm_.reset();
    dev_.reset();
  }
  // A GPU write of `value` through a mirror VMA of [lo, hi) by vm.
  void gpu_write(std::uint64_t addr, std::uint64_t lo, std::uint64_t hi, std::uint64_t value,
                 std::uint32_t vm = 1) {
    FaultVma vma;
    vma.range = VaRange::from_bounds(lo, hi);
    MemAccess a;
    a.addr = addr;
    a.size = 8;
    a.kind = AccessKind::kWrite;
    a.value = value;
    ASSERT_TRUE(svm_->gpu_access(vm, vma, 0, a).is_ok());
  }
  // A 4 KiB VMA around page i: a 4 KiB chunk.
  void fault_page(std::uint64_t i, std::uint64_t value = 0) {
    gpu_write(pg(i), pg(i), pg(i + 1), value == 0 ? 1000 + i : value);
  }
  std::uint64_t cpu_read(std::uint64_t addr) {
    MemAccess a;
    a.addr = addr;
    a.size = 8;
    a.kind = AccessKind::kRead;
    EXPECT_TRUE(svm_->cpu_access(a).is_ok());
    return a.value;
  }
  bool in_vram(std::uint64_t addr) {
    auto pi = svm_->page_info(addr);
    return pi && pi->in_vram;
  }
  std::vector<std::uint64_t> vram_pages(std::uint64_t n) {
    std::vector<std::uint64_t> out;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (in_vram(pg(i))) out.push_back(i);
    }
    return out;
  }
  std::uint64_t vram_used() { return dev_->memory().vram_used(0); }
  // Starts of the chunks in the recorded events of `type`, in order.
  std::vector<std::uint64_t> starts(EventType type) {
    std::vector<std::uint64_t> out;
    for (const Event& e : rec_.take()) {
      if (e.type == type) out.push_back((e.start - kBase) / kPage);
    }
    return out;
  }

  std::unique_ptr<Device> dev_;
  std::unique_ptr<SvmSpace> svm_;
  EventRecorder rec_;
  std::atomic<EventSink*> sink_{&rec_};
};

TEST_F(SvmPageChunkTest, FourKiBChunksMoveToVramAndBackOnACpuTouch) {
  make();
  // when three pages fault one at a time
  for (std::uint64_t i : {2, 3, 7}) fault_page(i);
  // then each is a 4 KiB chunk in VRAM
  EXPECT_EQ(vram_pages(16), (std::vector<std::uint64_t>{2, 3, 7}));
  EXPECT_EQ(vram_used(), 3 * kPage);
  EXPECT_EQ(starts(EventType::kMigrateToVram), (std::vector<std::uint64_t>{2, 3, 7}));
  // a CPU touch brings back only its page, with its content
  EXPECT_EQ(cpu_read(pg(3)), 1003u);
  EXPECT_EQ(vram_pages(16), (std::vector<std::uint64_t>{2, 7}));
  EXPECT_EQ(vram_used(), 2 * kPage);
  EXPECT_EQ(starts(EventType::kMigrateToSys), (std::vector<std::uint64_t>{3}));
  // and the page can fault again
  fault_page(3, 5);
  EXPECT_EQ(vram_pages(16), (std::vector<std::uint64_t>{2, 3, 7}));
  EXPECT_EQ(cpu_read(pg(3)), 5u);
}

TEST_F(SvmPageChunkTest, CpuUnmapOfTheMiddleKeepsTheChunksOfBothPieces) {
  make();
  for (std::uint64_t i : {2, 5, 6, 9, 12}) fault_page(i);
  rec_.take();
  // when pages 5..7 are unmapped, and then pages 0..3 of what is left
  ASSERT_TRUE(svm_->cpu_unmap(pg(5), 3 * kPage).is_ok());
  EXPECT_EQ(starts(EventType::kMigrateToSys), (std::vector<std::uint64_t>{5, 6}));
  ASSERT_TRUE(svm_->cpu_unmap(pg(0), 4 * kPage).is_ok());
  EXPECT_EQ(starts(EventType::kMigrateToSys), (std::vector<std::uint64_t>{2}));
  // then the pieces above still find their chunks
  EXPECT_EQ(vram_pages(16), (std::vector<std::uint64_t>{9, 12}));
  EXPECT_EQ(vram_used(), 2 * kPage);
  EXPECT_EQ(cpu_read(pg(12)), 1012u);
  EXPECT_EQ(starts(EventType::kMigrateToSys), (std::vector<std::uint64_t>{12}));
  EXPECT_EQ(vram_pages(16), (std::vector<std::uint64_t>{9}));
  // and a page of a piece faults in again
  fault_page(4);
  EXPECT_EQ(vram_pages(16), (std::vector<std::uint64_t>{4, 9}));
  // destroying the address space frees their VRAM
  svm_.reset();
  EXPECT_EQ(vram_used(), 0u);
}

TEST_F(SvmPageChunkTest, ALargerChunkEvictsTheChunksInsideItInAddressOrder) {
  make();
  // 4 KiB chunks around a 64 KiB chunk (pages 16..31), all by vm 1
  fault_page(1);
  gpu_write(pg(20), pg(16), pg(32), 77);
  fault_page(40);
  fault_page(511);
  EXPECT_EQ(vram_used(), 3 * kPage + 64 * 1024);
  rec_.take();
  // when vm 2 faults the whole 2 MiB around page 0 (it maps none of them)
  gpu_write(pg(0), kBase, kBase + 2 * kMiB, 9, 2);
  // then the chunks go home first, lowest address first, whatever their size
  const std::vector<Event> ev = rec_.take();
  std::vector<std::uint64_t> to_sys;
  for (const Event& e : ev) {
    if (e.type == EventType::kMigrateToSys) to_sys.push_back((e.start - kBase) / kPage);
  }
  EXPECT_EQ(to_sys, (std::vector<std::uint64_t>{1, 16, 40, 511}));
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().type, EventType::kMigrateToVram);
  EXPECT_EQ(ev.back().end - ev.back().start, 2 * kMiB);
  EXPECT_EQ(vram_used(), 2 * kMiB);
  // content survived both moves
  EXPECT_EQ(cpu_read(pg(1)), 1001u);
  EXPECT_EQ(cpu_read(pg(20)), 77u);
  EXPECT_EQ(cpu_read(pg(511)), 1511u);
}

TEST_F(SvmPageChunkTest, PrefetchToSystemMemoryBringsFourKiBChunksHome) {
  make();
  for (std::uint64_t i : {3, 4, 8}) fault_page(i);
  rec_.take();
  FaultVma vma;
  vma.range = VaRange::from_bounds(kBase, kBase + 2 * kMiB);
  // when vm 2 prefetches pages 0..15 to system memory
  ASSERT_TRUE(svm_->prefetch(2, vma, VaRange::from_bounds(pg(0), pg(16)), 0, Placement{}).is_ok());
  // then all three are home
  EXPECT_EQ(vram_pages(16), std::vector<std::uint64_t>{});
  EXPECT_EQ(starts(EventType::kMigrateToSys), (std::vector<std::uint64_t>{3, 4, 8}));
  EXPECT_EQ(vram_used(), 0u);
}

TEST_F(SvmPageChunkTest, OnlyASplitInsideAFourKiBChunkEvictsIt) {
  make();
  fault_page(2);
  fault_page(3);
  // a split at a page boundary cuts no 4 KiB chunk
  svm_->split_at(1, pg(3));
  EXPECT_EQ(vram_pages(16), (std::vector<std::uint64_t>{2, 3}));
  // one inside page 3 cuts that chunk
  svm_->split_at(1, pg(3) + 512);
  EXPECT_EQ(vram_pages(16), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(cpu_read(pg(3)), 1003u);
}

TEST_F(SvmPageChunkTest, FullVramEvictsTheLeastRecentlyUsedFourKiBChunks) {
  make(16 * kPage);  // VRAM for 16 pages
  for (std::uint64_t i = 0; i < 16; ++i) fault_page(i);
  // page 0 is used again (a hit): page 1 is now the least recently used
  gpu_write(pg(0), pg(0), pg(1), 4242);
  rec_.take();
  // when four more pages fault in
  for (std::uint64_t i = 16; i < 20; ++i) fault_page(i);
  // then pages 1..4 were evicted, in LRU order, with their content
  EXPECT_EQ(starts(EventType::kEvict), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(vram_used(), 16 * kPage);
  EXPECT_FALSE(in_vram(pg(1)));
  EXPECT_TRUE(in_vram(pg(0)));
  EXPECT_EQ(cpu_read(pg(2)), 1002u);
  EXPECT_EQ(cpu_read(pg(0)), 4242u);
  EXPECT_EQ(dev_->memory().stats().evictions, 4u);
}

TEST_F(SvmPageChunkTest, GpuRangesListFourKiBAndLargerRangesInAddressOrder) {
  make();
  fault_page(40);
  gpu_write(pg(20), pg(16), pg(32), 1);
  fault_page(3);
  EXPECT_EQ(svm_->gpu_ranges(1), (std::vector<VaRange>{VaRange::from_bounds(pg(3), pg(4)),
                                                       VaRange::from_bounds(pg(16), pg(32)),
                                                       VaRange::from_bounds(pg(40), pg(41))}));
  // a CPU touch zaps the range over its page only
  cpu_read(pg(3));
  EXPECT_EQ(svm_->gpu_ranges(1), (std::vector<VaRange>{VaRange::from_bounds(pg(16), pg(32)),
                                                       VaRange::from_bounds(pg(40), pg(41))}));
  EXPECT_EQ(dev_->memory().stats().gpu_invalidations, 1u);
}

TEST_F(SvmPageChunkTest, FourKiBRangesBoundTheChunksOfLaterFaults) {
  make();
  fault_page(5);
  const std::vector<VaRange> first = svm_->gpu_ranges(1);
  // a fault through a 2 MiB VMA: the 2 MiB chunk would cover page 5, the
  // 64 KiB one around page 40 does not
  gpu_write(pg(40), kBase, kBase + 2 * kMiB, 1);
  // the 64 KiB block around page 7 holds page 5: a 4 KiB chunk
  gpu_write(pg(7), kBase, kBase + 2 * kMiB, 2);
  EXPECT_EQ(svm_->gpu_ranges(1), (std::vector<VaRange>{VaRange::from_bounds(pg(5), pg(6)),
                                                       VaRange::from_bounds(pg(7), pg(8)),
                                                       VaRange::from_bounds(pg(32), pg(48))}));
  // the 4 KiB range at page 7 bounds page 6's chunk too, and page 4's
  gpu_write(pg(6), kBase, kBase + 2 * kMiB, 3);
  gpu_write(pg(4), kBase, kBase + 2 * kMiB, 4);
  EXPECT_EQ(svm_->gpu_ranges(1).size(), 5u);
  EXPECT_EQ(vram_used(), 4 * kPage + 64 * 1024);
  // vm 2 has no ranges: its fault takes the whole 2 MiB, zapping vm 1's
  gpu_write(pg(100), kBase, kBase + 2 * kMiB, 5, 2);
  EXPECT_EQ(svm_->gpu_ranges(2),
            (std::vector<VaRange>{VaRange::from_bounds(kBase, kBase + 2 * kMiB)}));
  EXPECT_TRUE(svm_->gpu_ranges(1).empty());
  EXPECT_EQ(cpu_read(pg(6)), 3u);
  EXPECT_EQ(cpu_read(pg(40)), 1u);
  EXPECT_FALSE(first.empty());
}

TEST_F(SvmPageChunkTest, AnotherTileMapsAPlacedFourKiBRangeToo) {
  make();
  fault_page(9);
  FaultVma vma;
  vma.range = VaRange::from_bounds(pg(9), pg(10));
  // prefetch to the page's own VRAM on tile 0 for tile 1 (a second tile's PTEs)
  Placement vram;
  vram.vram = true;
  vram.tile = 0;
  rec_.take();
  ASSERT_TRUE(svm_->prefetch(1, vma, VaRange::from_bounds(pg(9), pg(10)), 1, vram).is_ok());
  EXPECT_TRUE(rec_.take().empty());  // nothing moved
  // both tiles' PTEs go with an invalidation
  EXPECT_EQ(svm_->invalidate(1, VaRange::from_bounds(pg(0), pg(16))), 3u);
  EXPECT_TRUE(svm_->gpu_ranges(1).empty());
  EXPECT_EQ(svm_->invalidate(1, VaRange::from_bounds(pg(0), pg(16))), 0u);
  EXPECT_TRUE(in_vram(pg(9)));  // pages stay where they are
}

TEST_F(SvmPageChunkTest, PrefetchReplacesACoveringFourKiBRange) {
  make();
  fault_page(9);
  FaultVma vma;
  vma.range = VaRange::from_bounds(pg(9), pg(10));
  // the same VM prefetches the page to system memory: its range is re-placed
  ASSERT_TRUE(svm_->prefetch(1, vma, VaRange::from_bounds(pg(9), pg(10)), 0, Placement{}).is_ok());
  EXPECT_FALSE(in_vram(pg(9)));
  EXPECT_EQ(svm_->gpu_ranges(1), (std::vector<VaRange>{VaRange::from_bounds(pg(9), pg(10))}));
  EXPECT_EQ(cpu_read(pg(9)), 1009u);
  // and back to VRAM by a fault through it
  gpu_write(pg(9), pg(9), pg(10), 6);
  EXPECT_TRUE(in_vram(pg(9)));
  EXPECT_EQ(svm_->gpu_ranges(1), (std::vector<VaRange>{VaRange::from_bounds(pg(9), pg(10))}));
}

TEST_F(SvmPageChunkTest, SplitsUnmapsAndForgottenVmsDropFourKiBRanges) {
  make();
  for (std::uint64_t i : {2, 3, 6, 9}) fault_page(i);
  // a split inside page 3 drops its range (and evicts its chunk)
  svm_->split_at(1, pg(3) + 8);
  EXPECT_EQ(svm_->gpu_ranges(1), (std::vector<VaRange>{VaRange::from_bounds(pg(2), pg(3)),
                                                       VaRange::from_bounds(pg(6), pg(7)),
                                                       VaRange::from_bounds(pg(9), pg(10))}));
  // a CPU unmap of page 6 drops its range; the pieces keep theirs
  ASSERT_TRUE(svm_->cpu_unmap(pg(6), kPage).is_ok());
  EXPECT_EQ(svm_->gpu_ranges(1), (std::vector<VaRange>{VaRange::from_bounds(pg(2), pg(3)),
                                                       VaRange::from_bounds(pg(9), pg(10))}));
  EXPECT_EQ(svm_->invalidate(1, VaRange::from_bounds(pg(9), pg(10))), 1u);
  EXPECT_EQ(svm_->gpu_ranges(1), (std::vector<VaRange>{VaRange::from_bounds(pg(2), pg(3))}));
  // a hit through the piece below still finds its range
  const std::uint64_t faults = dev_->memory().stats().gpu_faults;
  gpu_write(pg(2), pg(2), pg(3), 8);
  EXPECT_EQ(dev_->memory().stats().gpu_faults, faults);
  svm_->forget_vm(1);
  EXPECT_TRUE(svm_->gpu_ranges(1).empty());
  // the VM id can come back with nothing mapped
  gpu_write(pg(2), pg(2), pg(3), 9);
  EXPECT_EQ(dev_->memory().stats().gpu_faults, faults + 1);
}

}  // namespace
}  // namespace drm_sim
