#!/usr/bin/env bash
# Installs the Codex CLI the end-to-end test (tests/agents.rs) runs: the npm package
# @openai/codex at a pinned version, into .tools/codex. Idempotent.
#   tools/install-codex.sh          # -> .tools/codex/node_modules/.bin/codex
# The test runs it offline, against a scripted Responses-API server on loopback.
exec "$(dirname "$0")/install-npm.sh" codex @openai/codex 0.171.0 codex
