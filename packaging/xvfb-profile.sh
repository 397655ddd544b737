# Sourced by the scripts that run the real app under Xvfb (screenshots.sh, frame-budget.sh):
# a clean profile in $work (no saved settings beyond what the caller writes, sessions in
# $work) and an X server of $SIZE on a free-looking display. Sets DISPLAY and $xvfb; the
# caller's EXIT trap calls `xvfb_stop` (which also stops the app in $app, if any).
xvfb_start() {
    export XDG_DATA_HOME="$work/data" XDG_CONFIG_HOME="$work/config" SAMPLE_SETS_SESSIONS="$work/sessions"
    local disp=":$((80 + RANDOM % 19))"
    Xvfb "$disp" -screen 0 "${SIZE}x24" >/dev/null 2>&1 &
    xvfb=$!
    export DISPLAY="$disp"
    sleep 1
}

xvfb_stop() {
    [ -n "${app:-}" ] && kill "$app" 2>/dev/null || true
    [ -n "${xvfb:-}" ] && kill "$xvfb" 2>/dev/null || true
}
