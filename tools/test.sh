#!/usr/bin/env bash
# Install everything, then run the default test suite (core + offscreen GUI; benchmarks excluded).
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/install.sh
export QT_QPA_PLATFORM=offscreen
python3 -m pytest -q -p no:cacheprovider "$@"
