// Which sanitizers this translation unit is built with, for g++ and clang.
//
// Owns nothing; no locking; no errors. g++ defines __SANITIZE_ADDRESS__, clang
// answers __has_feature(address_sanitizer) instead: code that needs
// to know (the node arena's poisoning, tests that cannot run under a
// sanitizer) tests DRM_SIM_ASAN, set under either compiler.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define DRM_SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DRM_SIM_ASAN 1
#endif
#endif
