// fuzz/clang_close_compat.h — force-included (-include) into
// drm_sim/ioctl/interpose.cpp by fuzz/CMakeLists.txt when building with clang.
//
// interpose.cpp defines `extern "C" int close(int) noexcept`, but libstdc++ 12
// (<bits/atomic_wait.h>, pulled in by <atomic>/<memory> under C++20) includes
// <unistd.h>, which declares `int close(int)` without an exception
// specification. g++ accepts the mismatch for a C library function; clang 14
// rejects it ("exception specification in declaration does not match previous
// declaration"). Declaring close() noexcept first, from a header marked as a
// system header, makes clang adopt the noexcept for glibc's later declaration,
// so the library builds unchanged. Remove once interpose.cpp declares close()
// as glibc does (without noexcept).
#pragma once
#pragma GCC system_header

extern "C" int close(int fd) noexcept;
