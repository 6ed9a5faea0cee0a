#!/usr/bin/env bash
# npm's postinstall: after the stack's packages, install worker-src's (its own
# lock file) and the Python test tools (.venv), side by side.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/python/install.sh &
python_pid=$!
npm --prefix worker-src ci --no-audit --no-fund
worker=$?
# A machine without Python can still synth, plan and deploy: install.sh has said
# in one line what is missing, and the tests that need the tools say it again.
wait "$python_pid" || true
exit "$worker"
