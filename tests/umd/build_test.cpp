// The pure uapi builders and parsers (umd/uapi/build.h), field by field:
// named fields come from the description, every extension, pad and reserved
// field is zero.
#include "umd/uapi/build.h"

#include <cstring>
#include <vector>

#include "umd_test_util.h"

namespace umd_test {
namespace {

template <class T>
bool all_zero(const T& v) {
  const auto* p = reinterpret_cast<const unsigned char*>(&v);
  for (std::size_t i = 0; i < sizeof v; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

constexpr GpuRange kRange{0x1000000, 0x40000};

// --- DEVICE_QUERY and its replies -----------------------------------------

TEST(BuildDeviceQueryTest, SizeCallHasNoBuffer) {
  const drm_xe_device_query q = build_device_query(DRM_XE_DEVICE_QUERY_CONFIG, {});
  EXPECT_EQ(q.extensions, 0u);
  EXPECT_EQ(q.query, static_cast<std::uint32_t>(DRM_XE_DEVICE_QUERY_CONFIG));
  EXPECT_EQ(q.size, 0u);
  EXPECT_EQ(q.data, 0u);
  EXPECT_EQ(q.reserved[0], 0u);
  EXPECT_EQ(q.reserved[1], 0u);
}

TEST(BuildDeviceQueryTest, DataCallPointsAtTheReplyBuffer) {
  std::vector<std::byte> reply(88);
  const drm_xe_device_query q = build_device_query(DRM_XE_DEVICE_QUERY_MEM_REGIONS, reply);
  EXPECT_EQ(q.query, static_cast<std::uint32_t>(DRM_XE_DEVICE_QUERY_MEM_REGIONS));
  EXPECT_EQ(q.size, 88u);
  EXPECT_EQ(q.data, reinterpret_cast<std::uint64_t>(reply.data()));
}

TEST(ParseConfigTest, ReadsEveryParameter) {
  // given a CONFIG reply
  std::vector<std::byte> reply(sizeof(drm_xe_query_config) + 5 * sizeof(std::uint64_t));
  auto* c = reinterpret_cast<drm_xe_query_config*>(reply.data());
  c->num_params = 5;
  c->info[DRM_XE_QUERY_CONFIG_REV_AND_DEVICE_ID] = (3u << 16) | 0xe20b;
  c->info[DRM_XE_QUERY_CONFIG_FLAGS] =
      DRM_XE_QUERY_CONFIG_FLAG_HAS_VRAM | DRM_XE_QUERY_CONFIG_FLAG_HAS_CPU_ADDR_MIRROR;
  c->info[DRM_XE_QUERY_CONFIG_MIN_ALIGNMENT] = 65536;
  c->info[DRM_XE_QUERY_CONFIG_VA_BITS] = 57;
  c->info[DRM_XE_QUERY_CONFIG_MAX_EXEC_QUEUE_PRIORITY] = 2;
  // when
  auto config = parse_config(reply);
  // then
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->pci_device_id, 0xe20b);
  EXPECT_EQ(config->pci_revision, 3);
  EXPECT_TRUE(config->has_vram);
  EXPECT_TRUE(config->has_cpu_addr_mirror);
  EXPECT_EQ(config->min_alignment, 65536u);
  EXPECT_EQ(config->va_bits, 57u);
  EXPECT_EQ(config->max_exec_queue_priority, 2u);
}

TEST(ParseConfigTest, ATruncatedReplyIsInvalid) {
  std::vector<std::byte> reply(sizeof(drm_xe_query_config) + 8);
  reinterpret_cast<drm_xe_query_config*>(reply.data())->num_params = 5;
  EXPECT_EQ(parse_config(reply).result(), Result::kInvalidArgument);
  EXPECT_EQ(parse_config({}).result(), Result::kInvalidArgument);
}

TEST(ParseMemRegionsTest, ReadsEveryRegionField) {
  std::vector<std::byte> reply(sizeof(drm_xe_query_mem_regions) + 2 * sizeof(drm_xe_mem_region));
  auto* q = reinterpret_cast<drm_xe_query_mem_regions*>(reply.data());
  q->num_mem_regions = 2;
  q->mem_regions[0] =
      drm_xe_mem_region{DRM_XE_MEM_REGION_CLASS_SYSMEM, 0, 4096, 1ull << 34, 5, 0, 0, {}};
  q->mem_regions[1] = drm_xe_mem_region{
      DRM_XE_MEM_REGION_CLASS_VRAM, 1, 65536, 12ull << 30, 7, 256ull << 20, 9, {}};
  auto regions = parse_mem_regions(reply);
  ASSERT_TRUE(regions.has_value());
  ASSERT_EQ(regions->size(), 2u);
  EXPECT_EQ((*regions)[0], (MemRegion{MemClass::kSystem, 0, 4096, 1ull << 34, 5, 0, 0}));
  EXPECT_EQ((*regions)[1], (MemRegion{MemClass::kVram, 1, 65536, 12ull << 30, 7, 256ull << 20, 9}));
}

TEST(ParseMemRegionsTest, AnUnknownMemoryClassIsInvalid) {
  std::vector<std::byte> reply(sizeof(drm_xe_query_mem_regions) + sizeof(drm_xe_mem_region));
  auto* q = reinterpret_cast<drm_xe_query_mem_regions*>(reply.data());
  q->num_mem_regions = 1;
  q->mem_regions[0].mem_class = 7;
  EXPECT_EQ(parse_mem_regions(reply).result(), Result::kInvalidArgument);
}

// --- GEM --------------------------------------------------------------------

TEST(BuildGemCreateTest, CopiesSizePlacementCachingAndVm) {
  GemCreateDesc d;
  d.size = 2 * kMiB;
  d.placement = region_bit(0) | region_bit(1);
  d.cpu_caching = CpuCaching::kWriteCombined;
  d.vm_id = 3;
  const drm_xe_gem_create c = build_gem_create(d);
  EXPECT_EQ(c.extensions, 0u);
  EXPECT_EQ(c.size, 2 * kMiB);
  EXPECT_EQ(c.placement, 0x3u);
  EXPECT_EQ(c.flags, 0u);
  EXPECT_EQ(c.vm_id, 3u);
  EXPECT_EQ(c.handle, 0u);
  EXPECT_EQ(c.cpu_caching, DRM_XE_GEM_CPU_CACHING_WC);
  EXPECT_EQ(c.pad[0] | c.pad[1] | c.pad[2], 0);
  EXPECT_EQ(c.reserved[0] | c.reserved[1], 0u);
}

TEST(BuildGemCreateTest, WriteBackAndEachFlag) {
  GemCreateDesc d;
  d.size = kPage;
  d.placement = region_bit(0);
  d.cpu_caching = CpuCaching::kWriteBack;
  EXPECT_EQ(build_gem_create(d).cpu_caching, DRM_XE_GEM_CPU_CACHING_WB);
  d.needs_visible_vram = true;
  EXPECT_EQ(build_gem_create(d).flags,
            static_cast<std::uint32_t>(DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM));
  d.needs_visible_vram = false;
  d.defer_backing = true;
  EXPECT_EQ(build_gem_create(d).flags,
            static_cast<std::uint32_t>(DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING));
  d.defer_backing = false;
  d.scanout = true;
  EXPECT_EQ(build_gem_create(d).flags, static_cast<std::uint32_t>(DRM_XE_GEM_CREATE_FLAG_SCANOUT));
}

TEST(BuildGemCloseTest, CarriesTheHandleOnly) {
  const drm_gem_close c = build_gem_close(17);
  EXPECT_EQ(c.handle, 17u);
  EXPECT_EQ(c.pad, 0u);
}

// --- VM create / destroy ---------------------------------------------------------

TEST(BuildVmCreateTest, EachModeSetsItsFlags) {
  EXPECT_EQ(build_vm_create({VmMode::kDmaFence, false}).flags, 0u);
  EXPECT_EQ(build_vm_create({VmMode::kLongRunning, false}).flags,
            static_cast<std::uint32_t>(DRM_XE_VM_CREATE_FLAG_LR_MODE));
  EXPECT_EQ(
      build_vm_create({VmMode::kFault, false}).flags,
      static_cast<std::uint32_t>(DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_FAULT_MODE));
  EXPECT_EQ(build_vm_create({VmMode::kDmaFence, true}).flags,
            static_cast<std::uint32_t>(DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE));
}

TEST(BuildVmCreateTest, EverythingElseIsZero) {
  drm_xe_vm_create c = build_vm_create({VmMode::kFault, false});
  c.flags = 0;
  EXPECT_TRUE(all_zero(c));
}

TEST(BuildVmDestroyTest, CarriesTheVmIdOnly) {
  drm_xe_vm_destroy d = build_vm_destroy(5);
  EXPECT_EQ(d.vm_id, 5u);
  d.vm_id = 0;
  EXPECT_TRUE(all_zero(d));
}

// --- VM_BIND ---------------------------------------------------------------------

TEST(BuildVmBindOpTest, MapBo) {
  BindOpDesc d;
  d.kind = BindKind::kMapBo;
  d.range = kRange;
  d.bo = 4;
  d.bo_offset = 0x10000;
  d.pat_index = 6;
  const drm_xe_vm_bind_op o = build_vm_bind_op(d);
  EXPECT_EQ(o.extensions, 0u);
  EXPECT_EQ(o.obj, 4u);
  EXPECT_EQ(o.pat_index, 6u);
  EXPECT_EQ(o.pad, 0u);
  EXPECT_EQ(o.obj_offset, 0x10000u);
  EXPECT_EQ(o.range, kRange.size);
  EXPECT_EQ(o.addr, kRange.start);
  EXPECT_EQ(o.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_MAP));
  EXPECT_EQ(o.flags, 0u);
  EXPECT_EQ(o.prefetch_mem_region_instance, 0u);
  EXPECT_EQ(o.pad2, 0u);
  EXPECT_EQ(o.reserved[0] | o.reserved[1] | o.reserved[2], 0u);
}

TEST(BuildVmBindOpTest, ReadonlyAndImmediateFlags) {
  BindOpDesc d;
  d.range = kRange;
  d.bo = 1;
  d.readonly = true;
  d.immediate = true;
  EXPECT_EQ(build_vm_bind_op(d).flags, static_cast<std::uint32_t>(DRM_XE_VM_BIND_FLAG_READONLY |
                                                                  DRM_XE_VM_BIND_FLAG_IMMEDIATE));
}

TEST(BuildVmBindOpTest, MapUserptr) {
  BindOpDesc d;
  d.kind = BindKind::kMapUserptr;
  d.range = kRange;
  d.userptr = 0x7f0000000000;
  d.pat_index = 1;
  const drm_xe_vm_bind_op o = build_vm_bind_op(d);
  EXPECT_EQ(o.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_MAP_USERPTR));
  EXPECT_EQ(o.obj, 0u);
  EXPECT_EQ(o.userptr, 0x7f0000000000u);
  EXPECT_EQ(o.pat_index, 1u);
  EXPECT_EQ(o.flags, 0u);
}

TEST(BuildVmBindOpTest, MapNull) {
  BindOpDesc d;
  d.kind = BindKind::kMapNull;
  d.range = kRange;
  const drm_xe_vm_bind_op o = build_vm_bind_op(d);
  EXPECT_EQ(o.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_MAP));
  EXPECT_EQ(o.obj, 0u);
  EXPECT_EQ(o.obj_offset, 0u);
  EXPECT_EQ(o.flags, static_cast<std::uint32_t>(DRM_XE_VM_BIND_FLAG_NULL));
}

