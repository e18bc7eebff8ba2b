// tests/model/ref_model_test.cpp — the reference model against the golden
// tables of gpuvm-cases.md and the rules of xe-vm-semantics.md, so that a
// differential mismatch can be trusted to point at the simulator.
//
// Layouts are drawn in pages from page 16 (so that no case touches VA 0);
// BOs print as a, b, ... in creation order, "@n" is the BO offset in pages.
#include "ref_model.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "differential.h"
#include "drm_sim/drm_sim.h"
#include "op_gen.h"

namespace drm_sim_model {
namespace {

constexpr std::uint64_t kBase = 16;  // first page of every layout
constexpr std::uint16_t kPat = 1;    // coherent (b580)
constexpr std::uint64_t pg(std::uint64_t n) {
  return (kBase + n) * kPage;
}

std::uint32_t make_bo_in(RefModel& m, std::uint64_t n_pages) {
  std::uint32_t h = 0;
  EXPECT_EQ(m.gem_create(n_pages * kPage, 1, DRM_XE_GEM_CPU_CACHING_WB, &h), 0);
  return h;
}

// "[0,2) a@3 | [2,3) mirror" in pages relative to kBase.
std::string pages(const std::vector<Vma>& vs) {
  std::string s;
  for (const Vma& v : vs) {
    if (!s.empty()) s += " | ";
    s += "[" + std::to_string(v.start / kPage - kBase) + "," +
         std::to_string(v.end / kPage - kBase) + ") ";
    if (v.kind == VmaKind::kBo) {
      s += std::string(1, static_cast<char>('a' + v.bo - 1)) + "@" +
           std::to_string(v.offset / kPage);
    } else {
      s += to_string(v.kind);
    }
  }
  return s;
}

class RefModelTest : public ::testing::Test {
 protected:
  RefModelTest() : m_(DeviceDesc::from_profile("b580")) {}

  std::uint32_t make_bo(std::uint64_t n_pages, std::uint32_t placement = 1,
                        std::uint16_t caching = DRM_XE_GEM_CPU_CACHING_WB) {
    std::uint32_t h = 0;
    EXPECT_EQ(m_.gem_create(n_pages * kPage, placement, caching, &h), 0);
    return h;
  }
  static BindArgs map_bo(std::uint32_t h, std::uint64_t s, std::uint64_t e, std::uint64_t off) {
    BindArgs b;
    b.op = DRM_XE_VM_BIND_OP_MAP;
    b.obj = h;
    b.addr = pg(s);
    b.range = pg(e) - pg(s);
    b.obj_offset = off * kPage;
    b.pat = kPat;
    return b;
  }
  static BindArgs map_flag(std::uint64_t s, std::uint64_t e, std::uint32_t flags) {
    BindArgs b;
    b.op = DRM_XE_VM_BIND_OP_MAP;
    b.addr = pg(s);
    b.range = pg(e) - pg(s);
    b.flags = flags;
    b.pat = kPat;
    return b;
  }
  static BindArgs mirror(std::uint64_t s, std::uint64_t e) {
    return map_flag(s, e, DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR);
  }
  static BindArgs unmap(std::uint64_t s, std::uint64_t e) {
    BindArgs b;
    b.op = DRM_XE_VM_BIND_OP_UNMAP;
    b.addr = pg(s);
    b.range = pg(e) - pg(s);
    return b;
  }
  int bind(const BindArgs& b) { return m_.bind(std::vector<BindArgs>{b}); }
  static MadviseArgs advise(std::uint64_t s, std::uint64_t e, std::uint32_t type,
                            std::uint32_t val) {
    MadviseArgs a;
    a.start = pg(s);
    a.range = pg(e) - pg(s);
    a.type = type;
    a.val = val;
    return a;
  }
  static MadviseArgs to_system(std::uint64_t s, std::uint64_t e) {
    MadviseArgs a = advise(s, e, DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC, 0);
    a.devmem_fd = DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM;
    return a;
  }

