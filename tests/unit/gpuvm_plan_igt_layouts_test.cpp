// The VMA layouts of IGT's tests/intel/xe_vm.c, re-expressed at the planner
// level: each subtest's binds and unbinds become plan_map / plan_unmap calls
// on a VmaTree, and the test asserts the planned ops and the layout they leave.
//
// munmap-style-unbind-* and mmap-style-bind-* take IGT's section table as is
// (bo_n_pages, n_binds, unbind_n_page_offset, unbind_n_pages, flags): bind
// bo_n_pages pages of BO "bo0" (or of user memory) in n_binds equal binds at
// 0x1a00000, then unbind, or bind BO "bo1" (or other user memory) over,
// unbind_n_pages pages starting unbind_n_page_offset pages in. With
// MAP_FLAG_LARGE_PAGE the sizes count 2 MiB pages (and the offset too with
// LARGE_PAGE_NO_SPLIT). The hammer and invalidate flags change what the GPU
// and the CPU do meanwhile, not the layout, so those rows repeat a layout.
//
// Text below is in IGT's terms: pages (4 KiB, the default alignment of an
// integrated part) relative to the bind base; "bo0@k" is bo0 at page offset k;
// "cpu+k" is user memory k pages above the bind base (IGT maps its userptr
// buffers at the GPU address). "A .. B (n VMAs)" is a run of n equal, adjacent
// VMAs whose backing continues from A to B.
#include <string>
#include <vector>

#include "drm_sim/vm/gpuvm_plan.h"
#include "unit/vma_test_util.h"

namespace drm_sim::test {
namespace {

constexpr std::uint32_t kBo0 = kBoA;
constexpr std::uint32_t kBo1 = kBoB;
constexpr std::uint64_t kPagesPer2M = 0x200000 / kPageSize;

// MAP_FLAG_* of xe_vm.c.
enum IgtFlag : unsigned {
  kUserptr = 1u << 0,
  kInvalidate = 1u << 1,
  kHammerFirstPage = 1u << 2,
  kLargePage = 1u << 3,
  kLargePageNoSplit = 1u << 4,
};

// Renders VMAs and ops in IGT's terms relative to a bind base (in pages).
class IgtView {
 public:
  explicit IgtView(std::uint64_t base_page) : base_(base_page) {}

  std::string backing(const Vma& v) const {
    if (v.kind == VmaKind::kUserptr) {
      return "cpu+" + std::to_string(v.offset / kPageSize - base_);
    }
    return "bo" + std::to_string(v.bo - kBo0) + "@" + std::to_string(v.offset / kPageSize);
  }
  std::string seg(const Vma& v) const {
    return "[" + std::to_string(v.start / kPageSize - base_) + "," +
           std::to_string(v.end / kPageSize - base_) + ") " + backing(v);
  }
  // One line per VMA; four or more equal, adjacent VMAs with continuing
  // backing collapse into one "first .. last (n VMAs)" line.
  std::string runs(const std::vector<Vma>& vmas, const std::string& prefix) const {
    std::string out;
    for (std::size_t i = 0; i < vmas.size();) {
      std::size_t j = i + 1;
      while (j < vmas.size() && continues(vmas[j - 1], vmas[j])) {
        ++j;
      }
      if (j - i >= 4) {
        out += prefix + seg(vmas[i]) + " .. " + seg(vmas[j - 1]) + " (" + std::to_string(j - i) +
               " VMAs)\n";
      } else {
        for (std::size_t k = i; k < j; ++k) {
          out += prefix + seg(vmas[k]) + "\n";
        }
      }
      i = j;
    }
    return out;
  }
  std::string layout(const VmaTree& t) const { return runs(test::layout(t), ""); }
  std::string ops(const GpuvmOps& ops) const {
    std::string out;
    std::vector<Vma> unmaps;  // a pending run of UNMAPs
    auto flush = [&] {
      out += runs(unmaps, "UNMAP ");
      unmaps.clear();
    };
    for (const GpuvmOp& op : ops) {
      if (const auto* u = std::get_if<UnmapOp>(&op)) {
        unmaps.push_back(u->old);
        continue;
      }
      flush();
      if (const auto* r = std::get_if<RemapOp>(&op)) {
        out += "REMAP " + seg(r->old) + " prev=" + (r->prev ? seg(*r->prev) : "-") +
               " next=" + (r->next ? seg(*r->next) : "-") + "\n";
      } else {
        out += "MAP " + seg(std::get<MapOp>(op).vma) + "\n";
      }
    }
    flush();
    return out;
  }
  // What GPU page k (relative to the base) maps, or "-" for nothing.
  std::string page(const VmaTree& t, std::uint64_t k) const {
    const std::uint64_t addr = test::page(base_ + k);
    const std::optional<Vma> v = t.find(addr);
    if (!v) {
      return "-";
    }
    Vma one = *v;
    one.offset += addr - v->start;
    return backing(one);
  }

 private:
  static bool continues(const Vma& p, const Vma& q) {
    return q.start == p.end && q.size() == p.size() && q.kind == p.kind && q.bo == p.bo &&
           q.offset == p.offset + p.size();
  }
  std::uint64_t base_;
};

// ---- munmap-style-unbind-* and mmap-style-bind-* -----------------------------

// test_munmap_style_unbind() and test_mmap_style_bind() bind at 0x1a00000.
constexpr std::uint64_t kStyleBase = 0x1a00000 / kPageSize;

struct Section {
  const char* name;  // the subtest's suffix, '-' spelled '_'
  int bo_n_pages, n_binds, unbind_n_page_offset, unbind_n_pages;
  unsigned flags;      // IgtFlag
  std::string ops;     // the planned ops of the unbind (or bind), IgtView text
  std::string layout;  // the layout afterwards, IgtView text
};

// The section's geometry in 4 KiB pages, scaled as xe_vm.c scales it.
struct Geometry {
  std::uint64_t bo_pages, bind_pages, offset, length;
  bool userptr;
};
Geometry geometry_of(const Section& s) {
  std::uint64_t bo_pages = static_cast<std::uint64_t>(s.bo_n_pages);
  std::uint64_t length = static_cast<std::uint64_t>(s.unbind_n_pages);
  std::uint64_t offset = static_cast<std::uint64_t>(s.unbind_n_page_offset);
  if (s.flags & kLargePage) {
    bo_pages *= kPagesPer2M;
    length *= kPagesPer2M;
    if (s.flags & kLargePageNoSplit) {
      offset *= kPagesPer2M;
    }
  }
  return {bo_pages, bo_pages / static_cast<std::uint64_t>(s.n_binds), offset, length,
          (s.flags & kUserptr) != 0};
}

struct SubtestName {
  const char* prefix;
  std::string operator()(const ::testing::TestParamInfo<Section>& row) const {
    return std::string(prefix) + row.param.name;
  }
};

// Makes the initial binds of a section; each must plan a single MAP.
class XeVmStyleTest : public ::testing::TestWithParam<Section> {
 protected:
  XeVmStyleTest() : g_(geometry_of(GetParam())) {}

