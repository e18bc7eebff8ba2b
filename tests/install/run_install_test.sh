#!/usr/bin/env bash
# run_install_test.sh — installs a drm_sim build tree into a temporary prefix
# and builds tests/install/c_consumer.c against the installed package twice,
# as a project outside this repository would:
#   1. cc $(pkg-config --cflags --libs drm_sim)      (PKG_CONFIG_PATH -> prefix)
#   2. find_package(drm_sim) in cmake_consumer/      (CMAKE_PREFIX_PATH = prefix)
# then runs both binaries. Any failure exits non-zero with the reason.
#
# Also compiles one C++20 translation unit including every installed C++
# header (when --cxx is given), so the public/internal split stays consistent,
# and builds tests/install/umd_consumer.cpp against the installed UMD layer
# (drm_sim_umd.pc and find_package's drm_sim::umd) and runs it.
#
# usage: run_install_test.sh --build-dir DIR [--cc CC] [--cxx CXX] [--cmake CMAKE]
#                            [--generator NAME] [--make-program PATH]
#                            [--sanitize "address;undefined"] [--keep]
# --sanitize: the DRM_SIM_SANITIZE list the library was built with (default:
# read from the build tree's CMakeCache.txt). The consumers are then compiled
# and linked with the same -fsanitize flags: an instrumented libdrm_sim needs
# the sanitizer runtime loaded first.
# --keep: leave the temporary directory behind (it is always kept on failure).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build_dir=""
cc="${CC:-cc}"
cxx=""
cmake_bin="cmake"
generator=""
make_program=""
sanitize="(from the build tree)"
keep=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --cc) cc="$2"; shift 2 ;;
    --cxx) cxx="$2"; shift 2 ;;
    --cmake) cmake_bin="$2"; shift 2 ;;
    --generator) generator="$2"; shift 2 ;;
    --make-program) make_program="$2"; shift 2 ;;
    --sanitize) sanitize="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "run_install_test.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ -n "$build_dir" ]] || { echo "run_install_test.sh: --build-dir is required" >&2; exit 2; }
