#!/usr/bin/env bash
# Runs flowhook's MCP server under a client nobody here wrote: the MCP inspector's CLI
# (@modelcontextprotocol/inspector, pinned), against a database the demo session was replayed
# into. Lists the tools and calls each reading tool; exits non-zero on any unexpected answer.
#   tools/mcp-inspector.sh [path/to/flowhook]     (default: target/debug/flowhook)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=0.15.0
BIN=$(realpath "${1:-target/debug/flowhook}")
PREFIX=$PWD/.tools/inspector
CLI=$PREFIX/node_modules/.bin/mcp-inspector
[[ -x "$CLI" ]] || npm install --silent --no-audit --no-fund --prefix "$PREFIX" "@modelcontextprotocol/inspector@$VERSION"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FLOWHOOK_DB=$work/flowhook.db HOME=$work
"$BIN" replay --quiet fixtures/demo-session.jsonl >/dev/null
inspect() { "$CLI" --cli "$BIN" mcp "$@"; }
expect() {  # expect TEXT OUTPUT
  if ! grep -qF -- "$1" <<<"$2"; then
    echo "mcp-inspector.sh: expected '$1' in:" >&2; echo "$2" >&2; exit 1
  fi
}
out=$(inspect --method tools/list)
for tool in search_memory list_sessions get_session file_history recent_context remember recall_key forget; do
  expect "\"name\": \"$tool\"" "$out"
done
expect 'Write create notes.md (+3 -0)' "$(inspect --method tools/call --tool-name file_history --tool-arg path=notes.md)"
expect '3 edits (+7 -1)' "$(inspect --method tools/call --tool-name list_sessions)"
expect 'Session 2c52ce67' "$(inspect --method tools/call --tool-name get_session --tool-arg id=2c52)"
expect 'notes.md' "$(inspect --method tools/call --tool-name search_memory --tool-arg 'query=second line of notes.md' --tool-arg project=/home/dev/proj)"
inspect --method tools/call --tool-name remember --tool-arg key=deploy --tool-arg 'value=make release' >/dev/null
expect 'make release' "$(inspect --method tools/call --tool-name recall_key --tool-arg key=deploy)"
echo "mcp-inspector.sh: inspector $VERSION: 8 tools listed, 6 calls answered as expected" >&2