TEST(BuildVmBindOpTest, MapMirrorWithAutoreset) {
  BindOpDesc d;
  d.kind = BindKind::kMapMirror;
  d.range = kRange;
  d.pat_index = 1;
  d.autoreset = true;
  const drm_xe_vm_bind_op o = build_vm_bind_op(d);
  EXPECT_EQ(o.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_MAP));
  EXPECT_EQ(o.obj, 0u);
  EXPECT_EQ(o.cpu_addr_mirror_offset, 0);
  EXPECT_EQ(o.addr, kRange.start);
  EXPECT_EQ(o.range, kRange.size);
  EXPECT_EQ(o.pat_index, 1u);
  EXPECT_EQ(o.flags, static_cast<std::uint32_t>(DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR |
                                                DRM_XE_VM_BIND_FLAG_MADVISE_AUTORESET));
}

TEST(BuildVmBindOpTest, MapMirrorWithoutAutoreset) {
  BindOpDesc d;
  d.kind = BindKind::kMapMirror;
  d.range = kRange;
  EXPECT_EQ(build_vm_bind_op(d).flags,
            static_cast<std::uint32_t>(DRM_XE_VM_BIND_FLAG_CPU_ADDR_MIRROR));
}

TEST(BuildVmBindOpTest, UnmapCarriesOnlyTheRange) {
  BindOpDesc d;
  d.kind = BindKind::kUnmap;
  d.range = kRange;
  d.pat_index = 3;  // ignored for an unmap
  d.bo = 2;         // ignored for an unmap
  const drm_xe_vm_bind_op o = build_vm_bind_op(d);
  EXPECT_EQ(o.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_UNMAP));
  EXPECT_EQ(o.obj, 0u);
  EXPECT_EQ(o.pat_index, 0u);
  EXPECT_EQ(o.addr, kRange.start);
  EXPECT_EQ(o.range, kRange.size);
  EXPECT_EQ(o.flags, 0u);
}

