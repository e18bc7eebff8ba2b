// Vulkan memory types per simulated profile, built from the device's
// MEM_REGIONS answer (umd/vulkan/memory_types.h), plus a small-BAR device
// that no built-in profile describes.
#include "umd/vulkan/memory_types.h"
#include "umd_test_util.h"

namespace umd_test {
namespace {

using vk::build_memory_table;
using vk::MemoryTable;

struct ProfileTable {
  const char* profile;
  const char* table;  // vk::to_string
};

class MemoryTypesPerProfileTest : public ::testing::TestWithParam<ProfileTable> {
 protected:
  MemoryTable table_of(const char* profile) {
    auto dev = Device::open_profile(profile);
    EXPECT_TRUE(dev.has_value());
    auto t = build_memory_table((*dev)->mem_regions());
    EXPECT_TRUE(t.has_value());
    return *t;
  }
};

TEST_P(MemoryTypesPerProfileTest, HeapsAndTypesFollowTheRegions) {
  EXPECT_EQ(vk::to_string(table_of(GetParam().profile)), GetParam().table);
}

// Vulkan: "X must be placed at a lower index than Y if X's flags are a strict
// subset of Y's" (VkPhysicalDeviceMemoryProperties).
TEST_P(MemoryTypesPerProfileTest, TypesAreOrderedAsTheVulkanSpecRequires) {
  const MemoryTable t = table_of(GetParam().profile);
  for (std::uint32_t y = 0; y < t.type_count(); ++y) {
    for (std::uint32_t x = y + 1; x < t.type_count(); ++x) {
      const VkMemoryPropertyFlags fx = t.flags(x);
      const VkMemoryPropertyFlags fy = t.flags(y);
      EXPECT_FALSE((fx & fy) == fx && fx != fy)
          << "type " << x << " (" << vk::memory_flags_string(fx) << ") must come before type " << y
          << " (" << vk::memory_flags_string(fy) << ")";
    }
  }
}

TEST_P(MemoryTypesPerProfileTest, EveryHostVisibleTypeIsCoherentAndEveryHeapIsUsed) {
  const MemoryTable t = table_of(GetParam().profile);
  std::vector<bool> used(t.properties.memoryHeapCount, false);
  for (std::uint32_t i = 0; i < t.type_count(); ++i) {
    if (t.flags(i) & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
      EXPECT_TRUE(t.flags(i) & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) << "type " << i;
    }
    used[t.properties.memoryTypes[i].heapIndex] = true;
  }
  for (std::size_t h = 0; h < used.size(); ++h) EXPECT_TRUE(used[h]) << "heap " << h;
}

constexpr const char* kB580Table =
    "heap 0: 12288 MiB DEVICE_LOCAL\n"
    "heap 1: 16384 MiB\n"
    "type 0: heap 0 DEVICE_LOCAL -> region 1 (vram) WC\n"
    "type 1: heap 1 HOST_VISIBLE|HOST_COHERENT -> region 0 (system) WC\n"
    "type 2: heap 1 HOST_VISIBLE|HOST_COHERENT|HOST_CACHED -> region 0 (system) WB\n"
    "type 3: heap 0 DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT -> region 1 (vram) WC\n";

INSTANTIATE_TEST_SUITE_P(
    Profiles, MemoryTypesPerProfileTest,
    ::testing::Values(
        ProfileTable{"b580", kB580Table}, ProfileTable{"b580-uapi71", kB580Table},
        ProfileTable{"b580-xelink", kB580Table},
        ProfileTable{
            "pvc",
            "heap 0: 65536 MiB DEVICE_LOCAL\n"
            "heap 1: 65536 MiB DEVICE_LOCAL\n"
            "heap 2: 131072 MiB\n"
            "type 0: heap 0 DEVICE_LOCAL -> region 1 (vram) WC\n"
            "type 1: heap 1 DEVICE_LOCAL -> region 2 (vram) WC\n"
            "type 2: heap 2 HOST_VISIBLE|HOST_COHERENT -> region 0 (system) WC\n"
            "type 3: heap 2 HOST_VISIBLE|HOST_COHERENT|HOST_CACHED -> region 0 (system) WB\n"
            "type 4: heap 0 DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT -> region 1 (vram) WC\n"
            "type 5: heap 1 DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT -> region 2 (vram) WC\n"},
        ProfileTable{
            "integrated",
            "heap 0: 32768 MiB DEVICE_LOCAL\n"
            "type 0: heap 0 DEVICE_LOCAL -> region 0 (system) WC\n"
            "type 1: heap 0 DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT -> region 0 (system) WC\n"
            "type 2: heap 0 DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT|HOST_CACHED -> region 0 "
            "(system) WB\n"},
        ProfileTable{
            "small",
            "heap 0: 32 MiB DEVICE_LOCAL\n"
            "heap 1: 64 MiB\n"
            "type 0: heap 0 DEVICE_LOCAL -> region 1 (vram) WC\n"
            "type 1: heap 1 HOST_VISIBLE|HOST_COHERENT -> region 0 (system) WC\n"
            "type 2: heap 1 HOST_VISIBLE|HOST_COHERENT|HOST_CACHED -> region 0 (system) WB\n"
            "type 3: heap 0 DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT -> region 1 (vram) WC\n"}),
    [](const auto& p) {
      std::string n = p.param.profile;
      for (char& c : n) c = (c == '-') ? '_' : c;
      return n;
    });

TEST(MemoryTypesTest, SmallBarSplitsVramIntoAnInvisibleAndAVisibleHeap) {
  // given 8 GiB of VRAM of which 256 MiB are CPU-visible
  const std::vector<MemRegion> regions = {
      {MemClass::kSystem, 0, 4096, 16ull << 30, 0, 0, 0},
      {MemClass::kVram, 1, 4096, 8ull << 30, 0, 256ull << 20, 0}};
  // when
  auto t = build_memory_table(regions);
  // then
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(
      vk::to_string(*t),
      "heap 0: 7936 MiB DEVICE_LOCAL\n"
      "heap 1: 16384 MiB\n"
      "heap 2: 256 MiB DEVICE_LOCAL\n"
      "type 0: heap 0 DEVICE_LOCAL -> region 1 (vram) WC\n"
      "type 1: heap 1 HOST_VISIBLE|HOST_COHERENT -> region 0 (system) WC\n"
      "type 2: heap 1 HOST_VISIBLE|HOST_COHERENT|HOST_CACHED -> region 0 (system) WB\n"
      "type 3: heap 2 DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT -> region 1 (vram, visible) WC\n");
  EXPECT_TRUE(t->backing[3].small_bar);
}

TEST(MemoryTypesTest, VramTheCpuCannotSeeAtAllHasNoHostVisibleVramType) {
  const std::vector<MemRegion> regions = {{MemClass::kSystem, 0, 4096, 1ull << 30, 0, 0, 0},
                                          {MemClass::kVram, 1, 4096, 1ull << 30, 0, 0, 0}};
  auto t = build_memory_table(regions);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->type_count(), 3u);
  EXPECT_EQ(t->find_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT),
            -1);
}

TEST(MemoryTypesTest, RegionsWithoutSystemMemoryAreRefused) {
  const std::vector<MemRegion> regions = {{MemClass::kVram, 1, 4096, 1ull << 30, 0, 1ull << 30, 0}};
  EXPECT_EQ(build_memory_table(regions).result(), Result::kInvalidArgument);
}

TEST(MemoryTypesTest, FindTypeReturnsTheFirstMatchOnAHeap) {
  auto dev = Device::open_profile("pvc");
  auto t = build_memory_table((*dev)->mem_regions());
  EXPECT_EQ(t->find_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT), 0);
  EXPECT_EQ(t->find_type(VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 1), 1);
  EXPECT_EQ(t->find_type(VK_MEMORY_PROPERTY_HOST_CACHED_BIT), 3);
  EXPECT_EQ(t->find_type(VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT), -1);
}

}  // namespace
}  // namespace umd_test
