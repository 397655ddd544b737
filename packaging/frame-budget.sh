#!/usr/bin/env bash
# The UI's CPU time per frame of the real app under Xvfb, while the pointer sweeps the plots
# (every move repaints: hover tooltips, node-line picking), printed as median and p90.
#   packaging/frame-budget.sh PATH [OUT_DIR]
# PATH: a session file (opened with node lines of all layers and node "layer 1 · node 1"
# selected) or a grid folder (opened in the Grid tab).
# Env: SAMPLE_SETS_BIN (default target/release/sample-sets: build it with
#      `cargo build --release --locked`), SIZE (default 1600x1000), SWEEP seconds of sweeping
#      (default 20), WARMUP seconds before it (default 15: loading and node-line textures).
# Writes OUT_DIR (default target/frame-budget) /frames.txt (one ms value per frame) and
# /end.png (the window at the end, to check what was measured).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${1:?usage: packaging/frame-budget.sh SESSION_OR_GRID_DIR [OUT_DIR]}
OUT=${2:-target/frame-budget}
BIN=${SAMPLE_SETS_BIN:-target/release/sample-sets}
SIZE=${SIZE:-1600x1000}
SWEEP=${SWEEP:-20}
WARMUP=${WARMUP:-15}
W=${SIZE%x*}
H=${SIZE#*x}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release --locked)" >&2; exit 1; }
[ -e "$TARGET" ] || { echo "$TARGET: not found" >&2; exit 1; }
mkdir -p "$OUT"
work=$(mktemp -d)
app=""
. packaging/xvfb-profile.sh
cleanup() {
    xvfb_stop
    rm -rf "$work"
}
trap cleanup EXIT
# Saved settings as the app stores them: node lines of every layer on.
mkdir -p "$work/data/sample-sets"
printf '{\n    "sample-sets-settings": "(node_line_scope:All)",\n}\n' >"$work/data/sample-sets/app.ron"
xvfb_start
args=("$TARGET" --frame-log --window-size "$SIZE")
[ -f "$TARGET" ] && args+=(--select 1:1)
"$BIN" "${args[@]}" 2>"$work/frames.log" &
app=$!
sleep 2
wid=$(xdotool search --onlyvisible --name '^Sample Sets$' 2>/dev/null | head -1 || true)
[ -n "$wid" ] && xdotool windowmove "$wid" 0 0 windowsize "$wid" "$W" "$H" 2>/dev/null || true
sleep "$WARMUP"
start=$(wc -l <"$work/frames.log")
# Sweep the pointer over the centre (plots) in rows, one move every 20 ms.
end=$((SECONDS + SWEEP))
while [ "$SECONDS" -lt "$end" ]; do
    for y in $(seq $((H / 5)) $((H / 10)) $((H * 4 / 5))); do
        for x in $(seq $((W / 4)) $((W / 40)) $((W * 3 / 4))); do
            xdotool mousemove "$x" "$y"
            sleep 0.02
        done
    done
done
import -window root "$OUT/end.png"
tail -n +"$((start + 1))" "$work/frames.log" | sed -n 's/^frame \([0-9.]*\) ms$/\1/p' >"$OUT/frames.txt"
kill -0 "$app" 2>/dev/null || { echo "the app exited during the measurement" >&2; exit 1; }
python3 - "$OUT/frames.txt" <<'EOF'
import statistics, sys
v = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
if len(v) < 20:
    sys.exit(f"only {len(v)} frames measured")
p90 = v[int(0.9 * (len(v) - 1))]
print(f"{len(v)} frames: median {statistics.median(v):.2f} ms, p90 {p90:.2f} ms, max {v[-1]:.2f} ms")
EOF