TEST(BuildVmBindOpTest, UnmapAllCarriesOnlyTheBo) {
  BindOpDesc d;
  d.kind = BindKind::kUnmapAll;
  d.range = kRange;
  d.bo = 8;
  const drm_xe_vm_bind_op o = build_vm_bind_op(d);
  EXPECT_EQ(o.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_UNMAP_ALL));
  EXPECT_EQ(o.obj, 8u);
  EXPECT_EQ(o.addr, 0u);
  EXPECT_EQ(o.range, 0u);
}

TEST(BuildVmBindOpTest, PrefetchToARegion) {
  BindOpDesc d;
  d.kind = BindKind::kPrefetch;
  d.range = kRange;
  d.prefetch = PrefetchTarget::region(1);
  const drm_xe_vm_bind_op o = build_vm_bind_op(d);
  EXPECT_EQ(o.op, static_cast<std::uint32_t>(DRM_XE_VM_BIND_OP_PREFETCH));
  EXPECT_EQ(o.prefetch_mem_region_instance, 1u);
  EXPECT_EQ(o.obj, 0u);
  EXPECT_EQ(o.flags, 0u);
}

TEST(BuildVmBindOpTest, PrefetchConsultingTheAdvice) {
  BindOpDesc d;
  d.kind = BindKind::kPrefetch;
  d.range = kRange;
  d.prefetch = PrefetchTarget::preferred_location();
  EXPECT_EQ(build_vm_bind_op(d).prefetch_mem_region_instance, 0xffffffffu);
}