  void SetUp() override {
    for (std::uint64_t i = 0; i < g_.bo_pages / g_.bind_pages; ++i) {
      const Vma v = initial_vma(i * g_.bind_pages, (i + 1) * g_.bind_pages);
      const GpuvmOps ops = plan_map(tree_, map_request(v));
      ASSERT_EQ(ops, GpuvmOps{map_op(v)}) << "initial bind " << i;
      ASSERT_TRUE(apply_ops(tree_, ops));
    }
  }

  // Pages [lo, hi) relative to the base as initially bound: bo0 at page
  // offset lo, or the user pages at the same address.
  Vma initial_vma(std::uint64_t lo, std::uint64_t hi) const {
    return g_.userptr ? userptr(kStyleBase + lo, kStyleBase + hi, kStyleBase + lo)
                      : bo(kStyleBase + lo, kStyleBase + hi, kBo0, lo);
  }
  VaRange range() const {
    return pages(kStyleBase + g_.offset, kStyleBase + g_.offset + g_.length);
  }
  // What every page maps, one "k: backing" line per page that differs from
  // `want(k)`; empty when all match.
  template <typename Want>
  std::string pages_differing_from(Want want) const {
    std::string out;
    for (std::uint64_t k = 0; k < g_.bo_pages; ++k) {
      const std::string got = view_.page(tree_, k);
      if (got != want(k)) {
        out += std::to_string(k) + ": " + got + " (want " + want(k) + ")\n";
      }
    }
    return out;
  }
  std::string initial_backing(std::uint64_t k) const {
    return g_.userptr ? "cpu+" + std::to_string(k) : "bo0@" + std::to_string(k);
  }
  bool in_range(std::uint64_t k) const { return k >= g_.offset && k < g_.offset + g_.length; }

