//! How the app is started: the session files to open and the overrides that scripted
//! screenshots, demos and tests use, from the command line or `SAMPLE_SETS_*` variables.
//!
//! clap reads the variables (`env`), so a bad value stops the program with a message naming
//! the variable and the problem instead of being ignored. `SAMPLE_SETS_DATA`, where MNIST is
//! looked for first, is read by [`crate::data::locate`] for the app and the commands alike.
//!
//! This file builds without the `gui` feature: the command line parses the same options
//! either way and says so when the app is not built in.

use std::path::PathBuf;
use std::str::FromStr;

/// Start-up options of the desktop app (the command line with no command).
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
#[command(next_help_heading = "Desktop app")]
pub struct StartupOptions {
    /// Session files to open in the desktop app; a folder opens as a grid in the Grid tab.
    pub files: Vec<PathBuf>,
    /// Folder for new sessions (default: the platform data folder's `sessions`).
    #[arg(
        long,
        value_name = "DIR",
        env = "SAMPLE_SETS_SESSIONS",
        value_parser = |s: &str| non_empty_path(s).map_err(|e| source(e, "--sessions-dir", "SAMPLE_SETS_SESSIONS"))
    )]
    pub sessions_dir: Option<PathBuf>,
    /// Data folder to use (default: SAMPLE_SETS_DATA, the usual places, then the folder chosen
    /// earlier).
    #[arg(long = "data-dir", value_name = "DIR", value_parser = non_empty_path)]
    pub data_dir: Option<PathBuf>,
    /// Train this preset once the data is loaded: PRESET[:EPOCHS[:PROBE]], e.g.
    /// `mnist-2x20-ce:3`.
    #[arg(
        long,
        value_name = "PRESET[:EPOCHS[:PROBE]]",
        env = "SAMPLE_SETS_AUTOSTART",
        value_parser = |s: &str| s.parse::<Autostart>().map_err(|e| source(e, "--autostart", "SAMPLE_SETS_AUTOSTART"))
    )]
    pub autostart: Option<Autostart>,
    /// Select this node once the selected run has an epoch: LAYER:NODE (1-based layer,
    /// 0-based node, as in the CSV export).
    #[arg(
        long = "select",
        value_name = "LAYER:NODE",
        env = "SAMPLE_SETS_SELECT",
        value_parser = |s: &str| s.parse::<NodeRef>().map_err(|e| source(e, "--select", "SAMPLE_SETS_SELECT"))
    )]
    pub select_node: Option<NodeRef>,
    /// Print the UI CPU time of every frame to stderr.
    #[arg(long, env = "SAMPLE_SETS_FRAME_LOG")]
    pub frame_log: bool,
    /// Open the window at this size in points, WIDTHxHEIGHT (e.g. `1024x700`), instead of
    /// the size saved last time (for screenshots at fixed sizes).
    #[arg(
        long,
        value_name = "WIDTHxHEIGHT",
        env = "SAMPLE_SETS_WINDOW_SIZE",
        value_parser = |s: &str| s.parse::<WindowSize>().map_err(|e| source(e, "--window-size", "SAMPLE_SETS_WINDOW_SIZE"))
    )]
    pub window_size: Option<WindowSize>,
}

/// A window size in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowSize {
    /// Width, points.
    pub width: f32,
    /// Height, points.
    pub height: f32,
}

impl FromStr for WindowSize {
    type Err = String;

    /// `WIDTHxHEIGHT`, each a whole number from 200 to 16384.
    fn from_str(s: &str) -> Result<Self, String> {
        let (w, h) = s
            .split_once(['x', 'X'])
            .ok_or_else(|| format!("'{s}' is not WIDTHxHEIGHT"))?;
        let side = |what: &str, v: &str| -> Result<f32, String> {
            let n: u32 = v
                .trim()
                .parse()
                .map_err(|_| format!("{what} '{}' is not a whole number", v.trim()))?;
            if (200..=16_384).contains(&n) {
                Ok(n as f32)
            } else {
                Err(format!("{what} {n} is outside 200..=16384"))
            }
        };
        Ok(Self {
            width: side("width", w)?,
            height: side("height", h)?,
        })
    }
}

