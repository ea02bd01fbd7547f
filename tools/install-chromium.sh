#!/usr/bin/env bash
# Installs headless Chromium (Debian package chromium), which tests/ui.rs runs against
# `flowhook ui` to prove its pages render and that no stored text runs as script. Idempotent:
# does nothing when chromium is already on the PATH.
#   tools/install-chromium.sh
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium.sh: install Chromium with this system's package manager" >&2
  exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq chromium >/dev/null
echo "install-chromium.sh: installed $(command -v chromium)" >&2
