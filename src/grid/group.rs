//! Seeds: runs that differ only in their seed form a group, shown as the mean over seeds with
//! a min..max band.

use std::collections::BTreeMap;

use super::summary::RunSummary;
use crate::preset::Preset;
use crate::session::Metric;

/// Runs whose presets are equal in every field but the seed.
#[derive(Debug, Clone, PartialEq)]
pub struct RunGroup {
    /// The shared preset (its `seed` is the first member's).
    pub preset: Preset,
    /// Indices of the members in the slice given to [`group_runs`], by increasing seed.
    pub members: Vec<usize>,
}

impl RunGroup {
    /// The members' seeds, increasing.
    pub fn seeds(&self, runs: &[RunSummary]) -> Vec<u64> {
        self.members
            .iter()
            .filter_map(|&i| runs.get(i))
            .map(|r| r.preset.seed)
            .collect()
    }

    /// The members themselves.
    pub fn runs<'a>(&'a self, runs: &'a [RunSummary]) -> impl Iterator<Item = &'a RunSummary> {
        self.members.iter().filter_map(|&i| runs.get(i))
    }
}

/// True when `a` and `b` are the same preset but for the seed.
pub fn same_but_seed(a: &Preset, b: &Preset) -> bool {
    let mut b = b.clone();
    b.seed = a.seed;
    *a == b
}

/// Groups `runs` by preset-but-seed, groups in order of their first run, members by seed.
/// Two files of the same preset and seed (copies) stay in one group, both listed.
pub fn group_runs(runs: &[RunSummary]) -> Vec<RunGroup> {
    group_presets(runs.iter().map(|r| &r.preset))
}

/// Groups `presets` (of the runs open somewhere, in their order) by preset-but-seed
/// ([`same_but_seed`]): groups in order of their first preset, members (indices into
/// `presets`) by seed, then by index. The grouping [`group_runs`] and the app's Explore share.
pub fn group_presets<'a>(presets: impl IntoIterator<Item = &'a Preset>) -> Vec<RunGroup> {
    let presets: Vec<&Preset> = presets.into_iter().collect();
    let mut groups: Vec<RunGroup> = Vec::new();
    for (i, p) in presets.iter().enumerate() {
        match groups.iter_mut().find(|g| same_but_seed(&g.preset, p)) {
            Some(g) => g.members.push(i),
            None => groups.push(RunGroup {
                preset: (*p).clone(),
                members: vec![i],
            }),
        }
    }
    for g in &mut groups {
        g.members.sort_by_key(|&i| (presets[i].seed, i));
        if let Some(&first) = g.members.first() {
            g.preset.seed = presets[first].seed;
        }
    }
    groups
}

/// The axes of the paper's layout for `presets`: the losses (cross-entropy first, then MSE,
/// then any other by name), the hidden-layer counts (rows) and the widths (columns), each
/// sorted and without repeats. The Grid tab and the exported grid figure place cells by them.
pub fn layout_axes<'a>(
    presets: impl IntoIterator<Item = &'a Preset>,
) -> (Vec<String>, Vec<usize>, Vec<usize>) {
    let mut losses: Vec<String> = Vec::new();
    let (mut rows, mut cols) = (Vec::new(), Vec::new());
    for p in presets {
        let loss = p.loss.short_name().to_string();
        if !losses.contains(&loss) {
            losses.push(loss);
        }
        rows.push(p.hidden_layers);
        cols.push(p.width);
    }
    let rank = |l: &String| match l.as_str() {
        "ce" => (0, l.clone()),
        "mse" => (1, l.clone()),
        _ => (2, l.clone()),
    };
    losses.sort_by_key(rank);
    rows.sort_unstable();
    rows.dedup();
    cols.sort_unstable();
    cols.dedup();
    (losses, rows, cols)
}

/// One epoch of a group's layer series: the layer mean of each seed's run, condensed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedBandPoint {
    /// Epoch number.
    pub epoch: u32,
    /// Mean over seeds of the layer mean.
    pub mean: f32,
    /// Smallest layer mean among the seeds.
    pub min: f32,
    /// Largest layer mean among the seeds.
    pub max: f32,
    /// Seeds with a record at this epoch (fewer than the group's while some runs lag).
    pub seeds: usize,
}

