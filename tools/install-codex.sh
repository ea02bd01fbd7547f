#!/usr/bin/env bash
# Installs the Codex CLI the end-to-end test (tests/agents.rs) runs: the npm package
# @openai/codex at a pinned version, into .tools/codex. Idempotent.
#   tools/install-codex.sh          # -> .tools/codex/node_modules/.bin/codex
# The test runs it offline, against a scripted Responses-API server on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.171.0
PREFIX=$PWD/.tools/codex
BIN=$PREFIX/node_modules/.bin/codex

if [[ -x "$BIN" ]] && [[ "$("$BIN" --version 2>/dev/null | awk '{print $NF}')" == "$VERSION" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-codex.sh: npm is needed to fetch the Codex CLI (apt-get install npm)" >&2
  exit 1
fi
# The native binary comes from the platform package (@openai/codex-linux-x64).
npm install --silent --no-audit --no-fund --prefix "$PREFIX" "@openai/codex@$VERSION" 2>/dev/null
echo "install-codex.sh: installed $("$BIN" --version) at $BIN" >&2