/// A parse error naming both places the value can come from (clap names only the flag).
fn source(e: String, flag: &str, var: &str) -> String {
    format!("{e} (from {flag} or {var})")
}

/// A path that is not empty (an empty `SAMPLE_SETS_SESSIONS=` would mean the current folder).
fn non_empty_path(s: &str) -> Result<PathBuf, String> {
    if s.trim().is_empty() {
        Err("empty path".into())
    } else {
        Ok(PathBuf::from(s))
    }
}

/// A preset to train at start, with optional epochs and probe size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autostart {
    /// Preset name.
    pub preset: String,
    /// Epochs (overrides the preset's).
    pub epochs: Option<u32>,
    /// Probe samples (overrides the preset's).
    pub probe: Option<usize>,
}

impl FromStr for Autostart {
    type Err = String;

    /// `PRESET[:EPOCHS[:PROBE]]`.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split(':').map(str::trim);
        let preset = parts.next().unwrap_or_default().to_string();
        if preset.is_empty() {
            return Err("no preset name before ':'".into());
        }
        let number = |what: &str, v: Option<&str>| -> Result<Option<u64>, String> {
            v.map(|v| {
                v.parse::<u64>()
                    .map_err(|_| format!("{what} '{v}' is not a whole number"))
            })
            .transpose()
        };
        let epochs = number("epochs", parts.next())?
            .map(u32::try_from)
            .transpose()
            .map_err(|_| "epochs too large".to_string())?;
        let probe = number("probe size", parts.next())?
            .map(usize::try_from)
            .transpose()
            .map_err(|_| "probe size too large".to_string())?;
        if let Some(extra) = parts.next() {
            return Err(format!("unexpected ':{extra}' after PRESET:EPOCHS:PROBE"));
        }
        Ok(Self {
            preset,
            epochs,
            probe,
        })
    }
}

/// A node as users write it: `LAYER:NODE`, 1-based layer, 0-based node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRef {
    /// 0-based layer.
    pub layer: usize,
    /// 0-based node.
    pub node: usize,
}

impl FromStr for NodeRef {
    type Err = String;

    /// `LAYER:NODE` with a 1-based layer.
    fn from_str(s: &str) -> Result<Self, String> {
        let (l, j) = s
            .split_once(':')
            .ok_or_else(|| format!("'{s}' is not LAYER:NODE"))?;
        let layer: usize = l
            .trim()
            .parse()
            .map_err(|_| format!("layer '{}' is not a whole number", l.trim()))?;
        let node: usize = j
            .trim()
            .parse()
            .map_err(|_| format!("node '{}' is not a whole number", j.trim()))?;
        let layer = layer
            .checked_sub(1)
            .ok_or_else(|| "layers count from 1".to_string())?;
        Ok(Self { layer, node })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autostart_and_select_parse_and_refuse_bad_values() {
        assert_eq!(
            "mnist-2x20-ce:3".parse(),
            Ok(Autostart {
                preset: "mnist-2x20-ce".into(),
                epochs: Some(3),
                probe: None
            })
        );
        assert_eq!(
            "p:2:100".parse::<Autostart>().map(|a| a.probe),
            Ok(Some(100))
        );
        assert!("p:three".parse::<Autostart>().is_err());
        assert!(":3".parse::<Autostart>().is_err());
        assert!("p:1:2:3".parse::<Autostart>().is_err());
        assert_eq!("2:17".parse(), Ok(NodeRef { layer: 1, node: 17 }));
        assert!("0:1".parse::<NodeRef>().is_err(), "layers are 1-based");
        assert!("2".parse::<NodeRef>().is_err());
        assert!("a:b".parse::<NodeRef>().is_err());
        assert_eq!(
            "1024x700".parse(),
            Ok(WindowSize {
                width: 1024.0,
                height: 700.0
            })
        );
        assert!("1024".parse::<WindowSize>().is_err());
        assert!("10x700".parse::<WindowSize>().is_err());
        assert!("wide x 700".parse::<WindowSize>().is_err());
    }
}
