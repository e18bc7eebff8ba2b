#!/usr/bin/env bash
# Installs the Debian packages drm_sim needs, if any are missing.
# Safe to run repeatedly: it only calls apt-get when something is absent.
set -euo pipefail
case "${1:-}" in
  "") ;;
  -h | --help)
    echo "usage: scripts/install-deps.sh"
    echo "  installs (apt-get) the Debian packages drm_sim needs that are missing; does nothing when all are there"
    exit 0
    ;;
  *)
    echo "scripts/install-deps.sh: unknown argument '$1' (try --help)" >&2
    exit 2
    ;;
esac

PKGS=(
  g++ cmake ninja-build pkg-config git
  libdrm-dev libvulkan-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libboost-dev libabsl-dev
  clang-format clang-tidy
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
