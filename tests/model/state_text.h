// tests/model/state_text.h — the text form shared by the reference model and
// the simulator observer (sim_observer.h), so that both sides of the
// differential test print a VM the same way and compare as strings.
//
// Header-only, standard library only. Errors: none.
#pragma once

#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace drm_sim_model {

inline std::string format_vma(std::uint64_t start, std::uint64_t end, const char* kind,
                              std::uint32_t bo, std::uint64_t offset, std::uint32_t flags,
                              unsigned default_pat, std::int32_t loc, unsigned region_instance,
                              unsigned policy, unsigned atomic, unsigned pat, unsigned purge) {
  char backing[64];
  if (bo != 0) {
    std::snprintf(backing, sizeof backing, "bo#%u@0x%" PRIx64, bo, offset);
  } else {
    std::snprintf(backing, sizeof backing, "%s@0x%" PRIx64, kind, offset);
  }
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "[0x%" PRIx64 ",0x%" PRIx64
                ") %s flags=0x%x dpat=%u loc=%d ri=%u pol=%u atomic=%u pat=%u purge=%u",
                start, end, backing, flags, default_pat, loc, region_instance, policy, atomic, pat,
                purge);
  return buf;
}

inline std::string format_bo(std::uint32_t id, std::uint64_t size, unsigned handles, unsigned vmas,
                             unsigned dontneed, unsigned atomic) {
  char buf[128];
  std::snprintf(buf, sizeof buf,
                "bo#%u size=0x%" PRIx64 " handles=%u vmas=%u dontneed=%u atomic=%u", id, size,
                handles, vmas, dontneed, atomic);
  return buf;
}

// FNV-1a over size bytes: how page contents and read data are compared.
inline std::uint64_t fnv1a(const unsigned char* p, std::size_t size) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

// One element of the attribute query.
inline std::string format_attr(std::uint64_t start, std::uint64_t end, std::uint32_t devmem_fd,
                               unsigned policy, unsigned atomic, unsigned pat) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "[0x%" PRIx64 ",0x%" PRIx64 ") loc=0x%x pol=%u atomic=%u pat=%u",
                start, end, devmem_fd, policy, atomic, pat);
  return buf;
}

}  // namespace drm_sim_model
