# Install rules: headers, library, CMake package and pkg-config file.
#
# Layout under the prefix (GNUInstallDirs):
#   include/drm_sim/*.h            C uapi headers (uapi/drm_sim/*.h)
#   include/drm_sim/<subdir>/*.h   public C++ headers (drm_sim/<subdir>/*.h)
#   <libdir>/libdrm_sim.so*
#   <libdir>/cmake/drm_sim/        drm_simConfig.cmake, ...Version, ...Targets
#   <libdir>/pkgconfig/drm_sim.pc
#   include/umd/<subdir>/*.h       UMD headers (umd/<subdir>/*.h)
#   <libdir>/libdrm_sim_umd.a      drm_sim::umd; <libdir>/libdrm_sim_preload.so
#   <libdir>/pkgconfig/drm_sim_umd.pc
#
# Consumers: find_package(drm_sim) + target_link_libraries(... drm_sim::drm_sim),
# or `pkg-config --cflags --libs drm_sim`. Either way the include directory is
# <prefix>/include, so code writes #include <drm_sim/drm_sim.h> (C) or
# #include <drm_sim/vm/vm.h> (C++), exactly as inside this repository.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

option(DRM_SIM_INSTALL "Generate the install rules of drm_sim" ${PROJECT_IS_TOP_LEVEL})
if(NOT DRM_SIM_INSTALL)
  return()
endif()

set(DRM_SIM_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/drm_sim"
    CACHE STRING "Where drm_simConfig.cmake is installed (relative to the prefix)")
set(DRM_SIM_INSTALL_PKGCONFIGDIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
    CACHE STRING "Where drm_sim.pc is installed (relative to the prefix)")

# --- the library and its export set -----------------------------------------
# Only PkgConfig::LIBDRM and Threads::Threads are in the link interface; the
# PRIVATE dependencies of a shared library (spdlog, Boost, absl, and the flag
# carriers drm_sim_warnings / drm_sim_sanitizers) do not reach the export.
install(TARGETS drm_sim EXPORT drm_simTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
    COMPONENT drm_sim_Runtime NAMELINK_COMPONENT drm_sim_Development
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT drm_sim_Development
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT drm_sim_Runtime)

# The UMD layer (umd/): the static library drm_sim::umd in the same export
# set, its headers under include/umd/, and the LD_PRELOAD library.
install(TARGETS drm_sim_umd EXPORT drm_simTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT drm_sim_Development)
install(TARGETS drm_sim_preload
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT drm_sim_Runtime)
install(DIRECTORY "${PROJECT_SOURCE_DIR}/umd/"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/umd"
  COMPONENT drm_sim_Development
  FILES_MATCHING PATTERN "*.h")

install(EXPORT drm_simTargets
  NAMESPACE drm_sim::
  FILE drm_simTargets.cmake
  DESTINATION "${DRM_SIM_INSTALL_CMAKEDIR}"
  COMPONENT drm_sim_Development)