  RefModel m_;
};

// ---------------------------------------------------------------------------
// VM_BIND MAP (gpuvm-cases.md, sm_map rows 1–15). n = 2, m = 4 pages.

struct Piece {
  std::uint64_t start, end;
  char bo;  // 'a' or 'b'
  std::uint64_t off;
};
struct MapRow {
  const char* name;
  std::vector<Piece> existing;
  Piece request;
  const char* result;
};

class GoldenMapTest : public RefModelTest, public ::testing::WithParamInterface<MapRow> {};

TEST_P(GoldenMapTest, ResultMatchesTheTable) {
  // given BOs a and b and the existing layout
  const std::uint32_t a = make_bo(8);
  const std::uint32_t b = make_bo(8);
  const auto handle = [&](char c) { return c == 'a' ? a : b; };
  for (const Piece& p : GetParam().existing) {
    ASSERT_EQ(bind(map_bo(handle(p.bo), p.start, p.end, p.off)), 0);
  }
  // when
  const Piece& r = GetParam().request;
  ASSERT_EQ(bind(map_bo(handle(r.bo), r.start, r.end, r.off)), 0);
  // then
  EXPECT_EQ(pages(m_.vmas()), GetParam().result);
}

INSTANTIATE_TEST_SUITE_P(
    SmMap, GoldenMapTest,
    ::testing::Values(
        MapRow{"Row1", {{0, 1, 'a', 2}}, {0, 1, 'a', 2}, "[0,1) a@2"},
        MapRow{"Row2", {{0, 1, 'a', 2}}, {0, 1, 'a', 4}, "[0,1) a@4"},
        MapRow{"Row3", {{0, 1, 'a', 2}}, {0, 1, 'b', 2}, "[0,1) b@2"},
        MapRow{"Row4", {{0, 1, 'a', 2}}, {0, 2, 'a', 2}, "[0,2) a@2"},
        MapRow{"Row5", {{0, 2, 'a', 2}}, {0, 1, 'b', 2}, "[0,1) b@2 | [1,2) a@3"},
        MapRow{"Row6", {{0, 2, 'a', 2}}, {0, 1, 'a', 2}, "[0,1) a@2 | [1,2) a@3"},
        MapRow{"Row7", {{0, 2, 'a', 2}}, {1, 2, 'b', 4}, "[0,1) a@2 | [1,2) b@4"},
        MapRow{"Row8", {{0, 2, 'a', 2}}, {1, 2, 'a', 3}, "[0,1) a@2 | [1,2) a@3"},
        MapRow{"Row9", {{0, 2, 'a', 2}}, {1, 3, 'b', 4}, "[0,1) a@2 | [1,3) b@4"},
        MapRow{"Row10", {{0, 2, 'a', 2}}, {1, 3, 'a', 3}, "[0,1) a@2 | [1,3) a@3"},
        MapRow{"Row11", {{0, 3, 'a', 2}}, {1, 2, 'b', 4}, "[0,1) a@2 | [1,2) b@4 | [2,3) a@4"},
        MapRow{"Row12", {{0, 3, 'a', 2}}, {1, 2, 'a', 3}, "[0,1) a@2 | [1,2) a@3 | [2,3) a@4"},
        MapRow{"Row13", {{1, 2, 'a', 3}}, {0, 2, 'a', 2}, "[0,2) a@2"},
        MapRow{"Row14", {{1, 2, 'a', 3}}, {0, 3, 'a', 2}, "[0,3) a@2"},
        // the surviving piece's offset is n + (request end - old start) = n + 1
        MapRow{"Row15", {{1, 3, 'a', 2}}, {0, 2, 'b', 4}, "[0,2) b@4 | [2,3) a@3"}),
    [](const ::testing::TestParamInfo<MapRow>& row) { return std::string(row.param.name); });

// ---------------------------------------------------------------------------
// VM_BIND UNMAP (sm_unmap)

TEST_F(RefModelTest, UnmapRemovesInnerVmasAndCutsEdgeVmas) {
  // old:  0    a    2   hole   3    b    6
  //       [---------)          [---------)
  // req:       [--------------------)
  const std::uint32_t a = make_bo(8);
  const std::uint32_t b = make_bo(8);
  ASSERT_EQ(bind(map_bo(a, 0, 2, 2)), 0);
  ASSERT_EQ(bind(map_bo(b, 3, 6, 0)), 0);
  ASSERT_EQ(bind(unmap(1, 5)), 0);
  EXPECT_EQ(pages(m_.vmas()), "[0,1) a@2 | [5,6) b@2");
}

TEST_F(RefModelTest, UnmapInsideOneVmaKeepsPrevAndNext) {
  const std::uint32_t a = make_bo(8);
  ASSERT_EQ(bind(map_bo(a, 0, 4, 1)), 0);
  ASSERT_EQ(bind(unmap(1, 3)), 0);
  EXPECT_EQ(pages(m_.vmas()), "[0,1) a@1 | [3,4) a@4");
}

TEST_F(RefModelTest, UnmapOfAHoleIsNoError) {
  EXPECT_EQ(bind(unmap(0, 4)), 0);
  EXPECT_EQ(m_.vma_count(), 0u);
}

// ---------------------------------------------------------------------------
// MADVISE (rows M1–M7). Mirror layouts with several VMAs are made by a
// madvise that changes nothing (PAT = the bind's PAT): it splits, never merges.

struct MadviseRow {
  const char* name;
  std::vector<std::uint64_t> cuts;  // mirror [0, last) split at the inner cuts
  std::uint64_t s, t;               // request
  const char* result;
};

class GoldenMadviseTest : public RefModelTest, public ::testing::WithParamInterface<MadviseRow> {};

TEST_P(GoldenMadviseTest, SplitMatchesTheTable) {
  // given a mirror layout with VMAs ending at each cut
  const MadviseRow& row = GetParam();
  ASSERT_EQ(bind(mirror(0, row.cuts.back())), 0);
  for (std::size_t i = 0; i + 1 < row.cuts.size(); ++i) {
    ASSERT_EQ(m_.madvise(advise(row.cuts[i], row.cuts.back(), DRM_XE_MEM_RANGE_ATTR_PAT, kPat)), 0);
  }
  // when
  ASSERT_EQ(m_.madvise(to_system(row.s, row.t)), 0);
  // then: the pieces, and the attribute exactly inside [s, t)
  EXPECT_EQ(pages(m_.vmas()), row.result);
  for (const Vma& v : m_.vmas()) {
    const bool inside = v.start >= pg(row.s) && v.end <= pg(row.t);
    EXPECT_EQ(v.attrs.devmem_fd, inside ? -1 : 0) << to_string(v);
  }
}

INSTANTIATE_TEST_SUITE_P(
    MadviseMode, GoldenMadviseTest,
    ::testing::Values(
        MadviseRow{"M1", {4}, 1, 3, "[0,1) mirror | [1,3) mirror | [3,4) mirror"},
        MadviseRow{"M2",
                   {2, 3, 5},
                   1,
                   4,
                   "[0,1) mirror | [1,2) mirror | [2,3) mirror | [3,4) mirror | [4,5) mirror"},
        MadviseRow{"M3", {2, 4}, 0, 3, "[0,2) mirror | [2,3) mirror | [3,4) mirror"},
        MadviseRow{"M4", {2, 4}, 1, 4, "[0,1) mirror | [1,2) mirror | [2,4) mirror"},
        MadviseRow{"M5Whole", {2, 4}, 0, 4, "[0,2) mirror | [2,4) mirror"},
        MadviseRow{"M5Tail", {2, 4}, 2, 4, "[0,2) mirror | [2,4) mirror"}),
    [](const ::testing::TestParamInfo<MadviseRow>& row) { return std::string(row.param.name); });

TEST_F(RefModelTest, M6MadviseOfAHoleChangesNothing) {
  EXPECT_EQ(m_.madvise(to_system(0, 4)), 0);
  EXPECT_EQ(m_.vma_count(), 0u);
}

TEST_F(RefModelTest, M7BoVmasAreNeverCutButAdvisedWhole) {
  // given a BO VMA [0,4)
  const std::uint32_t a = make_bo(4);
  ASSERT_EQ(bind(map_bo(a, 0, 4, 0)), 0);
  // when
  ASSERT_EQ(m_.madvise(advise(1, 2, DRM_XE_MEM_RANGE_ATTR_PAT, 2)), 0);
  // then
  const auto vs = m_.vmas();
  EXPECT_EQ(pages(vs), "[0,4) a@0");
  EXPECT_EQ(vs.at(0).attrs.pat, 2);
}

TEST_F(RefModelTest, PreferredLocIsIgnoredOnBoUserptrAndNullVmas) {
  const std::uint32_t a = make_bo(4);
  ASSERT_EQ(bind(map_bo(a, 0, 4, 0)), 0);
  ASSERT_EQ(bind(map_flag(4, 8, DRM_XE_VM_BIND_FLAG_NULL)), 0);
  ASSERT_EQ(m_.madvise(to_system(0, 6)), 0);
  for (const Vma& v : m_.vmas()) EXPECT_EQ(v.attrs.devmem_fd, 0) << to_string(v);
  // the NULL VMA was still cut at the range end
  EXPECT_EQ(pages(m_.vmas()), "[0,4) a@0 | [4,6) null | [6,8) null");
}

TEST_F(RefModelTest, AtomicOnABoIsBoWideAndCheckedAfterTheSplit) {
  // given a system-memory BO next to a mirror VMA
  const std::uint32_t a = make_bo(4);
  ASSERT_EQ(bind(map_bo(a, 0, 4, 0)), 0);
  ASSERT_EQ(bind(mirror(4, 8)), 0);
  // when: DEVICE atomics need VRAM
  EXPECT_EQ(m_.madvise(advise(2, 6, DRM_XE_MEM_RANGE_ATTR_ATOMIC, DRM_XE_ATOMIC_DEVICE)), -EINVAL);
  // then: the mirror VMA was split, nothing was applied
  EXPECT_EQ(pages(m_.vmas()), "[0,4) a@0 | [4,6) mirror | [6,8) mirror");
  for (const Vma& v : m_.vmas()) EXPECT_EQ(v.attrs.atomic, 0u);
  // and CPU atomics are allowed: set on the VMA and on the BO
  EXPECT_EQ(m_.madvise(advise(2, 6, DRM_XE_MEM_RANGE_ATTR_ATOMIC, DRM_XE_ATOMIC_CPU)), 0);
  EXPECT_EQ(m_.vmas().at(0).attrs.atomic, DRM_XE_ATOMIC_CPU);
  EXPECT_EQ(m_.bo(1)->atomic, DRM_XE_ATOMIC_CPU);
}

TEST_F(RefModelTest, AtomicIsIgnoredOnUserptrWithoutDeviceAtomicsOnSystemMemory) {
  BindArgs u = map_flag(0, 4, 0);
  u.op = DRM_XE_VM_BIND_OP_MAP_USERPTR;
  u.obj_offset = 0x7f0000000000;
  ASSERT_EQ(bind(u), 0);
  ASSERT_EQ(m_.madvise(advise(0, 4, DRM_XE_MEM_RANGE_ATTR_ATOMIC, DRM_XE_ATOMIC_DEVICE)), 0);
  EXPECT_EQ(m_.vmas().at(0).attrs.atomic, 0u);
}

// ---------------------------------------------------------------------------
// Mirror widening, arrays, query, purgeable state

TEST_F(RefModelTest, MirrorBindMergesWithAdjacentDefaultMirrors) {
  ASSERT_EQ(bind(mirror(0, 2)), 0);
  ASSERT_EQ(bind(mirror(4, 6)), 0);
  ASSERT_EQ(bind(mirror(2, 4)), 0);
  EXPECT_EQ(pages(m_.vmas()), "[0,6) mirror");
}

TEST_F(RefModelTest, MirrorBindDoesNotMergeWithAdvisedMirrors) {
  ASSERT_EQ(bind(mirror(0, 2)), 0);
  ASSERT_EQ(m_.madvise(to_system(0, 2)), 0);
  ASSERT_EQ(bind(mirror(2, 4)), 0);
  EXPECT_EQ(pages(m_.vmas()), "[0,2) mirror | [2,4) mirror");
}

TEST_F(RefModelTest, MirrorBindWidensOverAStraddlingDefaultMirror) {
  // xe's find_prev: the VMA covering the page below the request start
  ASSERT_EQ(bind(mirror(0, 4)), 0);
  ASSERT_EQ(bind(mirror(2, 6)), 0);
  EXPECT_EQ(pages(m_.vmas()), "[0,6) mirror");
}

TEST_F(RefModelTest, FailingArrayLeavesTheVmAsBefore) {
  const std::uint32_t a = make_bo(4);
  ASSERT_EQ(bind(map_bo(a, 0, 4, 0)), 0);
  const std::string before = m_.state_text();
  // a good unmap, then a map past the BO
  const std::vector<BindArgs> ops{unmap(1, 2), map_bo(a, 8, 14, 0)};
  EXPECT_EQ(m_.bind(ops), -EINVAL);
  EXPECT_EQ(m_.state_text(), before);
  // and an unknown handle
  const std::vector<BindArgs> ops2{unmap(1, 2), map_bo(7, 8, 9, 0)};
  EXPECT_EQ(m_.bind(ops2), -ENOENT);
  EXPECT_EQ(m_.state_text(), before);
}

TEST_F(RefModelTest, QueryReturnsOverlappingVmasWithFullBounds) {
  ASSERT_EQ(bind(map_flag(0, 4, DRM_XE_VM_BIND_FLAG_NULL)), 0);
  ASSERT_EQ(bind(map_flag(6, 10, DRM_XE_VM_BIND_FLAG_NULL)), 0);
  const auto q = m_.query(pg(3), pg(7) - pg(3));
  EXPECT_EQ(pages(q), "[0,4) null | [6,10) null");
  EXPECT_EQ(m_.query(pg(4), pg(6) - pg(4)).size(), 0u);
}

TEST(RefModelPurgeableTest, BindingAPurgeableBoFailsWithEbusy) {
  RefModel m(DeviceDesc::from_profile("b580-uapi71"));
  std::uint32_t h = 0;
  ASSERT_EQ(m.gem_create(4 * kPage, 1, DRM_XE_GEM_CPU_CACHING_WB, &h), 0);
  BindArgs b;
  b.op = DRM_XE_VM_BIND_OP_MAP;
  b.obj = h;
  b.addr = 0x100000;
  b.range = 4 * kPage;
  b.pat = kPat;
  ASSERT_EQ(m.bind(std::vector<BindArgs>{b}), 0);
  MadviseArgs a;
  a.start = 0x101000;  // part of the VMA: the whole VMA becomes DONTNEED
  a.range = kPage;
  a.type = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
  a.val = DRM_XE_VMA_PURGEABLE_STATE_DONTNEED;
  a.with_retained = true;
  std::uint32_t retained = 0;
  ASSERT_EQ(m.madvise(a, &retained), 0);
  EXPECT_EQ(retained, 1u);
  EXPECT_TRUE(m.live_bos().at(0).purgeable());
  b.addr = 0x200000;
  EXPECT_EQ(m.bind(std::vector<BindArgs>{b}), -EBUSY);
  EXPECT_EQ(m.gem_mmap_offset(h), -EBUSY);
  // a partial unbind keeps DONTNEED on the remaining piece
  BindArgs u;
  u.op = DRM_XE_VM_BIND_OP_UNMAP;
  u.addr = 0x100000;
  u.range = kPage;
  ASSERT_EQ(m.bind(std::vector<BindArgs>{u}), 0);
  EXPECT_EQ(m.vmas().at(0).attrs.purgeable, 1u);
  EXPECT_TRUE(m.live_bos().at(0).purgeable());
}

TEST(RefModelPurgeableTest, PurgeableStateIsAnUnknownTypeBefore71) {
  RefModel m(DeviceDesc::from_profile("b580"));
  MadviseArgs a;
  a.start = 0;
  a.range = kPage;
  a.type = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
  EXPECT_EQ(m.madvise(a), -EINVAL);
}

TEST(RefModelProfileTest, VramBosOn64KDevicesNeed64KAlignedSizesAndBinds) {
  RefModel m(DeviceDesc::from_profile("pvc"));
  std::uint32_t h = 0;
  EXPECT_EQ(m.gem_create(4 * kPage, 0b010, DRM_XE_GEM_CPU_CACHING_WC, &h), -EINVAL);
  ASSERT_EQ(m.gem_create(64 * 1024, 0b010, DRM_XE_GEM_CPU_CACHING_WC, &h), 0);
  BindArgs b;
  b.op = DRM_XE_VM_BIND_OP_MAP;
  b.obj = h;
  b.pat = 3;  // coherent on pvc
  b.addr = 0x110000;
  b.range = 64 * 1024;
  EXPECT_EQ(m.bind(std::vector<BindArgs>{b}), 0);
  b.addr = 0x101000;
  EXPECT_EQ(m.bind(std::vector<BindArgs>{b}), -EINVAL);
}

TEST(RefModelProfileTest, DeviceAtomicsOnSystemMemoryApplyToUserptr) {
  RefModel m(DeviceDesc::from_profile("integrated"));
  BindArgs u;
  u.op = DRM_XE_VM_BIND_OP_MAP_USERPTR;
  u.obj_offset = 0x7f0000000000;
  u.addr = 0x100000;
  u.range = 4 * kPage;
  u.pat = 1;
  ASSERT_EQ(m.device().pat_coh.at(1) != kCohNone, true);
  ASSERT_EQ(m.bind(std::vector<BindArgs>{u}), 0);
  MadviseArgs a;
  a.start = 0x100000;
  a.range = 4 * kPage;
  a.type = DRM_XE_MEM_RANGE_ATTR_ATOMIC;
  a.val = DRM_XE_ATOMIC_DEVICE;
  ASSERT_EQ(m.madvise(a), 0);
  EXPECT_EQ(m.vmas().at(0).attrs.atomic, DRM_XE_ATOMIC_DEVICE);
  a.val = DRM_XE_ATOMIC_GLOBAL;  // still ignored on userptr
  ASSERT_EQ(m.madvise(a), 0);
  EXPECT_EQ(m.vmas().at(0).attrs.atomic, DRM_XE_ATOMIC_DEVICE);
}

// --- shared virtual memory (spec §7) ---

BindArgs mirror(std::uint64_t s, std::uint64_t e, std::uint32_t flags = 0) {
  BindArgs b;
  b.op = DRM_XE_VM_BIND_OP_MAP;
  b.addr = pg(s);
  b.range = pg(e) - pg(s);
  b.pat = kPat;
  b.flags = DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR | flags;
  return b;
}

MadviseArgs atomic_cpu(std::uint64_t s, std::uint64_t e) {
  MadviseArgs a;
  a.start = pg(s);
  a.range = pg(e) - pg(s);
  a.type = DRM_XE_MEM_RANGE_ATTR_ATOMIC;
  a.val = DRM_XE_ATOMIC_CPU;
  return a;
}

// old:   0        m (advised)        4   m (default)   6
//        [----------------------------|---------------)   autoreset mirror, advised [0,4)
// unmap:      [-----------------------)                   CPU unmap [1,4)
// after: [0,1) advised | [1,6) default  (the reset piece merges with [4,6))
TEST(RefModelSvmTest, CpuUnmapResetsAndMergesAutoresetMirrorPieces) {
  RefModel m(DeviceDesc::from_profile("b580"));
  const BindArgs b = mirror(0, 6, DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET);
  ASSERT_EQ(m.bind({&b, 1}), 0);
  ASSERT_EQ(m.madvise(atomic_cpu(0, 4)), 0);
  ASSERT_EQ(pages(m.vmas()), "[0,4) mirror | [4,6) mirror");
  ASSERT_EQ(m.cpu_map(pg(0), pg(6) - pg(0)), 0);
  EXPECT_EQ(m.cpu_unmap(pg(1), pg(4) - pg(1)), 0);
  EXPECT_EQ(pages(m.vmas()), "[0,1) mirror | [1,6) mirror");
  EXPECT_EQ(m.vmas()[0].attrs.atomic, DRM_XE_ATOMIC_CPU);
  EXPECT_TRUE(m.vmas()[1].has_default_attrs());
}

TEST(RefModelSvmTest, CpuUnmapLeavesMirrorsWithoutAutoresetAlone) {
  RefModel m(DeviceDesc::from_profile("b580"));
  const BindArgs b = mirror(0, 6);
  ASSERT_EQ(m.bind({&b, 1}), 0);
  ASSERT_EQ(m.madvise(atomic_cpu(0, 6)), 0);
  ASSERT_EQ(m.cpu_map(pg(0), pg(6) - pg(0)), 0);
  EXPECT_EQ(m.cpu_unmap(pg(1), pg(3) - pg(1)), 0);
  EXPECT_EQ(pages(m.vmas()), "[0,6) mirror");
  EXPECT_EQ(m.vmas()[0].attrs.atomic, DRM_XE_ATOMIC_CPU);
}

TEST(RefModelSvmTest, GpuWritesAreSeenByTheCpuAndLostOnUnmap) {
  RefModel m(DeviceDesc::from_profile("b580"));
  const BindArgs b = mirror(0, 4);
  ASSERT_EQ(m.bind({&b, 1}), 0);
  ASSERT_EQ(m.cpu_map(pg(0), pg(4) - pg(0)), 0);
  EXPECT_EQ(m.cpu_map(pg(3), pg(5) - pg(3)), -EEXIST);
  std::vector<AccessOut> out;
  const Access w{pg(1) + 8, 8, DRM_SIM_ACCESS_WRITE, 41};
  const Access a{pg(1), 8, DRM_SIM_ACCESS_ATOMIC, 1};
  const Access gw[] = {w, a};
  ASSERT_EQ(m.access(true, gw, &out), 0);
  EXPECT_EQ(out[1].value, 41u);  // tag backing: one tag per page
  const Access r{pg(1), 8, DRM_SIM_ACCESS_READ, 0};
  ASSERT_EQ(m.access(false, {&r, 1}, &out), 0);
  EXPECT_EQ(out[0].value, 42u);
  ASSERT_EQ(m.cpu_unmap(pg(1), kPage), 0);
  EXPECT_EQ(m.access(false, {&r, 1}, &out), -EFAULT);
  EXPECT_EQ(m.access(true, {&r, 1}, &out), -EFAULT);  // mirror, but no CPU page
}

TEST(RefModelSvmTest, GpuAtomicsUnderTheCpuPolicyFailAndNullBindingsReadZero) {
  RefModel m(DeviceDesc::from_profile("b580"));
  BindArgs n;
  n.op = DRM_XE_VM_BIND_OP_MAP;
  n.addr = pg(4);
  n.range = kPage;
  n.pat = kPat;
  n.flags = DRM_XE_VM_BIND_FLAG_NULL | DRM_XE_VM_BIND_FLAG_READONLY;
  const BindArgs binds[] = {mirror(0, 4), n};
  ASSERT_EQ(m.bind(binds), 0);
  ASSERT_EQ(m.cpu_map(pg(0), pg(4) - pg(0)), 0);
  ASSERT_EQ(m.madvise(atomic_cpu(0, 4)), 0);
  std::vector<AccessOut> out;
  const Access a{pg(0), 8, DRM_SIM_ACCESS_ATOMIC, 1};
  EXPECT_EQ(m.access(true, {&a, 1}, &out), -EACCES);
  const Access r{pg(4), 8, DRM_SIM_ACCESS_READ, 99};
  EXPECT_EQ(m.access(true, {&r, 1}, &out), 0);
  EXPECT_EQ(out[0].value, 0u);
  const Access w{pg(4), 8, DRM_SIM_ACCESS_WRITE, 99};
  EXPECT_EQ(m.access(true, {&w, 1}, &out), -EPERM);
}

TEST(RefModelSvmTest, PrefetchNeedsTheCpuMappingAndChecksTheBoPlacement) {
  RefModel m(DeviceDesc::from_profile("b580"));
  const BindArgs b = mirror(0, 4);
  ASSERT_EQ(m.bind({&b, 1}), 0);
  BindArgs p;
  p.op = DRM_XE_VM_BIND_OP_PREFETCH;
  p.addr = pg(0);
  p.range = pg(4) - pg(0);
  p.region = 1;
  EXPECT_EQ(m.bind({&p, 1}), -EFAULT);
  ASSERT_EQ(m.cpu_map(pg(0), pg(4) - pg(0)), 0);
  EXPECT_EQ(m.bind({&p, 1}), 0);
  p.region = 7;  // no such region
  EXPECT_EQ(m.bind({&p, 1}), -EINVAL);
  const std::uint32_t h = make_bo_in(m, 2);
  BindArgs bo;
  bo.op = DRM_XE_VM_BIND_OP_MAP;
  bo.obj = h;
  bo.addr = pg(4);
  bo.range = 2 * kPage;
  bo.pat = kPat;
  ASSERT_EQ(m.bind({&bo, 1}), 0);
  p.region = kConsultPrefLoc;  // a BO follows its own placement
  p.range = pg(6) - pg(0);
  EXPECT_EQ(m.bind({&p, 1}), 0);
  p.region = 1;  // VRAM: not in the BO's placement (system memory only)
  EXPECT_EQ(m.bind({&p, 1}), -EINVAL);
}

// --- BO and userptr contents ---

BindArgs bo_map(std::uint32_t h, std::uint64_t s, std::uint64_t e, std::uint64_t off_pages,
                std::uint32_t flags = 0) {
  BindArgs b;
  b.op = DRM_XE_VM_BIND_OP_MAP;
  b.obj = h;
  b.addr = pg(s);
  b.range = pg(e) - pg(s);
  b.obj_offset = off_pages * kPage;
  b.pat = kPat;
  b.flags = flags;
  return b;
}

// Two VMAs over one BO: [0,2) maps BO pages 0-1, [8,10) maps BO pages 1-2.
// A write through one VMA is read back through the other; the content
// outlives an unbind of every VMA and a rebind.
TEST(RefModelBoTest, BoPagesAreSharedByEveryVmaAndOutliveAnUnbind) {
  RefModel m(DeviceDesc::from_profile("b580"));
  const std::uint32_t h = make_bo_in(m, 4);
  const BindArgs a = bo_map(h, 0, 2, 0);
  const BindArgs b = bo_map(h, 8, 10, 1);
  ASSERT_EQ(m.bind({&a, 1}), 0);
  ASSERT_EQ(m.bind({&b, 1}), 0);
  std::vector<AccessOut> out;
  const Access w{pg(1) + 16, 8, DRM_SIM_ACCESS_WRITE, 0x1234};
  ASSERT_EQ(m.access(true, {&w, 1}, &out), 0);
  const Access r{pg(8) + 16, 8, DRM_SIM_ACCESS_READ, 0};
  ASSERT_EQ(m.access(true, {&r, 1}, &out), 0);
  EXPECT_EQ(out[0].value, 0x1234u);  // tag backing: the page's tag
  const Access fresh{pg(9), 8, DRM_SIM_ACCESS_READ, 7};
  ASSERT_EQ(m.access(true, {&fresh, 1}, &out), 0);
  EXPECT_EQ(out[0].value, 0u);  // never written: zero
  BindArgs u;
  u.op = DRM_XE_VM_BIND_OP_UNMAP;
  u.addr = 0;
  u.range = pg(16);
  ASSERT_EQ(m.bind({&u, 1}), 0);
  const BindArgs again = bo_map(h, 4, 5, 1);
  ASSERT_EQ(m.bind({&again, 1}), 0);
  const Access r2{pg(4), 8, DRM_SIM_ACCESS_ATOMIC, 1};
  ASSERT_EQ(m.access(true, {&r2, 1}, &out), 0);
  EXPECT_EQ(out[0].value, 0x1234u);
  EXPECT_EQ(m.bo_page_digest(*m.bo_of_handle(h), kPage), std::optional<std::uint64_t>(0x1235u));
}

// The BO-path errors in the engine's order: past the VMA (-EFAULT) before
// READONLY (-EPERM) before a page-crossing access (-EINVAL); the BO-wide
// atomic attribute CPU makes GPU atomics -EACCES on a discrete part.
TEST(RefModelBoTest, BoAccessErrorsComeInTheEngineOrder) {
  RefModel m(DeviceDesc::from_profile("b580"));
  const std::uint32_t h = make_bo_in(m, 2);
  const BindArgs b = bo_map(h, 0, 2, 0, DRM_XE_VM_BIND_FLAG_READONLY);
  ASSERT_EQ(m.bind({&b, 1}), 0);
  std::vector<AccessOut> out;
  const Access past{pg(2) - 4, 8, DRM_SIM_ACCESS_WRITE, 1};
  EXPECT_EQ(m.access(true, {&past, 1}, &out), -EFAULT);
  const Access ro{pg(1) - 4, 8, DRM_SIM_ACCESS_WRITE, 1};
  EXPECT_EQ(m.access(true, {&ro, 1}, &out), -EPERM);
  const Access cross{pg(1) - 4, 8, DRM_SIM_ACCESS_READ, 1};
  EXPECT_EQ(m.access(true, {&cross, 1}, &out), -EINVAL);
  const BindArgs rw = bo_map(h, 4, 6, 0);
  ASSERT_EQ(m.bind({&rw, 1}), 0);
  MadviseArgs a = atomic_cpu(4, 6);
  ASSERT_EQ(m.madvise(a), 0);
  const Access at{pg(4), 8, DRM_SIM_ACCESS_ATOMIC, 1};
  EXPECT_EQ(m.access(true, {&at, 1}, &out), -EACCES);
}

// A userptr VMA is a window onto the process's pages: the CPU's writes are
// what the GPU reads, and no CPU mapping behind it is -EFAULT.
TEST(RefModelBoTest, UserptrAliasesTheProcessPages) {
  RefModel m(DeviceDesc::from_profile("small"));  // data backing
  BindArgs u;
  u.op = DRM_XE_VM_BIND_OP_MAP_USERPTR;
  u.addr = pg(32);
  u.range = 2 * kPage;
  u.obj_offset = pg(4);
  u.pat = kPat;
  ASSERT_EQ(m.bind({&u, 1}), 0);
  std::vector<AccessOut> out;
  const Access g{pg(33), 8, DRM_SIM_ACCESS_READ, 0};
  EXPECT_EQ(m.access(true, {&g, 1}, &out), -EFAULT);
  ASSERT_EQ(m.cpu_map(pg(4), 2 * kPage), 0);
  const std::optional<std::uint64_t> before = m.page_digest(pg(4));
  const Access c{pg(5), 8, DRM_SIM_ACCESS_WRITE, 0xabcd};
  ASSERT_EQ(m.access(false, {&c, 1}, &out), 0);
  ASSERT_EQ(m.access(true, {&g, 1}, &out), 0);
  std::uint8_t want[8];
  for (std::uint32_t i = 0; i < 8; ++i) want[i] = write_byte(0xabcd, i);
  EXPECT_EQ(out[0].data_digest, digest(want, 8));
  const Access gw{pg(32), 8, DRM_SIM_ACCESS_ATOMIC, 5};
  ASSERT_EQ(m.access(true, {&gw, 1}, &out), 0);
  EXPECT_NE(m.page_digest(pg(4)), before);  // the GPU atomic changed the CPU's page
}

// 7.1: a purged BO (the simulator says when) loses its content for good:
// GPU accesses and PREFETCH get -EACCES, WILLNEED reports retained 0. Only
// a purgeable BO can be purged.
TEST(RefModelPurgeableTest, PurgedBoContentIsGoneAndAccessesFail) {
  RefModel m(DeviceDesc::from_profile("b580-uapi71"));
  std::uint32_t h = 0;
  ASSERT_EQ(m.gem_create(2 * kPage, 1, DRM_XE_GEM_CPU_CACHING_WB, &h), 0);
  const std::uint32_t id = *m.bo_of_handle(h);
  const BindArgs b = bo_map(h, 0, 2, 0);
  ASSERT_EQ(m.bind({&b, 1}), 0);
  EXPECT_FALSE(m.bo_purged(id));  // WILLNEED: not purgeable
  MadviseArgs a;
  a.start = 0;
  a.range = pg(2);
  a.type = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
  a.val = DRM_XE_VMA_PURGEABLE_STATE_DONTNEED;
  ASSERT_EQ(m.madvise(a), 0);
  EXPECT_TRUE(m.bo_purged(id));
  EXPECT_EQ(m.bo_page_digest(id, 0), std::nullopt);
  std::vector<AccessOut> out;
  const Access r{pg(0), 8, DRM_SIM_ACCESS_READ, 0};
  EXPECT_EQ(m.access(true, {&r, 1}, &out), -EACCES);
  a.val = DRM_XE_VMA_PURGEABLE_STATE_WILLNEED;
  a.with_retained = true;
  std::uint32_t retained = 1;
  ASSERT_EQ(m.madvise(a, &retained), 0);
  EXPECT_EQ(retained, 0u);
  EXPECT_EQ(m.access(true, {&r, 1}, &out), -EACCES);  // once purged, always purged
  BindArgs p;
  p.op = DRM_XE_VM_BIND_OP_PREFETCH;
  p.addr = 0;
  p.range = pg(2);
  p.region = 0;
  EXPECT_EQ(m.bind({&p, 1}), -EACCES);
}

// The simulator's -EACCES on a purgeable BO is the purge happening in this
// very batch: accesses before it saw the content.
TEST(RefModelPurgeableTest, SimulatorEaccesOnAPurgeableBoIsAPurgeMidBatch) {
  RefModel m(DeviceDesc::from_profile("b580-uapi71"));
  std::uint32_t h = 0;
  ASSERT_EQ(m.gem_create(2 * kPage, 1, DRM_XE_GEM_CPU_CACHING_WB, &h), 0);
  const BindArgs b = bo_map(h, 0, 2, 0);
  ASSERT_EQ(m.bind({&b, 1}), 0);
  MadviseArgs a;
  a.start = 0;
  a.range = pg(2);
  a.type = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
  a.val = DRM_XE_VMA_PURGEABLE_STATE_DONTNEED;
  ASSERT_EQ(m.madvise(a), 0);
  const Access acc[2] = {{pg(0), 8, DRM_SIM_ACCESS_READ, 0}, {pg(1), 8, DRM_SIM_ACCESS_READ, 0}};
  const int sim[2] = {0, -EACCES};
  std::vector<AccessOut> out;
  EXPECT_EQ(m.access(true, acc, &out, sim), -EACCES);
  EXPECT_EQ(out[0].result, 0);
  EXPECT_TRUE(m.purged(*m.bo_of_handle(h)));
}

// An access batch stops at the first failing access and keeps the ones
// before it, so a reproducer restarts only the rest, as the runner does.
TEST(ReproWriterTest, RestartedAccessBatchIssuesOnlyTheRest) {
  Op acc;
  acc.kind = OpKind::kGpuAccess;
  acc.accesses = {{0x1000, 8, DRM_SIM_ACCESS_ATOMIC, 1},
                  {0x2000, 8, DRM_SIM_ACCESS_WRITE, 2},
                  {0x3000, 8, DRM_SIM_ACCESS_READ, 0}};
  acc.inject.kind = Injection::Kind::kSignal;
  acc.inject.n = 2;
  Op q;
  q.kind = OpKind::kQuery;
  q.q_range = 0x10000;
  const std::vector<StepRecord> recs = {{-EINTR, true, 0}, {0, false, 0}};
  Mismatch m;
  m.step = 1;
  m.category = "query:query";
  const std::string dir = ::testing::TempDir();
  const std::string path =
      write_repro(dir, "repro_writer_restart", "b580", {acc, q}, recs, m, "writer test");
  ASSERT_FALSE(path.empty());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string t = text.str();
  EXPECT_NE(t.find("b.num = 3 - first;"), std::string::npos);
  EXPECT_NE(t.find("reinterpret_cast<std::uintptr_t>(acc + first)"), std::string::npos);
  EXPECT_NE(t.find("while (first < 3 && acc[first].result == 0) ++first;"), std::string::npos);
  EXPECT_NE(t.find("rc = call();  // the rest of the batch, issued again"), std::string::npos);
  EXPECT_EQ(t.find("rc = call();  // restarted unchanged"), std::string::npos);
  if (std::getenv("KEEP_REPRO") == nullptr) std::remove(path.c_str());
}

TEST(OpGenTest, SameSeedSameSequence) {
  RefModel m(DeviceDesc::from_profile("b580"));
  OpGen g1(42);
  OpGen g2(42);
  for (int i = 0; i < 200; ++i) {
    const Op a = g1.next(m);
    const Op b = g2.next(m);
    ASSERT_EQ(to_string(a), to_string(b));
    ASSERT_TRUE(a == b);
  }
}

}  // namespace
}  // namespace drm_sim_model
