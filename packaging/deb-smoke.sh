#!/usr/bin/env bash
# Builds the .deb with cargo-deb, installs it with dpkg, launches the installed desktop entry
# under Xvfb until its first frame, saves a screenshot and closes the app.
# Usage: [DEB_PROFILE=dev] packaging/deb-smoke.sh [screenshot.png]   (root or sudo for dpkg)
# DEB_PROFILE=dev packages the test build (CI: one build); the default is a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
shot="${1:-target/deb-smoke.png}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    xvfb xauth xdotool imagemagick libglib2.0-bin >/dev/null
command -v cargo-deb >/dev/null || cargo install --locked cargo-deb --version 3.8.0
cargo deb --locked --profile "${DEB_PROFILE:-release}"
deb=$(ls -t target/debian/sample-sets_*.deb | head -n 1)
echo "built $deb ($(du -h "$deb" | cut -f1))"
$sudo dpkg -i "$deb" || { $sudo apt-get install -y -f -qq >/dev/null; $sudo dpkg -i "$deb"; }
desktop-file-validate /usr/share/applications/sample-sets.desktop
test -f /usr/share/icons/hicolor/scalable/apps/sample-sets.svg
test -f /usr/share/mime/packages/sample-sets.xml

# A private X server, and a fresh HOME so this is a first run.
export HOME="$(mktemp -d)"
Xvfb :77 -screen 0 1600x1000x24 -nolisten tcp & xvfb=$!
trap 'kill $xvfb 2>/dev/null || true' EXIT
export DISPLAY=:77
sleep 1
# Launch through the desktop entry, as a file manager or menu would.
gio launch /usr/share/applications/sample-sets.desktop & launcher=$!
win=$(timeout 120 xdotool search --sync --classname sample-sets | head -n 1)
echo "window $win appeared: $(xdotool getwindowname "$win")"
sleep 8 # first frame and a few more
mkdir -p "$(dirname "$shot")"
import -window root "$shot"
echo "screenshot: $shot"
xdotool windowclose "$win" 2>/dev/null || xdotool key --window "$win" ctrl+q || true
sleep 2
pkill -x sample-sets 2>/dev/null || true
wait $launcher 2>/dev/null || true
