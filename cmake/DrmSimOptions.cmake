# Build options and the interface targets that carry flags. Flags live on
# targets (drm_sim_warnings, drm_sim_sanitizers), never on directories.
option(DRM_SIM_BUILD_TESTS "Build the test suites" ON)
option(DRM_SIM_BUILD_BENCH "Build the benchmarks" ON)
option(DRM_SIM_WERROR "Treat warnings as errors" ON)
set(DRM_SIM_SANITIZE "" CACHE STRING "Sanitizers: empty, 'address;undefined' or 'thread'")
option(DRM_SIM_CHECK_INVARIANTS "Run the VM invariant checker after every ioctl" OFF)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "" FORCE)
endif()
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

add_library(drm_sim_warnings INTERFACE)
target_compile_options(drm_sim_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wcast-align -Wunused -Wnull-dereference -Wimplicit-fallthrough
  $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Woverloaded-virtual>
  $<$<BOOL:${DRM_SIM_WERROR}>:-Werror>)

add_library(drm_sim_sanitizers INTERFACE)
if(DRM_SIM_SANITIZE)
  list(JOIN DRM_SIM_SANITIZE "," _san)
  target_compile_options(drm_sim_sanitizers INTERFACE -fsanitize=${_san} -fno-omit-frame-pointer
    $<$<IN_LIST:undefined,${DRM_SIM_SANITIZE}>:-fno-sanitize-recover=undefined>)
  target_link_options(drm_sim_sanitizers INTERFACE -fsanitize=${_san})
endif()