  const Geometry g_;
  const IgtView view_{kStyleBase};
  VmaTree tree_;
};

// munmap-style-unbind-*: unbind [offset, offset + length) of the initial binds,
// then bind the same pages again.
class MunmapStyleUnbindTest : public XeVmStyleTest {
 protected:
  GpuvmOps plan_the_unbind() const { return plan_unmap(tree_, range()); }
  // The rebind of xe_vm.c: bo0 at the same offset, or the same user pages.
  Vma rebind_vma() const { return initial_vma(g_.offset, g_.offset + g_.length); }
};

// mmap-style-bind-*: bind bo1 (or the second user buffer, which IGT maps
// right after the first) over [offset, offset + length) of the initial binds.
class MmapStyleBindTest : public XeVmStyleTest {
 protected:
  Vma bind_vma() const {
    const std::uint64_t lo = kStyleBase + g_.offset;
    const std::uint64_t hi = lo + g_.length;
    return g_.userptr ? userptr(lo, hi, kStyleBase + g_.bo_pages + g_.offset)
                      : bo(lo, hi, kBo1, g_.offset);
  }
  GpuvmOps plan_the_bind() const { return plan_map(tree_, map_request(bind_vma())); }
  std::string new_backing(std::uint64_t k) const {
    return g_.userptr ? "cpu+" + std::to_string(g_.bo_pages + k) : "bo1@" + std::to_string(k);
  }
};

// clang-format off
const std::vector<Section> kMunmapSections = {
  // munmap-style-unbind-all
  //         0       1       2       3       4
  // bound:  [-----bo0@0-----|-----bo0@2-----)
  // unbind: [------------unbind-------------)
  // after:  (none)
  {"all", 4, 2, 0, 4, 0,
   "UNMAP [0,2) bo0@0\n"
   "UNMAP [2,4) bo0@2\n",
   ""},

  // munmap-style-unbind-one-partial
  //         0       1       2       3       4
  // bound:  [-------------bo0@0-------------)
  // unbind:         [----unbind-----)
  // after:  [-bo0@0-)               [-bo0@3-)
  {"one_partial", 4, 1, 1, 2, 0,
   "REMAP [0,4) bo0@0 prev=[0,1) bo0@0 next=[3,4) bo0@3\n",
   "[0,1) bo0@0\n"
   "[3,4) bo0@3\n"},

  // munmap-style-unbind-either-side-partial
  //         0       1       2       3       4
  // bound:  [-----bo0@0-----|-----bo0@2-----)
  // unbind:         [----unbind-----)
  // after:  [-bo0@0-)               [-bo0@3-)
  {"either_side_partial", 4, 2, 1, 2, 0,
   "REMAP [0,2) bo0@0 prev=[0,1) bo0@0 next=-\n"
   "REMAP [2,4) bo0@2 prev=- next=[3,4) bo0@3\n",
   "[0,1) bo0@0\n"
   "[3,4) bo0@3\n"},

  // munmap-style-unbind-either-side-partial-hammer
  //         0       1       2       3       4       5       6
  // bound:  [---------bo0@0---------|---------bo0@3---------)
  // unbind:                 [----unbind-----)
  // after:  [-----bo0@0-----)               [-----bo0@4-----)
  {"either_side_partial_hammer", 6, 2, 2, 2, kHammerFirstPage,
   "REMAP [0,3) bo0@0 prev=[0,2) bo0@0 next=-\n"
   "REMAP [3,6) bo0@3 prev=- next=[4,6) bo0@4\n",
   "[0,2) bo0@0\n"
   "[4,6) bo0@4\n"},

  // munmap-style-unbind-either-side-partial-split-page-hammer
  // 2 MiB pages: 3072 pages of 4 KiB in 2 binds, unbind [2,1026) (not drawn)
  {"either_side_partial_split_page_hammer", 6, 2, 2, 2, kHammerFirstPage | kLargePage,
   "REMAP [0,1536) bo0@0 prev=[0,2) bo0@0 next=[1026,1536) bo0@1026\n",
   "[0,2) bo0@0\n"
   "[1026,1536) bo0@1026\n"
   "[1536,3072) bo0@1536\n"},

  // munmap-style-unbind-either-side-partial-large-page-hammer
  // 2 MiB pages: 3072 pages of 4 KiB in 2 binds, unbind [1024,2048) (not drawn)
  {"either_side_partial_large_page_hammer", 6, 2, 2, 2,
   kHammerFirstPage | kLargePage | kLargePageNoSplit,
   "REMAP [0,1536) bo0@0 prev=[0,1024) bo0@0 next=-\n"
   "REMAP [1536,3072) bo0@1536 prev=- next=[2048,3072) bo0@2048\n",
   "[0,1024) bo0@0\n"
   "[2048,3072) bo0@2048\n"},

  // munmap-style-unbind-either-side-full
  //         0       1       2       3       4
  // bound:  [-bo0@0-|-bo0@1-|-bo0@2-|-bo0@3-)
  // unbind:         [----unbind-----)
  // after:  [-bo0@0-)               [-bo0@3-)
  {"either_side_full", 4, 4, 1, 2, 0,
   "UNMAP [1,2) bo0@1\n"
   "UNMAP [2,3) bo0@2\n",
   "[0,1) bo0@0\n"
   "[3,4) bo0@3\n"},

  // munmap-style-unbind-end
  //         0       1       2       3       4
  // bound:  [-----bo0@0-----|-----bo0@2-----)
  // unbind: [--------unbind---------)
  // after:                          [-bo0@3-)
  {"end", 4, 2, 0, 3, 0,
   "UNMAP [0,2) bo0@0\n"
   "REMAP [2,4) bo0@2 prev=- next=[3,4) bo0@3\n",
   "[3,4) bo0@3\n"},

  // munmap-style-unbind-front
  //         0       1       2       3       4
  // bound:  [-----bo0@0-----|-----bo0@2-----)
  // unbind:         [--------unbind---------)
  // after:  [-bo0@0-)
  {"front", 4, 2, 1, 3, 0,
   "REMAP [0,2) bo0@0 prev=[0,1) bo0@0 next=-\n"
   "UNMAP [2,4) bo0@2\n",
   "[0,1) bo0@0\n"},

  // munmap-style-unbind-many-all
  //         0                                                             32
  // bound:  [---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---)
  // unbind: [---------------------------------------------------------------)
  // after:  (none)
  {"many_all", 32, 16, 0, 32, 0,
   "UNMAP [0,2) bo0@0 .. [30,32) bo0@30 (16 VMAs)\n",
   ""},

  // munmap-style-unbind-many-either-side-partial
  //         0                                                             32
  // bound:  [---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---)
  // unbind:   [-----------------------------------------------------------)
  // after:  [-)                                                           [-)
  {"many_either_side_partial", 32, 16, 1, 30, 0,
   "REMAP [0,2) bo0@0 prev=[0,1) bo0@0 next=-\n"
   "UNMAP [2,4) bo0@2 .. [28,30) bo0@28 (14 VMAs)\n"
   "REMAP [30,32) bo0@30 prev=- next=[31,32) bo0@31\n",
   "[0,1) bo0@0\n"
   "[31,32) bo0@31\n"},

  // munmap-style-unbind-many-either-side-partial-hammer
  //         0                                                             32
  // bound:  [---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---)
  // unbind:     [-------------------------------------------------------)
  // after:  [---)                                                       [---)
  {"many_either_side_partial_hammer", 32, 16, 2, 28, kHammerFirstPage,
   "UNMAP [2,4) bo0@2 .. [28,30) bo0@28 (14 VMAs)\n",
   "[0,2) bo0@0\n"
   "[30,32) bo0@30\n"},

  // munmap-style-unbind-many-either-side-full
  //         0                                                             32
  // bound:  [-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-)
  // unbind:                 [-------------------------------)
  // after:  [-|-|-|-|-|-|-|-)                               [-|-|-|-|-|-|-|-)
  {"many_either_side_full", 32, 32, 8, 16, 0,
   "UNMAP [8,9) bo0@8 .. [23,24) bo0@23 (16 VMAs)\n",
   "[0,1) bo0@0 .. [7,8) bo0@7 (8 VMAs)\n"
   "[24,25) bo0@24 .. [31,32) bo0@31 (8 VMAs)\n"},

  // munmap-style-unbind-many-end
  //         0                                                             32
  // bound:  [---------------|---------------|---------------|---------------)
  // unbind: [---------------------------------------------------)
  // after:                                                      [-----------)
  {"many_end", 32, 4, 0, 26, 0,
   "UNMAP [0,8) bo0@0\n"
   "UNMAP [8,16) bo0@8\n"
   "UNMAP [16,24) bo0@16\n"
   "REMAP [24,32) bo0@24 prev=- next=[26,32) bo0@26\n",
   "[26,32) bo0@26\n"},

  // munmap-style-unbind-many-front
  //         0                                                             32
  // bound:  [---------------|---------------|---------------|---------------)
  // unbind:             [---------------------------------------------------)
  // after:  [-----------)
  {"many_front", 32, 4, 6, 26, 0,
   "REMAP [0,8) bo0@0 prev=[0,6) bo0@0 next=-\n"
   "UNMAP [8,16) bo0@8\n"
   "UNMAP [16,24) bo0@16\n"
   "UNMAP [24,32) bo0@24\n",
   "[0,6) bo0@0\n"},

  // munmap-style-unbind-userptr-all
  //         0       1       2       3       4
  // bound:  [-----cpu+0-----|-----cpu+2-----)
  // unbind: [------------unbind-------------)
  // after:  (none)
  {"userptr_all", 4, 2, 0, 4, kUserptr,
   "UNMAP [0,2) cpu+0\n"
   "UNMAP [2,4) cpu+2\n",
   ""},

  // munmap-style-unbind-userptr-one-partial
  //         0       1       2       3       4
  // bound:  [-------------cpu+0-------------)
  // unbind:         [----unbind-----)
  // after:  [-cpu+0-)               [-cpu+3-)
  {"userptr_one_partial", 4, 1, 1, 2, kUserptr,
   "REMAP [0,4) cpu+0 prev=[0,1) cpu+0 next=[3,4) cpu+3\n",
   "[0,1) cpu+0\n"
   "[3,4) cpu+3\n"},

  // munmap-style-unbind-userptr-either-side-partial
  //         0       1       2       3       4
  // bound:  [-----cpu+0-----|-----cpu+2-----)
  // unbind:         [----unbind-----)
  // after:  [-cpu+0-)               [-cpu+3-)
  {"userptr_either_side_partial", 4, 2, 1, 2, kUserptr,
   "REMAP [0,2) cpu+0 prev=[0,1) cpu+0 next=-\n"
   "REMAP [2,4) cpu+2 prev=- next=[3,4) cpu+3\n",
   "[0,1) cpu+0\n"
   "[3,4) cpu+3\n"},

  // munmap-style-unbind-userptr-either-side-full
  //         0       1       2       3       4
  // bound:  [-cpu+0-|-cpu+1-|-cpu+2-|-cpu+3-)
  // unbind:         [----unbind-----)
  // after:  [-cpu+0-)               [-cpu+3-)
  {"userptr_either_side_full", 4, 4, 1, 2, kUserptr,
   "UNMAP [1,2) cpu+1\n"
   "UNMAP [2,3) cpu+2\n",
   "[0,1) cpu+0\n"
   "[3,4) cpu+3\n"},

  // munmap-style-unbind-userptr-end
  //         0       1       2       3       4
  // bound:  [-----cpu+0-----|-----cpu+2-----)
  // unbind: [--------unbind---------)
  // after:                          [-cpu+3-)
  {"userptr_end", 4, 2, 0, 3, kUserptr,
   "UNMAP [0,2) cpu+0\n"
   "REMAP [2,4) cpu+2 prev=- next=[3,4) cpu+3\n",
   "[3,4) cpu+3\n"},

  // munmap-style-unbind-userptr-front
  //         0       1       2       3       4
  // bound:  [-----cpu+0-----|-----cpu+2-----)
  // unbind:         [--------unbind---------)
  // after:  [-cpu+0-)
  {"userptr_front", 4, 2, 1, 3, kUserptr,
   "REMAP [0,2) cpu+0 prev=[0,1) cpu+0 next=-\n"
   "UNMAP [2,4) cpu+2\n",
   "[0,1) cpu+0\n"},

  // munmap-style-unbind-userptr-many-all
  //         0                                                             32
  // bound:  [---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---)
  // unbind: [---------------------------------------------------------------)
  // after:  (none)
  {"userptr_many_all", 32, 16, 0, 32, kUserptr,
   "UNMAP [0,2) cpu+0 .. [30,32) cpu+30 (16 VMAs)\n",
   ""},

  // munmap-style-unbind-userptr-many-either-side-full
  //         0                                                             32
  // bound:  [-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-)
  // unbind:                 [-------------------------------)
  // after:  [-|-|-|-|-|-|-|-)                               [-|-|-|-|-|-|-|-)
  {"userptr_many_either_side_full", 32, 32, 8, 16, kUserptr,
   "UNMAP [8,9) cpu+8 .. [23,24) cpu+23 (16 VMAs)\n",
   "[0,1) cpu+0 .. [7,8) cpu+7 (8 VMAs)\n"
   "[24,25) cpu+24 .. [31,32) cpu+31 (8 VMAs)\n"},

  // munmap-style-unbind-userptr-many-end
  //         0                                                             32
  // bound:  [---------------|---------------|---------------|---------------)
  // unbind: [---------------------------------------------------)
  // after:                                                      [-----------)
  {"userptr_many_end", 32, 4, 0, 26, kUserptr,
   "UNMAP [0,8) cpu+0\n"
   "UNMAP [8,16) cpu+8\n"
   "UNMAP [16,24) cpu+16\n"
   "REMAP [24,32) cpu+24 prev=- next=[26,32) cpu+26\n",
   "[26,32) cpu+26\n"},

  // munmap-style-unbind-userptr-many-front
  //         0                                                             32
  // bound:  [---------------|---------------|---------------|---------------)
  // unbind:             [---------------------------------------------------)
  // after:  [-----------)
  {"userptr_many_front", 32, 4, 6, 26, kUserptr,
   "REMAP [0,8) cpu+0 prev=[0,6) cpu+0 next=-\n"
   "UNMAP [8,16) cpu+8\n"
   "UNMAP [16,24) cpu+16\n"
   "UNMAP [24,32) cpu+24\n",
   "[0,6) cpu+0\n"},

  // munmap-style-unbind-userptr-inval-either-side-full
  //         0       1       2       3       4
  // bound:  [-cpu+0-|-cpu+1-|-cpu+2-|-cpu+3-)
  // unbind:         [----unbind-----)
  // after:  [-cpu+0-)               [-cpu+3-)
  {"userptr_inval_either_side_full", 4, 4, 1, 2, kUserptr | kInvalidate,
   "UNMAP [1,2) cpu+1\n"
   "UNMAP [2,3) cpu+2\n",
   "[0,1) cpu+0\n"
   "[3,4) cpu+3\n"},

  // munmap-style-unbind-userptr-inval-end
  //         0       1       2       3       4
  // bound:  [-----cpu+0-----|-----cpu+2-----)
  // unbind: [--------unbind---------)
  // after:                          [-cpu+3-)
  {"userptr_inval_end", 4, 2, 0, 3, kUserptr | kInvalidate,
   "UNMAP [0,2) cpu+0\n"
   "REMAP [2,4) cpu+2 prev=- next=[3,4) cpu+3\n",
   "[3,4) cpu+3\n"},

  // munmap-style-unbind-userptr-inval-front
  //         0       1       2       3       4
  // bound:  [-----cpu+0-----|-----cpu+2-----)
  // unbind:         [--------unbind---------)
  // after:  [-cpu+0-)
  {"userptr_inval_front", 4, 2, 1, 3, kUserptr | kInvalidate,
   "REMAP [0,2) cpu+0 prev=[0,1) cpu+0 next=-\n"
   "UNMAP [2,4) cpu+2\n",
   "[0,1) cpu+0\n"},

  // munmap-style-unbind-userptr-inval-many-all
  //         0                                                             32
  // bound:  [---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---)
  // unbind: [---------------------------------------------------------------)
  // after:  (none)
  {"userptr_inval_many_all", 32, 16, 0, 32, kUserptr | kInvalidate,
   "UNMAP [0,2) cpu+0 .. [30,32) cpu+30 (16 VMAs)\n",
   ""},

  // munmap-style-unbind-userptr-inval-many-either-side-partial
  //         0                                                             32
  // bound:  [---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---)
  // unbind:   [-----------------------------------------------------------)
  // after:  [-)                                                           [-)
  {"userptr_inval_many_either_side_partial", 32, 16, 1, 30, kUserptr | kInvalidate,
   "REMAP [0,2) cpu+0 prev=[0,1) cpu+0 next=-\n"
   "UNMAP [2,4) cpu+2 .. [28,30) cpu+28 (14 VMAs)\n"
   "REMAP [30,32) cpu+30 prev=- next=[31,32) cpu+31\n",
   "[0,1) cpu+0\n"
   "[31,32) cpu+31\n"},

  // munmap-style-unbind-userptr-inval-many-either-side-full
  //         0                                                             32
  // bound:  [-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-|-)
  // unbind:                 [-------------------------------)
  // after:  [-|-|-|-|-|-|-|-)                               [-|-|-|-|-|-|-|-)
  {"userptr_inval_many_either_side_full", 32, 32, 8, 16, kUserptr | kInvalidate,
   "UNMAP [8,9) cpu+8 .. [23,24) cpu+23 (16 VMAs)\n",
   "[0,1) cpu+0 .. [7,8) cpu+7 (8 VMAs)\n"
   "[24,25) cpu+24 .. [31,32) cpu+31 (8 VMAs)\n"},

  // munmap-style-unbind-userptr-inval-many-end
  //         0                                                             32
  // bound:  [---------------|---------------|---------------|---------------)
  // unbind: [---------------------------------------------------)
  // after:                                                      [-----------)
  {"userptr_inval_many_end", 32, 4, 0, 26, kUserptr | kInvalidate,
   "UNMAP [0,8) cpu+0\n"
   "UNMAP [8,16) cpu+8\n"
   "UNMAP [16,24) cpu+16\n"
   "REMAP [24,32) cpu+24 prev=- next=[26,32) cpu+26\n",
   "[26,32) cpu+26\n"},

  // munmap-style-unbind-userptr-inval-many-front
  //         0                                                             32
  // bound:  [---------------|---------------|---------------|---------------)
  // unbind:             [---------------------------------------------------)
  // after:  [-----------)
  {"userptr_inval_many_front", 32, 4, 6, 26, kUserptr | kInvalidate,
   "REMAP [0,8) cpu+0 prev=[0,6) cpu+0 next=-\n"
   "UNMAP [8,16) cpu+8\n"
   "UNMAP [16,24) cpu+16\n"
   "UNMAP [24,32) cpu+24\n",
   "[0,6) cpu+0\n"},

};

const std::vector<Section> kMmapSections = {
  // mmap-style-bind-all
  //         0       1       2       3       4
  // bound:  [-----bo0@0-----|-----bo0@2-----)
  // bind:   [-------------bo1@0-------------)
  // after:  [-------------bo1@0-------------)
  {"all", 4, 2, 0, 4, 0,
   "UNMAP [0,2) bo0@0\n"
   "UNMAP [2,4) bo0@2\n"
   "MAP [0,4) bo1@0\n",
   "[0,4) bo1@0\n"},

  // mmap-style-bind-one-partial
  //         0       1       2       3       4
  // bound:  [-------------bo0@0-------------)
  // bind:           [-----bo1@1-----)
  // after:  [-bo0@0-|-----bo1@1-----|-bo0@3-)
  {"one_partial", 4, 1, 1, 2, 0,
   "REMAP [0,4) bo0@0 prev=[0,1) bo0@0 next=[3,4) bo0@3\n"
   "MAP [1,3) bo1@1\n",
   "[0,1) bo0@0\n"
   "[1,3) bo1@1\n"
   "[3,4) bo0@3\n"},

  // mmap-style-bind-either-side-partial
  //         0       1       2       3       4
  // bound:  [-----bo0@0-----|-----bo0@2-----)
  // bind:           [-----bo1@1-----)
  // after:  [-bo0@0-|-----bo1@1-----|-bo0@3-)
  {"either_side_partial", 4, 2, 1, 2, 0,
   "REMAP [0,2) bo0@0 prev=[0,1) bo0@0 next=-\n"
   "REMAP [2,4) bo0@2 prev=- next=[3,4) bo0@3\n"
   "MAP [1,3) bo1@1\n",
   "[0,1) bo0@0\n"
   "[1,3) bo1@1\n"
   "[3,4) bo0@3\n"},

  // mmap-style-bind-either-side-full
  //         0       1       2       3       4
  // bound:  [-bo0@0-|-bo0@1-|-bo0@2-|-bo0@3-)
  // bind:           [-----bo1@1-----)
  // after:  [-bo0@0-|-----bo1@1-----|-bo0@3-)
  {"either_side_full", 4, 4, 1, 2, 0,
   "UNMAP [1,2) bo0@1\n"
   "UNMAP [2,3) bo0@2\n"
   "MAP [1,3) bo1@1\n",
   "[0,1) bo0@0\n"
   "[1,3) bo1@1\n"
   "[3,4) bo0@3\n"},

  // mmap-style-bind-either-side-partial-hammer
  //         0       1       2       3       4
  // bound:  [-----bo0@0-----|-----bo0@2-----)
  // bind:           [-----bo1@1-----)
  // after:  [-bo0@0-|-----bo1@1-----|-bo0@3-)
  {"either_side_partial_hammer", 4, 2, 1, 2, kHammerFirstPage,
   "REMAP [0,2) bo0@0 prev=[0,1) bo0@0 next=-\n"
   "REMAP [2,4) bo0@2 prev=- next=[3,4) bo0@3\n"
   "MAP [1,3) bo1@1\n",
   "[0,1) bo0@0\n"
   "[1,3) bo1@1\n"
   "[3,4) bo0@3\n"},

  // mmap-style-bind-either-side-partial-split-page-hammer
  // 2 MiB pages: 2048 pages of 4 KiB in 2 binds, bind [1,1025) (not drawn)
  {"either_side_partial_split_page_hammer", 4, 2, 1, 2, kHammerFirstPage | kLargePage,
   "REMAP [0,1024) bo0@0 prev=[0,1) bo0@0 next=-\n"
   "REMAP [1024,2048) bo0@1024 prev=- next=[1025,2048) bo0@1025\n"
   "MAP [1,1025) bo1@1\n",
   "[0,1) bo0@0\n"
   "[1,1025) bo1@1\n"
   "[1025,2048) bo0@1025\n"},

  // mmap-style-bind-either-side-partial-large-page-hammer
  // 2 MiB pages: 2048 pages of 4 KiB in 2 binds, bind [512,1536) (not drawn)
  {"either_side_partial_large_page_hammer", 4, 2, 1, 2,
   kHammerFirstPage | kLargePage | kLargePageNoSplit,
   "REMAP [0,1024) bo0@0 prev=[0,512) bo0@0 next=-\n"
   "REMAP [1024,2048) bo0@1024 prev=- next=[1536,2048) bo0@1536\n"
   "MAP [512,1536) bo1@512\n",
   "[0,512) bo0@0\n"
   "[512,1536) bo1@512\n"
   "[1536,2048) bo0@1536\n"},

  // mmap-style-bind-end
  //         0       1       2       3       4
  // bound:  [-----bo0@0-----|-----bo0@2-----)
  // bind:   [---------bo1@0---------)
  // after:  [---------bo1@0---------|-bo0@3-)
  {"end", 4, 2, 0, 3, 0,
   "UNMAP [0,2) bo0@0\n"
   "REMAP [2,4) bo0@2 prev=- next=[3,4) bo0@3\n"
   "MAP [0,3) bo1@0\n",
   "[0,3) bo1@0\n"
   "[3,4) bo0@3\n"},

  // mmap-style-bind-front
  //         0       1       2       3       4
  // bound:  [-----bo0@0-----|-----bo0@2-----)
  // bind:           [---------bo1@1---------)
  // after:  [-bo0@0-|---------bo1@1---------)
  {"front", 4, 2, 1, 3, 0,
   "REMAP [0,2) bo0@0 prev=[0,1) bo0@0 next=-\n"
   "UNMAP [2,4) bo0@2\n"
   "MAP [1,4) bo1@1\n",
   "[0,1) bo0@0\n"
   "[1,4) bo1@1\n"},

  // mmap-style-bind-many-all
  //         0                                                             32
  // bound:  [---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---)
  // bind:   [---------------------------------------------------------------)
  // after:  [---------------------------------------------------------------)
  {"many_all", 32, 16, 0, 32, 0,
   "UNMAP [0,2) bo0@0 .. [30,32) bo0@30 (16 VMAs)\n"
   "MAP [0,32) bo1@0\n",
   "[0,32) bo1@0\n"},

  // mmap-style-bind-many-either-side-partial
  //         0                                                             32
  // bound:  [---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---)
  // bind:     [-----------------------------------------------------------)
  // after:  [-|-----------------------------------------------------------|-)
  {"many_either_side_partial", 32, 16, 1, 30, 0,
   "REMAP [0,2) bo0@0 prev=[0,1) bo0@0 next=-\n"
   "UNMAP [2,4) bo0@2 .. [28,30) bo0@28 (14 VMAs)\n"
   "REMAP [30,32) bo0@30 prev=- next=[31,32) bo0@31\n"
   "MAP [1,31) bo1@1\n",
   "[0,1) bo0@0\n"
   "[1,31) bo1@1\n"
   "[31,32) bo0@31\n"},

  // mmap-style-bind-many-either-side-partial-hammer
  //         0                                                             32
  // bound:  [---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---)
  // bind:     [-----------------------------------------------------------)
  // after:  [-|-----------------------------------------------------------|-)
  {"many_either_side_partial_hammer", 32, 16, 1, 30, kHammerFirstPage,
   "REMAP [0,2) bo0@0 prev=[0,1) bo0@0 next=-\n"
   "UNMAP [2,4) bo0@2 .. [28,30) bo0@28 (14 VMAs)\n"
   "REMAP [30,32) bo0@30 prev=- next=[31,32) bo0@31\n"
   "MAP [1,31) bo1@1\n",
   "[0,1) bo0@0\n"
   "[1,31) bo1@1\n"
   "[31,32) bo0@31\n"},

  // mmap-style-bind-userptr-all
  //         0       1       2       3       4
  // bound:  [-----cpu+0-----|-----cpu+2-----)
  // bind:   [-------------cpu+4-------------)
  // after:  [-------------cpu+4-------------)
  {"userptr_all", 4, 2, 0, 4, kUserptr,
   "UNMAP [0,2) cpu+0\n"
   "UNMAP [2,4) cpu+2\n"
   "MAP [0,4) cpu+4\n",
   "[0,4) cpu+4\n"},

  // mmap-style-bind-userptr-one-partial
  //         0       1       2       3       4
  // bound:  [-------------cpu+0-------------)
  // bind:           [-----cpu+5-----)
  // after:  [-cpu+0-|-----cpu+5-----|-cpu+3-)
  {"userptr_one_partial", 4, 1, 1, 2, kUserptr,
   "REMAP [0,4) cpu+0 prev=[0,1) cpu+0 next=[3,4) cpu+3\n"
   "MAP [1,3) cpu+5\n",
   "[0,1) cpu+0\n"
   "[1,3) cpu+5\n"
   "[3,4) cpu+3\n"},

  // mmap-style-bind-userptr-either-side-partial
  //         0       1       2       3       4
  // bound:  [-----cpu+0-----|-----cpu+2-----)
  // bind:           [-----cpu+5-----)
  // after:  [-cpu+0-|-----cpu+5-----|-cpu+3-)
  {"userptr_either_side_partial", 4, 2, 1, 2, kUserptr,
   "REMAP [0,2) cpu+0 prev=[0,1) cpu+0 next=-\n"
   "REMAP [2,4) cpu+2 prev=- next=[3,4) cpu+3\n"
   "MAP [1,3) cpu+5\n",
   "[0,1) cpu+0\n"
   "[1,3) cpu+5\n"
   "[3,4) cpu+3\n"},

  // mmap-style-bind-userptr-either-side-full
  //         0       1       2       3       4
  // bound:  [-cpu+0-|-cpu+1-|-cpu+2-|-cpu+3-)
  // bind:           [-----cpu+5-----)
  // after:  [-cpu+0-|-----cpu+5-----|-cpu+3-)
  {"userptr_either_side_full", 4, 4, 1, 2, kUserptr,
   "UNMAP [1,2) cpu+1\n"
   "UNMAP [2,3) cpu+2\n"
   "MAP [1,3) cpu+5\n",
   "[0,1) cpu+0\n"
   "[1,3) cpu+5\n"
   "[3,4) cpu+3\n"},

};
// clang-format on

TEST_P(MunmapStyleUnbindTest, UnbindPlansTheExpectedOps) {
  // given: the initial binds (fixture)
  // when
  const GpuvmOps ops = plan_the_unbind();
  // then
  EXPECT_EQ(view_.ops(ops), GetParam().ops);
}

TEST_P(MunmapStyleUnbindTest, UnbindKeepsTheUnmapCardinality) {
  // given: the initial binds (fixture)
  // when
  const GpuvmOps ops = plan_the_unbind();
  // then
  EXPECT_TRUE(has_unmap_cardinality(ops));
}

TEST_P(MunmapStyleUnbindTest, UnbindLeavesTheExpectedLayout) {
  // given: the initial binds (fixture)
  // when
  ASSERT_TRUE(apply_ops(tree_, plan_the_unbind()));
  // then
  EXPECT_EQ(view_.layout(tree_), GetParam().layout);
  EXPECT_EQ(tree_.check_invariants(kVaEnd), "");
}

TEST_P(MunmapStyleUnbindTest, PagesOutsideTheUnbindKeepTheirBacking) {
  // given: the initial binds (fixture)
  // when
  ASSERT_TRUE(apply_ops(tree_, plan_the_unbind()));
  // then: xe_vm.c's "verify we can use every page still bound"
  EXPECT_EQ(pages_differing_from([&](std::uint64_t k) {
              return in_range(k) ? std::string("-") : initial_backing(k);
            }),
            "");
}

TEST_P(MunmapStyleUnbindTest, RebindingTheHoleIsASingleMapThatNeverMerges) {
  // given
  ASSERT_TRUE(apply_ops(tree_, plan_the_unbind()));
  const std::size_t vmas_after_unbind = tree_.size();
  // when: xe_vm.c's "confirm unbound region can be rebound"
  const GpuvmOps ops = plan_map(tree_, map_request(rebind_vma()));
  ASSERT_TRUE(apply_ops(tree_, ops));
  // then
  EXPECT_EQ(ops, GpuvmOps{map_op(rebind_vma())});
  EXPECT_EQ(tree_.size(), vmas_after_unbind + 1);
  EXPECT_EQ(pages_differing_from([&](std::uint64_t k) { return initial_backing(k); }), "");
}

INSTANTIATE_TEST_SUITE_P(XeVm, MunmapStyleUnbindTest, ::testing::ValuesIn(kMunmapSections),
                         SubtestName{"munmap_style_unbind_"});

TEST_P(MmapStyleBindTest, BindPlansTheExpectedOps) {
  // given: the initial binds (fixture)
  // when
  const GpuvmOps ops = plan_the_bind();
  // then
  EXPECT_EQ(view_.ops(ops), GetParam().ops);
}

TEST_P(MmapStyleBindTest, BindKeepsTheMapCardinality) {
  // given: the initial binds (fixture)
  // when
  const GpuvmOps ops = plan_the_bind();
  // then
  EXPECT_TRUE(has_map_cardinality(ops));
}

TEST_P(MmapStyleBindTest, BindLeavesTheExpectedLayout) {
  // given: the initial binds (fixture)
  // when
  ASSERT_TRUE(apply_ops(tree_, plan_the_bind()));
  // then
  EXPECT_EQ(view_.layout(tree_), GetParam().layout);
  EXPECT_EQ(tree_.check_invariants(kVaEnd), "");
}

TEST_P(MmapStyleBindTest, EveryPageMapsTheNewOrTheOldBacking) {
  // given: the initial binds (fixture)
  // when
  ASSERT_TRUE(apply_ops(tree_, plan_the_bind()));
  // then: xe_vm.c writes every page and finds each write in map0 or map1
  EXPECT_EQ(pages_differing_from(
                [&](std::uint64_t k) { return in_range(k) ? new_backing(k) : initial_backing(k); }),
            "");
}

INSTANTIATE_TEST_SUITE_P(XeVm, MmapStyleBindTest, ::testing::ValuesIn(kMmapSections),
                         SubtestName{"mmap_style_bind_"});

// ---- partial-unbinds ------------------------------------------------------------

// test_partial_unbinds(): one 3-page bind of bo0 at 0x1a0000, then unbind the
// middle page, the first page and the last page, in that order.
//         0       1       2       3
// bound:  [---------bo0@0---------)
// step 1:         [unbind-)            REMAP(prev=[0,1), next=[2,3)@2)
// step 2: [unbind-)                    UNMAP [0,1)
// step 3:                 [unbind-)    UNMAP [2,3)
class XeVmPartialUnbinds : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kBase = 0x1a0000 / kPageSize;

