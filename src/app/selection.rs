//! What the user has selected (run, record, node, metric, probe sample): what every view
//! shows. Changed only by the command handler, and kept valid for the selected run's session
//! once per frame.

use super::runs::RunId;
use crate::session::{Metric, Session};

/// The selection every view reads from: one run, one record (by step), optionally one node.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Run shown in the plots, node map and node detail.
    pub run: Option<RunId>,
    /// Selected record's step (minibatches trained, 0 = before training); views show the
    /// record at or before it ([`Selection::record_index`]).
    pub step: u64,
    /// Keep the selection on the newest record while a run trains.
    pub follow_latest: bool,
    /// Selected node as (0-based layer, 0-based node).
    pub node: Option<(usize, usize)>,
    /// Metric colouring the node map.
    pub metric: Metric,
    /// Probe sample shown large in the node detail (index into the probe).
    pub probe_row: Option<usize>,
    /// Explore's plots show the mean over the open runs that differ from the shown one only
    /// in seed (with the min..max band) instead of the shown run alone, while there are such
    /// runs. Node-level views always show the shown run.
    pub seeds_as_group: bool,
}

impl Default for Selection {
    fn default() -> Self {
        Self {
            run: None,
            step: 0,
            follow_latest: true,
            node: None,
            metric: Metric::ActivationFraction,
            probe_row: None,
            seeds_as_group: false,
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

    /// Selects the record of `session` at or before `step` (the first record when `step` is
    /// before it); following the newest record stays on only when the last one is chosen.
    pub fn set_step(&mut self, session: &Session, step: u64) {
        let idx = session.record_index_at(step).unwrap_or(0);
        self.step = session.epochs.get(idx).map_or(0, |e| e.step);
        self.follow_latest = idx + 1 >= session.epochs.len();
    }

    /// Index of the selected record in `session`: the record at or before the selected step.
    pub fn record_index(&self, session: &Session) -> Option<usize> {
        session
            .record_index_at(self.step)
            .or_else(|| (!session.epochs.is_empty()).then_some(0))
    }

    /// The selected record's position on the epoch axis of `session`, in epochs.
    pub fn position(&self, session: &Session) -> f64 {
        self.record_index(session)
            .and_then(|i| session.record_position(i))
            .unwrap_or(0.0)
    }

    /// The selected step as a position on the epoch axis of `session` (not snapped to a
    /// record): what Compare's shared axis marks.
    pub fn step_position(&self, session: &Session) -> f64 {
        session.position(self.step)
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
        let last = session.epochs.last().map_or(0, |e| e.step);
        if self.follow_latest || self.step > last {
            self.step = last;
        }
    }
}

/// The step at `position` epochs of `session` (rounded to the nearest step; negative and
/// non-finite positions give step 0).
pub fn step_at(session: &Session, position: f64) -> u64 {
    let step = (position * session.steps_per_epoch() as f64).round();
    if step.is_finite() && step > 0.0 {
        step as u64
    } else {
        0
    }
}

/// How a record is named to users: "epoch 3" at an epoch end, "epoch 0.27 (step 128)" inside
/// an epoch.
pub fn record_label(session: &Session, index: usize) -> String {
    let Some(e) = session.epochs.get(index) else {
        return "no record".into();
    };
    position_label(e.step, session.steps_per_epoch())
}

/// [`record_label`] from a step and the steps per epoch.
pub fn position_label(step: u64, steps_per_epoch: u64) -> String {
    let spe = steps_per_epoch.max(1);
    if step.is_multiple_of(spe) {
        format!("epoch {}", step / spe)
    } else {
        let p = step as f64 / spe as f64;
        let digits = if p < 0.01 {
            4
        } else if p < 0.1 {
            3
        } else {
            2
        };
        format!("epoch {p:.digits$} (step {step})")
    }
}

/// A node as users read it: 1-based layer, 0-based node (as in the CSV export).
pub fn node_label(layer: usize, node: usize) -> String {
    format!("layer {} · node {}", layer + 1, node)
}