/// Mean, smallest and largest value over the seeds that have a value at one place of the
/// time line (an epoch, a step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeedStats {
    /// Mean over those seeds (summed in f64).
    pub mean: f64,
    /// Smallest value among them.
    pub min: f64,
    /// Largest value among them.
    pub max: f64,
    /// How many seeds had a finite value there (fewer than the group's while some lag).
    pub seeds: usize,
}

/// Per place `K` (an epoch, a step), the [`SeedStats`] over `runs`, each run given as its
/// (place, value) pairs: places in increasing order, each over the runs that reached it (a
/// run that stopped earlier, or has no record there, is left out of that place's mean, not
/// counted as zero). Non-finite values (a diverged loss, an undefined metric) are left out
/// the same way; a place no run has a finite value at is absent. Cost: one pass over the
/// pairs and a `BTreeMap` insert each.
pub fn seed_stats<K: Ord, R: IntoIterator<Item = (K, f64)>>(
    runs: impl IntoIterator<Item = R>,
) -> Vec<(K, SeedStats)> {
    let mut by_place: BTreeMap<K, SeedStats> = BTreeMap::new();
    for run in runs {
        for (place, v) in run {
            if !v.is_finite() {
                continue;
            }
            let e = by_place.entry(place).or_insert(SeedStats {
                mean: 0.0,
                min: f64::INFINITY,
                max: f64::NEG_INFINITY,
                seeds: 0,
            });
            // The sum until the end, then divided.
            e.mean += v;
            e.min = e.min.min(v);
            e.max = e.max.max(v);
            e.seeds += 1;
        }
    }
    by_place
        .into_iter()
        .map(|(place, mut e)| {
            e.mean /= e.seeds as f64;
            (place, e)
        })
        .collect()
}

