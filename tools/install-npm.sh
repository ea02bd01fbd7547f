#!/usr/bin/env bash
# Installs a coding-agent client the end-to-end tests run, an npm package at a pinned version,
# into .tools/DIR; idempotent. tools/install-claude.sh, install-codex.sh, install-gemini.sh and
# install-copilot.sh name what they pin and run this.
#   tools/install-npm.sh DIR PACKAGE VERSION BIN    # -> .tools/DIR/node_modules/.bin/BIN
# A client's native binary comes from its platform package (an optional dependency); no
# postinstall script is needed (npm 11 skips them unless allowed, and may warn that node 20 is
# older than a package asks).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$1 PACKAGE=$2 VERSION=$3
BIN=$PWD/.tools/$DIR/node_modules/.bin/$4

# Installed when its first --version line names the version as a word ("codex-cli 0.171.0",
# "2.1.328 (Claude Code)", "GitHub Copilot CLI 1.0.102.").
installed() {
  [[ -x "$BIN" ]] && "$BIN" --version 2>/dev/null | head -1 | grep -qwF -- "$VERSION"
}
installed && exit 0
if ! command -v npm >/dev/null 2>&1; then
  echo "install-npm.sh: npm is needed to fetch $PACKAGE (apt-get install npm)" >&2
  exit 1
fi
npm install --silent --no-audit --no-fund --prefix "$PWD/.tools/$DIR" "$PACKAGE@$VERSION" 2>/dev/null
if ! installed; then
  echo "install-npm.sh: $PACKAGE@$VERSION did not install a working $BIN" >&2
  exit 1
fi
echo "install-npm.sh: installed $PACKAGE@$VERSION at $BIN" >&2
