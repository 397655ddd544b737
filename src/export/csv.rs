//! CSV of per-node numbers: one row per (epoch, layer, node).

use std::fmt::Write;

use crate::measure::node_metrics;
use crate::session::{Metric, Session};

/// Header then one row per (record, layer, node):
/// - `step`: minibatch steps trained before the record (0 = before training);
/// - `epoch`: the record's position, `step / steps_per_epoch`, in epochs (decimal);
/// - `layer` (1-based), `node` (0-based);
/// - `on_class_0..on_class_{C-1}`: samples of each class that switch the node on;
/// - one column per metric of [`Metric::ALL`] named by its
///   [`crate::session::MetricInfo::column`] (`activation_fraction, predictability,
///   informativeness, overlap`; overlap is the Jaccard similarity with the previous record's
///   sample set, high when the set stayed the same, empty at the first; files written before
///   called it `churn`), empty where a metric has no value;
/// - `added`, `removed`: samples that entered / left the sample set since the previous
///   record (empty at the first record and in records from before schema 2);
/// - `phi_mean_abs`: mean |φ| (node-supported cost) over the sample set, empty for an empty
///   set or without cost data;
/// - `phi_class_0..phi_class_{C-1}`: mean signed φ over the set's samples of each class
///   (empty where the set has none);
/// - `settled_share`: share of the set's samples that are settled (empty as `phi_mean_abs`).
pub fn nodes_csv(s: &Session) -> String {
    let classes = s.classes();
    let mut out = String::from("step,epoch,layer,node");
    for c in 0..classes {
        let _ = write!(out, ",on_class_{c}");
    }
    for m in Metric::ALL {
        let _ = write!(out, ",{}", m.info().column);
    }
    out.push_str(",added,removed,phi_mean_abs");
    for c in 0..classes {
        let _ = write!(out, ",phi_class_{c}");
    }
    out.push_str(",settled_share\n");
    let spe = s.steps_per_epoch();
    let opt = |v: Option<f32>| v.map_or_else(String::new, |v| format!("{v:.6e}"));
    for e in &s.epochs {
        for (l, layer) in e.layers.iter().enumerate() {
            for (j, on) in layer.counts.chunks_exact(classes).enumerate() {
                let _ = write!(out, "{},{:.6},{},{}", e.step, e.position(spe), l + 1, j);
                for c in on {
                    let _ = write!(out, ",{c}");
                }
                let metrics = node_metrics(on, &s.dataset.train_class_counts);
                let churn = layer.churn.get(j).copied();
                for m in Metric::ALL {
                    let v = m.value(&metrics, churn);
                    let _ = write!(
                        out,
                        ",{}",
                        v.map_or_else(String::new, |v| format!("{v:.6}"))
                    );
                }
                match (layer.added.get(j), layer.removed.get(j)) {
                    (Some(a), Some(r)) => {
                        let _ = write!(out, ",{a},{r}");
                    }
                    _ => out.push_str(",,"),
                }
                let _ = write!(out, ",{}", opt(layer.cost_mean_abs(j)));
                for c in 0..classes {
                    let mean = layer
                        .cost
                        .as_ref()
                        .and_then(|k| k.class_mean(j, c, classes));
                    let _ = write!(out, ",{}", opt(mean));
                }
                let share = layer.settled_share(j, classes);
                let _ = writeln!(
                    out,
                    ",{}",
                    share.map_or_else(String::new, |v| format!("{v:.6}"))
                );
            }
        }
    }
    out
}

/// A metric value as CSV text: six decimals, empty when undefined.
fn value(v: Option<f32>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.6}"))
}

