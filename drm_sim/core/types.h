// drm_sim/core/types.h — strong address and size types shared by every subsystem.
//
// Owns: nothing (value types only). Locking: none. Errors: VaRange::make()
// rejects empty or overflowing ranges with -EINVAL; nothing here throws.
//
// GpuVa is a GPU virtual address, Bytes a size. The operators allow exactly
// the arithmetic that makes sense (address + size, address - address) so that
// mixing an address with a size does not compile.
#pragma once

#include <compare>
#include <cstdint>

#include "drm_sim/core/status.h"

namespace drm_sim {

inline constexpr std::uint64_t kPage4K = 4096;
inline constexpr std::uint64_t kPage64K = std::uint64_t{64} * 1024;
inline constexpr std::uint64_t kPage2M = std::uint64_t{2} * 1024 * 1024;

struct Bytes {
  std::uint64_t v = 0;
  constexpr Bytes() = default;
  constexpr explicit Bytes(std::uint64_t n) : v(n) {}
  constexpr auto operator<=>(const Bytes&) const = default;
  constexpr Bytes operator+(Bytes o) const { return Bytes{v + o.v}; }
  constexpr Bytes operator-(Bytes o) const { return Bytes{v - o.v}; }
};

struct GpuVa {
  std::uint64_t v = 0;
  constexpr GpuVa() = default;
  constexpr explicit GpuVa(std::uint64_t a) : v(a) {}
  constexpr auto operator<=>(const GpuVa&) const = default;
  constexpr GpuVa operator+(Bytes b) const { return GpuVa{v + b.v}; }
  constexpr GpuVa operator-(Bytes b) const { return GpuVa{v - b.v}; }
  constexpr Bytes operator-(GpuVa o) const { return Bytes{v - o.v}; }
};

constexpr bool is_aligned(std::uint64_t x, std::uint64_t align) {
  return (x & (align - 1)) == 0;
}

// A half-open, non-empty GPU VA range [start, end). Construct through make(),
// which rejects a zero size and address overflow.
class VaRange {
 public:
  constexpr VaRange() = default;
  static constexpr Result<VaRange> make(GpuVa start, Bytes size) {
    if (size.v == 0 || start.v + size.v < start.v) return Status::err(EINVAL);
    return VaRange(start.v, start.v + size.v);
  }
  // For callers that already hold a valid [start, end) (start < end).
  static constexpr VaRange from_bounds(std::uint64_t start, std::uint64_t end) {
    return VaRange(start, end);
  }
  constexpr GpuVa start() const { return GpuVa{start_}; }
  constexpr GpuVa end() const { return GpuVa{end_}; }
  constexpr Bytes size() const { return Bytes{end_ - start_}; }
  constexpr std::uint64_t lo() const { return start_; }
  constexpr std::uint64_t hi() const { return end_; }
  constexpr bool overlaps(const VaRange& o) const { return start_ < o.end_ && o.start_ < end_; }
  constexpr bool contains(const VaRange& o) const { return start_ <= o.start_ && o.end_ <= end_; }
  constexpr bool operator==(const VaRange&) const = default;

 private:
  constexpr VaRange(std::uint64_t s, std::uint64_t e) : start_(s), end_(e) {}
  std::uint64_t start_ = 0;
  std::uint64_t end_ = 0;
};

}  // namespace drm_sim
