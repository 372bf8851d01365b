#!/usr/bin/env bash
# Install everything, then run the default test suite (core + offscreen GUI; benchmarks excluded).
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install.sh
py=python; [ -n "${VIRTUAL_ENV:-}" ] || py=.venv/bin/python
export QT_QPA_PLATFORM=offscreen
if [ $# -gt 0 ]; then
  exec $py -m pytest -q -p no:cacheprovider "$@"
fi
# Core and GUI tests in separate processes: the core suite must not depend on Qt state.
$py -m pytest -q -p no:cacheprovider tests/core
$py -m pytest -q -p no:cacheprovider tests/app
