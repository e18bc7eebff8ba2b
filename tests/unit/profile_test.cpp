// tests/unit/profile_test.cpp — device profiles: the built-in set, loading by
// name and by path, the JSON schema and every validate() rule.
#include "drm_sim/profile/profile.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "drm_sim/core/log.h"

namespace drm_sim {
namespace {

constexpr std::uint64_t kGiB = 1ull << 30;
constexpr std::uint64_t kMiB = 1ull << 20;

// The smallest valid profile text: one system region, one VRAM region, a PAT.
// `extra` is spliced in as further top-level members (end it with a comma).
std::string minimal_json(const std::string& extra = "",
                         const std::string& vram_size = R"("1GiB")") {
  return "{" + extra +
         R"("regions": [{"class": "system", "instance": 0, "size": "1GiB"},
                        {"class": "vram", "instance": 1, "size": )" +
         vram_size + R"(}],
            "pat": [1, 2]})";
}

// The smallest valid integrated-part text; `regions` and `pat` replace its arrays.
std::string igpu_json(
    const std::string& regions = R"([{"class": "system", "instance": 0, "size": 4096}])",
    const std::string& pat = "[1]") {
  return R"({"features": {"discrete": false}, "regions": )" + regions + R"(, "pat": )" + pat + "}";
}

