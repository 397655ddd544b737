#!/usr/bin/env bash
# Screenshots of the real app under Xvfb:
#   1-first-run.png    no data, no sessions (what a new user sees)
#   2-training.png     the grid cell mnist-2x20-ce training live (started by SAMPLE_SETS_AUTOSTART)
#   3-main.png         the same run finished
#   4-node-detail.png  its session opened from the command line, node "layer 1 · node 3"
#                      selected (SAMPLE_SETS_SELECT)
#   6-example-1024x700.png, 7-example-1600x1000.png
#                      the embedded example session with node "layer 1 · node 3" selected, in
#                      a window of that size (SAMPLE_SETS_WINDOW_SIZE), data present
# Usage: packaging/screenshots.sh [OUT_DIR]   (default target/screenshots)
# Env: SAMPLE_SETS_BIN (default: `cargo build`, then a private copy of the binary, since a
#      shared CARGO_TARGET_DIR may be rebuilt from another branch meanwhile),
#      SAMPLE_SETS_DATA (default ../shared/datasets/mnist), EPOCHS (default 3),
#      SIZE (screen and window size, default 1600x1000; e.g. SIZE=1024x700).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/screenshots}
EPOCHS=${EPOCHS:-3}
SIZE=${SIZE:-1600x1000}
W=${SIZE%x*}
H=${SIZE#*x}
DATA=${SAMPLE_SETS_DATA:-$(cd .. && pwd)/shared/datasets/mnist}
mkdir -p "$OUT"
work=$(mktemp -d)
if [ -n "${SAMPLE_SETS_BIN:-}" ]; then
    BIN=$SAMPLE_SETS_BIN
else
    cargo build --bin sample-sets
    cp "${CARGO_TARGET_DIR:-target}/debug/sample-sets" "$work/sample-sets"
    BIN=$work/sample-sets
fi
# A clean profile: no saved settings, no platform data dir, sessions in $work.
app=""
. packaging/xvfb-profile.sh
cleanup() {
    xvfb_stop
    cp "$work"/*.log "$OUT"/ 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
xvfb_start
sleep 1

# Park the pointer off the plots so no hover cursor shows.
shot() { xdotool mousemove $((W - 10)) $((H - 10)) 2>/dev/null || true; sleep 0.5; import -window root "$OUT/$1"; echo "wrote $OUT/$1"; }
# Without a window manager the app keeps its own size: make it fill the screen.
fit() {
    for _ in $(seq 1 40); do
        wid=$(xdotool search --onlyvisible --name '^Sample Sets$' 2>/dev/null | head -1 || true)
        if [ -n "$wid" ]; then
            xdotool windowmove "$wid" 0 0 windowsize "$wid" "$W" "$H" 2>/dev/null || true
            return
        fi
        sleep 0.25
    done
}
stop_app() { kill "$app" 2>/dev/null || true; wait "$app" 2>/dev/null || true; app=""; }

# 1. First run: no data anywhere.
SAMPLE_SETS_DATA="$work/no-data" "$BIN" >"$work/app1.log" 2>&1 &
app=$!
fit
sleep 6
shot 1-first-run.png
stop_app

# 2-3. Train a small grid cell.
SAMPLE_SETS_DATA="$DATA" SAMPLE_SETS_AUTOSTART="mnist-2x20-ce:$EPOCHS:500" "$BIN" >"$work/app2.log" 2>&1 &
app=$!
fit
for _ in $(seq 1 120); do
    f=$(ls "$work/sessions"/*.ron 2>/dev/null | head -1 || true)
    # Two epochs measured: live plots have something to show.
    if [ -n "$f" ] && [ "$(grep -c 'epoch:' "$f" || true)" -ge 3 ]; then break; fi
    sleep 1
done
sleep 1
shot 2-training.png
for _ in $(seq 1 600); do
    f=$(ls "$work/sessions"/*.ron 2>/dev/null | head -1 || true)
    if [ -n "$f" ] && grep -q 'status: Completed' "$f"; then break; fi
    sleep 1
done
sleep 2
shot 3-main.png
stop_app

# 4. Open that session from the command line with a node selected.
f=$(ls "$work/sessions"/*.ron | head -1)
SAMPLE_SETS_DATA="$DATA" SAMPLE_SETS_SELECT=1:3 "$BIN" "$f" >"$work/app3.log" 2>&1 &
app=$!
fit
sleep 8
shot 4-node-detail.png
stop_app

# 6-7. The example session at the two sizes the layout must hold (the window alone).
for size in 1024x700 1600x1000; do
    n=$([ "$size" = 1024x700 ] && echo 6 || echo 7)
    SAMPLE_SETS_DATA="$DATA" SAMPLE_SETS_SELECT=1:3 SAMPLE_SETS_WINDOW_SIZE=$size \
        "$BIN" "$PWD/assets/example-session.ron" >"$work/app-$size.log" 2>&1 &
    app=$!
    sleep 8
    xdotool mousemove 1590 990 2>/dev/null || true
    sleep 0.5
    import -window root -crop "$size+0+0" +repage "$OUT/$n-example-$size.png"
    echo "wrote $OUT/$n-example-$size.png"
    stop_app
done
