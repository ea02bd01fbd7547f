#!/usr/bin/env bash
# Installs libfaketime's `faketime` (Debian package faketime), which the team-memory tests run
# flowhook under to give machines clocks that are off (tests/common/team.rs). Idempotent: does
# nothing when faketime is already on the PATH.
#   tools/install-faketime.sh
set -euo pipefail
if command -v faketime >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-faketime.sh: install libfaketime's faketime with this system's package manager" >&2
  exit 1
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq faketime >/dev/null
echo "install-faketime.sh: installed $(command -v faketime)" >&2
