// Embedded user pointers that the process cannot read or write give -EFAULT,
// never a crash, and nothing changes (issue 6: the fuzzer's pointer cases as
// deterministic tests). Covered: the VM_BIND vector (PROT_NONE page, too short
// and ending at a guard page, unmapped, NULL), the syncs array, the
// mem-range-attribute query vector (unmapped, PROT_NONE, too short),
// retained_ptr (uapi 7.1), DRM_IOCTL_VERSION's string buffers and the device
// query reply buffer. Where the spec says the VM is unchanged (a bind array is
// all-or-nothing, §6; madvise's retained_ptr check is step 3, before any
// change, §3; the query changes nothing), the whole VMA layout is compared.
// Also: a copy in a fork child reaches the child (the pid is cached).
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "drm_sim/core/uaccess.h"
#include "tests/unit/ioctl_test_util.h"

namespace drm_sim_test {
namespace {

// Never mapped: below vm.mmap_min_addr, and the first page past the x86-64
// user address space.
constexpr std::uint64_t kLowUnmapped = 0x1000;
constexpr std::uint64_t kPastUserSpace = 0x00007ffffffff000ull;

// `pages` read-write pages followed by one PROT_NONE guard page.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(std::size_t pages = 4) : rw_(pages * kPage) {
    void* m =
        ::mmap(nullptr, rw_ + kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(m, MAP_FAILED);
    base_ = static_cast<unsigned char*>(m);
    EXPECT_EQ(::mprotect(base_ + rw_, kPage, PROT_NONE), 0);
  }
  ~GuardedBuffer() { ::munmap(base_, rw_ + kPage); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  // The first byte of the PROT_NONE page.
  unsigned char* guard() const { return base_ + rw_; }
  // n bytes that end exactly where the guard page begins.
  unsigned char* tail(std::size_t n) const { return guard() - n; }
  // Copies bytes so that only the first `room` of them fit before the guard.
  std::uint64_t place_truncated(const void* bytes, std::size_t room) const {
    unsigned char* p = tail(room);
    std::memcpy(p, bytes, room);
    return reinterpret_cast<std::uintptr_t>(p);
  }

 private:
  std::size_t rw_;
  unsigned char* base_ = nullptr;
};

std::uint64_t addr_of(const void* p) {
  return reinterpret_cast<std::uintptr_t>(p);
}

drm_xe_sync user_fence_sync(std::uint64_t addr) {
  drm_xe_sync s{};
  s.type = DRM_XE_SYNC_TYPE_USER_FENCE;
  s.flags = DRM_XE_SYNC_FLAG_SIGNAL;
  s.addr = addr;
  s.timeline_value = 1;
  return s;
}

// A fault-mode VM on the default device holding a BO VMA, a NULL VMA and a
// mirror VMA, plus a spare BO for binds that would change the layout.
class UaccessEfaultTest : public IoctlTest {
 protected:
  void SetUp() override {
    IoctlTest::SetUp();
    build_layout();
  }
  void build_layout() {
    vm_ = make_vm(fd(), kFaultVm);
    bo_ = make_bo(fd(), 2 * kMiB);
    ASSERT_EQ(bind(fd(), vm_, map_bo(bo_, 0x100000, 2 * kMiB)), 0);
    ASSERT_EQ(bind(fd(), vm_, map_null(0x800000, 2 * kMiB)), 0);
    ASSERT_EQ(bind(fd(), vm_, map_mirror(0x1000000, 16 * kMiB)), 0);
    before_ = full_layout(fd(), vm_);
  }
  // Three ops that would all change the layout if any were applied.
  std::vector<drm_xe_vm_bind_op> changing_ops() const {
    return {map_null(0x4000000, 0x10000), unmap(0x100000, 0x1000), map_bo(bo_, 0x5000000, kMiB)};
  }
  int bind_raw(drm_xe_vm_bind* b) { return drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_BIND, b); }
  void expect_unchanged() { EXPECT_EQ(full_layout(fd(), vm_), before_); }

