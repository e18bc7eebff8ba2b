// DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS (xe-vm-semantics.md §5): the two-call
// protocol, -ENOSPC and the lowered count, the -EINVAL argument checks, and
// what each element reports — the VMA's full, unclipped bounds and its
// attributes as stored, for VMAs of every kind.
//
// Layout of the fixture, in pages from kBase:
//
//     page:  0           4           8          12          16
//            [- mirror --)[--- BO ----)[- userptr )[-- NULL ---)
//     query:       [-----------------------------------)        pages 2..14
#include <cstring>

#include "madvise_test_util.h"

namespace madvise_test {
namespace {

drm_xe_vm_query_mem_range_attr query_args(std::uint32_t vm, std::uint64_t start,
                                          std::uint64_t range) {
  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = vm;
  q.start = start;
  q.range = range;
  return q;
}

int query(int fd, drm_xe_vm_query_mem_range_attr& q) {
  return drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
}

class MemRangeQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(s_.bind_mirror(pg(0), pages(4)), 0);
    bo_ = s_.create_bo(pages(8), kSmem | kVram);
    ASSERT_EQ(s_.bind_bo(bo_, 0, pg(4), pages(4)), 0);
    ASSERT_EQ(s_.bind_userptr(pg(8), pages(4), kUserptrCpuBase), 0);
    ASSERT_EQ(s_.bind_null(pg(12), pages(4)), 0);
  }
  drm_xe_vm_query_mem_range_attr middle() { return query_args(s_.vm(), pg(2), pages(12)); }

  Session s_{"b580"};
  std::uint32_t bo_ = 0;
};

TEST_F(MemRangeQueryTest, CountCallReturnsOverlappingVmasAndTheElementSize) {
  // given
  drm_xe_vm_query_mem_range_attr q = middle();
  // when
  const int rc = query(s_.fd(), q);
  // then
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(q.num_mem_ranges, 4u);
  EXPECT_EQ(q.sizeof_mem_range_attr, sizeof(drm_xe_mem_range_attr));
  EXPECT_EQ(q.sizeof_mem_range_attr, 64u);
}

TEST_F(MemRangeQueryTest, FillCallReportsFullUnclippedBoundsOfEveryKind) {
  // given the count call
  drm_xe_vm_query_mem_range_attr q = middle();
  ASSERT_EQ(query(s_.fd(), q), 0);
  std::vector<drm_xe_mem_range_attr> out(q.num_mem_ranges);
  q.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(out.data());
  // when
  const int rc = query(s_.fd(), q);
  // then the mirror and the NULL VMA are reported whole, not clipped to pages 2..14
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(q.num_mem_ranges, 4u);
  EXPECT_EQ(page_spans(out), (std::vector<PageSpan>{{0, 4}, {4, 8}, {8, 12}, {12, 16}}));
  EXPECT_EQ(out[2].pat_index.val, s_.coherent_pat());  // userptr bound with it
}

TEST_F(MemRangeQueryTest, TooSmallBufferFailsWithEnospc) {
  // given room for three of the four VMAs
  std::vector<drm_xe_mem_range_attr> out(3);
  drm_xe_vm_query_mem_range_attr q = middle();
  q.num_mem_ranges = 3;
  q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
  q.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(out.data());
  // when / then
  EXPECT_EQ(query(s_.fd(), q), -ENOSPC);
}

TEST_F(MemRangeQueryTest, LargerBufferLowersTheCount) {
  // given room for ten
  std::vector<drm_xe_mem_range_attr> out(10);
  drm_xe_vm_query_mem_range_attr q = middle();
  q.num_mem_ranges = 10;
  q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
  q.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(out.data());
  // when
  const int rc = query(s_.fd(), q);
  // then
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(q.num_mem_ranges, 4u);
  out.resize(q.num_mem_ranges);
  EXPECT_EQ(page_spans(out), (std::vector<PageSpan>{{0, 4}, {4, 8}, {8, 12}, {12, 16}}));
}

