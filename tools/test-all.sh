#!/usr/bin/env bash
# npm test: the stack's suite (vitest, here) and the worker's (worker-src) side by side.
# The stack's tests mostly wait on terraform, the worker's on ffmpeg, queues and timers, so
# running them together fills the machine's idle time. The worker's output follows the
# stack's (kept in a file meanwhile); the exit code is non-zero when either suite fails.
set -uo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp -t cricksy-worker-tests.XXXXXX)"
npm --prefix worker-src test >"$log" 2>&1 &
worker=$!
trap 'kill "$worker" 2>/dev/null; rm -f "$log"; exit 130' INT TERM
vitest run "$@"
infra=$?
wait "$worker"
status=$?
trap - INT TERM
printf '\n=== worker-src: npm test (ran beside the stack'"'"'s tests)\n'
cat "$log"
rm -f "$log"
[ "$infra" -eq 0 ] && [ "$status" -eq 0 ] && exit 0
echo "npm test: the stack's tests exited $infra, the worker's $status" >&2
exit 1