  std::uint32_t vm_ = 0;
  std::uint32_t bo_ = 0;
  std::string before_;
};

// --- VM_BIND: vector_of_binds

TEST_F(UaccessEfaultTest, BindVectorOnAProtNonePageFailsWithEfault) {
  // given a bind array whose vector is a PROT_NONE page
  GuardedBuffer buf;
  drm_xe_vm_bind b = bind_args(vm_, changing_ops());
  b.vector_of_binds = addr_of(buf.guard());
  // when
  const int r = bind_raw(&b);
  // then
  EXPECT_EQ(r, -EFAULT);
  expect_unchanged();
}

TEST_F(UaccessEfaultTest, BindVectorEndingAtAGuardPageTooShortFailsWithEfault) {
  // given three valid ops of which only two and a half are readable: the
  // last 8 bytes of the vector fall on the guard page
  GuardedBuffer buf;
  const std::vector<drm_xe_vm_bind_op> ops = changing_ops();
  drm_xe_vm_bind b = bind_args(vm_, ops);
  b.vector_of_binds = buf.place_truncated(ops.data(), ops.size() * sizeof ops[0] - 8);
  // when
  const int r = bind_raw(&b);
  // then nothing of the array is applied
  EXPECT_EQ(r, -EFAULT);
  expect_unchanged();
}

TEST_F(UaccessEfaultTest, BindVectorShorterByOneOpFailsWithEfault) {
  // given num_binds = 3 but only two ops before the guard page
  GuardedBuffer buf;
  const std::vector<drm_xe_vm_bind_op> ops = changing_ops();
  drm_xe_vm_bind b = bind_args(vm_, ops);
  b.vector_of_binds = buf.place_truncated(ops.data(), 2 * sizeof ops[0]);
  // when
  const int r = bind_raw(&b);
  // then
  EXPECT_EQ(r, -EFAULT);
  expect_unchanged();
}

TEST_F(UaccessEfaultTest, BindVectorExactlyBeforeAGuardPageSucceeds) {
  // given the same three ops, complete, ending exactly at the guard page
  GuardedBuffer buf;
  const std::vector<drm_xe_vm_bind_op> ops = changing_ops();
  drm_xe_vm_bind b = bind_args(vm_, ops);
  b.vector_of_binds = buf.place_truncated(ops.data(), ops.size() * sizeof ops[0]);
  // when / then (the control case: the guard page itself is no error)
  EXPECT_EQ(bind_raw(&b), 0);
  EXPECT_NE(full_layout(fd(), vm_), before_);
}

TEST_F(UaccessEfaultTest, BindVectorUnmappedOrNullFailsWithEfault) {
  for (std::uint64_t bad : {kLowUnmapped, kPastUserSpace, std::uint64_t{0}}) {
    // given
    drm_xe_vm_bind b = bind_args(vm_, changing_ops());
    b.vector_of_binds = bad;
    // when
    const int r = bind_raw(&b);
    // then
    EXPECT_EQ(r, -EFAULT) << "vector_of_binds 0x" << std::hex << bad;
  }
  expect_unchanged();
}

TEST_F(UaccessEfaultTest, FailedBindArrayLeavesTheStatsUntouched) {
  // given
  GuardedBuffer buf;
  const drm_sim_vm_stats s0 = vm_stats(fd(), vm_);
  drm_xe_vm_bind b = bind_args(vm_, changing_ops());
  b.vector_of_binds = addr_of(buf.guard());
  // when
  ASSERT_EQ(bind_raw(&b), -EFAULT);
  // then no op ran, so there was nothing to roll back either
  const drm_sim_vm_stats s1 = vm_stats(fd(), vm_);
  EXPECT_EQ(s1.binds, s0.binds);
  EXPECT_EQ(s1.num_vmas, s0.num_vmas);
}

// --- VM_BIND: syncs

TEST_F(UaccessEfaultTest, SyncsPointerUnmappedFailsWithEfaultBeforeTheBind) {
  for (std::uint64_t bad : {kLowUnmapped, kPastUserSpace, std::uint64_t{0}}) {
    // given a valid single op and an unreadable syncs array
    drm_xe_vm_bind b = bind_args(vm_, map_null(0x4000000, 0x10000));
    b.num_syncs = 1;
    b.syncs = bad;
    // when
    const int r = bind_raw(&b);
    // then the op is not applied
    EXPECT_EQ(r, -EFAULT) << "syncs 0x" << std::hex << bad;
  }
  expect_unchanged();
}

TEST_F(UaccessEfaultTest, SyncsArrayTooShortFailsWithEfault) {
  // given two user-fence syncs of which only the first is readable
  GuardedBuffer buf;
  std::uint64_t fence[2] = {};
  const drm_xe_sync syncs[2] = {user_fence_sync(addr_of(&fence[0])),
                                user_fence_sync(addr_of(&fence[1]))};
  const std::vector<drm_xe_vm_bind_op> ops = changing_ops();
  drm_xe_vm_bind b = bind_args(vm_, ops);
  b.num_syncs = 2;
  b.syncs = buf.place_truncated(syncs, sizeof syncs - 1);
  // when
  const int r = bind_raw(&b);
  // then
  EXPECT_EQ(r, -EFAULT);
  expect_unchanged();
  EXPECT_EQ(fence[0], 0u);
  EXPECT_EQ(fence[1], 0u);
}

TEST_F(UaccessEfaultTest, SyncsOnAProtNonePageFailsWithEfault) {
  // given
  GuardedBuffer buf;
  drm_xe_vm_bind b = bind_args(vm_, map_null(0x4000000, 0x10000));
  b.num_syncs = 3;
  b.syncs = addr_of(buf.guard());
  // when / then
  EXPECT_EQ(bind_raw(&b), -EFAULT);
  expect_unchanged();
}

TEST_F(UaccessEfaultTest, UnwritableUserFenceNeverCrashes) {
  // given a user fence on a PROT_NONE page (written after the bind, which
  // completes synchronously)
  GuardedBuffer buf;
  const drm_xe_sync sync = user_fence_sync(addr_of(buf.guard()));
  drm_xe_vm_bind b = bind_args(vm_, map_null(0x4000000, 0x10000));
  b.num_syncs = 1;
  b.syncs = addr_of(&sync);
  // when
  const int r = bind_raw(&b);
  // then the fence write fails cleanly (drm_sim reports it; upstream xe
  // signals user fences asynchronously and would return 0)
  EXPECT_TRUE(r == 0 || r == -EFAULT) << r;
  expect_invariants(fd());
}

// --- VM_QUERY_MEM_RANGE_ATTRS: vector_of_mem_attr

TEST_F(UaccessEfaultTest, QueryVectorUnmappedFailsWithEfault) {
  for (std::uint64_t bad : {kLowUnmapped, kPastUserSpace}) {
    // given a fill call for the three VMAs into an unmapped vector
    drm_xe_vm_query_mem_range_attr q{};
    q.vm_id = vm_;
    q.start = 0;
    q.range = 1ull << 40;
    q.num_mem_ranges = 3;
    q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
    q.vector_of_mem_attr = bad;
    // when
    const int r = drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
    // then
    EXPECT_EQ(r, -EFAULT) << "vector 0x" << std::hex << bad;
  }
  expect_unchanged();
}

TEST_F(UaccessEfaultTest, QueryVectorOnAProtNonePageFailsWithEfault) {
  // given
  GuardedBuffer buf;
  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = vm_;
  q.range = 1ull << 40;
  q.num_mem_ranges = 3;
  q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
  q.vector_of_mem_attr = addr_of(buf.guard());
  // when / then
  EXPECT_EQ(drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q), -EFAULT);
  expect_unchanged();
}

