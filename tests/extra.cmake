# Extra CTest registrations (included from tests/CMakeLists.txt).

# install.c_consumer: `cmake --install` of this build tree into a temporary
# prefix, then a C program built against the installed package through
# pkg-config and through find_package(drm_sim), and run. Under sanitizer
# presets the consumers get the same -fsanitize flags as the library.
# Needs the whole tree built (cmake --build) first, as every test does.
find_program(DRM_SIM_BASH bash REQUIRED)
string(REPLACE ";" "," _drm_sim_sanitize_csv "${DRM_SIM_SANITIZE}")
add_test(NAME install.c_consumer
  COMMAND "${DRM_SIM_BASH}" "${CMAKE_CURRENT_SOURCE_DIR}/install/run_install_test.sh"
          --build-dir "${PROJECT_BINARY_DIR}"
          --cc "${CMAKE_C_COMPILER}"
          --cxx "${CMAKE_CXX_COMPILER}"
          --cmake "${CMAKE_COMMAND}"
          --generator "${CMAKE_GENERATOR}"
          --make-program "${CMAKE_MAKE_PROGRAM}"
          --sanitize "${_drm_sim_sanitize_csv}")
set_tests_properties(install.c_consumer PROPERTIES
  LABELS "install"
  TIMEOUT 600)