// A file under the temp directory that is removed when the test ends.
class TempFile {
 public:
  TempFile(const std::string& file_name, const std::string& content)
      : path_(std::filesystem::temp_directory_path() /
              ("drm_sim_profile_test_" + std::to_string(::getpid())) / file_name) {
    std::filesystem::create_directories(path_.parent_path());
    std::ofstream(path_) << content;
  }
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove_all(path_.parent_path(), ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

Profile load_or_die(std::string_view name) {
  Result<Profile> r = load_profile(name);
  EXPECT_TRUE(r.is_ok()) << name << ": errno " << r.status().error();
  return r.is_ok() ? *r : Profile{};
}

int parse_error(const std::string& json) {
  return parse_profile_json(json).status().error();
}

// A valid profile to break one rule at a time.
Profile valid_profile() {
  return load_or_die("b580");
}

int validate_error(const std::function<void(Profile&)>& breaks_a_rule) {
  Profile p = valid_profile();
  breaks_a_rule(p);
  return validate(p).error();
}

// --- the built-in set -------------------------------------------------------

TEST(ProfileTest, EveryBuiltinProfileLoadsAndValidates) {
  // given
  const std::vector<std::string> names = builtin_profile_names();
  ASSERT_FALSE(names.empty());
  for (const std::string& name : names) {
    // when
    Result<Profile> p = load_profile(name);
    // then
    ASSERT_TRUE(p.is_ok()) << name << ": errno " << p.status().error();
    EXPECT_EQ(p->name, name);
    EXPECT_FALSE(p->description.empty()) << name;
    EXPECT_TRUE(validate(*p).is_ok()) << name;
  }
}

TEST(ProfileTest, BuiltinSetHoldsTheDocumentedProfiles) {
  // given
  const std::vector<std::string> names = builtin_profile_names();
  // then
  for (const char* expected :
       {"b580", "b580-uapi71", "b580-xelink", "integrated", "pvc", "small"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

TEST(ProfileTest, EmptyNameLoadsTheDefaultProfile) {
  // when
  Result<Profile> p = load_profile("");
  // then
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->name, kDefaultProfileName);
  EXPECT_EQ(p->name, "b580");
}

TEST(ProfileTest, DefaultProfileIsADiscreteB580WithTwelveGiBOfVram) {
  // when
  const Profile p = load_or_die("");
  // then
  EXPECT_EQ(p.pci_device_id, 0xE20Bu);
  EXPECT_EQ(p.va_bits, 48u);
  EXPECT_EQ(p.va_end(), 1ull << 48);
  EXPECT_EQ(p.num_tiles, 1u);
  EXPECT_EQ(p.uapi, UapiRevision::k6_18);
  EXPECT_EQ(p.backing, BackingMode::kTag);
  EXPECT_EQ(p.interconnect_group, "");
  EXPECT_TRUE(p.features.discrete);
  EXPECT_TRUE(p.features.has_usm);
  EXPECT_FALSE(p.features.device_atomics_on_smem);
  EXPECT_FALSE(p.features.needs_64k_vram);
  EXPECT_EQ(p.vram_alignment(), 4096u);
  ASSERT_EQ(p.regions.size(), 2u);
  EXPECT_EQ(p.regions[0].mem_class, MemClass::kSystem);
  EXPECT_EQ(p.regions[0].instance, 0u);
  EXPECT_EQ(p.regions[0].size, 16 * kGiB);
  EXPECT_EQ(p.regions[1].mem_class, MemClass::kVram);
  EXPECT_EQ(p.regions[1].instance, 1u);
  EXPECT_EQ(p.regions[1].tile, 0u);
  EXPECT_EQ(p.regions[1].size, 12 * kGiB);
  EXPECT_EQ(p.regions[1].min_page_size, 4096u);
}

TEST(ProfileTest, DefaultProfileCarriesTheSpecTimingFigures) {
  // when
  const Profile p = load_or_die("b580");
  // then: spec §9, with the B580's PCIe 4.0 x8 host link
  EXPECT_DOUBLE_EQ(p.timing.host_link_gbps, 12.0);
  EXPECT_DOUBLE_EQ(p.timing.vram_gbps, 456.0);
  EXPECT_DOUBLE_EQ(p.timing.efficiency_k, 0.07292);
  EXPECT_DOUBLE_EQ(p.timing.fault_latency_us, 45.0);
  EXPECT_DOUBLE_EQ(p.timing.dma_setup_us, 5.0);
  EXPECT_DOUBLE_EQ(p.timing.tlb_inval_us, 5.0);
  EXPECT_GT(p.timing.remote_access_ns, 0.0);
}

TEST(ProfileTest, DefaultProfileHasTheBattlemagePatTable) {
  // when
  const Profile p = load_or_die("b580");
  // then: the Xe2 table cut to 28 entries (Wa_16023588340), 16..19 reserved
  ASSERT_EQ(p.pat.size(), 28u);
  for (std::size_t i = 16; i <= 19; ++i) EXPECT_EQ(p.pat[i], kCohReserved) << i;
  EXPECT_EQ(p.pat[0], kCohNone);         // WB, no snoop
  EXPECT_EQ(p.pat[1], kCohAtLeast1Way);  // 1-way coherent
  EXPECT_EQ(p.pat[2], kCohAtLeast1Way);  // 2-way coherent (XE_CACHE_WB)
  EXPECT_EQ(p.pat[3], kCohNone);         // UC (XE_CACHE_NONE)
  EXPECT_EQ(p.pat[27], kCohAtLeast1Way);
}

TEST(ProfileTest, PvcHasTwoTilesEachWithSixtyFourGiBOfVramIn64KPages) {
  // when
  const Profile p = load_or_die("pvc");
  // then
  EXPECT_EQ(p.va_bits, 57u);
  EXPECT_EQ(p.num_tiles, 2u);
  EXPECT_TRUE(p.features.needs_64k_vram);
  EXPECT_EQ(p.vram_alignment(), 65536u);
  EXPECT_EQ(p.interconnect_group, "xelink");
  EXPECT_DOUBLE_EQ(p.timing.host_link_gbps, 47.0);
  EXPECT_DOUBLE_EQ(p.timing.vram_gbps, 3200.0);
  for (std::uint16_t tile = 0; tile < 2; ++tile) {
    const MemRegionDesc* vram = p.vram_for_tile(tile);
    ASSERT_NE(vram, nullptr) << tile;
    EXPECT_EQ(vram->instance, tile + 1);
    EXPECT_EQ(vram->size, 64 * kGiB);
    EXPECT_EQ(vram->min_page_size, 65536u);
  }
  EXPECT_EQ(p.pat, (std::vector<std::uint8_t>{1, 1, 1, 2, 1, 2, 1, 2}));
}

TEST(ProfileTest, IntegratedProfileHasOnlySystemMemoryAndDeviceAtomicsOnIt) {
  // when
  const Profile p = load_or_die("integrated");
  // then
  EXPECT_FALSE(p.features.discrete);
  EXPECT_TRUE(p.features.device_atomics_on_smem);
  EXPECT_TRUE(p.features.has_usm);
  EXPECT_EQ(p.va_bits, 48u);
  ASSERT_EQ(p.regions.size(), 1u);
  EXPECT_EQ(p.regions[0].mem_class, MemClass::kSystem);
  EXPECT_EQ(p.vram_for_tile(0), nullptr);
  EXPECT_EQ(p.pat.size(), 32u);
}

TEST(ProfileTest, SmallProfileHasLittleMemoryAndRealPageContents) {
  // when
  const Profile p = load_or_die("small");
  // then
  EXPECT_EQ(p.backing, BackingMode::kData);
  ASSERT_EQ(p.regions.size(), 2u);
  EXPECT_EQ(p.regions[0].size, 64 * kMiB);
  EXPECT_EQ(p.regions[1].size, 32 * kMiB);
  EXPECT_EQ(p.va_bits, 48u);
}

TEST(ProfileTest, B580VariantsDifferFromB580OnlyInUapiAndInterconnect) {
  // given
  const Profile base = load_or_die("b580");
  // when
  const Profile v71 = load_or_die("b580-uapi71");
  const Profile xelink = load_or_die("b580-xelink");
  // then
  EXPECT_EQ(v71.uapi, UapiRevision::k7_1);
  EXPECT_TRUE(v71.uapi_at_least(UapiRevision::k7_0));
  EXPECT_EQ(v71.interconnect_group, "");
  EXPECT_EQ(xelink.uapi, UapiRevision::k7_0);
  EXPECT_FALSE(xelink.uapi_at_least(UapiRevision::k7_1));
  EXPECT_EQ(xelink.interconnect_group, "xelink");
  for (const Profile* v : {&v71, &xelink}) {
    EXPECT_EQ(v->regions.size(), base.regions.size());
    EXPECT_EQ(v->regions[1].size, base.regions[1].size);
    EXPECT_EQ(v->pat, base.pat);
    EXPECT_DOUBLE_EQ(v->timing.host_link_gbps, base.timing.host_link_gbps);
  }
}

TEST(ProfileTest, UapiRevisionsHaveTheirFileSpelling) {
  EXPECT_EQ(uapi_revision_name(UapiRevision::k6_18), "6.18");
  EXPECT_EQ(uapi_revision_name(UapiRevision::k7_0), "7.0");
  EXPECT_EQ(uapi_revision_name(UapiRevision::k7_1), "7.1");
}

// --- loading by name and by path --------------------------------------------

TEST(ProfileTest, UnknownProfileNameIsENOENT) {
  // when
  Result<Profile> p = load_profile("no-such-gpu");
  // then
  ASSERT_FALSE(p.is_ok());
  EXPECT_EQ(p.status().error(), ENOENT);
}

TEST(ProfileTest, MissingProfileFileIsENOENT) {
  EXPECT_EQ(load_profile("/nonexistent/dir/gpu.json").status().error(), ENOENT);
  EXPECT_EQ(load_profile("not-here.json").status().error(), ENOENT);
}

TEST(ProfileTest, ProfileFileLoadsByPath) {
  // given
  TempFile f("custom.json", minimal_json(R"("name": "my-gpu", "va_bits": 39,)"));
  // when
  Result<Profile> p = load_profile(f.path());
  // then
  ASSERT_TRUE(p.is_ok()) << p.status().error();
  EXPECT_EQ(p->name, "my-gpu");
  EXPECT_EQ(p->va_bits, 39u);
}

TEST(ProfileTest, ProfileFileWithoutANameIsNamedAfterTheFile) {
  // given
  TempFile f("nameless-part.json", minimal_json());
  // when
  Result<Profile> p = load_profile(f.path());
  // then
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->name, "nameless-part");
}

TEST(ProfileTest, ProfileFileThatBreaksARuleIsEINVAL) {
  // given
  TempFile f("bad.json", minimal_json(R"("va_bits": 64,)"));
  // then
  EXPECT_EQ(load_profile(f.path()).status().error(), EINVAL);
}

TEST(ProfileTest, ProfileFileThatIsNotJsonIsEINVAL) {
  // given
  TempFile f("garbage.json", "this is not json");
  // then
  EXPECT_EQ(load_profile(f.path()).status().error(), EINVAL);
}

TEST(ProfileTest, DirectoryPathIsRejected) {
  // given
  TempFile f("x.json", minimal_json());
  const std::string dir = std::filesystem::path(f.path()).parent_path().string() + "/";
  // then
  EXPECT_FALSE(load_profile(dir).is_ok());
}

// --- the JSON schema --------------------------------------------------------

TEST(ProfileTest, MissingKeysTakeTheStructDefaults) {
  // when
  Result<Profile> p = parse_profile_json(minimal_json());
  // then
  ASSERT_TRUE(p.is_ok()) << p.status().error();
  const Profile defaults;
  EXPECT_EQ(p->name, "");
  EXPECT_EQ(p->va_bits, defaults.va_bits);
  EXPECT_EQ(p->num_tiles, defaults.num_tiles);
  EXPECT_EQ(p->uapi, defaults.uapi);
  EXPECT_EQ(p->backing, defaults.backing);
  EXPECT_EQ(p->max_vmas_per_vm, defaults.max_vmas_per_vm);
  EXPECT_EQ(p->features.discrete, defaults.features.discrete);
  EXPECT_EQ(p->regions[1].tile, 0u);
  EXPECT_EQ(p->regions[1].min_page_size, 4096u);
  EXPECT_DOUBLE_EQ(p->timing.host_link_gbps, defaults.timing.host_link_gbps);
  EXPECT_DOUBLE_EQ(p->timing.remote_access_ns, defaults.timing.remote_access_ns);
}

TEST(ProfileTest, EveryFieldIsReadFromTheFile) {
  // given
  const std::string json = R"({
    "name": "full", "description": "all keys", "pci_device_id": "0xE20B",
    "pci_revision": 3, "va_bits": 47, "num_tiles": 2, "uapi": "7.1", "backing": "data",
    "interconnect_group": "grp", "max_vmas_per_vm": 1000,
    "features": {"discrete": true, "has_usm": false, "device_atomics_on_smem": true,
                 "needs_64k_vram": true},
    "regions": [{"class": "system", "instance": 0, "tile": 0, "size": 8192,
                 "min_page_size": 4096},
                {"class": "vram", "instance": 3, "tile": 0, "size": "1MiB",
                 "min_page_size": "64KiB"},
                {"class": "vram", "instance": 5, "tile": 1, "size": "2MiB",
                 "min_page_size": 65536}],
    "pat": [0, 1, 2],
    "timing": {"host_link_gbps": 1.5, "efficiency_k": 0.5, "fault_latency_us": 2,
               "dma_setup_us": 3, "tlb_inval_us": 4, "vram_gbps": 5, "remote_access_ns": 6e2}
  })";
  // when
  Result<Profile> r = parse_profile_json(json);
  // then
  ASSERT_TRUE(r.is_ok()) << r.status().error();
  const Profile& p = *r;
  EXPECT_EQ(p.name, "full");
  EXPECT_EQ(p.description, "all keys");
  EXPECT_EQ(p.pci_device_id, 0xE20Bu);
  EXPECT_EQ(p.pci_revision, 3u);
  EXPECT_EQ(p.va_bits, 47u);
  EXPECT_EQ(p.num_tiles, 2u);
  EXPECT_EQ(p.uapi, UapiRevision::k7_1);
  EXPECT_EQ(p.backing, BackingMode::kData);
  EXPECT_EQ(p.interconnect_group, "grp");
  EXPECT_EQ(p.max_vmas_per_vm, 1000u);
  EXPECT_TRUE(p.features.discrete);
  EXPECT_FALSE(p.features.has_usm);
  EXPECT_TRUE(p.features.device_atomics_on_smem);
  EXPECT_TRUE(p.features.needs_64k_vram);
  ASSERT_EQ(p.regions.size(), 3u);
  EXPECT_EQ(p.regions[0].size, 8192u);
  EXPECT_EQ(p.regions[1].instance, 3u);
  EXPECT_EQ(p.regions[1].size, kMiB);
  EXPECT_EQ(p.regions[1].min_page_size, 65536u);
  EXPECT_EQ(p.regions[2].tile, 1u);
  EXPECT_EQ(p.pat, (std::vector<std::uint8_t>{0, 1, 2}));
  EXPECT_DOUBLE_EQ(p.timing.host_link_gbps, 1.5);
  EXPECT_DOUBLE_EQ(p.timing.efficiency_k, 0.5);
  EXPECT_DOUBLE_EQ(p.timing.fault_latency_us, 2.0);
  EXPECT_DOUBLE_EQ(p.timing.dma_setup_us, 3.0);
  EXPECT_DOUBLE_EQ(p.timing.tlb_inval_us, 4.0);
  EXPECT_DOUBLE_EQ(p.timing.vram_gbps, 5.0);
  EXPECT_DOUBLE_EQ(p.timing.remote_access_ns, 600.0);
}

TEST(ProfileTest, MinimalTextsUsedBelowAreValid) {
  // the texts the rejection tests below break one thing in
  EXPECT_TRUE(parse_profile_json(minimal_json()).is_ok());
  EXPECT_TRUE(parse_profile_json(igpu_json()).is_ok());
}

TEST(ProfileTest, TextThatIsNotJsonIsEINVAL) {
  EXPECT_EQ(parse_error(""), EINVAL);
  EXPECT_EQ(parse_error("{"), EINVAL);
  EXPECT_EQ(parse_error(R"({"va_bits": 48,})"), EINVAL);
  EXPECT_EQ(parse_error(R"({"va_bits" 48})"), EINVAL);
}

TEST(ProfileTest, TopLevelThatIsNotAnObjectIsEINVAL) {
  EXPECT_EQ(parse_error("[1, 2]"), EINVAL);
  EXPECT_EQ(parse_error("42"), EINVAL);
}

TEST(ProfileTest, UnknownKeyAnywhereIsEINVAL) {
  // a typo at the top level
  EXPECT_EQ(parse_error(minimal_json(R"("va_bit": 48,)")), EINVAL);
  // in features
  EXPECT_EQ(parse_error(minimal_json(R"("features": {"discrete": true, "has_ums": true},)")),
            EINVAL);
  // in timing
  EXPECT_EQ(parse_error(minimal_json(R"("timing": {"vram_gbs": 10},)")), EINVAL);
  // in a region
  EXPECT_EQ(parse_error(igpu_json(R"([{"class": "system", "instnce": 0, "size": 4096}])")), EINVAL);
}

TEST(ProfileTest, DuplicateKeyIsEINVAL) {
  EXPECT_EQ(parse_error(minimal_json(R"("va_bits": 48, "va_bits": 39,)")), EINVAL);
}

TEST(ProfileTest, ValueOfTheWrongKindIsEINVAL) {
  EXPECT_EQ(parse_error(minimal_json(R"("va_bits": "forty-eight",)")), EINVAL);
  EXPECT_EQ(parse_error(minimal_json(R"("va_bits": -48,)")), EINVAL);
  EXPECT_EQ(parse_error(minimal_json(R"("va_bits": 48.5,)")), EINVAL);
  EXPECT_EQ(parse_error(minimal_json(R"("va_bits": [48],)")), EINVAL);
  EXPECT_EQ(parse_error(minimal_json(R"("name": {"x": "y"},)")), EINVAL);
  EXPECT_EQ(parse_error(minimal_json(R"("features": {"has_usm": "yes"},)")), EINVAL);
  EXPECT_EQ(parse_error(minimal_json(R"("features": [true],)")), EINVAL);
  EXPECT_EQ(parse_error(minimal_json(R"("timing": {"vram_gbps": "fast"},)")), EINVAL);
  EXPECT_EQ(parse_error(minimal_json(R"("pci_device_id": "0xZZ",)")), EINVAL);
  EXPECT_EQ(parse_error(minimal_json(R"("num_tiles": 4294967296,)")), EINVAL);
}

TEST(ProfileTest, UnknownEnumSpellingIsEINVAL) {
  EXPECT_EQ(parse_error(minimal_json(R"("uapi": "7.2",)")), EINVAL);
  EXPECT_EQ(parse_error(minimal_json(R"("uapi": "6.17",)")), EINVAL);
  EXPECT_EQ(parse_error(minimal_json(R"("backing": "disk",)")), EINVAL);
  EXPECT_EQ(parse_error(igpu_json(R"([{"class": "hbm", "instance": 0, "size": 4096}])")), EINVAL);
}

TEST(ProfileTest, RegionsAndPatMustBeArrays) {
  EXPECT_EQ(parse_error(igpu_json(R"({"class": "system", "size": 4096})")), EINVAL);
  EXPECT_EQ(parse_error(igpu_json(R"(["system"])")), EINVAL);
  EXPECT_EQ(parse_error(igpu_json(R"([{"class": "system", "size": 4096}])", "1")), EINVAL);
  EXPECT_EQ(parse_error(igpu_json(R"([{"class": "system", "size": 4096}])", "[[1]]")), EINVAL);
  EXPECT_EQ(parse_error(igpu_json(R"([{"class": "system", "size": 4096}])", R"({"a": 1})")),
            EINVAL);
}

TEST(ProfileTest, IntegerOutOfItsFieldsRangeIsEINVAL) {
  // instance is 16 bits wide, a PAT entry 8 bits
  EXPECT_EQ(parse_error(igpu_json(R"([{"class": "system", "instance": 70000, "size": 4096}])")),
            EINVAL);
  EXPECT_EQ(parse_error(igpu_json(R"([{"class": "system", "size": 4096}])", "[256]")), EINVAL);
}

TEST(ProfileTest, SizesAcceptBinaryUnitsAndHex) {
  const std::pair<const char*, std::uint64_t> cases[] = {
      {R"(1073741824)", kGiB},   {R"("1073741824")", kGiB},  {R"("1GiB")", kGiB},
      {R"("1 GiB")", kGiB},      {R"("1gib")", kGiB},        {R"("1024MiB")", kGiB},
      {R"("1048576KiB")", kGiB}, {R"("1073741824B")", kGiB}, {R"("0x40000000")", kGiB},
      {R"("12GiB")", 12 * kGiB}, {R"("64MiB")", 64 * kMiB},  {R"("2TiB")", 2ull << 40},
  };
  for (const auto& [text, bytes] : cases) {
    // when
    Result<Profile> p = parse_profile_json(minimal_json("", text));
    // then
    ASSERT_TRUE(p.is_ok()) << text;
    EXPECT_EQ(p->regions[1].size, bytes) << text;
  }
}

TEST(ProfileTest, SizesWithBadUnitsOrOverflowAreEINVAL) {
  for (const char* text :
       {R"("12GB")", R"("12G")", R"("1.5GiB")", R"("GiB")", R"("-1GiB")", R"("12 GiB extra")",
        R"("")", R"("20000000TiB")", R"("99999999999999999999")"}) {
    EXPECT_EQ(parse_error(minimal_json("", text)), EINVAL) << text;
  }
}

// --- validate(): one rule at a time ----------------------------------------

TEST(ProfileTest, ValidProfilePassesValidation) {
  EXPECT_TRUE(validate(valid_profile()).is_ok());
}

TEST(ProfileTest, ProfileWithoutRegionsIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) { p.regions.clear(); }), EINVAL);
}

