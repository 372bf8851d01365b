#!/usr/bin/env bash
# Install Hindsight (GUI + test extras) into ./.venv, with the Debian/Ubuntu packages Qt needs.
# Inside an active virtualenv it installs there instead.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=$(grep -v '^#' tools/system-packages.txt | tr '\n' ' ')
missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ] && command -v apt-get >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi
if [ -n "${VIRTUAL_ENV:-}" ]; then
  py=python
else
  [ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
  py=.venv/bin/python
fi
$py -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
$py -m pip install -q --disable-pip-version-check -e '.[gui,test,cluster,bench]'
[ -n "${VIRTUAL_ENV:-}" ] || ln -sf .venv/bin/hindsight hindsight
echo "installed: $($py -c 'import hindsight, sys; print("hindsight", hindsight.__version__, "on Python", sys.version.split()[0])')"
