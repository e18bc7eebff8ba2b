#!/usr/bin/env bash
# Style and static checks: clang-format (every C++ source must be formatted
# with the committed .clang-format) and, with --tidy, clang-tidy (the
# committed .clang-tidy) over the simulator and UMD sources using the default
# preset's compile_commands.json. CI runs it with --tidy.
set -euo pipefail
case "${1:-}" in
  "" | --tidy) ;;
  -h | --help)
    echo "usage: scripts/lint.sh [--tidy]"
    echo "  clang-format check of every C++ source; --tidy adds clang-tidy over drm_sim/ and umd/"
    exit 0
    ;;
  *)
    echo "scripts/lint.sh: unknown argument '$1' (try --help)" >&2
    exit 2
    ;;
esac
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h' | grep -E '^(drm_sim|umd|bench|examples|tests|fuzz)/')
clang-format --dry-run --Werror "${files[@]}"
echo "lint: clang-format clean (${#files[@]} files)"
if [ "${1:-}" = "--tidy" ]; then
  [ -f build/default/compile_commands.json ] || cmake --preset default >/dev/null
  mapfile -t srcs < <(git ls-files 'drm_sim/*.cpp' 'umd/*.cpp')
  # clang-tidy reports "N warnings generated." per file (system headers);
  # only findings are of interest, and they fail the run.
  clang-tidy -p build/default --quiet "${srcs[@]}" 2> >(grep -v 'warnings\? generated\.$' >&2)
  echo "lint: clang-tidy clean (${#srcs[@]} files)"
fi