TEST(BuildVmBindTest, OneOpIsEmbedded) {
  BindOpDesc d;
  d.kind = BindKind::kMapNull;
  d.range = kRange;
  const drm_xe_vm_bind_op op = build_vm_bind_op(d);
  const drm_xe_vm_bind b = build_vm_bind(7, std::span<const drm_xe_vm_bind_op>(&op, 1));
  EXPECT_EQ(b.extensions, 0u);
  EXPECT_EQ(b.vm_id, 7u);
  EXPECT_EQ(b.exec_queue_id, 0u);
  EXPECT_EQ(b.pad, 0u);
  EXPECT_EQ(b.num_binds, 1u);
  EXPECT_EQ(std::memcmp(&b.bind, &op, sizeof op), 0);
  EXPECT_EQ(b.pad2, 0u);
  EXPECT_EQ(b.num_syncs, 0u);
  EXPECT_EQ(b.syncs, 0u);
  EXPECT_EQ(b.reserved[0] | b.reserved[1], 0u);
}

TEST(BuildVmBindTest, SeveralOpsGoThroughTheVector) {
  std::vector<drm_xe_vm_bind_op> ops(3);
  const drm_xe_vm_bind b = build_vm_bind(7, ops);
  EXPECT_EQ(b.num_binds, 3u);
  EXPECT_EQ(b.vector_of_binds, reinterpret_cast<std::uint64_t>(ops.data()));
}

