#!/usr/bin/env bash
# Installs the Claude Code client the end-to-end test (tests/real_client.rs) runs: the npm
# package @anthropic-ai/claude-code at a pinned version, into .tools/cc. Idempotent.
#   tools/install-claude.sh          # -> .tools/cc/node_modules/.bin/claude
# The test runs it offline, against the scripted model server of tools/record on loopback.
exec "$(dirname "$0")/install-npm.sh" cc @anthropic-ai/claude-code 2.1.328 claude
