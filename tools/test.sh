#!/usr/bin/env bash
# Install everything, then run the default test suite (core + offscreen GUI; benchmarks excluded).
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install.sh
py=python; [ -n "${VIRTUAL_ENV:-}" ] || py=.venv/bin/python
export QT_QPA_PLATFORM=offscreen
$py -m pytest -q -p no:cacheprovider "$@"