TEST(ProfileTest, FirstRegionMustBeSystemMemory) {
  EXPECT_EQ(validate_error([](Profile& p) { std::swap(p.regions[0], p.regions[1]); }), EINVAL);
}

TEST(ProfileTest, SecondSystemMemoryRegionIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) {
              MemRegionDesc extra = p.regions[0];
              extra.instance = 2;
              p.regions.push_back(extra);
            }),
            EINVAL);
}

TEST(ProfileTest, SystemMemoryOnANonZeroTileIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[0].tile = 1; }), EINVAL);
}

TEST(ProfileTest, DuplicateRegionInstanceIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[1].instance = 0; }), EINVAL);
}

TEST(ProfileTest, RegionInstanceOf32OrMoreIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[1].instance = 32; }), EINVAL);
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[1].instance = 31; }), 0);
}

TEST(ProfileTest, EmptyRegionIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[1].size = 0; }), EINVAL);
}

TEST(ProfileTest, MinPageSizeMustBeAPowerOfTwoOfAtLeast4KiB) {
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[1].min_page_size = 2048; }), EINVAL);
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[1].min_page_size = 12288; }), EINVAL);
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[1].min_page_size = 0; }), EINVAL);
}

TEST(ProfileTest, RegionSizeMustBeAMultipleOfItsMinPageSize) {
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[1].size += 4096; }), 0);
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[1].size += 100; }), EINVAL);
}