// The protocol after a layout change between the two calls: -ENOSPC, then
// both calls again.
TEST_F(MemRangeQueryTest, CallerRedoesBothCallsAfterEnospc) {
  // given a count taken before a madvise split adds a VMA to the queried range
  drm_xe_vm_query_mem_range_attr q = middle();
  ASSERT_EQ(query(s_.fd(), q), 0);
  ASSERT_EQ(s_.advise_pat(pg(1), pages(2), 2), 0);
  std::vector<drm_xe_mem_range_attr> out(q.num_mem_ranges);
  q.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(out.data());
  // when
  const int stale = query(s_.fd(), q);
  drm_xe_vm_query_mem_range_attr again = middle();
  ASSERT_EQ(query(s_.fd(), again), 0);
  out.resize(again.num_mem_ranges);
  again.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(out.data());
  const int fresh = query(s_.fd(), again);
  // then
  EXPECT_EQ(stale, -ENOSPC);
  EXPECT_EQ(fresh, 0);
  EXPECT_EQ(page_spans(out), (std::vector<PageSpan>{{1, 3}, {3, 4}, {4, 8}, {8, 12}, {12, 16}}));
}

TEST_F(MemRangeQueryTest, HoleCountsZero) {
  // given
  drm_xe_vm_query_mem_range_attr q = query_args(s_.vm(), pg(64), pages(16));
  // when / then
  EXPECT_EQ(query(s_.fd(), q), 0);
  EXPECT_EQ(q.num_mem_ranges, 0u);
}

TEST_F(MemRangeQueryTest, OnePageInsideAVmaReportsTheWholeVma) {
  // when
  const auto attrs = s_.query(pg(5), pages(1));
  // then
  EXPECT_EQ(page_spans(attrs), (std::vector<PageSpan>{{4, 8}}));
}

TEST_F(MemRangeQueryTest, QueryChangesNothing) {
  // given
  const auto before = s_.vmas();
  // when
  (void)s_.query_all();
  // then
  EXPECT_TRUE(s_.vmas() == before);
}

TEST_F(MemRangeQueryTest, EveryReservedFieldOfAnElementIsZero) {
  // given a buffer full of garbage
  std::vector<drm_xe_mem_range_attr> out(4);
  std::memset(out.data(), 0xab, out.size() * sizeof out[0]);
  drm_xe_vm_query_mem_range_attr q = middle();
  q.num_mem_ranges = 4;
  q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
  q.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(out.data());
  // when
  ASSERT_EQ(query(s_.fd(), q), 0);
  // then
  for (const auto& a : out) {
    EXPECT_EQ(a.extensions, 0u);
    EXPECT_EQ(a.atomic.reserved, 0u);
    EXPECT_EQ(a.pat_index.reserved, 0u);
    EXPECT_EQ(a.reserved[0], 0u);
    EXPECT_EQ(a.reserved[1], 0u);
  }
}

// ---------------------------------------------------------------------------
// Attributes as stored.

TEST_F(MemRangeQueryTest, DefaultSystemReadsBackAsAllOnes) {
  // given
  ASSERT_EQ(s_.advise_loc(pg(0), pages(4), DRM_XE_PREFERRED_LOC_DEFAULT_SYSTEM,
                          DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES),
            0);
  // when
  const auto attrs = s_.query(pg(0), pages(4));
  // then
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(attrs[0].preferred_mem_loc.devmem_fd, 0xffffffffu);
  EXPECT_EQ(attrs[0].preferred_mem_loc.migration_policy,
            static_cast<std::uint32_t>(DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES));
}

TEST_F(MemRangeQueryTest, NewVmasReportTheDefaultAttributes) {
  // when
  const auto attrs = s_.query(pg(0), pages(16));
  // then DEFAULT_DEVICE, ALL_PAGES, UNDEFINED atomic, the bind's PAT index
  ASSERT_EQ(attrs.size(), 4u);
  for (const auto& a : attrs) {
    EXPECT_EQ(a.preferred_mem_loc.devmem_fd, 0u);
    EXPECT_EQ(a.preferred_mem_loc.migration_policy, 0u);
    EXPECT_EQ(a.atomic.val, 0u);
  }
  EXPECT_EQ(attrs[0].pat_index.val, 0u);
  EXPECT_EQ(attrs[2].pat_index.val, s_.coherent_pat());
}