TEST_F(UaccessEfaultTest, QueryVectorTooShortFailsWithEfault) {
  // given room for two and a half of the three entries before the guard page
  GuardedBuffer buf;
  const std::size_t room = 3 * sizeof(drm_xe_mem_range_attr) - 32;
  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = vm_;
  q.range = 1ull << 40;
  q.num_mem_ranges = 3;
  q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
  q.vector_of_mem_attr = addr_of(buf.tail(room));
  // when
  const int r = drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q);
  // then
  EXPECT_EQ(r, -EFAULT);
  expect_unchanged();
}

TEST_F(UaccessEfaultTest, QueryVectorExactlyBeforeAGuardPageSucceeds) {
  // given (control case)
  GuardedBuffer buf;
  drm_xe_vm_query_mem_range_attr q{};
  q.vm_id = vm_;
  q.range = 1ull << 40;
  q.num_mem_ranges = 3;
  q.sizeof_mem_range_attr = sizeof(drm_xe_mem_range_attr);
  q.vector_of_mem_attr = addr_of(buf.tail(3 * sizeof(drm_xe_mem_range_attr)));
  // when / then
  ASSERT_EQ(drm_sim_ioctl(fd(), DRM_IOCTL_XE_VM_QUERY_MEM_RANGE_ATTRS, &q), 0);
  EXPECT_EQ(q.num_mem_ranges, 3u);
  const auto* out = reinterpret_cast<const drm_xe_mem_range_attr*>(q.vector_of_mem_attr);
  EXPECT_EQ(out[0].start, 0x100000u);
  EXPECT_EQ(out[2].end, 0x2000000u);
}

// --- MADVISE: retained_ptr (uapi 7.1)

class RetainedPtrEfaultTest : public UaccessEfaultTest {
 protected:
  void SetUp() override {
    open_device("b580-uapi71");
    build_layout();
  }
  int advise_dontneed(std::uint64_t retained_ptr) {
    drm_xe_madvise m{};
    m.vm_id = vm_;
    m.start = 0x100000;
    m.range = 2 * kMiB;
    m.type = DRM_XE_VMA_ATTR_PURGEABLE_STATE;
    m.purge_state_val.val = DRM_XE_VMA_PURGEABLE_STATE_DONTNEED;
    m.purge_state_val.retained_ptr = retained_ptr;
    return drm_sim_ioctl(fd(), DRM_IOCTL_XE_MADVISE, &m);
  }
};