TEST(ProfileTest, VramOnAnIntegratedPartIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) { p.features.discrete = false; }), EINVAL);
}

TEST(ProfileTest, DiscretePartWithoutVramIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) { p.regions.pop_back(); }), EINVAL);
}

TEST(ProfileTest, EveryTileOfADiscretePartNeedsOneVramRegion) {
  // a second tile without VRAM
  EXPECT_EQ(validate_error([](Profile& p) { p.num_tiles = 2; }), EINVAL);
  // two VRAM regions on one tile
  EXPECT_EQ(validate_error([](Profile& p) {
              MemRegionDesc extra = p.regions[1];
              extra.instance = 2;
              p.regions.push_back(extra);
            }),
            EINVAL);
  // the second tile given its own VRAM is fine
  EXPECT_EQ(validate_error([](Profile& p) {
              p.num_tiles = 2;
              MemRegionDesc extra = p.regions[1];
              extra.instance = 2;
              extra.tile = 1;
              p.regions.push_back(extra);
            }),
            0);
}

TEST(ProfileTest, VramOnATileThatDoesNotExistIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[1].tile = 1; }), EINVAL);
}

TEST(ProfileTest, TileCountMustBeOneToFour) {
  EXPECT_EQ(validate_error([](Profile& p) { p.num_tiles = 0; }), EINVAL);
  EXPECT_EQ(validate_error([](Profile& p) {
              p.features.discrete = false;
              p.regions.pop_back();
              p.num_tiles = 5;
            }),
            EINVAL);
}

