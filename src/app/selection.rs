//! What the user has selected (run, epoch, node, metric, probe sample): what every view
//! shows. Changed only by the command handler, and kept valid for the selected run's session
//! once per frame.

use super::runs::RunId;
use crate::session::{Metric, Session};

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
    /// Shows run `id`: a different run starts on its newest epoch with no probe sample.
    pub fn select_run(&mut self, id: RunId) {
        if self.run != Some(id) {
            self.run = Some(id);
            self.follow_latest = true;
            self.probe_row = None;
        }
    }

    /// Selects `node` (0-based layer, node), or none; the probe sample shown is dropped.
    pub fn select_node(&mut self, node: Option<(usize, usize)>) {
        self.node = node;
        self.probe_row = None;
    }

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