# --- headers ------------------------------------------------------------------
# C uapi headers: uapi/drm_sim/*.h -> include/drm_sim/.
file(GLOB DRM_SIM_UAPI_HEADERS CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/uapi/drm_sim/*.h")
install(FILES ${DRM_SIM_UAPI_HEADERS}
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/drm_sim"
  COMPONENT drm_sim_Development)

# C++ headers: drm_sim/<subdir>/*.h -> include/drm_sim/<subdir>/, except the
# internal ones. A header is internal when it is listed here or when its
# leading comment block says "Internal" (capitalised; "an internal mutex" in
# prose does not count).
set(DRM_SIM_INTERNAL_HEADERS
  core/log.h
  ioctl/handlers.h
  profile/builtin_profiles.h)

function(_drm_sim_header_is_internal path out)
  set(_internal FALSE)
  file(STRINGS "${path}" _lines LIMIT_COUNT 60)
  foreach(_line IN LISTS _lines)
    if(NOT _line MATCHES "^[ \t]*(//|/\\*|\\*)")
      break()  # end of the leading comment block
    endif()
    if(_line MATCHES "(^|[^A-Za-z])Internal([^A-Za-z]|$)")
      set(_internal TRUE)
      break()
    endif()
  endforeach()
  set(${out} ${_internal} PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE _drm_sim_cxx_headers CONFIGURE_DEPENDS
  RELATIVE "${PROJECT_SOURCE_DIR}/drm_sim" "${PROJECT_SOURCE_DIR}/drm_sim/*.h")
list(SORT _drm_sim_cxx_headers)
set(DRM_SIM_PUBLIC_CXX_HEADERS "")
set(_drm_sim_internal "")
foreach(_rel IN LISTS _drm_sim_cxx_headers)
  _drm_sim_header_is_internal("${PROJECT_SOURCE_DIR}/drm_sim/${_rel}" _is_internal)
  if(_rel IN_LIST DRM_SIM_INTERNAL_HEADERS OR _is_internal)
    list(APPEND _drm_sim_internal "${_rel}")
    continue()
  endif()
  list(APPEND DRM_SIM_PUBLIC_CXX_HEADERS "${_rel}")
  get_filename_component(_subdir "${_rel}" DIRECTORY)
  install(FILES "${PROJECT_SOURCE_DIR}/drm_sim/${_rel}"
    DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/drm_sim/${_subdir}"
    COMPONENT drm_sim_Development)
endforeach()

# An installed header that includes an internal one would not compile for a
# consumer: say so at configure time.
foreach(_rel IN LISTS DRM_SIM_PUBLIC_CXX_HEADERS)
  file(STRINGS "${PROJECT_SOURCE_DIR}/drm_sim/${_rel}" _includes
    REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]drm_sim/")
  foreach(_inc IN LISTS _includes)
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[\"<]drm_sim/([^\">]+)[\">].*$" "\\1"
           _target "${_inc}")
    if(_target IN_LIST _drm_sim_internal)
      message(WARNING "drm_sim: public header drm_sim/${_rel} includes internal header "
                      "drm_sim/${_target}; the installed headers will not compile for consumers")
    endif()
  endforeach()
endforeach()

# --- CMake package --------------------------------------------------------------
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/drm_simConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/cmake/drm_simConfig.cmake"
  INSTALL_DESTINATION "${DRM_SIM_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/cmake/drm_simConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/cmake/drm_simConfig.cmake"
  "${PROJECT_BINARY_DIR}/cmake/drm_simConfigVersion.cmake"
  DESTINATION "${DRM_SIM_INSTALL_CMAKEDIR}"
  COMPONENT drm_sim_Development)

# --- pkg-config file ----------------------------------------------------------------
# Generated at install time, so that `cmake --install --prefix P` (and not
# only the configure-time CMAKE_INSTALL_PREFIX) ends up in prefix=. libdir and
# includedir stay relative to ${prefix} unless they were configured absolute.
foreach(_kind LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${_kind}}")
    set(DRM_SIM_PC_${_kind} "${CMAKE_INSTALL_${_kind}}")
  else()
    set(DRM_SIM_PC_${_kind} "\${prefix}/${CMAKE_INSTALL_${_kind}}")
  endif()
endforeach()
# First pass (now): everything but the prefix.
set(DRM_SIM_PC_PREFIX "@DRM_SIM_PC_PREFIX@")
configure_file("${PROJECT_SOURCE_DIR}/cmake/drm_sim.pc.in"
               "${PROJECT_BINARY_DIR}/cmake/drm_sim.pc.in" @ONLY)
configure_file("${PROJECT_SOURCE_DIR}/cmake/drm_sim_umd.pc.in"
               "${PROJECT_BINARY_DIR}/cmake/drm_sim_umd.pc.in" @ONLY)
# Second pass (install time): the prefix.
install(CODE "
  set(DRM_SIM_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/cmake/drm_sim.pc.in\"
                 \"${PROJECT_BINARY_DIR}/cmake/pc-install/drm_sim.pc\" @ONLY)
  configure_file(\"${PROJECT_BINARY_DIR}/cmake/drm_sim_umd.pc.in\"
                 \"${PROJECT_BINARY_DIR}/cmake/pc-install/drm_sim_umd.pc\" @ONLY)
  if(IS_ABSOLUTE \"${DRM_SIM_INSTALL_PKGCONFIGDIR}\")
    set(_drm_sim_pcdir \"${DRM_SIM_INSTALL_PKGCONFIGDIR}\")
  else()
    set(_drm_sim_pcdir \"\${CMAKE_INSTALL_PREFIX}/${DRM_SIM_INSTALL_PKGCONFIGDIR}\")
  endif()
  file(INSTALL DESTINATION \"\${_drm_sim_pcdir}\" TYPE FILE
       FILES \"${PROJECT_BINARY_DIR}/cmake/pc-install/drm_sim.pc\"
             \"${PROJECT_BINARY_DIR}/cmake/pc-install/drm_sim_umd.pc\")
" COMPONENT drm_sim_Development)