[[ -f "$build_dir/CMakeCache.txt" ]] || { echo "run_install_test.sh: $build_dir is not a CMake build tree" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/drm_sim_install_test.XXXXXX")"
prefix="$work/prefix"
ok=0
cleanup() {
  if [[ $ok -eq 1 && $keep -eq 0 ]]; then
    rm -rf "$work"
  else
    echo "run_install_test.sh: temporary files kept in $work" >&2
  fi
}
trap cleanup EXIT

die() { echo "run_install_test.sh: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
# Runs a command quietly; on failure prints its output and dies.
quiet() {
  local log="$work/step.log"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    die "command failed: $*"
  fi
}

if [[ "$sanitize" == "(from the build tree)" ]]; then
  sanitize="$(sed -n 's/^DRM_SIM_SANITIZE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")"
fi
san_flags=()
if [[ -n "$sanitize" ]]; then
  san_flags=("-fsanitize=${sanitize//;/,}" -fno-omit-frame-pointer)
fi

# --- 1. install -----------------------------------------------------------------
step "cmake --install $build_dir --prefix $prefix"
quiet "$cmake_bin" --install "$build_dir" --prefix "$prefix"

lib="$(find "$prefix" -name 'libdrm_sim.so' \( -type l -o -type f \) -print -quit)"
[[ -n "$lib" ]] || die "libdrm_sim.so was not installed"
libdir="$(dirname "$lib")"
inc="$prefix/include"

for h in drm_sim.h drm_sim_ext.h xe_drm.h vm/vm.h vm/vma.h core/status.h device/device.h; do
  [[ -f "$inc/drm_sim/$h" ]] || die "header drm_sim/$h was not installed"
done
for h in core/log.h ioctl/handlers.h profile/builtin_profiles.h; do
  [[ ! -e "$inc/drm_sim/$h" ]] || die "internal header drm_sim/$h was installed"
done
# No installed header may include an internal header or a private dependency.
if grep -rEn '#[[:space:]]*include[[:space:]]*[<"]((spdlog|boost|absl)/|drm_sim/(core/log|ioctl/handlers|profile/builtin_profiles)\.h)' "$inc/drm_sim"; then
  die "an installed header includes an internal header or a private dependency"
fi

for h in umd/objects/device.h umd/objects/vm.h umd/kmd/restarting_kmd.h umd/core/result.h; do
  [[ -f "$inc/$h" ]] || die "UMD header $h was not installed"
done
[[ -f "$libdir/libdrm_sim_umd.a" ]] || die "libdrm_sim_umd.a was not installed in $libdir"
[[ -f "$libdir/libdrm_sim_preload.so" ]] || die "libdrm_sim_preload.so was not installed in $libdir"
[[ -f "$libdir/pkgconfig/drm_sim_umd.pc" ]] || die "drm_sim_umd.pc was not installed"

pcfile="$libdir/pkgconfig/drm_sim.pc"
cfgdir="$libdir/cmake/drm_sim"
[[ -f "$pcfile" ]] || die "drm_sim.pc was not installed in $libdir/pkgconfig"
for f in drm_simConfig.cmake drm_simConfigVersion.cmake drm_simTargets.cmake; do
  [[ -f "$cfgdir/$f" ]] || die "$f was not installed in $cfgdir"
done
# The private dependencies must stay out of the usage requirements. (CMake
# still names spdlog::spdlog in IMPORTED_LINK_DEPENDENT_LIBRARIES, a hint for
# -rpath-link that consumers without such a target ignore.)
if grep -nE 'INTERFACE_[A-Z_]+ .*(spdlog|absl|Boost|drm_sim_warnings|drm_sim_sanitizers)' \
    "$cfgdir"/drm_simTargets*.cmake; then
  die "a private dependency leaked into the usage requirements of drm_sim::drm_sim"
fi

# --- 2. pkg-config build ----------------------------------------------------------
export PKG_CONFIG_PATH="$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
step "pkg-config: drm_sim $(pkg-config --modversion drm_sim)"
pc_prefix="$(pkg-config --variable=prefix drm_sim)"
[[ "$pc_prefix" == "$prefix" ]] || die "drm_sim.pc says prefix=$pc_prefix, installed in $prefix"
pc_flags="$(pkg-config --cflags --libs drm_sim)"
echo "   flags: $pc_flags"
# shellcheck disable=SC2086  # pkg-config output is a list of words
quiet "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "${san_flags[@]}" -o "$work/c_consumer_pkgconfig" \
  "$here/c_consumer.c" $pc_flags

if [[ -n "$cxx" ]]; then
  step "installed C++ headers compile on their own (C++20)"
  {
    (cd "$inc" && find drm_sim -mindepth 2 -name '*.h' | LC_ALL=C sort) | sed 's/.*/#include <&>/'
    echo '#include <drm_sim/drm_sim.h>'
  } >"$work/all_headers.cpp"
  # shellcheck disable=SC2046
  quiet "$cxx" -std=c++20 -Wall -Wextra -Wpedantic -Werror -fsyntax-only \
    $(pkg-config --cflags drm_sim) "$work/all_headers.cpp"
fi

if [[ -n "$cxx" ]]; then
  step "pkg-config: drm_sim_umd (C++ UMD consumer)"
  # shellcheck disable=SC2046
  quiet "$cxx" -Wall -Wextra -Wpedantic -Werror "${san_flags[@]}" -o "$work/umd_consumer_pkgconfig" \
    "$here/umd_consumer.cpp" $(pkg-config --cflags --libs drm_sim_umd)
fi

# --- 3. CMake find_package build ---------------------------------------------------
step "cmake consumer: find_package(drm_sim) with CMAKE_PREFIX_PATH=$prefix"
cfg_args=(-S "$here/cmake_consumer" -B "$work/cmake_consumer"
  "-DCMAKE_PREFIX_PATH=$prefix" "-DCMAKE_C_COMPILER=$cc" -DCMAKE_BUILD_TYPE=Debug
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if [[ -n "$generator" ]]; then cfg_args+=(-G "$generator"); fi
if [[ -n "$make_program" ]]; then cfg_args+=("-DCMAKE_MAKE_PROGRAM=$make_program"); fi
if [[ ${#san_flags[@]} -gt 0 ]]; then cfg_args+=("-DCMAKE_C_FLAGS=${san_flags[*]}"); fi
if [[ -n "$cxx" ]]; then
  cfg_args+=(-DDRM_SIM_CONSUMER_UMD=ON "-DCMAKE_CXX_COMPILER=$cxx")
  if [[ ${#san_flags[@]} -gt 0 ]]; then cfg_args+=("-DCMAKE_CXX_FLAGS=${san_flags[*]}"); fi
fi
quiet "$cmake_bin" "${cfg_args[@]}"
found_dir="$(sed -n 's/^drm_sim_DIR:PATH=//p' "$work/cmake_consumer/CMakeCache.txt")"
[[ "$found_dir" == "$prefix"/* ]] || die "find_package(drm_sim) found $found_dir, not the package in $prefix"
echo "   drm_sim_DIR=$found_dir"
quiet "$cmake_bin" --build "$work/cmake_consumer"

# --- 4. run both -------------------------------------------------------------------
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exes=("$work/c_consumer_pkgconfig" "$work/cmake_consumer/c_consumer")
if [[ -n "$cxx" ]]; then exes+=("$work/umd_consumer_pkgconfig" "$work/cmake_consumer/umd_consumer"); fi
for exe in "${exes[@]}"; do
  step "run $(basename "$(dirname "$exe")")/$(basename "$exe")"
  resolved="$(ldd "$exe" | awk '$1 ~ /^libdrm_sim\.so/ {print $3}')"
  [[ "$resolved" == "$libdir"/* ]] || die "$exe loads libdrm_sim from '$resolved', not from $libdir"
  "$exe" || die "$exe exited with status $?"
done

ok=1
echo "== install test passed"
