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
# apt installs the package with dpkg and pulls in the Depends it declares.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "./$deb" >/dev/null
dpkg -s sample-sets | grep -q "^Status: install ok installed"
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
# winit sets WM_CLASS to ("", "sample-sets"): match the class, which StartupWMClass names.
win=$(timeout 120 xdotool search --sync --class sample-sets | head -n 1)
echo "window $win appeared: $(xdotool getwindowname "$win")"
sleep 8 # first frame and a few more
mkdir -p "$(dirname "$shot")"
import -window root "$shot"
echo "screenshot: $shot"
# Close it as a session logout would (SIGTERM); destroying the X window under winit would
# make winit panic.
pkill -TERM -x sample-sets 2>/dev/null || true
sleep 2
pkill -KILL -x sample-sets 2>/dev/null || true
wait $launcher 2>/dev/null || true
