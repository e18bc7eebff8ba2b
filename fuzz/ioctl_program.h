// fuzz/ioctl_program.h — the input format of drm_sim_ioctl_fuzzer, shared by
// the harness (ioctl_fuzzer.cpp) and the seed writer (make_seeds.cpp).
//
// A fuzz input is a small program of ioctl calls on one or two simulated
// devices. All integers are little-endian; when the input runs out, every
// missing byte reads as 0 (so a truncated op is still a valid op).
//
//   input   := header op*                          (at most kMaxOps ops run)
//   header  := u8 profile_a, u8 second
//     profile_a % kNumProfiles   built-in profile of device A (fd A)
//     second % 4                 fd B: 0 none, 1 a second DRM file on device A,
//                                2/3 a file on device B, another device, with
//                                profile (second / 4) % kNumProfiles
//   fd A and fd B are new DRM files (drm_sim_open_file) on long-lived devices
//   (one per profile for A, one per profile for B), closed at the end of the
//   input: nothing the input creates survives it.
//   op      := u8 sel ...
//     sel < kSelCloseB           request kRequests[sel % kNumRequests], then
//                                u8 flags, u8 len, u8 struct[min(len, size)],
//                                u8 nfix, fixup[nfix % (kMaxFixups + 1)]
//     sel == kSelCloseB          close fd B (later ops on B use the stale fd)
//     sel == kSelReopenB         reopen fd B as the header says
//     kSelRaw32 <= sel < 0xff    u32 raw request code, then as a request
//     sel == kSelRaw64           u64 raw request code, then as a request
//   A raw code equal to a code of the table is that request. A code the
//   simulator serves but the table lacks (a newer simulator ioctl; detected by
//   a NULL-argument probe) is skipped: its user pointers are not modelled.
//   Any other code gets an argument buffer of kRawArgSize bytes and must fail
//   with -ENOTTY.
//
//   flags: bits 0-1 target: 0/2 fd A, 1 fd B, 3 a non-drm_sim fd (bits 4-5
//          pick it: -1, a /dev/null fd, 65536 + 4242, 4095); bit 2: issue the
//          call through ioctl(2) (the interposed libc entry) instead of
//          drm_sim_ioctl() (never for a non-drm_sim fd); bit 3: argument
//          pointer NULL.
//   struct: the argument, zero-filled to _IOC_SIZE(request) bytes, then the
//          first min(len, size) bytes replaced by struct[].
//
//   fixup := u8 slot, u8 kind, u8 param, u16 payload_len, u8 payload[]
//     slot % (number of slots of the request; fixups of requests without
//     slots are read and ignored) names an embedded user pointer (below);
//     kind & 7 is a BufKind (the fd-valued slot reads it as an FdKind);
//     kind & kKindTile repeats the payload over the whole buffer; payload is
//     the initial content of the buffer (the rest is zero).
//
// Every embedded pointer is always set by the harness (the fuzzed bytes of a
// pointer field are never used as an address): a slot without a fixup gets
// its default (NULL when the fuzzed value was 0, else an exact, zeroed
// buffer). Buffers live at the end of RW arenas followed by a PROT_NONE guard
// page, so a buffer shorter than what the kernel copies ends in -EFAULT.
#pragma once

#include <cstddef>
#include <cstdint>

namespace drm_sim_fuzz {

inline constexpr const char* kProfiles[] = {"b580",  "pvc",         "integrated",
                                            "small", "b580-uapi71", "b580-xelink"};
inline constexpr unsigned kNumProfiles = sizeof(kProfiles) / sizeof(kProfiles[0]);

// Indices into the harness's request table (the order of drm_sim's front door).
enum Request : std::uint8_t {
  kVersion = 0,
  kGemClose = 1,
  kDeviceQuery = 2,
  kGemCreate = 3,
  kGemMmapOffset = 4,
  kVmCreate = 5,
  kVmDestroy = 6,
  kVmBind = 7,
  kMadvise = 8,
  kQueryMemRangeAttrs = 9,
  kSimVmStats = 10,
  kSimFaultInject = 11,
  kNumRequests = 12,
};

inline constexpr std::uint8_t kSelCloseB = 0xf0;
inline constexpr std::uint8_t kSelReopenB = 0xf1;
inline constexpr std::uint8_t kSelRaw32 = 0xf2;
inline constexpr std::uint8_t kSelRaw64 = 0xff;

inline constexpr unsigned kMaxOps = 64;
inline constexpr unsigned kMaxFixups = 7;
inline constexpr std::size_t kRawArgSize = 16384;  // > the largest _IOC_SIZE

// flags
inline constexpr std::uint8_t kTargetA = 0;
inline constexpr std::uint8_t kTargetB = 1;
inline constexpr std::uint8_t kTargetBad = 3;
inline constexpr std::uint8_t kFlagViaIoctl = 1u << 2;
inline constexpr std::uint8_t kFlagNullArg = 1u << 3;
inline constexpr std::uint8_t kBadFdShift = 4;

// Where an embedded user pointer points.
enum BufKind : std::uint8_t {
  kBufNull = 0,        // 0
  kBufExact = 1,       // exactly the bytes the kernel copies, ending at a guard page
  kBufShort = 2,       // (param + 1) bytes short of that (so the copy faults)
  kBufLong = 3,        // param * 8 bytes longer (still valid)
  kBufGuard = 4,       // inside the PROT_NONE guard page (offset param * 8)
  kBufUnmapped = 5,    // an address never mapped: kUnmappedAddrs[param % 6]
  kBufMisaligned = 6,  // exact, but (param % 7) + 1 bytes off 8-byte alignment
  kBufStraddle = 7,    // starts (param + 1) * 8 bytes inside the leading guard page
};
inline constexpr std::uint8_t kKindTile = 1u << 3;

// For the fd-valued slot (madvise preferred_mem_loc.devmem_fd, uapi 7.0).
enum FdKind : std::uint8_t {
  kFdA = 0,
  kFdB = 1,  // possibly closed (stale)
  kFdDevNull = 2,
  kFdDefaultSystem = 3,  // -1
  kFdDefaultDevice = 4,  // 0
  kFdHigh = 5,           // 65536 + 4242: never open
};

inline constexpr std::uint64_t kUnmappedAddrs[] = {
    0x1000,                 // below mmap_min_addr
    0x10,                   // near NULL
    0x0000800000000000ull,  // first non-canonical address
    0xffff888000000000ull,  // kernel direct map
    0xfffffffffffffff8ull,  // wraps around on any copy longer than 8 bytes
    0x00007ffffffff000ull,  // last user page (never mapped)
};

// Slots (embedded user pointers) of each request, by index.
//   kVersion:            0 name, 1 date, 2 desc (sizes: name_len, date_len, desc_len)
//   kDeviceQuery:        0 data (size: the struct's size field)
//   kVmBind:             0 vector_of_binds (num_binds * 80; only written when
//                          num_binds > 1 or by a fixup: it overlays bind.extensions),
//                        1 syncs (num_syncs * 48),
//                        2 the user-fence addr of every sync (8 bytes each)
//   kMadvise:            0 purge_state_val.retained_ptr (4 bytes; only
//                          written when type == PURGEABLE_STATE or by a fixup),
//                        1 preferred_mem_loc.devmem_fd (an FdKind, fixup only)
//   kQueryMemRangeAttrs: 0 vector_of_mem_attr (num_mem_ranges * 64)
inline constexpr unsigned kSlotCount[kNumRequests] = {3, 0, 1, 0, 0, 0, 0, 3, 2, 1, 0, 0};

}  // namespace drm_sim_fuzz
