// Opening a simulated xe device and asking it what it is: drm_sim_open() and
// drm_sim_open_file(), the fd's life cycle, per-file ids, DRM_IOCTL_VERSION
// (through libdrm's drmGetVersion) and DRM_IOCTL_XE_DEVICE_QUERY's CONFIG and
// MEM_REGIONS replies (spec §1; upstream xe_query.c).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xf86drm.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "drm_sim/ioctl/fd_table.h"
#include "tests/unit/ioctl_test_util.h"

namespace drm_sim_test {
namespace {

// ---------------------------------------------------------------------------
// drm_sim_open

TEST(DrmSimOpen, NullProfileOpensTheDefaultB580) {
  // when
  ScopedFd dev(drm_sim_open(nullptr));
  // then
  ASSERT_GE(dev.get(), 0);
  EXPECT_STREQ(drm_sim_profile_name(dev.get()), "b580");
}

class DrmSimOpenBuiltin : public ::testing::TestWithParam<const char*> {};

std::string builtin_param_name(const ::testing::TestParamInfo<const char*>& param) {
  std::string name = param.param;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

TEST_P(DrmSimOpenBuiltin, OpensTheNamedProfile) {
  // when
  ScopedFd dev(drm_sim_open(GetParam()));
  // then
  ASSERT_GE(dev.get(), 0);
  EXPECT_STREQ(drm_sim_profile_name(dev.get()), GetParam());
  EXPECT_EQ(drm_sim_is_sim_fd(dev.get()), 1);
}

INSTANTIATE_TEST_SUITE_P(EveryBuiltinProfile, DrmSimOpenBuiltin,
                         ::testing::Values("b580", "b580-uapi71", "b580-xelink", "pvc",
                                           "integrated", "small"),
                         builtin_param_name);

TEST(DrmSimOpen, ProfileFilePathOpensADeviceWithThatProfile) {
  // given a profile file with a 40-bit VA space
  const std::string path = write_profile_file(R"({
    "name": "file-profile", "va_bits": 40,
    "features": { "discrete": false },
    "regions": [ { "class": "system", "instance": 0, "size": "1GiB" } ],
    "pat": [1, 2]
  })");
  ASSERT_FALSE(path.empty());
  // when
  ScopedFd dev(drm_sim_open(path.c_str()));
  ::unlink(path.c_str());
  // then
  ASSERT_GE(dev.get(), 0);
  EXPECT_STREQ(drm_sim_profile_name(dev.get()), "file-profile");
  const std::vector<std::uint64_t> info = config_info(dev.get());
  ASSERT_GT(info.size(), static_cast<std::size_t>(DRM_XE_QUERY_CONFIG_VA_BITS));
  EXPECT_EQ(info[DRM_XE_QUERY_CONFIG_VA_BITS], 40u);
}

TEST(DrmSimOpen, UnknownProfileNameFailsWithENOENT) {
  EXPECT_EQ(drm_sim_open("no-such-gpu"), -ENOENT);
}

TEST(DrmSimOpen, MissingProfileFileFailsWithENOENT) {
  EXPECT_EQ(drm_sim_open("/nonexistent/dir/gpu.json"), -ENOENT);
}

TEST(DrmSimOpen, ProfileFileThatIsNotJsonFailsWithEINVAL) {
  // given
  const std::string path = write_profile_file("this is not json");
  ASSERT_FALSE(path.empty());
  // when
  const int r = drm_sim_open(path.c_str());
  ::unlink(path.c_str());
  // then
  EXPECT_EQ(r, -EINVAL);
}

TEST(DrmSimOpen, FdIsARealFileDescriptor) {
  // given
  ScopedFd dev = open_sim();
  // when
  struct stat st {};
  const int r = ::fstat(dev.get(), &st);
  // then
  EXPECT_EQ(r, 0) << std::strerror(errno);
  EXPECT_GE(::fcntl(dev.get(), F_GETFD), 0);
}

TEST(DrmSimOpen, CloseReleasesTheFd) {
  // given
  const int fd = drm_sim_open(nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(drm_sim_is_sim_fd(fd), 1);
  // when
  ASSERT_EQ(::close(fd), 0);
  // then
  EXPECT_EQ(drm_sim_is_sim_fd(fd), 0);
  EXPECT_EQ(drm_sim_profile_name(fd), nullptr);
}

TEST(DrmSimOpen, IoctlOnAClosedFdFailsWithEBADFFromTheKernel) {
  // given
  const int fd = drm_sim_open(nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::close(fd), 0);
  // when
  drm_xe_vm_create c{};
  errno = 0;
  const int r = ::ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &c);
  // then
  EXPECT_EQ(r, -1);
  EXPECT_EQ(errno, EBADF);
}

TEST(DrmSimOpen, DrmSimIoctlOnAClosedFdFailsWithEBADF) {
  // given
  const int fd = drm_sim_open(nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::close(fd), 0);
  // when
  drm_xe_vm_create c{};
  const int r = drm_sim_ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &c);
  // then
  EXPECT_EQ(r, -EBADF);
}

TEST(DrmSimOpen, IoctlOnAReusedFdReachesTheNewFileWhileTheOldOneIsStillAlive) {
  // given an fd used by this thread (its per-thread lookup cache is warm),
  // whose file is kept alive elsewhere, as by an ioctl in flight
  const int fd = drm_sim_open(nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(make_vm(fd), 1u);
  ASSERT_EQ(make_vm(fd), 2u);
  const std::shared_ptr<drm_sim::DrmFile> old = drm_sim::file_from_fd(fd);
  // when the fd is closed and its number reused by a new file
  ASSERT_EQ(::close(fd), 0);
  const int again = drm_sim_open(nullptr);
  ASSERT_EQ(again, fd) << "the lowest free fd number is reused";
  // then the ioctl reaches the new file (its VM ids start again from 1)
  EXPECT_EQ(make_vm(again), 1u);
  EXPECT_EQ(old->vm_ids().size(), 2u);
  ::close(again);
}

TEST(DrmSimOpen, ClosingAnFdThisThreadUsedReleasesItsFile) {
  // given
  const int fd = drm_sim_open(nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(make_vm(fd), 1u);
  const std::weak_ptr<drm_sim::DrmFile> file = drm_sim::file_from_fd(fd);
  // when
  ASSERT_EQ(::close(fd), 0);
  // then the ioctl lookup cache holds no reference
  EXPECT_TRUE(file.expired());
}

TEST(DrmSimOpen, AReusedVmIdReachesTheNewVmWhileTheOldOneIsStillAlive) {
  // given VM 1 used by this thread (its VM lookup cache is warm) and kept
  // alive elsewhere, as by an ioctl in flight
  ScopedFd dev = open_sim();
  ASSERT_EQ(make_vm(dev.get()), 1u);
  const auto file = drm_sim::file_from_fd(dev.get());
  const std::shared_ptr<drm_sim::Vm> old = file->vm(1);
  ASSERT_NE(old, nullptr);
  drm_sim_vm_stats st{};
  st.vm_id = 1;
  ASSERT_EQ(drm_sim_ioctl(dev.get(), DRM_IOCTL_SIM_VM_STATS, &st), 0);
  // when VM 1 is destroyed and its id reused by a new VM
  drm_xe_vm_destroy d{};
  d.vm_id = 1;
  ASSERT_EQ(drm_sim_ioctl(dev.get(), DRM_IOCTL_XE_VM_DESTROY, &d), 0);
  ASSERT_EQ(make_vm(dev.get()), 1u);
  // then lookups of id 1 reach the new VM
  EXPECT_NE(file->vm(1), old);
  EXPECT_NE(file->vm(1), nullptr);
  EXPECT_TRUE(old->closed());
}

TEST(DrmSimOpen, EachOpenNumbersItsVmsFromOne) {
  // given
  ScopedFd a = open_sim();
  ScopedFd b = open_sim();
  // when
  const std::uint32_t a1 = make_vm(a.get());
  const std::uint32_t a2 = make_vm(a.get());
  const std::uint32_t b1 = make_vm(b.get());
  // then
  EXPECT_EQ(a1, 1u);
  EXPECT_EQ(a2, 2u);
  EXPECT_EQ(b1, 1u);
}

TEST(DrmSimOpen, EachOpenNumbersItsBoHandlesFromOne) {
  // given
  ScopedFd a = open_sim();
  ScopedFd b = open_sim();
  // when
  const std::uint32_t a1 = make_bo(a.get(), 64 * kKiB);
  const std::uint32_t a2 = make_bo(a.get(), 64 * kKiB);
  const std::uint32_t b1 = make_bo(b.get(), 64 * kKiB);
  // then
  EXPECT_EQ(a1, 1u);
  EXPECT_EQ(a2, 2u);
  EXPECT_EQ(b1, 1u);
}

// Upstream xe_vm_bind_ioctl: xe_vm_lookup() fails -> -EINVAL.
TEST(DrmSimOpen, VmIdOfAnotherFileIsRejectedByBindWithEINVAL) {
  // given VM 1 exists in file A only
  ScopedFd a = open_sim();
  ScopedFd b = open_sim();
  const std::uint32_t vm = make_vm(a.get());
  // when
  const int r = bind(b.get(), vm, map_null(kMiB, 64 * kKiB));
  // then
  EXPECT_EQ(r, -EINVAL);
}

// Upstream xe_vm_destroy_ioctl: not in the file's xarray -> -ENOENT.
TEST(DrmSimOpen, VmIdOfAnotherFileIsRejectedByDestroyWithENOENT) {
  // given
  ScopedFd a = open_sim();
  ScopedFd b = open_sim();
  const std::uint32_t vm = make_vm(a.get());
  // when
  const int r = vm_destroy(b.get(), vm);
  // then
  EXPECT_EQ(r, -ENOENT);
  EXPECT_EQ(vm_destroy(a.get(), vm), 0);
}

// Upstream xe_gem_create_ioctl: vm_id lookup fails -> -ENOENT.
TEST(DrmSimOpen, VmIdOfAnotherFileIsRejectedByGemCreateWithENOENT) {
  // given
  ScopedFd a = open_sim();
  ScopedFd b = open_sim();
  const std::uint32_t vm = make_vm(a.get());
  // when
  drm_xe_gem_create c = gem_args(64 * kKiB, kSysmem, DRM_XE_GEM_CPU_CACHING_WB);
  c.vm_id = vm;
  const int r = gem_create(b.get(), &c);
  // then
  EXPECT_EQ(r, -ENOENT);
}

// Upstream: drm_gem_object_lookup() fails -> -ENOENT.
TEST(DrmSimOpen, BoHandleOfAnotherFileIsRejectedByBindWithENOENT) {
  // given a BO in file A and a VM in file B
  ScopedFd a = open_sim();
  ScopedFd b = open_sim();
  const std::uint32_t bo = make_bo(a.get(), 64 * kKiB);
  const std::uint32_t vm = make_vm(b.get());
  // when
  const int r = bind(b.get(), vm, map_bo(bo, kMiB, 64 * kKiB));
  // then
  EXPECT_EQ(r, -ENOENT);
}

// Upstream drm_gem_handle_delete(): unknown handle -> -EINVAL.
TEST(DrmSimOpen, BoHandleOfAnotherFileIsRejectedByGemCloseWithEINVAL) {
  // given
  ScopedFd a = open_sim();
  ScopedFd b = open_sim();
  const std::uint32_t bo = make_bo(a.get(), 64 * kKiB);
  // when
  const int r = gem_close(b.get(), bo);
  // then
  EXPECT_EQ(r, -EINVAL);
  EXPECT_EQ(gem_close(a.get(), bo), 0);
}

// ---------------------------------------------------------------------------
// drm_sim_open_file

TEST(DrmSimOpenFile, OpensASecondFileOnTheSameDevice) {
  // given
  ScopedFd first = open_sim("pvc");
  // when
  ScopedFd second(drm_sim_open_file(first.get()));
  // then
  ASSERT_GE(second.get(), 0);
  EXPECT_NE(second.get(), first.get());
  auto f1 = drm_sim::file_from_fd(first.get());
  auto f2 = drm_sim::file_from_fd(second.get());
  ASSERT_NE(f1, nullptr);
  ASSERT_NE(f2, nullptr);
  EXPECT_NE(f1, f2);
  EXPECT_EQ(&f1->device(), &f2->device());
  EXPECT_STREQ(drm_sim_profile_name(second.get()), "pvc");
}

TEST(DrmSimOpenFile, SecondFileNumbersItsOwnVmsAndHandlesFromOne) {
  // given a first file that already has a VM and a BO
  ScopedFd first = open_sim();
  make_vm(first.get());
  make_bo(first.get(), 64 * kKiB);
  ScopedFd second(drm_sim_open_file(first.get()));
  ASSERT_GE(second.get(), 0);
  // when
  const std::uint32_t vm = make_vm(second.get());
  const std::uint32_t bo = make_bo(second.get(), 64 * kKiB);
  // then
  EXPECT_EQ(vm, 1u);
  EXPECT_EQ(bo, 1u);
}

TEST(DrmSimOpenFile, BoHandleOfTheOtherFileOfTheSameDeviceIsNotVisible) {
  // given handle 2 exists in the first file only
  ScopedFd first = open_sim();
  make_bo(first.get(), 64 * kKiB);
  const std::uint32_t bo = make_bo(first.get(), 64 * kKiB);
  ScopedFd second(drm_sim_open_file(first.get()));
  ASSERT_GE(second.get(), 0);
  // when
  const int r = gem_close(second.get(), bo);
  // then
  EXPECT_EQ(r, -EINVAL);
}

TEST(DrmSimOpenFile, DeviceOutlivesTheFirstFile) {
  // given
  ScopedFd first = open_sim();
  ScopedFd second(drm_sim_open_file(first.get()));
  ASSERT_GE(second.get(), 0);
  // when
  first.reset();
  // then
  EXPECT_EQ(vm_create(second.get(), 0), 0);
  EXPECT_STREQ(drm_sim_profile_name(second.get()), "b580");
}

TEST(DrmSimOpenFile, NonSimFdFailsWithEBADF) {
  // given
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  // when
  const int r = drm_sim_open_file(p[0]);
  // then
  EXPECT_EQ(r, -EBADF);
  ::close(p[0]);
  ::close(p[1]);
}

// ---------------------------------------------------------------------------
// DRM_IOCTL_VERSION

TEST(DrmVersion, DrmGetVersionReportsDriverNameXe) {
  // given
  ScopedFd dev = open_sim();
  // when
  drmVersionPtr v = drmGetVersion(dev.get());
  // then
  ASSERT_NE(v, nullptr);
  EXPECT_STREQ(v->name, "xe");
  EXPECT_EQ(v->name_len, 2);
  EXPECT_EQ(v->version_major, 1);
  EXPECT_GT(v->desc_len, 0);
  drmFreeVersion(v);
}

// ---------------------------------------------------------------------------
// DRM_IOCTL_XE_DEVICE_QUERY

class DeviceQueryTest : public IoctlTest {
 protected:
  int query(drm_xe_device_query* q) { return drm_sim_ioctl(fd(), DRM_IOCTL_XE_DEVICE_QUERY, q); }
};

TEST_F(DeviceQueryTest, ConfigSizeCallReportsTheReplySize) {
  // given
  drm_xe_device_query q{};
  q.query = DRM_XE_DEVICE_QUERY_CONFIG;
  // when
  const int r = query(&q);
  // then: num_params + pad, then one u64 per parameter up to MAX_EXEC_QUEUE_PRIORITY
  EXPECT_EQ(r, 0);
  EXPECT_EQ(q.size, sizeof(drm_xe_query_config) +
                        (DRM_XE_QUERY_CONFIG_MAX_EXEC_QUEUE_PRIORITY + 1) * sizeof(std::uint64_t));
}

TEST_F(DeviceQueryTest, ConfigWithAWrongSizeFailsWithEINVAL) {
  // given
  drm_xe_device_query q{};
  q.query = DRM_XE_DEVICE_QUERY_CONFIG;
  ASSERT_EQ(query(&q), 0);
  std::vector<unsigned char> buf(q.size + 8);
  q.data = reinterpret_cast<std::uintptr_t>(buf.data());
  for (const std::uint32_t wrong : {q.size - 8, q.size + 8, 1u}) {
    // when
    q.size = wrong;
    const int r = query(&q);
    // then
    EXPECT_EQ(r, -EINVAL) << "size " << wrong;
  }
}

TEST_F(DeviceQueryTest, MemRegionsSizeCallReportsTheReplySize) {
  // given
  drm_xe_device_query q{};
  q.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  // when
  const int r = query(&q);
  // then: b580 has system memory and one VRAM region
  EXPECT_EQ(r, 0);
  EXPECT_EQ(q.size, sizeof(drm_xe_query_mem_regions) + 2 * sizeof(drm_xe_mem_region));
}

TEST_F(DeviceQueryTest, MemRegionsWithAWrongSizeFailsWithEINVAL) {
  // given
  drm_xe_device_query q{};
  q.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  ASSERT_EQ(query(&q), 0);
  std::vector<unsigned char> buf(q.size * 2);
  q.data = reinterpret_cast<std::uintptr_t>(buf.data());
  // when
  q.size = q.size * 2;
  const int r = query(&q);
  // then
  EXPECT_EQ(r, -EINVAL);
}

TEST_F(DeviceQueryTest, UnwritableReplyBufferFailsWithEFAULT) {
  // given a buffer the process cannot write
  drm_xe_device_query q{};
  q.query = DRM_XE_DEVICE_QUERY_CONFIG;
  ASSERT_EQ(query(&q), 0);
  void* page = ::mmap(nullptr, kPage, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(page, MAP_FAILED);
  q.data = reinterpret_cast<std::uintptr_t>(page);
  // when
  const int r = query(&q);
  // then
  EXPECT_EQ(r, -EFAULT);
  ::munmap(page, kPage);
}

// The two-call protocol for a variable-size reply (a u32 count, a u32 pad,
// then `count` Elems): size, then contents. Fails the test unless the size
// is exactly the header plus the count the reply holds (the count then reads 0).
template <typename Reply, typename Elem>
std::vector<unsigned char> query_reply(int fd, std::uint32_t which) {
  drm_xe_device_query q{};
  q.query = which;
  EXPECT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &q), 0);
  std::vector<unsigned char> buf(q.size);
  if (buf.size() < sizeof(Reply)) {
    ADD_FAILURE() << "reply of " << buf.size() << " bytes is shorter than its header";
    buf.resize(sizeof(Reply));  // a zero count, so callers read nothing past it
    return buf;
  }
  q.data = reinterpret_cast<std::uintptr_t>(buf.data());
  EXPECT_EQ(drm_sim_ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &q), 0);
  std::uint32_t count = 0;
  std::memcpy(&count, buf.data(), sizeof count);
  if (buf.size() != sizeof(Reply) + count * sizeof(Elem)) {
    ADD_FAILURE() << "reply of " << buf.size() << " bytes for " << count << " elements";
    std::memset(buf.data(), 0, sizeof count);  // callers' count checks stop them reading on
  }
  return buf;
}

std::vector<unsigned char> gt_list_reply(int fd) {
  return query_reply<drm_xe_query_gt_list, drm_xe_gt>(fd, DRM_XE_DEVICE_QUERY_GT_LIST);
}

TEST_F(DeviceQueryTest, GtListOfTheDiscreteDefaultIsOneMainGtNearItsVram) {
  // when
  const auto buf = gt_list_reply(fd());
  // then: b580 (graphics 20.01): GT 0 on tile 0, VRAM (instance 1) near, system memory far
  const auto* l = reinterpret_cast<const drm_xe_query_gt_list*>(buf.data());
  ASSERT_EQ(l->num_gt, 1u);
  const drm_xe_gt& g = l->gt_list[0];
  EXPECT_EQ(g.type, DRM_XE_QUERY_GT_TYPE_MAIN);
  EXPECT_EQ(g.gt_id, 0);
  EXPECT_EQ(g.tile_id, 0);
  EXPECT_EQ(g.near_mem_regions, 1ull << 1);
  EXPECT_EQ(g.far_mem_regions, 1ull << 0);
  EXPECT_EQ(g.ip_ver_major, 20);
  EXPECT_EQ(g.ip_ver_minor, 1);
  EXPECT_EQ(g.reference_clock, 19'200'000u);
}

TEST_F(DeviceQueryTest, GtListOfATwoTilePartHasOneGtPerTileEachNearItsOwnVram) {
  // given
  open_device("pvc");
  // when
  const auto buf = gt_list_reply(fd());
  // then: the other tile's VRAM and system memory are far
  const auto* l = reinterpret_cast<const drm_xe_query_gt_list*>(buf.data());
  ASSERT_EQ(l->num_gt, 2u);
  for (std::uint16_t t = 0; t < 2; ++t) {
    const drm_xe_gt& g = l->gt_list[t];
    EXPECT_EQ(g.gt_id, t);
    EXPECT_EQ(g.tile_id, t);
    EXPECT_EQ(g.near_mem_regions, 1ull << (t + 1)) << "GT " << t;
    EXPECT_EQ(g.far_mem_regions, 0b111ull & ~(1ull << (t + 1))) << "GT " << t;
    EXPECT_EQ(g.ip_ver_major, 12);
    EXPECT_EQ(g.ip_ver_minor, 60);
  }
}

TEST_F(DeviceQueryTest, GtListOfAnIntegratedPartIsNearSystemMemoryOnly) {
  // given
  open_device("integrated");
  // when
  const auto buf = gt_list_reply(fd());
  // then
  const auto* l = reinterpret_cast<const drm_xe_query_gt_list*>(buf.data());
  ASSERT_EQ(l->num_gt, 1u);
  EXPECT_EQ(l->gt_list[0].near_mem_regions, 1ull << 0);
  EXPECT_EQ(l->gt_list[0].far_mem_regions, 0u);
  EXPECT_EQ(l->gt_list[0].ip_ver_minor, 4);
}

TEST_F(DeviceQueryTest, EnginesAreRenderOnGtZeroAndComputeAndCopyOnEveryGt) {
  // given
  open_device("pvc");
  // when
  const auto buf =
      query_reply<drm_xe_query_engines, drm_xe_engine>(fd(), DRM_XE_DEVICE_QUERY_ENGINES);
  // then
  const auto* e = reinterpret_cast<const drm_xe_query_engines*>(buf.data());
  ASSERT_EQ(e->num_engines, 5u);
  std::vector<std::pair<std::uint16_t, std::uint16_t>> got;  // (gt, class)
  for (std::uint32_t i = 0; i < e->num_engines; ++i) {
    const drm_xe_engine_class_instance& ci = e->engines[i].instance;
    EXPECT_EQ(ci.engine_instance, 0);
    EXPECT_EQ(ci.pad, 0);
    got.emplace_back(ci.gt_id, ci.engine_class);
  }
  const std::vector<std::pair<std::uint16_t, std::uint16_t>> want = {
      {0, DRM_XE_ENGINE_CLASS_RENDER},
      {0, DRM_XE_ENGINE_CLASS_COMPUTE},
      {0, DRM_XE_ENGINE_CLASS_COPY},
      {1, DRM_XE_ENGINE_CLASS_COMPUTE},
      {1, DRM_XE_ENGINE_CLASS_COPY}};
  EXPECT_EQ(got, want);
}

TEST_F(DeviceQueryTest, UnknownQueryFailsWithEINVAL) {
  // given
  drm_xe_device_query q{};
  q.query = 99;
  // when
  const int r = query(&q);
  // then
  EXPECT_EQ(r, -EINVAL);
}

TEST_F(DeviceQueryTest, ExtensionsMustBeZero) {
  // given
  drm_xe_device_query q{};
  q.query = DRM_XE_DEVICE_QUERY_CONFIG;
  q.extensions = 1;
  // when
  const int r = query(&q);
  // then
  EXPECT_EQ(r, -EINVAL);
}

TEST_F(DeviceQueryTest, ReservedMustBeZero) {
  for (int i = 0; i < 2; ++i) {
    // given
    drm_xe_device_query q{};
    q.query = DRM_XE_DEVICE_QUERY_CONFIG;
    q.reserved[i] = 1;
    // when
    const int r = query(&q);
    // then
    EXPECT_EQ(r, -EINVAL) << "reserved[" << i << "]";
  }
}

// What each built-in profile must report (profiles/*.json; upstream
// query_config() and query_mem_regions()).
struct RegionExpect {
  std::uint16_t mem_class;
  std::uint16_t instance;
  std::uint32_t min_page_size;
  std::uint64_t total_size;
};
struct ProfileExpect {
  const char* name;
  std::uint32_t device_id;
  std::uint32_t va_bits;
  bool has_vram;
  std::uint32_t min_alignment;
  std::vector<RegionExpect> regions;
};

std::vector<RegionExpect> b580_regions() {
  return {{DRM_XE_MEM_REGION_CLASS_SYSMEM, 0, 4096, 16 * kGiB},
          {DRM_XE_MEM_REGION_CLASS_VRAM, 1, 4096, 12 * kGiB}};
}

const std::vector<ProfileExpect>& profile_table() {
  static const std::vector<ProfileExpect> table = {
      {"b580", 0xE20B, 48, true, 4096, b580_regions()},
      {"b580-uapi71", 0xE20B, 48, true, 4096, b580_regions()},
      {"b580-xelink", 0xE20B, 48, true, 4096, b580_regions()},
      {"pvc",
       0x0BD5,
       57,
       true,
       65536,
       {{DRM_XE_MEM_REGION_CLASS_SYSMEM, 0, 4096, 128 * kGiB},
        {DRM_XE_MEM_REGION_CLASS_VRAM, 1, 65536, 64 * kGiB},
        {DRM_XE_MEM_REGION_CLASS_VRAM, 2, 65536, 64 * kGiB}}},
      {"integrated",
       0x64A0,
       48,
       false,
       4096,
       {{DRM_XE_MEM_REGION_CLASS_SYSMEM, 0, 4096, 32 * kGiB}}},
      {"small",
       0xE20B,
       48,
       true,
       4096,
       {{DRM_XE_MEM_REGION_CLASS_SYSMEM, 0, 4096, 64 * kMiB},
        {DRM_XE_MEM_REGION_CLASS_VRAM, 1, 4096, 32 * kMiB}}},
  };
  return table;
}

class DeviceQueryPerProfile : public ::testing::TestWithParam<std::size_t> {
 protected:
  const ProfileExpect& expect() const { return profile_table()[GetParam()]; }
};

std::string profile_param_name(const ::testing::TestParamInfo<std::size_t>& param) {
  std::string name = profile_table()[param.param].name;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

TEST_P(DeviceQueryPerProfile, ConfigMatchesTheProfile) {
  // given
  ScopedFd dev = open_sim(expect().name);
  // when
  const std::vector<std::uint64_t> info = config_info(dev.get());
  // then
  ASSERT_EQ(info.size(), DRM_XE_QUERY_CONFIG_MAX_EXEC_QUEUE_PRIORITY + 1u);
  EXPECT_EQ(info[DRM_XE_QUERY_CONFIG_REV_AND_DEVICE_ID] & 0xffff, expect().device_id);
  EXPECT_EQ((info[DRM_XE_QUERY_CONFIG_FLAGS] & DRM_XE_QUERY_CONFIG_FLAG_HAS_VRAM) != 0,
            expect().has_vram);
  EXPECT_EQ(info[DRM_XE_QUERY_CONFIG_MIN_ALIGNMENT], expect().min_alignment);
  EXPECT_EQ(info[DRM_XE_QUERY_CONFIG_VA_BITS], expect().va_bits);
}

TEST_P(DeviceQueryPerProfile, MemRegionsMatchTheProfile) {
  // given
  ScopedFd dev = open_sim(expect().name);
  // when
  const std::vector<drm_xe_mem_region> regions = mem_regions(dev.get());
  // then
  ASSERT_EQ(regions.size(), expect().regions.size());
  for (std::size_t i = 0; i < regions.size(); ++i) {
    SCOPED_TRACE("region " + std::to_string(i));
    const RegionExpect& e = expect().regions[i];
    EXPECT_EQ(regions[i].mem_class, e.mem_class);
    EXPECT_EQ(regions[i].instance, e.instance);
    EXPECT_EQ(regions[i].min_page_size, e.min_page_size);
    EXPECT_EQ(regions[i].total_size, e.total_size);
    EXPECT_LE(regions[i].used, regions[i].total_size);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryBuiltinProfile, DeviceQueryPerProfile,
                         ::testing::Range<std::size_t>(0, 6), profile_param_name);

}  // namespace
}  // namespace drm_sim_test
