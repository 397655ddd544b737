//! Comparing runs: which preset fields differ, how well each did, and when each layer's
//! sample sets were largest.

use super::Session;

/// One run's row of the comparison table.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// Session title (preset, seed, epochs).
    pub title: String,
    /// Test accuracy at the last epoch.
    pub final_test_accuracy: f64,
    /// Best test accuracy and its epoch.
    pub best_test_accuracy: (u32, f64),
    /// Per hidden layer: epoch of the peak mean activation fraction and that value.
    pub peak_fraction: Vec<(u32, f32)>,
}

/// A comparison of two or more sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Preset fields whose values differ: (field, value per run).
    pub differing_fields: Vec<(String, Vec<String>)>,
    /// One summary per run, in the order given.
    pub runs: Vec<RunSummary>,
}

/// The preset's fields as (name, value) text pairs, in a fixed order.
fn preset_fields(s: &Session) -> Vec<(&'static str, String)> {
    let p = &s.preset;
    vec![
        ("dataset", s.dataset.name.clone()),
        ("hidden layers", p.hidden_layers.to_string()),
        ("width", p.width.to_string()),
        ("loss", format!("{:?}", p.loss)),
        ("minibatch", p.batch_size.to_string()),
        ("epochs", p.epochs.to_string()),
        ("learning rate", p.adam.lr.to_string()),
        ("betas", format!("{} / {}", p.adam.beta1, p.adam.beta2)),
        ("init", format!("{:?}", p.init)),
        ("seed", p.seed.to_string()),
        ("probe", p.probe_size.to_string()),
        ("threads", s.threads.to_string()),
    ]
}

/// Compares `sessions` (any number; shapes may differ).
pub fn compare(sessions: &[&Session]) -> Comparison {
    let fields: Vec<Vec<(&str, String)>> = sessions.iter().map(|s| preset_fields(s)).collect();
    let mut differing_fields = Vec::new();
    if let Some(first) = fields.first() {
        for (i, (name, _)) in first.iter().enumerate() {
            let values: Vec<String> = fields.iter().map(|f| f[i].1.clone()).collect();
            if values.iter().any(|v| v != &values[0]) {
                differing_fields.push(((*name).to_string(), values));
            }
        }
    }
    let runs = sessions
        .iter()
        .map(|s| RunSummary {
            title: s.title(),
            final_test_accuracy: s.epochs.last().map_or(f64::NAN, |e| e.test_accuracy),
            best_test_accuracy: s.epochs.iter().map(|e| (e.epoch, e.test_accuracy)).fold(
                (0, f64::NAN),
                |b, p| if b.1.is_nan() || p.1 > b.1 { p } else { b },
            ),
            peak_fraction: (0..s.widths.len())
                .map(|l| s.peak_fraction_epoch(l).unwrap_or((0, f32::NAN)))
                .collect(),
        })
        .collect();
    Comparison {
        differing_fields,
        runs,
    }
}

/// Maps a node position of one run to another run's shape: the same layer and node where
/// both exist, `None` otherwise.
pub fn same_position(to: &Session, layer: usize, node: usize) -> Option<(usize, usize)> {
    (to.widths.get(layer).is_some_and(|&w| node < w)).then_some((layer, node))
}
