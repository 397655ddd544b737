//! When a run measures its sample sets: before training, at chosen minibatch steps inside the
//! first epoch, and after every epoch.
//!
//! A record is identified by its **step**, the number of minibatches trained since the start.
//! An epoch has `steps_per_epoch = ceil(training samples / minibatch)` steps (the trainer's
//! last minibatch of an epoch holds the remainder: 60,000 / 128 gives 468 full minibatches and
//! one of 96, so 469 steps), and a record's position on the epoch axis is
//! `step / steps_per_epoch`. Most of the sample sets' growth happens within the first few
//! hundred minibatches (every layer of a 9x320 network has its largest mean activation
//! fraction before the end of epoch 1), so the default measures at steps 1, 2, 4, 8, ... of
//! epoch 1.

use serde::{Deserialize, Serialize};

/// Most records per doubling of the step count a schedule may ask for.
pub const MAX_PER_DOUBLING: u8 = 8;

/// When a run measures. Every schedule measures before training (step 0) and after every
/// epoch (step `e * steps_per_epoch`); they differ inside epoch 1 only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Schedule {
    /// Before training and after every epoch (what sessions of schema 1 recorded).
    PerEpoch,
    /// Also after minibatch steps `round(2^(k / per_doubling))`, k = 0, 1, 2, ..., that fall
    /// inside epoch 1 (duplicates once): `per_doubling: 1` gives 1, 2, 4, 8, ...;
    /// `per_doubling: 2` gives 1, 2, 3, 4, 6, 8, 11, 16, ....
    Doubling {
        /// Records per doubling of the step count, 1..=[`MAX_PER_DOUBLING`].
        per_doubling: u8,
    },
}

impl Default for Schedule {
    /// Steps 1, 2, 4, 8, ... inside epoch 1 (about nine extra measurement passes for MNIST
    /// at minibatch 128), then every epoch.
    fn default() -> Self {
        Schedule::Doubling { per_doubling: 1 }
    }
}

/// A schedule that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "schedule '{0}' is not one of: per-epoch, doubling, doubling:N (N records per doubling of the step, 1..=8)"
)]
pub struct ScheduleError(pub String);

impl Schedule {
    /// The command-line name: `per-epoch`, `doubling`, `doubling:N`.
    pub fn name(self) -> String {
        match self {
            Schedule::PerEpoch => "per-epoch".into(),
            Schedule::Doubling { per_doubling: 1 } => "doubling".into(),
            Schedule::Doubling { per_doubling } => format!("doubling:{per_doubling}"),
        }
    }