TEST(ProfileTest, NeedsSixtyFourKVramRequires64KVramPages) {
  EXPECT_EQ(validate_error([](Profile& p) { p.features.needs_64k_vram = true; }), EINVAL);
  EXPECT_EQ(validate_error([](Profile& p) {
              p.features.needs_64k_vram = true;
              p.regions[1].min_page_size = 65536;
            }),
            0);
}

TEST(ProfileTest, NeedsSixtyFourKVramOnAnIntegratedPartIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) {
              p.features.discrete = false;
              p.regions.pop_back();
              p.features.needs_64k_vram = true;
            }),
            EINVAL);
}

TEST(ProfileTest, PatTableMustHoldOneToSixtyFourEntries) {
  EXPECT_EQ(validate_error([](Profile& p) { p.pat.clear(); }), EINVAL);
  EXPECT_EQ(validate_error([](Profile& p) { p.pat.assign(65, kCohNone); }), EINVAL);
  EXPECT_EQ(validate_error([](Profile& p) { p.pat.assign(64, kCohNone); }), 0);
}

TEST(ProfileTest, PatEntryMustBeAKnownCoherencyMode) {
  EXPECT_EQ(validate_error([](Profile& p) { p.pat[0] = 3; }), EINVAL);
}

TEST(ProfileTest, PatTableOfOnlyReservedEntriesIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) { p.pat.assign(4, kCohReserved); }), EINVAL);
}

