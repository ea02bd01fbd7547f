#!/usr/bin/env bash
# Installs the Gemini CLI the end-to-end test (tests/agents_real.rs) runs: the npm package
# @google/gemini-cli at a pinned version, into .tools/gemini. Idempotent.
#   tools/install-gemini.sh          # -> .tools/gemini/node_modules/.bin/gemini
# The test runs it offline, against a scripted Gemini-API server on loopback
# (tools/record/fake_gemini.py).
exec "$(dirname "$0")/install-npm.sh" gemini @google/gemini-cli 0.61.0 gemini
