#!/usr/bin/env bash
# Installs the GitHub Copilot CLI the end-to-end test (tests/agents_real.rs) runs: the npm
# package @github/copilot at a pinned version, into .tools/copilot. Idempotent.
#   tools/install-copilot.sh          # -> .tools/copilot/node_modules/.bin/copilot
# The test runs it offline (COPILOT_OFFLINE, a BYOK provider: no GitHub sign-in), against the
# scripted Responses-API server on loopback (tools/record/fake_responses.py).
exec "$(dirname "$0")/install-npm.sh" copilot @github/copilot 1.0.102 copilot
