//! Seed groups: runs that differ only in seed ([`crate::grid::group_presets`]) drawn as the
//! mean over the seeds with the min..max band over them behind it. Compare draws the compared
//! runs' groups as one column each ([`SeedGroups`]); Explore draws the shown run's group in
//! its own plots ([`seed_siblings`], [`mean_over_seeds`]).

use egui::{Color32, Ui};
use egui_plot::PlotPoint;

use super::colors::{NEUTRAL, layer_color};
use super::epoch_axis::{EpochAxis, OverSeeds, PlotSpec, Series, epoch_text};
use crate::app::grid_folder::LayerBand;
use crate::app::runs::RunId;
use crate::grid::{RunSummary, group_presets, group_runs, seed_band, seed_stats, seeds_text};
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
    let stats = seed_stats(
        runs.iter()
            .map(|r| r.epochs.iter().map(|e| (e.epoch, e.test_accuracy))),
    );
    band_of(
        stats
            .into_iter()
            .map(|(epoch, st)| (epoch, st.mean, st.min, st.max)),
    )
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

/// The runs among `open` (id, version, session) that differ from run `shown` only in seed
/// ([`group_presets`]), the shown run included, one run per seed, by increasing seed: (id,
/// seed). Two runs of the same seed (a copy of a file) are one seed: the shown run is kept,
/// else the first opened. Empty when `shown` is not in `open`.
pub fn seed_siblings(shown: RunId, open: &[(RunId, u64, &Session)]) -> Vec<(RunId, u64)> {
    let Some(at) = open.iter().position(|o| o.0 == shown) else {
        return Vec::new();
    };
    let Some(group) = group_presets(open.iter().map(|o| &o.2.preset))
        .into_iter()
        .find(|g| g.members.contains(&at))
    else {
        return Vec::new();
    };
    let mut siblings: Vec<(RunId, u64)> = Vec::new();
    for &i in &group.members {
        let Some(&(id, _, s)) = open.get(i) else {
            continue;
        };
        let seed = s.preset.seed;
        match siblings.iter_mut().find(|m| m.1 == seed) {
            Some(m) if id == shown => m.0 = id,
            Some(_) => {}
            None => siblings.push((id, seed)),
        }
    }
    siblings
}

/// Opacity of a seed band behind a line that had none of its own (loss, accuracy).
const LINE_BAND_ALPHA: f32 = 0.2;

/// One plot's series as the mean over a group's seeds: for each series of `members[0]` (the
/// shown run's), the same-named series of every member (their `(series, steps per epoch)`),
/// matched record by record by step (`position * steps_per_epoch`, rounded), averaged over the
/// members that have a finite value at that step ([`seed_stats`]: a seed that has not reached
/// a step is left out of it), with the min..max over them as the band and the count of seeds
/// per point for the tooltip. Points sit at `step / shown_steps_per_epoch`; `group` is the
/// number of seeds in the group. Colours, styles and legend keys stay the shown run's.
pub fn mean_over_seeds(
    members: &[(&[Series], u64)],
    shown_steps_per_epoch: u64,
    group: usize,
) -> Vec<Series> {
    let Some(&(shown, _)) = members.first() else {
        return Vec::new();
    };
    let spe = shown_steps_per_epoch.max(1) as f64;
    shown
        .iter()
        .map(|own| {
            let stats = seed_stats(members.iter().filter_map(|&(list, member_spe)| {
                let s = list.iter().find(|s| s.name == own.name)?;
                let member_spe = member_spe.max(1) as f64;
                Some(s.points.iter().map(move |p| {
                    let step = (p[0] * member_spe).round().max(0.0) as u64;
                    (step, p[1])
                }))
            }));
            // The q1..q3 of a run's per-sample loss becomes the band over seeds: its name
            // says which.
            let name = own.name.replace(", q1..q3", "");
            let mut s = Series::line(
                name,
                own.color,
                stats
                    .iter()
                    .map(|(step, st)| [*step as f64 / spe, st.mean])
                    .collect(),
            )
            .key(own.key.clone())
            .style(own.style)
            .width(own.width)
            .format(own.format)
            .band_alpha(if own.band.is_some() {
                own.band_alpha
            } else {
                LINE_BAND_ALPHA
            });
            s.note = own.note;
            s.band = Some(stats.iter().map(|(_, st)| (st.min, st.max)).collect());
            s.over_seeds = Some(OverSeeds {
                group,
                counts: stats.iter().map(|(_, st)| st.seeds).collect(),
            });
            s
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plot_of_three_seeds_of_different_lengths_is_their_mean_with_the_min_max_band() {
        let spe = 469;
        let pos = |step: u64| step as f64 / spe as f64;
        let run = |values: &[(u64, f64)]| {
            vec![
                Series::line(
                    "layer 1",
                    NEUTRAL,
                    values.iter().map(|&(k, v)| [pos(k), v]).collect(),
                ),
                Series::line(
                    "train",
                    NEUTRAL,
                    values.iter().map(|&(k, _)| [pos(k), 1.0]).collect(),
                ),
            ]
        };
        // Seed 2 stopped after epoch 1; seed 3 has a NaN (diverged) at step 2.
        let a = run(&[(0, 0.5), (2, 0.4), (469, 0.3), (938, 0.2)]);
        let b = run(&[(0, 0.7), (2, 0.6), (469, 0.5)]);
        let c = run(&[(0, 0.6), (2, f64::NAN), (469, 0.1)]);
        let out = mean_over_seeds(&[(&a, spe), (&b, spe), (&c, spe)], spe, 3);
        assert_eq!(out.len(), 2);
        let l1 = &out[0];
        assert_eq!(l1.name, "layer 1");
        let xs: Vec<f64> = l1.points.iter().map(|p| p[0]).collect();
        assert_eq!(xs, vec![0.0, pos(2), 1.0, 2.0]);
        let ys: Vec<f64> = l1.points.iter().map(|p| p[1]).collect();
        for (y, want) in ys.iter().zip([0.6, 0.5, 0.3, 0.2]) {
            assert!((y - want).abs() < 1e-12, "{ys:?}");
        }
        assert_eq!(
            l1.band.clone().unwrap(),
            vec![(0.5, 0.7), (0.4, 0.6), (0.1, 0.5), (0.2, 0.2)]
        );
        assert_eq!(l1.over_seeds.as_ref().unwrap().counts, vec![3, 2, 3, 1]);
        assert_eq!(l1.over_seeds.as_ref().unwrap().group, 3);
        // Every series of the shown run gets its group line, with its own band.
        assert_eq!(out[1].name, "train");
        assert_eq!(out[1].band.as_ref().unwrap()[0], (1.0, 1.0));
    }

    #[test]
    fn nothing_to_average_gives_no_series() {
        assert!(mean_over_seeds(&[], 469, 2).is_empty());
    }
}