/// Layer `layer`'s (0-based) mean of `metric` over epochs, as mean over `runs` (a group's
/// members) with its min..max band. Each epoch uses the runs that have reached it; epochs
/// without a value (churn at epoch 0) are left out ([`seed_stats`]). Cost: one pass over each
/// run's records.
pub fn seed_band<'a>(
    runs: impl IntoIterator<Item = &'a RunSummary>,
    layer: usize,
    metric: Metric,
) -> Vec<SeedBandPoint> {
    seed_stats(runs.into_iter().map(|r| {
        r.layer_means(layer, metric)
            .into_iter()
            .map(|(epoch, v)| (epoch, f64::from(v)))
    }))
    .into_iter()
    .map(|(epoch, st)| SeedBandPoint {
        epoch,
        mean: st.mean as f32,
        min: st.min as f32,
        max: st.max as f32,
        seeds: st.seeds,
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::summary::EpochSummary;
    use crate::measure::{LayerSummary, Quartiles};
    use crate::session::RunStatus;

    fn q(v: f32) -> Quartiles {
        Quartiles {
            mean: v,
            q1: v,
            median: v,
            q3: v,
        }
    }

    fn summary(name: &str, seed: u64, fractions: &[f32]) -> RunSummary {
        let mut preset = crate::preset::find(name, &[]).unwrap();
        preset.seed = seed;
        let layer = |f: f32| LayerSummary {
            activation_fraction: q(f),
            predictability: q(0.5),
            informativeness: q(0.1),
            churn: None,
            dead: 0,
            always_on: 0,
        };
        RunSummary {
            path: format!("{name}-seed{seed}.ron").into(),
            status: RunStatus::Completed,
            widths: vec![preset.width; preset.hidden_layers],
            epochs: fractions
                .iter()
                .enumerate()
                .map(|(e, &f)| EpochSummary {
                    epoch: e as u32,
                    train_loss: 0.0,
                    train_accuracy: 0.0,
                    test_loss: 0.0,
                    test_accuracy: 0.9,
                    layers: vec![layer(f); preset.hidden_layers],
                })
                .collect(),
            preset,
        }
    }

    #[test]
    fn runs_differing_only_in_seed_group_together() {
        let runs = vec![
            summary("mnist-2x20-ce", 2, &[0.5]),
            summary("mnist-2x20-mse", 1, &[0.5]),
            summary("mnist-2x20-ce", 1, &[0.5]),
        ];
        let g = group_runs(&runs);
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].preset.name, "mnist-2x20-ce");
        assert_eq!(g[0].members, vec![2, 0]);
        assert_eq!(g[0].seeds(&runs), vec![1, 2]);
        assert_eq!(g[0].preset.seed, 1);
        assert_eq!(g[1].members, vec![1]);
        // Another epoch count is another experiment, not another seed.
        let mut longer = summary("mnist-2x20-ce", 3, &[0.5]);
        longer.preset.epochs = 7;
        let runs = vec![runs[0].clone(), longer];
        assert_eq!(group_runs(&runs).len(), 2);
    }

    #[test]
    fn the_band_is_mean_min_and_max_over_seeds_per_epoch() {
        let runs = [
            summary("mnist-2x20-ce", 1, &[0.5, 0.2, 0.4]),
            summary("mnist-2x20-ce", 2, &[0.5, 0.4]),
        ];
        let b = seed_band(&runs, 1, Metric::ActivationFraction);
        assert_eq!(b.len(), 3);
        assert_eq!(
            (b[0].mean, b[0].min, b[0].max, b[0].seeds),
            (0.5, 0.5, 0.5, 2)
        );
        assert!((b[1].mean - 0.3).abs() < 1e-6);
        assert_eq!((b[1].min, b[1].max), (0.2, 0.4));
        assert_eq!((b[2].epoch, b[2].seeds, b[2].mean), (2, 1, 0.4));
        // No churn at any epoch here: no points.
        assert!(seed_band(&runs, 0, Metric::Overlap).is_empty());
    }

    #[test]
    fn seed_stats_align_by_step_and_leave_out_seeds_that_did_not_reach_it() {
        // Three seeds by step: the second stopped after step 469, the third has a diverged
        // (NaN) value at step 2 and no record at step 1 (another schedule).
        let a = vec![(0u64, 1.0), (1, 0.5), (2, 0.4), (469, 0.2), (938, 0.1)];
        let b = vec![(0u64, 3.0), (1, 1.5), (2, 0.6), (469, 0.4)];
        let c = vec![(0u64, 2.0), (2, f64::NAN), (469, 0.3)];
        let st = seed_stats([a, b, c]);
        let places: Vec<u64> = st.iter().map(|p| p.0).collect();
        assert_eq!(places, vec![0, 1, 2, 469, 938]);
        let at = |k: u64| st.iter().find(|p| p.0 == k).unwrap().1;
        assert_eq!(
            at(0),
            SeedStats {
                mean: 2.0,
                min: 1.0,
                max: 3.0,
                seeds: 3
            }
        );
        assert_eq!(
            (at(1).mean, at(1).min, at(1).max, at(1).seeds),
            (1.0, 0.5, 1.5, 2)
        );
        // NaN is no value: the mean of the two others, not NaN.
        assert!((at(2).mean - 0.5).abs() < 1e-12);
        assert_eq!((at(2).min, at(2).max, at(2).seeds), (0.4, 0.6, 2));
        assert!((at(469).mean - 0.3).abs() < 1e-12);
        assert_eq!(at(469).seeds, 3);
        // Only the longest run reached step 938: its own value, one seed.
        assert_eq!(
            at(938),
            SeedStats {
                mean: 0.1,
                min: 0.1,
                max: 0.1,
                seeds: 1
            }
        );
        // Nothing in, nothing out.
        assert!(seed_stats(Vec::<Vec<(u64, f64)>>::new()).is_empty());
    }

    #[test]
    fn presets_group_like_runs() {
        let mut a = crate::preset::find("mnist-2x20-ce", &[]).unwrap();
        let mut b = a.clone();
        a.seed = 5;
        b.seed = 3;
        let mut other = a.clone();
        other.width = 40;
        let g = group_presets([&a, &other, &b]);
        assert_eq!(g.len(), 2);
        assert_eq!((g[0].members.clone(), g[0].preset.seed), (vec![2, 0], 3));
        assert_eq!(g[1].members, vec![1]);
    }
}