TEST(ProfileTest, VaBitsMustBeBetween32And57) {
  EXPECT_EQ(validate_error([](Profile& p) { p.va_bits = 31; }), EINVAL);
  EXPECT_EQ(validate_error([](Profile& p) { p.va_bits = 58; }), EINVAL);
  EXPECT_EQ(validate_error([](Profile& p) { p.va_bits = 32; }), 0);
  EXPECT_EQ(validate_error([](Profile& p) { p.va_bits = 57; }), 0);
}

TEST(ProfileTest, VmaLimitOfZeroIsRejected) {
  EXPECT_EQ(validate_error([](Profile& p) { p.max_vmas_per_vm = 0; }), EINVAL);
}

TEST(ProfileTest, OutOfRangeEnumValuesAreRejected) {
  EXPECT_EQ(validate_error([](Profile& p) { p.uapi = static_cast<UapiRevision>(7); }), EINVAL);
  EXPECT_EQ(validate_error([](Profile& p) { p.backing = static_cast<BackingMode>(2); }), EINVAL);
  EXPECT_EQ(validate_error([](Profile& p) { p.regions[1].mem_class = static_cast<MemClass>(2); }),
            EINVAL);
}

TEST(ProfileTest, EveryTimingFigureMustBePositiveAndFinite) {
  const std::vector<double TimingModel::*> fields = {
      &TimingModel::host_link_gbps,  &TimingModel::efficiency_k, &TimingModel::fault_latency_us,
      &TimingModel::dma_setup_us,    &TimingModel::tlb_inval_us, &TimingModel::vram_gbps,
      &TimingModel::remote_access_ns};
  for (double TimingModel::*field : fields) {
    for (double bad : {0.0, -1.0, std::numeric_limits<double>::infinity(),
                       std::numeric_limits<double>::quiet_NaN()}) {
      EXPECT_EQ(validate_error([&](Profile& p) { p.timing.*field = bad; }), EINVAL) << bad;
    }
  }
}

