//! CSV of per-node numbers: one row per (epoch, layer, node).

use std::fmt::Write;

use crate::measure::node_metrics;
use crate::session::Session;

/// Header then one row per (epoch, layer, node): `epoch, layer` (1-based), `node` (0-based),
/// `on_class_0..on_class_{C-1}` (samples of each class that switch the node on),
/// `activation_fraction, predictability, informativeness` and `churn` (Jaccard with the
/// previous epoch; empty at epoch 0).
pub fn nodes_csv(s: &Session) -> String {
    let classes = s.classes();
    let mut out = String::from("epoch,layer,node");
    for c in 0..classes {
        let _ = write!(out, ",on_class_{c}");
    }
    out.push_str(",activation_fraction,predictability,informativeness,churn\n");
    for e in &s.epochs {
        for (l, layer) in e.layers.iter().enumerate() {
            for (j, on) in layer.counts.chunks_exact(classes).enumerate() {
                let _ = write!(out, "{},{},{}", e.epoch, l + 1, j);
                for c in on {
                    let _ = write!(out, ",{c}");
                }
                let m = node_metrics(on, &s.dataset.train_class_counts);
                let _ = write!(
                    out,
                    ",{:.6},{:.6},{:.6},",
                    m.activation_fraction, m.predictability, m.informativeness
                );
                if let Some(c) = layer.churn.get(j) {
                    let _ = write!(out, "{c:.6}");
                }
                out.push('\n');
            }
        }
    }
    out
}