// --- MADVISE -----------------------------------------------------------------------

TEST(BuildMadviseTest, PreferredLocationDevice) {
  const drm_xe_madvise m = build_madvise(3, {kRange, PreferredLocation::device()});
  EXPECT_EQ(m.extensions, 0u);
  EXPECT_EQ(m.start, kRange.start);
  EXPECT_EQ(m.range, kRange.size);
  EXPECT_EQ(m.vm_id, 3u);
  EXPECT_EQ(m.type, static_cast<std::uint32_t>(DRM_XE_MEM_RANGE_ATTR_PREFERRED_LOC));
  EXPECT_EQ(m.preferred_mem_loc.devmem_fd,
            static_cast<std::uint32_t>(DRM_XE_PREFERRED_LOC_DEFAULT_DEVICE));
  EXPECT_EQ(m.preferred_mem_loc.migration_policy, DRM_XE_MIGRATE_ALL_PAGES);
  EXPECT_EQ(m.preferred_mem_loc.region_instance, 0u);
  EXPECT_EQ(m.preferred_mem_loc.reserved, 0u);
  EXPECT_EQ(m.reserved[0] | m.reserved[1], 0u);
}

TEST(BuildMadviseTest, PreferredLocationSystemOnlySystemPages) {
  const drm_xe_madvise m =
      build_madvise(3, {kRange, PreferredLocation::system(MigrationPolicy::kOnlySystemPages)});
  EXPECT_EQ(m.preferred_mem_loc.devmem_fd, 0xffffffffu);
  EXPECT_EQ(m.preferred_mem_loc.migration_policy, DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES);
  EXPECT_EQ(m.preferred_mem_loc.region_instance, 0u);
}

TEST(BuildMadviseTest, PreferredLocationOfAnotherDevice) {
  const drm_xe_madvise m = build_madvise(3, {kRange, PreferredLocation::device_fd(12, 2)});
  EXPECT_EQ(m.preferred_mem_loc.devmem_fd, 12u);
  EXPECT_EQ(m.preferred_mem_loc.region_instance, 2u);
}

TEST(BuildMadviseTest, EachAtomicAccessMapsToItsUapiValue) {
  const struct {
    AtomicAccess a;
    std::uint32_t val;
  } rows[] = {{AtomicAccess::kNone, DRM_XE_ATOMIC_UNDEFINED},
              {AtomicAccess::kDevice, DRM_XE_ATOMIC_DEVICE},
              {AtomicAccess::kSystem, DRM_XE_ATOMIC_GLOBAL},
              {AtomicAccess::kHost, DRM_XE_ATOMIC_CPU}};
  for (const auto& r : rows) {
    const drm_xe_madvise m = build_madvise(1, {kRange, r.a});
    EXPECT_EQ(m.type, static_cast<std::uint32_t>(DRM_XE_MEM_RANGE_ATTR_ATOMIC));
    EXPECT_EQ(m.atomic.val, r.val) << to_string(r.a);
    EXPECT_EQ(m.atomic.pad, 0u);
    EXPECT_EQ(m.atomic.reserved, 0u);
  }
}

