#!/usr/bin/env bash
# Build the desktop app with PyInstaller:
#   dist/hindsight/                               one-folder bundle; dist/hindsight/hindsight is the app
#   dist/hindsight-<version>-linux-x86_64.tar.gz  the bundle + desktop integration + install.sh
# Uses .venv/bin/python when there is one (as tools/install.sh sets up), else the active python.
# Options: --no-archive (bundle only).
set -euo pipefail
cd "$(dirname "$0")/.."

archive=1
for arg in "$@"; do
  case "$arg" in
    --no-archive) archive=0 ;;
    *) echo "usage: packaging/build.sh [--no-archive]" >&2; exit 2 ;;
  esac
done

if [ -n "${VIRTUAL_ENV:-}" ]; then py=python
elif [ -x .venv/bin/python ]; then py=.venv/bin/python
else py=${PYTHON:-python3}
fi
$py -m pip install -q --disable-pip-version-check -r packaging/requirements.txt
version=$($py -c 'import hindsight; print(hindsight.__version__)')

start=$(date +%s)
$py -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/pyinstaller/hindsight.spec
built=$(( $(date +%s) - start ))
# A module that failed to compile is only a warning to PyInstaller; --version imports every command.
if ! out=$(dist/hindsight/hindsight --version 2>&1); then
  echo "$out" | tail -3 >&2
  echo "build.sh: the bundle does not start (see build/pyinstaller/hindsight/warn-hindsight.txt)" >&2
  exit 1
fi
echo "bundle: dist/hindsight ($(du -sh dist/hindsight | cut -f1)) built in ${built}s"

if [ "$archive" = 1 ] && [ "$(uname -s)" = Linux ]; then
  name="hindsight-${version}-linux-$(uname -m)"
  stage="build/$name"
  rm -rf "$stage"
  mkdir -p "$stage/share/applications" "$stage/share/metainfo" "$stage/share/mime/packages" \
           "$stage/share/icons/hicolor/scalable/apps"
  cp -a dist/hindsight "$stage/hindsight"
  cp packaging/linux/io.hindsight.Hindsight.desktop "$stage/share/applications/"
  cp packaging/linux/io.hindsight.Hindsight.metainfo.xml "$stage/share/metainfo/"
  cp packaging/linux/io.hindsight.Hindsight.mime.xml "$stage/share/mime/packages/"
  for size in 48 128 256; do
    mkdir -p "$stage/share/icons/hicolor/${size}x${size}/apps"
    cp "packaging/linux/icons/io.hindsight.Hindsight-${size}.png" \
       "$stage/share/icons/hicolor/${size}x${size}/apps/io.hindsight.Hindsight.png"
  done
  cp resources/icons/hindsight.svg "$stage/share/icons/hicolor/scalable/apps/io.hindsight.Hindsight.svg"
  install -m 755 packaging/linux/install.sh "$stage/install.sh"
  tar -C build -czf "dist/$name.tar.gz" "$name"
  rm -rf "$stage"
  echo "archive: dist/$name.tar.gz ($(du -h "dist/$name.tar.gz" | cut -f1))"
fi