  void SetUp() override {
    ASSERT_TRUE(apply_ops(tree_, plan_map(tree_, map_request(bo(kBase, kBase + 3, kBo0, 0)))));
  }
  GpuvmOps unbind_page(std::uint64_t k) const {
    return plan_unmap(tree_, pages(kBase + k, kBase + k + 1));
  }

  const IgtView view_{kBase};
  VmaTree tree_;
};

TEST_F(XeVmPartialUnbinds, MiddlePageSplitsTheBindIntoTwoVmas) {
  // given: the 3-page bind (fixture)
  // when
  const GpuvmOps ops = unbind_page(1);
  ASSERT_TRUE(apply_ops(tree_, ops));
  // then
  EXPECT_EQ(view_.ops(ops), "REMAP [0,3) bo0@0 prev=[0,1) bo0@0 next=[2,3) bo0@2\n");
  EXPECT_EQ(view_.layout(tree_), "[0,1) bo0@0\n[2,3) bo0@2\n");
}

TEST_F(XeVmPartialUnbinds, ThenTheFirstPageIsAWholeVmaUnmap) {
  // given
  ASSERT_TRUE(apply_ops(tree_, unbind_page(1)));
  // when
  const GpuvmOps ops = unbind_page(0);
  ASSERT_TRUE(apply_ops(tree_, ops));
  // then
  EXPECT_EQ(view_.ops(ops), "UNMAP [0,1) bo0@0\n");
  EXPECT_EQ(view_.layout(tree_), "[2,3) bo0@2\n");
}

TEST_F(XeVmPartialUnbinds, ThenTheLastPageEmptiesTheVm) {
  // given
  ASSERT_TRUE(apply_ops(tree_, unbind_page(1)));
  ASSERT_TRUE(apply_ops(tree_, unbind_page(0)));
  // when
  const GpuvmOps ops = unbind_page(2);
  ASSERT_TRUE(apply_ops(tree_, ops));
  // then
  EXPECT_EQ(view_.ops(ops), "UNMAP [2,3) bo0@2\n");
  EXPECT_TRUE(tree_.empty());
}

// ---- unbind-all-%d-vmas -----------------------------------------------------------

// unbind_all(): the same one-page BO bound n times side by side at 0x1a0000,
// each at BO offset 0, then DRM_XE_VM_BIND_OP_UNMAP_ALL of the BO. Its VMAs
// are adjacent, so the planner-level equivalent is an unmap of their span.
//         0       1       2
// bound:  [-bo0@0-|-bo0@0-)  ...   n VMAs, never merged (offsets not contiguous)
// unbind: [--------------)   ...   n UNMAPs
struct UnbindAllCase {
  const char* name;
  std::uint64_t n_vmas;
  std::string layout;  // after the binds
  std::string ops;     // of the unbind
};

// clang-format off
const std::vector<UnbindAllCase> kUnbindAllCases = {
  {"unbind_all_2_vmas", 2,
   "[0,1) bo0@0\n"
   "[1,2) bo0@0\n",
   "UNMAP [0,1) bo0@0\n"
   "UNMAP [1,2) bo0@0\n"},
  {"unbind_all_8_vmas", 8,
   "[0,1) bo0@0\n"
   "[1,2) bo0@0\n"
   "[2,3) bo0@0\n"
   "[3,4) bo0@0\n"
   "[4,5) bo0@0\n"
   "[5,6) bo0@0\n"
   "[6,7) bo0@0\n"
   "[7,8) bo0@0\n",
   "UNMAP [0,1) bo0@0\n"
   "UNMAP [1,2) bo0@0\n"
   "UNMAP [2,3) bo0@0\n"
   "UNMAP [3,4) bo0@0\n"
   "UNMAP [4,5) bo0@0\n"
   "UNMAP [5,6) bo0@0\n"
   "UNMAP [6,7) bo0@0\n"
   "UNMAP [7,8) bo0@0\n"},
};
// clang-format on

class XeVmUnbindAll : public ::testing::TestWithParam<UnbindAllCase> {
 protected:
  static constexpr std::uint64_t kBase = 0x1a0000 / kPageSize;