TEST(BuildMadviseTest, PatIndex) {
  const drm_xe_madvise m = build_madvise(1, {kRange, PatIndex{22}});
  EXPECT_EQ(m.type, static_cast<std::uint32_t>(DRM_XE_MEM_RANGE_ATTR_PAT));
  EXPECT_EQ(m.pat_index.val, 22u);
  EXPECT_EQ(m.pat_index.pad, 0u);
  EXPECT_EQ(m.pat_index.reserved, 0u);
}

// --- VM_QUERY_MEM_RANGE_ATTRS ---------------------------------------------------------

TEST(BuildMemRangeQueryTest, CountCallHasNoVector) {
  const drm_xe_vm_query_mem_range_attr q = build_mem_range_query(2, kRange, {});
  EXPECT_EQ(q.extensions, 0u);
  EXPECT_EQ(q.vm_id, 2u);
  EXPECT_EQ(q.num_mem_ranges, 0u);
  EXPECT_EQ(q.start, kRange.start);
  EXPECT_EQ(q.range, kRange.size);
  EXPECT_EQ(q.sizeof_mem_range_attr, 0u);
  EXPECT_EQ(q.vector_of_mem_attr, 0u);
  EXPECT_EQ(q.reserved[0] | q.reserved[1], 0u);
}

TEST(BuildMemRangeQueryTest, FillCallNamesTheVectorAndItsElementSize) {
  std::vector<drm_xe_mem_range_attr> out(5);
  const drm_xe_vm_query_mem_range_attr q = build_mem_range_query(2, kRange, out);
  EXPECT_EQ(q.num_mem_ranges, 5u);
  EXPECT_EQ(q.sizeof_mem_range_attr, 64u);
  EXPECT_EQ(q.vector_of_mem_attr, reinterpret_cast<std::uint64_t>(out.data()));
}

TEST(ParseMemRangeTest, ReadsBoundsAndEveryAttribute) {
  drm_xe_mem_range_attr a{};
  a.start = 0x100000;
  a.end = 0x180000;
  a.preferred_mem_loc.devmem_fd = 0xffffffffu;
  a.preferred_mem_loc.migration_policy = DRM_XE_MIGRATE_ONLY_SYSTEM_PAGES;
  a.atomic.val = DRM_XE_ATOMIC_GLOBAL;
  a.pat_index.val = 3;
  const MemRange r = parse_mem_range(a);
  EXPECT_EQ(r.range, (GpuRange{0x100000, 0x80000}));
  EXPECT_EQ(r.preferred, PreferredLocation::system(MigrationPolicy::kOnlySystemPages));
  EXPECT_EQ(r.atomic, AtomicAccess::kSystem);
  EXPECT_EQ(r.pat_index, 3u);
}

TEST(ParseMemRangeTest, DefaultDeviceAndAnotherDevicesFd) {
  drm_xe_mem_range_attr a{};
  a.end = kPage;
  EXPECT_EQ(parse_mem_range(a).preferred, PreferredLocation::device());
  a.preferred_mem_loc.devmem_fd = 9;
  EXPECT_EQ(parse_mem_range(a).preferred, PreferredLocation::device_fd(9, 0));
}

TEST(BuildVersionTest, PointsAtTheGivenBuffers) {
  char name[8];
  const drm_version v = build_version(name, {}, {});
  EXPECT_EQ(v.name, name);
  EXPECT_EQ(v.name_len, 8u);
  EXPECT_EQ(v.date, nullptr);
  EXPECT_EQ(v.date_len, 0u);
  EXPECT_EQ(v.desc, nullptr);
  EXPECT_EQ(v.desc_len, 0u);
}

}  // namespace
}  // namespace umd_test
