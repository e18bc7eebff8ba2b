#!/usr/bin/env bash
# Builds the ioctl ABI fuzzer (the `fuzz` preset: clang, ASan + UBSan, the
# library instrumented for coverage) and runs it for the given number of
# seconds (default 60) on a copy of the seed corpus fuzz/corpus/ioctl/, with
# LeakSanitizer on. Prints one summary line; exits non-zero on any crash,
# leak, timeout, out-of-memory or sanitizer report (the reproducer is left in
# build/fuzz/run/artifacts/). Installs missing packages first.
#
#   bash scripts/fuzz.sh [seconds]
#   FUZZ_ARGS="-seed=1 -runs=100000" bash scripts/fuzz.sh 600   # extra libFuzzer flags
#
# Reproduce an artifact: build/fuzz/fuzz/drm_sim_ioctl_fuzzer <file>
# (DRM_SIM_FUZZ_TRACE=1 prints the decoded ioctl program).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/fuzz.sh [seconds]   (a positive integer, default 60)"
  echo "  builds the libFuzzer ioctl fuzzer (clang) and fuzzes for that long from the seed corpus;"
  echo "  FUZZ_ARGS passes libFuzzer flags (e.g. FUZZ_ARGS=-seed=1), JOBS=N the build parallelism"
}
if [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]; then
  usage
  exit 0
fi
SECS="${1:-60}"
if ! [[ "$SECS" =~ ^[0-9]+$ ]] || [ "$SECS" -eq 0 ]; then
  usage >&2
  exit 2
fi
JOBS="${JOBS:-2}"

bash scripts/install-deps.sh

# clang and its libFuzzer runtime (not in install-deps.sh: only fuzzing needs them).
FUZZ_PKGS=(clang libclang-rt-14-dev)
missing=()
for p in "${FUZZ_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
  echo "fuzz: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "fuzz: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

echo "== fuzz preset: configure and build drm_sim_ioctl_fuzzer"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$JOBS" --target drm_sim_ioctl_fuzzer

RUN=build/fuzz/run
rm -rf "$RUN"
mkdir -p "$RUN/corpus" "$RUN/artifacts"
cp fuzz/corpus/ioctl/* "$RUN/corpus/"
seeds=$(find "$RUN/corpus" -type f | wc -l)

echo "== fuzzing for ${SECS} s from ${seeds} seeds (log: $RUN/fuzz.log)"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
start=$(date +%s)
set +e
# shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
build/fuzz/fuzz/drm_sim_ioctl_fuzzer \
  -max_total_time="$SECS" -detect_leaks=1 -max_len=8192 -timeout=30 -rss_limit_mb=4096 \
  -use_value_profile=1 -print_final_stats=1 -artifact_prefix="$RUN/artifacts/" \
  ${FUZZ_ARGS:-} "$RUN/corpus" >"$RUN/fuzz.log" 2>&1
rc=$?
set -e
elapsed=$(($(date +%s) - start))

last=$(grep -E '^#[0-9]+' "$RUN/fuzz.log" | tail -n 1 || true)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$RUN/fuzz.log" | tail -n 1)
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$RUN/fuzz.log" | tail -n 1)
cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
artifacts=$(find "$RUN/artifacts" -type f | wc -l)

status=PASS
if [ "$rc" -ne 0 ] || [ "$artifacts" -ne 0 ]; then
  status=FAIL
  grep -E 'ERROR: |ORACLE FAILED|runtime error|SUMMARY|Test unit written' "$RUN/fuzz.log" | head -n 20 >&2 || true
fi
echo "fuzz: ${status}: ${elapsed} of ${SECS} s, ${execs:-?} execs (${rate:-?}/s), cov ${cov:-?} edges, ft ${ft:-?} features, corpus ${corp:-?} (from ${seeds} seeds), artifacts ${artifacts}, libFuzzer exit ${rc}"
[ "$status" = PASS ]
