#!/usr/bin/env bash
# Builds and runs every test: the whole suite under AddressSanitizer +
# UndefinedBehaviorSanitizer (with the VM invariant checker on), then the
# concurrency tests under ThreadSanitizer. Installs missing packages first.
set -euo pipefail
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
