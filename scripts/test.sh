#!/usr/bin/env bash
# Builds and runs every test: the whole suite under AddressSanitizer +
# UndefinedBehaviorSanitizer (with the VM invariant checker on), then the
# concurrency tests under ThreadSanitizer. Installs missing packages first.
set -euo pipefail
case "${1:-}" in
  "") ;;
  -h | --help)
    echo "usage: scripts/test.sh"
    echo "  installs missing packages, builds the asan preset and runs every test,"
    echo "  then builds the tsan preset and runs the concurrency tests."
    echo "  JOBS=N sets the build and test parallelism (default 2)."
    exit 0
    ;;
  *)
    echo "scripts/test.sh: unknown argument '$1' (try --help)" >&2
    exit 2
    ;;
esac
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
JOBS="${JOBS:-2}"

echo "== asan+ubsan build and full test suite"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$JOBS"
ctest --preset asan -j "$JOBS"

echo "== tsan build and concurrency tests"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$JOBS" --target drm_sim_concurrency_tests
ctest --preset tsan -j "$JOBS"