TEST_F(MemRangeQueryTest, EachAttributeReadsBackAsAdvised) {
  // given
  ASSERT_EQ(s_.advise_atomic(pg(0), pages(4), DRM_XE_ATOMIC_CPU), 0);
  ASSERT_EQ(s_.advise_pat(pg(0), pages(4), 27), 0);
  ASSERT_EQ(s_.advise_loc(pg(0), pages(4), DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE, 1), 0);
  // when
  const auto attrs = s_.query(pg(0), pages(4));
  // then
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(attrs[0].atomic.val, static_cast<std::uint32_t>(DRM_XE_ATOMIC_CPU));
  EXPECT_EQ(attrs[0].pat_index.val, 27u);
  EXPECT_EQ(attrs[0].preferred_mem_loc.devmem_fd, 0u);
  EXPECT_EQ(attrs[0].preferred_mem_loc.migration_policy, 1u);
}

//     page:  4           8  ...  20          24
//            [-- BO @0 --)       [-- BO @4 --)      ATOMIC DEVICE on the first
TEST_F(MemRangeQueryTest, BoVmasReportTheirOwnAtomicValue) {
  // given the fixture's BO also mapped at pages 20..24
  ASSERT_EQ(s_.bind_bo(bo_, pages(4), pg(20), pages(4)), 0);
  // when the first mapping is advised
  ASSERT_EQ(s_.advise_atomic(pg(4), pages(4), DRM_XE_ATOMIC_DEVICE), 0);
  // then the BO is DEVICE, yet each VMA reports its own value
  EXPECT_EQ(s_.bo_state(bo_).atomic, DRM_XE_ATOMIC_DEVICE);
  EXPECT_EQ(s_.query(pg(4), pages(4)).at(0).atomic.val,
            static_cast<std::uint32_t>(DRM_XE_ATOMIC_DEVICE));
  EXPECT_EQ(s_.query(pg(20), pages(4)).at(0).atomic.val, 0u);
}

// ---------------------------------------------------------------------------
// -EINVAL checks.

struct QueryArgCase {
  const char* name;
  void (*set)(drm_xe_vm_query_mem_range_attr&, drm_xe_mem_range_attr* buf);
};

const QueryArgCase kQueryArgCases[] = {
    {"UnknownVmId",
     [](drm_xe_vm_query_mem_range_attr& q, drm_xe_mem_range_attr*) { q.vm_id = 999; }},
    {"CountCallWithAVector",
     [](drm_xe_vm_query_mem_range_attr& q, drm_xe_mem_range_attr* b) {
       q.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(b);
     }},
    {"CountCallWithAnElementSize",
     [](drm_xe_vm_query_mem_range_attr& q, drm_xe_mem_range_attr*) {
       q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
     }},
    {"FillCallWithoutAVector",
     [](drm_xe_vm_query_mem_range_attr& q, drm_xe_mem_range_attr*) {
       q.num_mem_ranges = 4;
       q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
     }},
    {"FillCallWithoutAnElementSize",
     [](drm_xe_vm_query_mem_range_attr& q, drm_xe_mem_range_attr* b) {
       q.num_mem_ranges = 4;
       q.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(b);
     }},
    {"FillCallWithASmallerElementSize",
     [](drm_xe_vm_query_mem_range_attr& q, drm_xe_mem_range_attr* b) {
       q.num_mem_ranges = 4;
       q.sizeof_mem_range_attr = 32;
       q.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(b);
     }},
    {"FillCallWithALargerElementSize",
     [](drm_xe_vm_query_mem_range_attr& q, drm_xe_mem_range_attr* b) {
       q.num_mem_ranges = 4;
       q.sizeof_mem_range_attr = 2 * sizeof(drm_xe_mem_range_attr);
       q.vector_of_mem_attr = reinterpret_cast<std::uint64_t>(b);
     }},
};

class MemRangeQueryArgTest : public ::testing::TestWithParam<QueryArgCase> {};

TEST_P(MemRangeQueryArgTest, FailsWithEinval) {
  // given
  Session s("b580");
  ASSERT_EQ(s.bind_mirror(pg(0), pages(4)), 0);
  std::vector<drm_xe_mem_range_attr> buf(8);
  drm_xe_vm_query_mem_range_attr q = query_args(s.vm(), pg(0), pages(4));
  GetParam().set(q, buf.data());
  // when / then
  EXPECT_EQ(query(s.fd(), q), -EINVAL);
}

INSTANTIATE_TEST_SUITE_P(Section5, MemRangeQueryArgTest, ::testing::ValuesIn(kQueryArgCases),
                         NameOf());

}  // namespace
}  // namespace madvise_test
