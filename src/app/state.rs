//! What the user has selected (run, epoch, node, metric) and the settings kept between runs.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::session::{Metric, Session};

/// Identifies one entry of the runs list for the lifetime of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub u64);

/// The selection every view reads from: one run, one epoch, optionally one node.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Run shown in the plots, node map and node detail.
    pub run: Option<RunId>,
    /// Selected epoch number (0 = before training).
    pub epoch: u32,
    /// Keep the selected epoch on the newest one while a run trains.
    pub follow_latest: bool,
    /// Selected node as (0-based layer, 0-based node).
    pub node: Option<(usize, usize)>,
    /// Metric colouring the node map.
    pub metric: Metric,
    /// Probe sample shown large in the node detail (index into the probe).
    pub probe_row: Option<usize>,
}

impl Default for Selection {
    fn default() -> Self {
        Self {
            run: None,
            epoch: 0,
            follow_latest: true,
            node: None,
            metric: Metric::ActivationFraction,
            probe_row: None,
        }
    }
}

impl Selection {
    /// Selects epoch `epoch` of `session`, snapping to a recorded epoch; following the newest
    /// epoch stays on only when the last one is chosen.
    pub fn set_epoch(&mut self, session: &Session, epoch: u32) {
        let idx = session.epoch_index(epoch).unwrap_or(0);
        self.epoch = session.epochs.get(idx).map_or(0, |e| e.epoch);
        self.follow_latest = self.epoch >= session.epochs_done();
    }

    /// Index of the selected epoch's record in `session` (the nearest earlier one).
    pub fn epoch_index(&self, session: &Session) -> Option<usize> {
        session.epoch_index(self.epoch)
    }

    /// Keeps the selection valid for `session`: node inside its shape, epoch recorded.
    pub fn clamp_to(&mut self, session: &Session) {
        if let Some((l, j)) = self.node
            && session.widths.get(l).is_none_or(|&w| j >= w)
        {
            self.node = None;
        }
        if self.probe_row.is_some_and(|k| k >= session.probe.len()) {
            self.probe_row = None;
        }
        if self.follow_latest || self.epoch > session.epochs_done() {
            self.epoch = session.epochs_done();
        }
    }
}

/// A node as users read it: 1-based layer, 0-based node (as in the CSV export).
pub fn node_label(layer: usize, node: usize) -> String {
    format!("layer {} · node {}", layer + 1, node)
}

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
    /// Grid loss switch: cross-entropy (true) or MSE (false).
    pub grid_ce: bool,
    /// Which node lines the metric plots draw (named apart from the old on/off `node_lines`
    /// so settings saved by earlier versions still load).
    pub node_line_scope: super::node_density::NodeLines,
    /// Show the class composition as fractions of each class instead of counts.
    pub composition_fractions: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            parallel: 2,
            recent: Vec::new(),
            data_dir: None,
            grid_ce: true,
            node_line_scope: super::node_density::NodeLines::Off,
            composition_fractions: false,
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