TEST(ProfileTest, ParsedProfileIsValidated) {
  // given a text that parses but has a zero-sized VRAM region
  // then
  EXPECT_EQ(parse_error(minimal_json("", "0")), EINVAL);
}

// --- placement masks and region lookup --------------------------------------

TEST(ProfileTest, PlacementMasksHaveABitPerRegionInstance) {
  // when
  const Profile b580 = load_or_die("b580");
  const Profile pvc = load_or_die("pvc");
  const Profile igpu = load_or_die("integrated");
  // then
  EXPECT_EQ(b580.valid_placement_mask(), 0b11u);
  EXPECT_EQ(b580.vram_placement_mask(), 0b10u);
  EXPECT_EQ(pvc.valid_placement_mask(), 0b111u);
  EXPECT_EQ(pvc.vram_placement_mask(), 0b110u);
  EXPECT_EQ(igpu.valid_placement_mask(), 0b1u);
  EXPECT_EQ(igpu.vram_placement_mask(), 0u);
}

TEST(ProfileTest, PlacementMasksFollowSparseInstances) {
  // given
  Result<Profile> p = parse_profile_json(
      R"({"regions": [{"class": "system", "instance": 0, "size": 4096},
                      {"class": "vram", "instance": 5, "size": 4096}], "pat": [1]})");
  ASSERT_TRUE(p.is_ok());
  // then
  EXPECT_EQ(p->valid_placement_mask(), (1u << 0) | (1u << 5));
  EXPECT_EQ(p->vram_placement_mask(), 1u << 5);
}

TEST(ProfileTest, RegionByInstanceFindsTheRegionOrNothing) {
  // given
  const Profile pvc = load_or_die("pvc");
  // when
  const MemRegionDesc* second_vram = pvc.region_by_instance(2);
  // then
  ASSERT_NE(second_vram, nullptr);
  EXPECT_EQ(second_vram->mem_class, MemClass::kVram);
  EXPECT_EQ(second_vram->tile, 1u);
  EXPECT_EQ(pvc.region_by_instance(0), &pvc.regions[0]);
  EXPECT_EQ(pvc.region_by_instance(3), nullptr);
  EXPECT_EQ(pvc.vram_for_tile(2), nullptr);
}

TEST(ProfileTest, GraphicsIpAndReferenceClockParse) {
  Result<Profile> p = parse_profile_json(
      minimal_json(R"("graphics_ip": "12.60", "reference_clock_hz": 25000000,)"));
  ASSERT_TRUE(p.is_ok()) << p.status().error();
  EXPECT_EQ(p->graphics_ip_major, 12);
  EXPECT_EQ(p->graphics_ip_minor, 60);
  EXPECT_EQ(p->reference_clock_hz, 25'000'000u);
  // absent: not reported
  Result<Profile> d = parse_profile_json(minimal_json());
  ASSERT_TRUE(d.is_ok());
  EXPECT_EQ(d->graphics_ip_major, 0);
  EXPECT_EQ(d->graphics_ip_minor, 0);
}

