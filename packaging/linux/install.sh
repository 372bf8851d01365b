#!/usr/bin/env bash
# Install Hindsight for the current user from the unpacked release archive:
#   ~/.local/opt/hindsight/    the app        ~/.local/bin/hindsight   the command
#   ~/.local/share/...         menu entry, icons, metainfo, the *.hindsight file type
# ./install.sh --uninstall removes all of it again (captures and settings are left alone).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
opt="$HOME/.local/opt/hindsight"
bin="$HOME/.local/bin"
files=(applications/io.hindsight.Hindsight.desktop metainfo/io.hindsight.Hindsight.metainfo.xml
       mime/packages/io.hindsight.Hindsight.mime.xml
       icons/hicolor/48x48/apps/io.hindsight.Hindsight.png icons/hicolor/128x128/apps/io.hindsight.Hindsight.png
       icons/hicolor/256x256/apps/io.hindsight.Hindsight.png icons/hicolor/scalable/apps/io.hindsight.Hindsight.svg)

refresh() {
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
  command -v update-mime-database >/dev/null && update-mime-database "$data/mime" || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -qtf "$data/icons/hicolor" || true
}

if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$opt"
  [ -L "$bin/hindsight" ] && rm -f "$bin/hindsight"
  for f in "${files[@]}"; do rm -f "$data/$f"; done
  refresh
  echo "Hindsight removed."
  exit 0
fi

mkdir -p "$(dirname "$opt")" "$bin"
rm -rf "$opt"
cp -a "$here/hindsight" "$opt"
ln -sfn "$opt/hindsight" "$bin/hindsight"
for f in "${files[@]}"; do
  mkdir -p "$(dirname "$data/$f")"
  cp "$here/share/$f" "$data/$f"
done
refresh
echo "Hindsight $("$opt/hindsight" --version | cut -d' ' -f2) installed: run 'hindsight' or pick it from the app menu."
case ":$PATH:" in *":$bin:"*) ;; *) echo "note: add $bin to your PATH to run 'hindsight' from a terminal." ;; esac
