#!/usr/bin/env bash
# Install Hindsight with its GUI and test dependencies on Debian/Ubuntu (system packages via apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=$(grep -v '^#' tools/system-packages.txt | tr '\n' ' ')
missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[gui,test]'
