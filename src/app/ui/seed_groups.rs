//! Compare's seed groups: the runs being compared that differ only in seed
//! ([`crate::grid::group_runs`]) drawn as one column each, every quantity as the mean over
//! the seeds with the min..max band over them behind it.

use egui::{Color32, Ui};
use egui_plot::PlotPoint;

use super::colors::{NEUTRAL, layer_color};
use super::epoch_axis::{EpochAxis, PlotSpec, Series, epoch_text};
use crate::app::grid_folder::LayerBand;
use crate::app::runs::RunId;
use crate::grid::{RunSummary, group_runs, seed_band, seeds_text};
use crate::session::{Metric, Session};

/// Opacity of the seed bands.
const BAND_ALPHA: f32 = 0.25;

/// One group's lines.
struct GroupLines {
    /// "mnist-2x20-ce · seeds 1,2".
    title: String,
    /// Test accuracy over epochs.
    accuracy: LayerBand,
    /// Per headline metric, per hidden layer.
    metrics: Vec<Vec<LayerBand>>,
}

/// The groups of the compared runs, kept until a run or its session changes.
#[derive(Default)]
pub struct SeedGroups {
    key: Vec<(RunId, u64)>,
    groups: Vec<GroupLines>,
}

fn band_of(points: impl Iterator<Item = (u32, f64, f64, f64)>) -> LayerBand {
    let mut b = LayerBand::default();
    for (epoch, mean, lo, hi) in points {
        b.xs.push(f64::from(epoch));
        b.lo.push(lo);
        b.hi.push(hi);
        b.mean.push(PlotPoint::new(f64::from(epoch), mean));
    }
    b
}

/// Test accuracy of `runs` per epoch: mean, min and max over the runs that reached it.
fn accuracy_band(runs: &[&RunSummary]) -> LayerBand {
    let mut by_epoch: std::collections::BTreeMap<u32, Vec<f64>> = Default::default();
    for r in runs {
        for e in &r.epochs {
            if e.test_accuracy.is_finite() {
                by_epoch.entry(e.epoch).or_default().push(e.test_accuracy);
            }
        }
    }
    band_of(by_epoch.into_iter().map(|(epoch, v)| {
        let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (epoch, mean, lo, hi)
    }))
}

impl SeedGroups {
    /// Regroups `chosen` when a run or a session changed since the last call.
    fn update(&mut self, chosen: &[(RunId, u64, &Session)]) {
        let key: Vec<(RunId, u64)> = chosen.iter().map(|(id, v, _)| (*id, *v)).collect();
        if key == self.key {
            return;
        }
        let runs: Vec<RunSummary> = chosen
            .iter()
            .map(|(id, _, s)| RunSummary::from_session(s, format!("run {}", id.0).as_ref()))
            .collect();
        self.groups = group_runs(&runs)
            .into_iter()
            .map(|g| {
                let members: Vec<&RunSummary> = g.runs(&runs).collect();
                GroupLines {
                    title: format!("{} · seeds {}", g.preset.name, seeds_text(&g.seeds(&runs))),
                    accuracy: accuracy_band(&members),
                    metrics: Metric::headline()
                        .map(|m| {
                            (0..g.preset.hidden_layers)
                                .map(|l| {
                                    band_of(seed_band(members.iter().copied(), l, m).iter().map(
                                        |p| {
                                            (
                                                p.epoch,
                                                f64::from(p.mean),
                                                f64::from(p.min),
                                                f64::from(p.max),
                                            )
                                        },
                                    ))
                                })
                                .collect()
                        })
                        .collect(),
                }
            })
            .collect();
        self.key = key;
    }

    /// Draws one column per group of `chosen`: test accuracy, then each headline metric's
    /// layer means, as mean over seeds with the min..max band, on `axis` (epochs; the groups
    /// hold epoch-end records only, so no selected-record marker is drawn).
    pub fn ui(&mut self, ui: &mut Ui, chosen: &[(RunId, u64, &Session)], axis: &EpochAxis) {
        self.update(chosen);
        let n = self.groups.len().max(1);
        let w = (ui.available_width() / n as f32 - 8.0).max(120.0);
        let label = |p: f64| format!("epoch {}", epoch_text(p));
        ui.columns(n, |cols| {
            for (i, (c, g)) in cols.iter_mut().zip(&self.groups).enumerate() {
                c.strong(&g.title);
                let accuracy = [series("test accuracy", &g.accuracy, NEUTRAL)];
                let spec = PlotSpec::new(format!("seeds-{i}-accuracy"), w, 120.0, "test accuracy");
                axis.show(c, &spec, &accuracy, &[], None, &label, |_, _| {});
                let max_layers = g.metrics.iter().map(Vec::len).max().unwrap_or(0);
                for (m, layers) in Metric::headline().zip(&g.metrics) {
                    let lines: Vec<Series> = layers
                        .iter()
                        .enumerate()
                        .map(|(l, b)| {
                            series(&format!("layer {}", l + 1), b, layer_color(l, max_layers))
                        })
                        .collect();
                    let spec =
                        PlotSpec::new(format!("seeds-{i}-{}", m.slug()), w, 120.0, m.info().name);
                    axis.show(c, &spec, &lines, &[], None, &label, |_, _| {});
                }
            }
        });
    }
}

/// A mean line over seeds named `name` with its min..max band, in `color`.
fn series(name: &str, b: &LayerBand, color: Color32) -> Series {
    let points = b.mean.iter().map(|p| [p.x, p.y]).collect();
    let mut s = Series::line(name, color, points).band_alpha(BAND_ALPHA);
    s.band = Some(b.lo.iter().copied().zip(b.hi.iter().copied()).collect());
    s
}
