#!/usr/bin/env bash
# Installs the Claude Code client the end-to-end test (tests/real_client.rs) runs: the npm
# package @anthropic-ai/claude-code at a pinned version, into .tools/cc. Idempotent.
#   tools/install-claude.sh          # -> .tools/cc/node_modules/.bin/claude
# The test runs it offline, against the scripted model server of tools/record on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=2.1.328
PREFIX=$PWD/.tools/cc
BIN=$PREFIX/node_modules/.bin/claude

if [[ -x "$BIN" ]] && [[ "$("$BIN" --version 2>/dev/null | awk '{print $1}')" == "$VERSION" ]]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-claude.sh: npm is needed to fetch Claude Code (apt-get install npm)" >&2
  exit 1
fi
# The native binary comes from the platform package; the postinstall script is not needed
# (npm 11 skips it unless allowed, and warns that node 20 is older than the package asks).
npm install --silent --no-audit --no-fund --prefix "$PREFIX" "@anthropic-ai/claude-code@$VERSION" 2>/dev/null
echo "install-claude.sh: installed Claude Code $("$BIN" --version | awk '{print $1}') at $BIN" >&2
