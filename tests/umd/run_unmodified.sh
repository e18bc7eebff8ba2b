#!/usr/bin/env bash
# Runs examples/unmodified/xe_query_tool (built only against libdrm) and
# checks its output.
#   --expect default   LD_PRELOAD=<preload>, default path and profile (b580)
#   --expect pvc       LD_PRELOAD=<preload>, DRM_SIM_PRELOAD_PATH=/dev/dri/renderD129,
#                      DRM_SIM_PRELOAD_PROFILE=pvc
#   --expect none      no LD_PRELOAD: the open must fail cleanly (exit 2, a
#                      message, no crash); skipped (77) on a machine that has
#                      a render node at the default path.
set -uo pipefail

preload="" tool="" expect=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --preload) preload="$2"; shift 2 ;;
    --tool) tool="$2"; shift 2 ;;
    --expect) expect="$2"; shift 2 ;;
    *) echo "run_unmodified.sh: unknown argument $1" >&2; exit 64 ;;
  esac
done

out="$(mktemp)" err="$(mktemp)"
trap 'rm -f "$out" "$err"' EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- stdout" >&2; cat "$out" >&2
  echo "--- stderr" >&2; cat "$err" >&2
  exit 1
}
expect_line() {
  grep -qF -- "$1" "$out" || fail "missing output line: $1"
}

case "$expect" in
  default)
    env -u DRM_SIM_PRELOAD_PATH -u DRM_SIM_PRELOAD_PROFILE LD_PRELOAD="$preload" \
      "$tool" >"$out" 2>"$err"
    rc=$?
    [[ $rc -eq 0 ]] || fail "exit status $rc"
    expect_line "driver: xe 1.1.0 (Intel Xe2 Graphics (drm_sim))"
    expect_line "first config: device_id 0xe20b revision 0 va_bits 48 min_alignment 4096 has_vram 1"
    expect_line "region 0: system instance 0 size 16384 MiB min_page 4096"
    expect_line "region 1: vram instance 1 size 12288 MiB min_page 4096"
    expect_line "vm: 1"
    expect_line "bind NULL [0x100000, 0x300000): ok"
    expect_line "vma [0x100000, 0x300000) devmem_fd 0 atomic 0 pat 0"
    expect_line "second config: device_id 0xe20b revision 0 va_bits 48 min_alignment 4096 has_vram 1"
    ;;
  pvc)
    DRM_SIM_PRELOAD_PATH=/dev/dri/renderD129 DRM_SIM_PRELOAD_PROFILE=pvc LD_PRELOAD="$preload" \
      "$tool" /dev/dri/renderD129 >"$out" 2>"$err"
    rc=$?
    [[ $rc -eq 0 ]] || fail "exit status $rc"
    expect_line "first config: device_id 0x0bd5 revision 0 va_bits 57 min_alignment 65536 has_vram 1"
    expect_line "region 2: vram instance 2 size 65536 MiB min_page 65536"
    expect_line "bind NULL [0x100000, 0x300000): ok"
    expect_line "second config: device_id 0x0bd5 revision 0 va_bits 57 min_alignment 65536 has_vram 1"
    ;;
  none)
    if [[ -e /dev/dri/renderD128 ]]; then
      echo "this machine has /dev/dri/renderD128: nothing to check"
      exit 77
    fi
    env -u LD_PRELOAD "$tool" >"$out" 2>"$err"
    rc=$?
    [[ $rc -eq 2 ]] || fail "exit status $rc, expected 2"
    grep -qF "xe_query_tool: cannot open /dev/dri/renderD128: No such file or directory" "$err" \
      || fail "missing the error message"
    [[ ! -s "$out" ]] || fail "unexpected output on stdout"
    ;;
  *) echo "run_unmodified.sh: --expect default|pvc|none" >&2; exit 64 ;;
esac
echo "ok: $expect"
