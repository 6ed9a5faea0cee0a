#!/usr/bin/env bash
# Creates .venv (project-local) with the pinned Python test tools: moto's server
# and checkov. Run by `npm ci` (postinstall); safe to run again, and quick when
# .venv already matches tools/python/requirements.txt.
#
# Every package is pinned with its hashes: pip installs uv from bootstrap.txt,
# uv installs requirements.txt (--require-hashes) in seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv
here=tools/python
stamp="$venv/.requirements.sha256"

if ! command -v python3 >/dev/null 2>&1; then
  echo "python: python3 is not on PATH; the apply tests and npm run scan need Python >= 3.10 with venv (Debian: apt-get install python3 python3-venv), then npm ci again" >&2
  exit 1
fi
want=$(cat "$here/bootstrap.txt" "$here/requirements.txt" | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  echo "python: $venv is up to date"
  exit 0
fi
rm -rf "$venv"
if ! python3 -m venv "$venv" >/dev/null 2>&1; then
  rm -rf "$venv"
  echo "python: python3 -m venv failed (pip or venv missing); install python3-venv (Debian: apt-get install python3-venv), then npm ci again" >&2
  exit 1
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --no-deps -r "$here/bootstrap.txt" 2> >(grep -v '^WARNING: Location' >&2)
VIRTUAL_ENV="$PWD/$venv" "$venv/bin/uv" pip sync --quiet --require-hashes "$here/requirements.txt"
echo "$want" > "$stamp"
echo "python: $venv ready ($("$venv/bin/python" -c 'import importlib.metadata as m; print("moto", m.version("moto") + ",", "checkov", m.version("checkov"))'))"