  // Binds the BO page at page i; the plan must be the MAP alone.
  ::testing::AssertionResult bind_at(std::uint64_t i) {
    const Vma v = bo(kBase + i, kBase + i + 1, kBo0, 0);
    const GpuvmOps ops = plan_map(tree_, map_request(v));
    if (ops != GpuvmOps{map_op(v)}) {
      return ::testing::AssertionFailure() << "bind " << i << " planned " << to_string(ops);
    }
    return apply_ops(tree_, ops);
  }

  const IgtView view_{kBase};
  VmaTree tree_;
};

TEST_P(XeVmUnbindAll, BindingTheSamePageSideBySideGivesOneVmaEach) {
  // given / when
  for (std::uint64_t i = 0; i < GetParam().n_vmas; ++i) {
    ASSERT_TRUE(bind_at(i));
  }
  // then
  EXPECT_EQ(view_.layout(tree_), GetParam().layout);
}

TEST_P(XeVmUnbindAll, UnbindingTheirSpanUnmapsEveryVma) {
  // given
  for (std::uint64_t i = 0; i < GetParam().n_vmas; ++i) {
    ASSERT_TRUE(bind_at(i));
  }
  // when
  const GpuvmOps ops = plan_unmap(tree_, pages(kBase, kBase + GetParam().n_vmas));
  ASSERT_TRUE(apply_ops(tree_, ops));
  // then
  EXPECT_EQ(view_.ops(ops), GetParam().ops);
  EXPECT_TRUE(tree_.empty());
}

INSTANTIATE_TEST_SUITE_P(XeVm, XeVmUnbindAll, ::testing::ValuesIn(kUnbindAllCases), RowName{});

}  // namespace
}  // namespace drm_sim::test