TEST(ProfileTest, MalformedGraphicsIpOrZeroReferenceClockIsEINVAL) {
  for (const char* bad :
       {R"("graphics_ip": "20",)", R"("graphics_ip": ".1",)", R"("graphics_ip": "20.",)",
        R"("graphics_ip": "20.1x",)", R"("graphics_ip": "70000.1",)", R"("graphics_ip": "a.b",)"}) {
    EXPECT_EQ(parse_error(minimal_json(bad)), EINVAL) << bad;
  }
  Profile p = valid_profile();
  p.reference_clock_hz = 0;
  EXPECT_EQ(validate(p).error(), EINVAL);
}

// Captures what the library logs while a test runs, with the given
// DRM_SIM_DEBUG categories enabled (as if set in the environment).
class LogCapture {
 public:
  explicit LogCapture(std::uint32_t categories)
      : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)),
        prev_(log::set_categories(categories)) {
    sink_->set_pattern("%v");
    log::logger().sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = log::logger().sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
    log::set_categories(prev_);
  }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::uint32_t prev_;
};

// With DRM_SIM_DEBUG=profile, a refused profile says which key or rule and
// which value, so a hand-written profile can be fixed without reading the
// parser.
TEST(ProfileTest, RefusedProfileLogsWhyInTheProfileCategory) {
  struct Case {
    std::string text;
    const char* reason;
  };
  const Case cases[] = {
      {minimal_json(R"("vram_mib": 1,)"), "the top level: unknown key 'vram_mib' (known: name,"},
      {minimal_json(R"("va_bits": 70,)"), "va_bits 70 is outside [32, 57]"},
      {minimal_json(R"("va_bits": "0x1g",)"), "'va_bits' = '0x1g' is not an unsigned integer"},
      {minimal_json(R"("num_tiles": 70000,)"), "num_tiles 70000 is outside [1, 4]"},
      {igpu_json(R"([{"class": "system", "instance": 70000, "size": 4096}])"),
       "'regions[0].instance' = 70000 is above 65535"},
      {minimal_json("", R"("12 GB")"), "'regions[1].size' = '12 GB' is not a byte count"},
      {minimal_json(R"("features": {"discrete": "yes"},)"),
       "'features.discrete' = 'yes' is not true or false"},
      {minimal_json(R"("timing": {"vram_gbps": 0},)"), "timing.vram_gbps = 0 is not > 0"},
      {minimal_json(R"("uapi": "7.2",)"), "'uapi' = '7.2' is not"},
      {minimal_json(R"("name": "a", "name": "b",)"), "key 'name' given twice"},
      {igpu_json(R"([{"class": "system", "instance": 0, "size": 4096}])", "[1, 5]"),
       "pat[1] = 5 is not a coherency mode"},
      {igpu_json(R"([{"class": "system", "instance": 0, "size": 4096},
                     {"class": "vram", "instance": 1, "size": 4096}])"),
       "regions[1]: VRAM on a device that is not discrete"},
      {R"({"regions": [)", "not valid JSON: line 1"},
  };
  for (const Case& c : cases) {
    LogCapture log(log::kProfile);
    EXPECT_EQ(parse_error(c.text), EINVAL) << c.text;
    EXPECT_NE(log.text().find(c.reason), std::string::npos)
        << "expected \"" << c.reason << "\" in the log of\n"
        << c.text << "\nlogged:\n"
        << log.text();
  }
}

TEST(ProfileTest, UnknownProfileNameLogsTheBuiltInNames) {
  LogCapture log(log::kProfile);
  EXPECT_EQ(load_profile("b58O").status().error(), ENOENT);
  EXPECT_NE(log.text().find("'b58O' is not a built-in profile"), std::string::npos) << log.text();
  for (const std::string& name : builtin_profile_names()) {
    EXPECT_NE(log.text().find(name), std::string::npos) << name << " missing from " << log.text();
  }
}

TEST(ProfileTest, RefusedProfileFileLogsItsPath) {
  TempFile f("broken.json", minimal_json(R"("va_bits": 20,)"));
  LogCapture log(log::kProfile);
  EXPECT_EQ(load_profile(f.path()).status().error(), EINVAL);
  EXPECT_NE(log.text().find("va_bits 20 is outside"), std::string::npos) << log.text();
  EXPECT_NE(log.text().find("'" + f.path() + "' refused"), std::string::npos) << log.text();
}

TEST(ProfileTest, RefusalsAreQuietWithoutTheProfileCategory) {
  LogCapture log(~log::kProfile);
  EXPECT_EQ(parse_error(minimal_json(R"("va_bits": 70,)")), EINVAL);
  EXPECT_EQ(load_profile("b58O").status().error(), ENOENT);
  EXPECT_EQ(log.text(), "");
}

}  // namespace
}  // namespace drm_sim