/// The numbers behind one figure, as CSV (what the figure of the same kind draws).
///
/// Records are named by `step` (minibatches trained) and `epoch`, the record's position on
/// the epoch axis (`step / steps_per_epoch`, a decimal inside epoch 1), as the figures place
/// them.
///
/// - loss / accuracy: `step,epoch,train,test`;
/// - per-layer metric: `step,epoch,layer,mean,q1,median,q3`;
/// - node map: `layer,node,<metric>` at record `epoch_index`;
/// - node raster: `probe_index,sample_index,class,s<step>...` with 1 where the sample is in
///   the node's sample set;
/// - node composition: `step,epoch,on_class_0..` (counts) or `step,epoch,fraction_class_0..`
///   (count / class size);
/// - node metrics: `step,epoch` and one column per metric ([`Metric::ALL`]) for the node,
///   then the layer means of the same (`layer_mean_<column>`).
pub fn figure_csv(
    s: &Session,
    kind: crate::export::figures::FigureKind,
    node: Option<(usize, usize)>,
    epoch_index: usize,
) -> String {
    use crate::export::figures::FigureKind as K;
    let mut out = String::new();
    let classes = s.classes();
    let (l, j) = node.unwrap_or((0, 0));
    let opt = value;
    let spe = s.steps_per_epoch();
    // "step,epoch" of a record.
    let at = |e: &crate::session::EpochRecord| format!("{},{}", e.step, position(e.position(spe)));
    match kind {
        K::Loss | K::Accuracy => {
            out.push_str("step,epoch,train,test\n");
            for e in &s.epochs {
                let (a, b) = if kind == K::Loss {
                    (e.train_loss, e.test_loss)
                } else {
                    (e.train_accuracy, e.test_accuracy)
                };
                let _ = writeln!(out, "{},{a:.6},{b:.6}", at(e));
            }
        }
        K::Metric(m) => {
            out.push_str("step,epoch,layer,mean,q1,median,q3\n");
            for e in &s.epochs {
                for (li, layer) in e.layers.iter().enumerate() {
                    if let Some(q) = m.of_summary(&layer.summary) {
                        let _ = writeln!(
                            out,
                            "{},{},{:.6},{:.6},{:.6},{:.6}",
                            at(e),
                            li + 1,
                            q.mean,
                            q.q1,
                            q.median,
                            q.q3
                        );
                    }
                }
            }
        }
        K::NodeMap(m) => {
            let _ = writeln!(out, "layer,node,{}", m.slug());
            for (li, values) in s.layer_values(epoch_index, m).iter().enumerate() {
                for (nj, v) in values.iter().enumerate() {
                    let _ = writeln!(out, "{},{nj},{}", li + 1, opt((!v.is_nan()).then_some(*v)));
                }
            }
        }
        K::NodeRaster => {
            out.push_str("probe_index,sample_index,class");
            for e in &s.epochs {
                let _ = write!(out, ",s{}", e.step);
            }
            out.push('\n');
            for k in 0..s.probe.len() {
                let _ = write!(out, "{k},{},{}", s.probe.indices[k], s.probe.labels[k]);
                for ei in 0..s.epochs.len() {
                    out.push_str(if s.probe_member(ei, l, j, k) {
                        ",1"
                    } else {
                        ",0"
                    });
                }
                out.push('\n');
            }
        }
        K::NodeComposition { fractions } => {
            out.push_str("step,epoch");
            for c in 0..classes {
                let _ = write!(
                    out,
                    ",{}_class_{c}",
                    if fractions { "fraction" } else { "on" }
                );
            }
            out.push('\n');
            for (ei, e) in s.epochs.iter().enumerate() {
                let _ = write!(out, "{}", at(e));
                for (c, &on) in s.node_counts(ei, l, j).unwrap_or(&[]).iter().enumerate() {
                    if fractions {
                        let total = s
                            .dataset
                            .train_class_counts
                            .get(c)
                            .copied()
                            .unwrap_or(0)
                            .max(1);
                        let _ = write!(out, ",{:.6}", f64::from(on) / f64::from(total));
                    } else {
                        let _ = write!(out, ",{on}");
                    }
                }
                out.push('\n');
            }
        }
        K::NodeMetrics => {
            out.push_str("step,epoch");
            for m in Metric::ALL {
                let _ = write!(out, ",{}", m.info().column);
            }
            for m in Metric::ALL {
                let _ = write!(out, ",layer_mean_{}", m.info().column);
            }
            out.push('\n');
            for (ei, e) in s.epochs.iter().enumerate() {
                let _ = write!(out, "{}", at(e));
                for m in Metric::ALL {
                    let _ = write!(out, ",{}", opt(s.node_value(ei, l, j, m)));
                }
                for m in Metric::ALL {
                    let v = e
                        .layers
                        .get(l)
                        .and_then(|layer| m.of_summary(&layer.summary))
                        .map(|q| q.mean);
                    let _ = write!(out, ",{}", opt(v));
                }
                out.push('\n');
            }
        }
    }
    out
}

/// A position on the epoch axis for CSV: whole epochs as integers, others with six decimals.
fn position(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        format!("{p:.6}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_csv_columns_follow_the_metric_list() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/example-schema1-2x80-ce.ron"
        );
        let s = crate::session::load(std::path::Path::new(path)).unwrap();
        let csv = nodes_csv(&s);
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let classes = s.classes();
        // Adding a metric to `Metric::ALL` adds its column here, in that order, between the
        // class counts and the turnover and node-supported cost columns.
        let metrics_at = 4 + classes;
        let extra = 3 + classes + 1; // added, removed, phi_mean_abs, phi_class_*, settled_share
        assert_eq!(header.len(), metrics_at + Metric::ALL.len() + extra);
        let tail: Vec<&str> = Metric::ALL.iter().map(|m| m.info().column).collect();
        assert_eq!(header[metrics_at..metrics_at + Metric::ALL.len()], tail[..]);
        assert_eq!(
            tail,
            [
                "activation_fraction",
                "predictability",
                "informativeness",
                "overlap"
            ]
        );
        // Every row has a field per column; the overlap is empty at the first record only.
        for line in lines {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{line}");
            let overlap = metrics_at + Metric::ALL.len() - 1;
            let overlap_empty = fields.get(overlap).is_some_and(|c| c.is_empty());
            assert_eq!(overlap_empty, fields[0] == "0", "{line}");
        }
    }
}
