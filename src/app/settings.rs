//! Settings kept between runs of the app (eframe storage).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Settings persisted with eframe storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// How many runs train at the same time.
    pub parallel: usize,
    /// Recently opened or written session files, newest first.
    pub recent: Vec<PathBuf>,
    /// Data folder chosen in the app.
    pub data_dir: Option<PathBuf>,
    /// Loss last chosen with the grid switch: cross-entropy (true) or MSE (false); the form
    /// starts on it.
    pub grid_ce: bool,
    /// Which node lines the metric plots draw (named apart from the old on/off `node_lines`
    /// so settings saved by earlier versions still load).
    pub node_line_scope: NodeLines,
    /// Show the class composition as fractions of each class instead of counts.
    pub composition_fractions: bool,
    /// Folder of the last export (where the next one is offered).
    pub export_dir: Option<PathBuf>,
    /// Session files of the runs list when the app was last closed, in list order: read
    /// again (in the background) at the next start.
    pub open_runs: Vec<PathBuf>,
    /// Session file of the run shown when the app was last closed (shown again first).
    pub shown_run: Option<PathBuf>,
    /// Show the UI frame time in the menu bar (View > Debug; for developers).
    pub show_frame_time: bool,
    /// The left panel (grid, form, runs) is open.
    pub left_panel: bool,
    /// The right panel (node detail) is open.
    pub detail_panel: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            parallel: 2,
            recent: Vec::new(),
            data_dir: None,
            grid_ce: true,
            node_line_scope: NodeLines::Off,
            composition_fractions: false,
            export_dir: None,
            open_runs: Vec::new(),
            shown_run: None,
            show_frame_time: false,
            left_panel: true,
            detail_panel: true,
        }
    }
}

/// Most entries kept in the recent-files list.
pub const MAX_RECENT: usize = 10;

impl Settings {
    /// Puts `path` first in the recent list.
    pub fn push_recent(&mut self, path: PathBuf) {
        self.recent.retain(|p| p != &path);
        self.recent.insert(0, path);
        self.recent.truncate(MAX_RECENT);
    }
}

/// Which node lines the metric plots draw.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeLines {
    /// None: layer bands and the selected node only (the cheap default).
    #[default]
    Off,
    /// Every node of the selected node's layer (layer 1 when no node is selected).
    Layer,
    /// Every hidden node of the run, coloured by layer.
    All,
}

impl NodeLines {
    /// Every choice, in menu order.
    pub const ALL: [NodeLines; 3] = [NodeLines::Off, NodeLines::Layer, NodeLines::All];

    /// Label in menus.
    pub fn label(self) -> &'static str {
        match self {
            NodeLines::Off => "off",
            NodeLines::Layer => "selected layer",
            NodeLines::All => "all layers",
        }
    }

    /// The layers drawn when the selected node is in `layer`, of `layers` in all.
    pub fn layers(self, layer: usize, layers: usize) -> std::ops::Range<usize> {
        match self {
            NodeLines::Off => 0..0,
            NodeLines::Layer => layer.min(layers)..(layer + 1).min(layers),
            NodeLines::All => 0..layers,
        }
    }
}

/// One setting changed from a view.
#[derive(Debug, Clone, PartialEq)]
pub enum Setting {
    /// Runs training at the same time.
    Parallel(usize),
    /// The grid's loss: cross-entropy (true) or MSE (false).
    GridCrossEntropy(bool),
    /// Node lines in the metric plots.
    NodeLines(NodeLines),
    /// Class composition as fractions of each class.
    CompositionFractions(bool),
    /// The UI frame time in the menu bar.
    ShowFrameTime(bool),
    /// Open (true) or close the left panel.
    LeftPanel(bool),
    /// Open (true) or close the node detail panel.
    DetailPanel(bool),
}

impl Settings {
    /// Applies one change.
    pub fn set(&mut self, change: Setting) {
        match change {
            Setting::Parallel(n) => self.parallel = n.clamp(1, 8),
            Setting::GridCrossEntropy(ce) => self.grid_ce = ce,
            Setting::NodeLines(n) => self.node_line_scope = n,
            Setting::CompositionFractions(f) => self.composition_fractions = f,
            Setting::ShowFrameTime(on) => self.show_frame_time = on,
            Setting::LeftPanel(open) => self.left_panel = open,
            Setting::DetailPanel(open) => self.detail_panel = open,
        }
    }
}
