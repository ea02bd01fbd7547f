#!/usr/bin/env bash
# Installs the GitHub Copilot CLI the end-to-end test (tests/agents_real.rs) runs: the npm
# package @github/copilot at a pinned version, into .tools/copilot. Idempotent.
#   tools/install-copilot.sh          # -> .tools/copilot/node_modules/.bin/copilot
# The test runs it offline (COPILOT_OFFLINE, a BYOK provider: no GitHub sign-in), against the
# scripted Responses-API server on loopback (tools/record/fake_responses.py).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.0.102
PREFIX=$PWD/.tools/copilot
BIN=$PREFIX/node_modules/.bin/copilot

# `copilot --version` says "GitHub Copilot CLI 1.0.102."
if [[ -x "$BIN" ]] && [[ "$("$BIN" --version 2>/dev/null | head -1 | awk '{print $NF}')" == "$VERSION." ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-copilot.sh: npm is needed to fetch the Copilot CLI (apt-get install npm)" >&2
  exit 1
fi
# The native binary comes from the platform package (@github/copilot-linux-x64).
npm install --silent --no-audit --no-fund --prefix "$PREFIX" "@github/copilot@$VERSION" 2>/dev/null
echo "install-copilot.sh: installed $("$BIN" --version | head -1) at $BIN" >&2
