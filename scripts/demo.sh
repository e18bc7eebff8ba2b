#!/usr/bin/env bash
# The main job: builds the optimised tree and runs the demo (opens a
# simulated xe device, creates a VM, binds, advises, prints the VMA layout).
# Installs missing packages first. Extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j "${JOBS:-2}" --target drm_sim_demo
./build/default/examples/drm_sim_demo "$@"
