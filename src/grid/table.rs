//! The grid's summary table: per preset, the spread over seeds of final test accuracy, of the
//! epoch at which layer 1's mean activation fraction peaks, and of each layer's mean
//! activation fraction at the last epoch.

use serde::Serialize;

use super::group::group_runs;
use super::summary::RunSummary;
use crate::session::Metric;

/// Mean and spread of one quantity over a group's seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1 in the denominator; 0 for one value).
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Number of values (seeds).
    pub n: usize,
}

impl Spread {
    /// The spread of the finite `values`; `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        let n = v.len();
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Some(Self {
            mean,
            std: var.sqrt(),
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            n,
        })
    }
}

impl Spread {
    /// "mean ± sd" of the values times `scale`, with `decimals` decimals; the mean alone for
    /// one value (as `grid status` and the app's Grid tab print it).
    pub fn mean_sd_text(&self, scale: f64, decimals: usize) -> String {
        if self.n == 1 {
            format!("{:.*}", decimals, self.mean * scale)
        } else {
            format!(
                "{:.*} ± {:.*}",
                decimals,
                self.mean * scale,
                decimals,
                self.std * scale
            )
        }
    }
}

/// Seeds as ranges where they run on: "1..3,7" (two in a row are listed: "1,2").
pub fn seeds_text(seeds: &[u64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(&first) = seeds.get(i) {
        let mut j = i;
        while seeds
            .get(j + 1)
            .is_some_and(|&n| Some(n) == seeds[j].checked_add(1))
        {
            j += 1;
        }
        let last = seeds[j];
        parts.push(if j > i + 1 {
            format!("{first}..{last}")
        } else if j == i + 1 {
            format!("{first},{last}")
        } else {
            first.to_string()
        });
        i = j + 1;
    }
    parts.join(",")
}

/// One preset's row: its runs over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PresetRow {
    /// Preset name.
    pub preset: String,
    /// Hidden layers.
    pub hidden_layers: usize,
    /// Nodes per hidden layer.
    pub width: usize,
    /// Loss, short name (`ce`, `mse`).
    pub loss: String,
    /// Epochs planned per run.
    pub epochs: u32,
    /// Seeds of the runs found, increasing.
    pub seeds: Vec<u64>,
    /// Runs that completed all their epochs.
    pub complete: usize,
    /// Test accuracy after each run's last saved epoch, in [0, 1].
    pub final_test_accuracy: Option<Spread>,
    /// Epoch at which layer 1's mean activation fraction peaks (the earliest on a tie).
    pub peak_epoch_layer1: Option<Spread>,
    /// Per hidden layer (layer 1 first): its mean activation fraction at each run's last
    /// saved epoch.
    pub last_activation_fraction: Vec<Option<Spread>>,
}

/// One row per group of runs that differ only in seed (see [`group_runs`]), in order of
/// their first run. Runs without records count in `seeds` but add no values.
pub fn summary_table(runs: &[RunSummary]) -> Vec<PresetRow> {
    group_runs(runs)
        .into_iter()
        .map(|g| {
            let members: Vec<&RunSummary> = g.runs(runs).collect();
            let layers = g.preset.hidden_layers;
            let last_fraction = |r: &RunSummary, l: usize| {
                r.epochs
                    .last()
                    .and_then(|e| e.layers.get(l))
                    .map(|s| f64::from(s.activation_fraction.mean))
            };
            PresetRow {
                preset: g.preset.name.clone(),
                hidden_layers: layers,
                width: g.preset.width,
                loss: g.preset.loss.short_name().to_string(),
                epochs: g.preset.epochs,
                seeds: g.seeds(runs),
                complete: members.iter().filter(|r| r.is_complete()).count(),
                final_test_accuracy: Spread::of(
                    members.iter().filter_map(|r| r.final_test_accuracy()),
                ),
                peak_epoch_layer1: Spread::of(members.iter().filter_map(|r| {
                    r.peak_epoch(0, Metric::ActivationFraction)
                        .map(|(e, _)| f64::from(e))
                })),
                last_activation_fraction: (0..layers)
                    .map(|l| Spread::of(members.iter().filter_map(|r| last_fraction(r, l))))
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_seeds() {
        let s = Spread::of([0.9, 0.92, 0.94]).unwrap();
        assert!((s.mean - 0.92).abs() < 1e-12);
        assert!((s.std - 0.02).abs() < 1e-12);
        assert_eq!((s.min, s.max, s.n), (0.9, 0.94, 3));
        let one = Spread::of([0.5, f64::NAN]).unwrap();
        assert_eq!((one.std, one.n), (0.0, 1));
        assert_eq!(Spread::of([]), None);
        assert_eq!(s.mean_sd_text(100.0, 1), "92.0 ± 2.0");
        assert_eq!(one.mean_sd_text(1.0, 2), "0.50");
        assert_eq!(seeds_text(&[1, 2, 3, 7, 9, 10]), "1..3,7,9,10");
    }
}