TEST_F(RetainedPtrEfaultTest, UnmappedRetainedPtrFailsWithEfaultAndChangesNothing) {
  GuardedBuffer buf;
  for (std::uint64_t bad :
       {kLowUnmapped, kPastUserSpace, addr_of(buf.guard()), addr_of(buf.tail(2))}) {
    // when
    const int r = advise_dontneed(bad);
    // then (spec §3 step 3: before the VM lock, so before any change)
    EXPECT_EQ(r, -EFAULT) << "retained_ptr 0x" << std::hex << bad;
  }
  expect_unchanged();
  const drm_sim_vm_stats s = vm_stats(fd(), vm_);
  EXPECT_EQ(s.madvise_calls, 0u);
}

TEST_F(RetainedPtrEfaultTest, RetainedPtrExactlyBeforeAGuardPageIsWritten) {
  // given (control case): a zeroed u32 ending at the guard page
  GuardedBuffer buf;
  auto* retained = reinterpret_cast<std::uint32_t*>(buf.tail(sizeof(std::uint32_t)));
  *retained = 0;
  // when
  ASSERT_EQ(advise_dontneed(addr_of(retained)), 0);
  // then nothing was purged: 1
  EXPECT_EQ(*retained, 1u);
}

// --- DRM_IOCTL_VERSION and DEVICE_QUERY reply buffers

TEST_F(UaccessEfaultTest, VersionNameBufferUnmappedFailsWithEfault) {
  GuardedBuffer buf;
  for (std::uint64_t bad : {kLowUnmapped, kPastUserSpace, addr_of(buf.guard())}) {
    // given
    drm_version v{};
    v.name_len = 2;
    v.name = reinterpret_cast<char*>(bad);
    // when
    const int r = drm_sim_ioctl(fd(), DRM_IOCTL_VERSION, &v);
    // then
    EXPECT_EQ(r, -EFAULT) << "name 0x" << std::hex << bad;
  }
}

TEST_F(UaccessEfaultTest, VersionDescBufferTooShortFailsWithEfault) {
  // given desc_len 28 but only 20 writable bytes before the guard page
  GuardedBuffer buf;
  char name[8] = {};
  char date[16] = {};
  drm_version v{};
  v.name_len = sizeof name;
  v.name = name;
  v.date_len = sizeof date;
  v.date = date;
  v.desc_len = 28;
  v.desc = reinterpret_cast<char*>(buf.tail(20));
  // when
  const int r = drm_sim_ioctl(fd(), DRM_IOCTL_VERSION, &v);
  // then
  EXPECT_EQ(r, -EFAULT);
  EXPECT_STREQ(name, "xe");
}

TEST_F(UaccessEfaultTest, DeviceQueryDataUnmappedFailsWithEfault) {
  GuardedBuffer buf;
  for (std::uint32_t query : {DRM_XE_DEVICE_QUERY_CONFIG, DRM_XE_DEVICE_QUERY_MEM_REGIONS}) {
    drm_xe_device_query q{};
    q.query = query;
    ASSERT_EQ(drm_sim_ioctl(fd(), DRM_IOCTL_XE_DEVICE_QUERY, &q), 0);
    ASSERT_GT(q.size, 8u);
    for (std::uint64_t bad :
         {kLowUnmapped, kPastUserSpace, addr_of(buf.guard()), addr_of(buf.tail(q.size - 8))}) {
      // given
      q.data = bad;
      // when
      const int r = drm_sim_ioctl(fd(), DRM_IOCTL_XE_DEVICE_QUERY, &q);
      // then
      EXPECT_EQ(r, -EFAULT) << "query " << query << " data 0x" << std::hex << bad;
    }
    // control: exactly q.size bytes before the guard page
    q.data = addr_of(buf.tail(q.size));
    EXPECT_EQ(drm_sim_ioctl(fd(), DRM_IOCTL_XE_DEVICE_QUERY, &q), 0) << "query " << query;
  }
}

// copy_to_user caches the process id; a fork child must copy into its own
// memory. With a stale (parent) pid the child's copy would land in the
// parent's buffer and leave the child's unchanged.
TEST(UaccessFork, ACopyInAForkChildWritesTheChildsMemoryNotTheParents) {
  std::uint64_t buf = 0;
  const std::uint64_t first = 0x1111;
  ASSERT_TRUE(drm_sim::copy_to_user(reinterpret_cast<std::uintptr_t>(&buf), &first, sizeof first)
                  .is_ok());  // primes the cached pid
  ASSERT_EQ(buf, first);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::uint64_t v = 0x2222;
    std::uint64_t back = 0;
    const bool ok =
        drm_sim::copy_to_user(reinterpret_cast<std::uintptr_t>(&buf), &v, sizeof v).is_ok() &&
        buf == v &&
        drm_sim::copy_from_user(&back, reinterpret_cast<std::uintptr_t>(&buf), sizeof back)
            .is_ok() &&
        back == v;
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's copy did not reach the child's memory";
  EXPECT_EQ(buf, first) << "the child's copy landed in the parent";
}

}  // namespace
}  // namespace drm_sim_test