    /// Parses a command-line name (see [`Schedule::name`]).
    ///
    /// # Errors
    /// [`ScheduleError`] for anything else, or N outside 1..=[`MAX_PER_DOUBLING`].
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let bad = || ScheduleError(text.to_string());
        let text = text.trim();
        let (name, arg) = match text.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (text, None),
        };
        let schedule = match (name, arg) {
            ("per-epoch", None) => Schedule::PerEpoch,
            ("doubling", None) => Schedule::Doubling { per_doubling: 1 },
            ("doubling", Some(n)) => Schedule::Doubling {
                per_doubling: n.parse().map_err(|_| bad())?,
            },
            _ => return Err(bad()),
        };
        schedule.check().map_err(|_| bad())?;
        Ok(schedule)
    }

    /// Checks the schedule's parameter.
    ///
    /// # Errors
    /// A message when `per_doubling` is outside 1..=[`MAX_PER_DOUBLING`].
    pub fn check(self) -> Result<(), String> {
        match self {
            Schedule::Doubling { per_doubling }
                if !(1..=MAX_PER_DOUBLING).contains(&per_doubling) =>
            {
                Err(format!(
                    "per_doubling {per_doubling} is outside 1..={MAX_PER_DOUBLING}"
                ))
            }
            _ => Ok(()),
        }
    }

    /// Steps inside epoch 1 (0 < step < `steps_per_epoch`) after which this schedule measures,
    /// ascending.
    pub fn early_steps(self, steps_per_epoch: u64) -> Vec<u64> {
        let Schedule::Doubling { per_doubling } = self else {
            return Vec::new();
        };
        let per = f64::from(per_doubling.clamp(1, MAX_PER_DOUBLING));
        let mut out: Vec<u64> = Vec::new();
        for k in 0.. {
            let step = 2f64.powf(f64::from(k) / per).round() as u64;
            if step >= steps_per_epoch {
                break;
            }
            if out.last() != Some(&step) {
                out.push(step);
            }
        }
        out
    }

    /// Steps inside epoch `epoch` (1-based) after which this schedule measures, ascending:
    /// the early steps for epoch 1, and always the epoch's end, `epoch * steps_per_epoch`.
    pub fn steps_in_epoch(self, epoch: u32, steps_per_epoch: u64) -> Vec<u64> {
        let end = u64::from(epoch) * steps_per_epoch;
        let mut out = if epoch == 1 {
            self.early_steps(steps_per_epoch)
        } else {
            Vec::new()
        };
        out.push(end);
        out
    }

    /// Whether this schedule measures after `step` (step 0, the epoch ends, the early steps).
    pub fn measures_at(self, step: u64, steps_per_epoch: u64) -> bool {
        if steps_per_epoch == 0 {
            return step == 0;
        }
        step.is_multiple_of(steps_per_epoch) || self.early_steps(steps_per_epoch).contains(&step)
    }
}

/// Minibatch steps in one epoch of `samples` training samples in minibatches of `batch`: the
/// last minibatch holds the remainder, so this is `ceil(samples / batch)` (469 for MNIST's
/// 60,000 samples at 128). At least 1, so positions are always defined.
pub fn steps_per_epoch(samples: usize, batch: usize) -> u64 {
    (samples.div_ceil(batch.max(1)) as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_measures_at_powers_of_two_inside_epoch_one() {
        let spe = steps_per_epoch(60_000, 128);
        assert_eq!(spe, 469);
        let s = Schedule::default();
        assert_eq!(s.early_steps(spe), vec![1, 2, 4, 8, 16, 32, 64, 128, 256]);
        assert_eq!(
            s.steps_in_epoch(1, spe),
            vec![1, 2, 4, 8, 16, 32, 64, 128, 256, 469]
        );
        assert_eq!(s.steps_in_epoch(3, spe), vec![1407]);
        assert!(s.measures_at(0, spe) && s.measures_at(64, spe) && s.measures_at(938, spe));
        assert!(!s.measures_at(3, spe) && !s.measures_at(469 + 64, spe));
    }

    #[test]
    fn denser_schedules_deduplicate_and_per_epoch_has_no_early_steps() {
        let d = Schedule::Doubling { per_doubling: 2 };
        assert_eq!(
            d.early_steps(469),
            vec![
                1, 2, 3, 4, 6, 8, 11, 16, 23, 32, 45, 64, 91, 128, 181, 256, 362
            ]
        );
        assert!(Schedule::PerEpoch.early_steps(469).is_empty());
        assert_eq!(Schedule::PerEpoch.steps_in_epoch(1, 469), vec![469]);
        // One minibatch per epoch: nothing fits inside it.
        assert!(Schedule::default().early_steps(1).is_empty());
    }

    #[test]
    fn names_round_trip_and_bad_names_are_refused() {
        for s in [
            Schedule::PerEpoch,
            Schedule::default(),
            Schedule::Doubling { per_doubling: 2 },
            Schedule::Doubling { per_doubling: 8 },
        ] {
            assert_eq!(Schedule::parse(&s.name()), Ok(s));
        }
        for bad in [
            "",
            "weekly",
            "doubling:0",
            "doubling:9",
            "doubling:x",
            "per-epoch:2",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }
}
