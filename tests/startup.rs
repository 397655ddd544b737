//! How the binary starts: the app's `SAMPLE_SETS_*` variables are checked when the app starts
//! (a bad value is an error naming it) and ignored by the headless commands; a build without
//! the `gui` feature says it has no app.

mod common;

use std::process::Command;

#[test]
fn a_bad_app_variable_does_not_stop_a_command() {
    let out = Command::new(common::bin())
        .arg("presets")
        .env("SAMPLE_SETS_SELECT", "bad")
        .env("SAMPLE_SETS_AUTOSTART", "x:y")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("mnist-2x20-ce"));
}

#[test]
fn a_bad_app_variable_is_reported_when_the_app_starts() {
    for (var, value) in [
        ("SAMPLE_SETS_SELECT", "bad"),
        ("SAMPLE_SETS_AUTOSTART", "mnist-2x20-ce:three"),
        ("SAMPLE_SETS_SESSIONS", ""),
    ] {
        let out = Command::new(common::bin())
            .env(var, value)
            // No window can open here: the check must come first.
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(var), "{var}: {err}");
    }
}

#[cfg(not(feature = "gui"))]
#[test]
fn without_the_gui_feature_no_command_says_there_is_no_app() {
    let out = Command::new(common::bin()).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without the desktop app"), "{err}");
}
