#!/usr/bin/env bash
# Installs the Gemini CLI the end-to-end test (tests/agents_real.rs) runs: the npm package
# @google/gemini-cli at a pinned version, into .tools/gemini. Idempotent.
#   tools/install-gemini.sh          # -> .tools/gemini/node_modules/.bin/gemini
# The test runs it offline, against a scripted Gemini-API server on loopback
# (tools/record/fake_gemini.py).
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.61.0
PREFIX=$PWD/.tools/gemini
BIN=$PREFIX/node_modules/.bin/gemini

if [[ -x "$BIN" ]] && [[ "$("$BIN" --version 2>/dev/null | awk '{print $NF}')" == "$VERSION" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-gemini.sh: npm is needed to fetch the Gemini CLI (apt-get install npm)" >&2
  exit 1
fi
npm install --silent --no-audit --no-fund --prefix "$PREFIX" "@google/gemini-cli@$VERSION" 2>/dev/null
echo "install-gemini.sh: installed $("$BIN" --version) at $BIN" >&2
