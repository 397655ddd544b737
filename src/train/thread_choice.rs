//! Whether a run's minibatch steps use one thread or all the configured ones, chosen by the
//! time the steps take as the run trains.
//!
//! Two threads help only while the other core is free. On this project's 2-core Xeon a fresh
//! 9x320 epoch took 2.1 s on two threads and 3.4 s on one when the machine was quiet, but with
//! one busy process beside it 6.9-7.5 s on two and 3.4-3.5 s on one: every step hands work to
//! the other thread some thirty times, and each hand-off then waits for that thread to get the
//! shared core back. Which is faster can change within a run (a compile starts, the app draws),
//! so the steps keep measuring: they run as chosen, and now and then a few steps try the other
//! way; the faster per step wins. Results do not depend on it: a step's products split the
//! same way whichever threads compute the parts (tested bit for bit).

/// A trial of the other way lasts at least this many steps and [`TRIAL_SECONDS`]: long enough
/// to take in the other core's scheduling (a helper that lost its core stalls a step for a
/// time slice of a few milliseconds, which a few short steps may not meet).
const TRIAL_STEPS: usize = 8;

/// Shortest trial, seconds.
const TRIAL_SECONDS: f64 = 0.02;

/// Longest trial, steps (steps that took no measurable time end it here).
const LONGEST_TRIAL_STEPS: usize = 1024;

/// Steps between trials right after a switch, at least (the wait's seconds pass sooner on
/// small networks); doubles with the wait up to [`MOST_WAIT_STEPS`], so that long steps (a big
/// minibatch) also try the other way in only a few of their steps.
const WAIT_STEPS: usize = 32;

/// Most steps a wait asks for: trials then take at most 8 steps in 264 (3 %) however long a
/// step is, and on a 9x320 network (2-7 ms a step) the 3.2 s wait is the longer one.
const MOST_WAIT_STEPS: usize = 256;

/// Seconds between trials right after a switch; each trial that confirms the choice doubles
/// the wait (and [`WAIT_STEPS`]), up to [`LONGEST_WAIT`], so a settled choice costs little
/// (one trial of 20-40 ms in 3.2 s: about 1 % of the time spent the slower way).
const SHORTEST_WAIT: f64 = 0.1;

/// Longest wait between trials, seconds: how long a run may go on the slower way after the
/// machine changed (then one trial).
const LONGEST_WAIT: f64 = 3.2;

/// Doublings that take the wait from [`SHORTEST_WAIT`] to [`LONGEST_WAIT`].
const MOST_DOUBLINGS: u32 = 5;

/// The other way must be this much faster per step (fraction) to switch: step times vary by a
/// few percent from minibatch to minibatch.
const MARGIN: f64 = 0.05;

/// Steps and their seconds.
#[derive(Debug, Clone, Copy, Default)]
struct Steps {
    count: usize,
    seconds: f64,
}

impl Steps {
    fn add(&mut self, seconds: f64) {
        self.count += 1;
        self.seconds += seconds;
    }

    /// As long as a trial: at least [`TRIAL_STEPS`] and [`TRIAL_SECONDS`] (or
    /// [`LONGEST_TRIAL_STEPS`] steps that took no measurable time).
    fn long_enough(&self) -> bool {
        self.count >= TRIAL_STEPS
            && (self.seconds >= TRIAL_SECONDS || self.count >= LONGEST_TRIAL_STEPS)
    }

    fn mean(&self) -> f64 {
        self.seconds / self.count.max(1) as f64
    }
}

/// The choice and the step times it rests on (see the module doc).
#[derive(Debug, Clone)]
pub struct ThreadChoice {
    /// Whether steps use the configured threads (true) or one (false) outside trials.
    configured: bool,
    /// Steps taken as chosen since the last trial.
    waited: Steps,
    /// The chosen way's latest steps, in two windows as long as a trial: `recent.1` fills,
    /// and moves to `recent.0` when long enough. A trial is compared with both: the steps
    /// just before it, not all since the last trial (which may be from before the machine
    /// changed).
    recent: (Steps, Steps),
    /// How many times the wait between trials has doubled since the last switch (see
    /// [`ThreadChoice::wait`]).
    doublings: u32,
    /// The steps of a trial of the other way, while one runs.
    trial: Option<Steps>,
}

impl Default for ThreadChoice {
    fn default() -> Self {
        Self::new()
    }
}

impl ThreadChoice {
    /// Starts with the configured threads, trying one thread after the shortest wait.
    pub fn new() -> Self {
        Self {
            configured: true,
            waited: Steps::default(),
            recent: (Steps::default(), Steps::default()),
            doublings: 0,
            trial: None,
        }
    }

    /// Threads for the next step: `configured` (the run's thread count) or 1.
    pub fn threads(&self, configured: usize) -> usize {
        if self.configured != self.trial.is_some() {
            configured
        } else {
            1
        }
    }

    /// The current wait between trials: seconds and steps, both to pass.
    fn wait(&self) -> (f64, usize) {
        let factor = 1usize << self.doublings;
        (
            (SHORTEST_WAIT * factor as f64).min(LONGEST_WAIT),
            (WAIT_STEPS * factor).min(MOST_WAIT_STEPS),
        )
    }

    /// Whether steps outside trials currently use the configured threads (else one).
    pub fn uses_configured(&self) -> bool {
        self.configured
    }

    /// Records the `seconds` the step just taken (with [`ThreadChoice::threads`]) took. A time
    /// that is not a finite number (a clock that failed) ends any trial and starts the
    /// measuring afresh, the chosen way; a negative one counts as 0.
    pub fn record(&mut self, seconds: f64) {
        if !seconds.is_finite() {
            *self = Self {
                configured: self.configured,
                doublings: self.doublings,
                ..Self::new()
            };
            return;
        }
        let seconds = seconds.max(0.0);
        let Some(mut trial) = self.trial else {
            self.waited.add(seconds);
            self.recent.1.add(seconds);
            if self.recent.1.long_enough() {
                self.recent = (self.recent.1, Steps::default());
            }
            let (seconds, steps) = self.wait();
            if self.waited.count >= steps && self.waited.seconds >= seconds {
                self.trial = Some(Steps::default());
            }
            return;
        };
        trial.add(seconds);
        if !trial.long_enough() {
            self.trial = Some(trial);
            return;
        }
        self.trial = None;
        let (older, newer) = self.recent;
        let chosen = Steps {
            count: older.count + newer.count,
            seconds: older.seconds + newer.seconds,
        };
        if trial.mean() < chosen.mean() * (1.0 - MARGIN) {
            self.configured = !self.configured;
            self.doublings = 0;
            self.recent = (Steps::default(), Steps::default());
        } else {
            self.doublings = (self.doublings + 1).min(MOST_DOUBLINGS);
        }
        self.waited = Steps::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs steps for `seconds` of simulated time, each taking `time(threads)`; returns the
    /// threads of each step.
    fn run(choice: &mut ThreadChoice, seconds: f64, time: impl Fn(usize) -> f64) -> Vec<usize> {
        let mut spent = 0.0;
        let mut threads = Vec::new();
        while spent < seconds {
            let t = choice.threads(2);
            choice.record(time(t));
            spent += time(t);
            threads.push(t);
        }
        threads
    }

    /// Share of the steps of the last `seconds` of `steps` that took `threads`.
    fn share_at_end(steps: &[usize], threads: usize, time: impl Fn(usize) -> f64) -> f64 {
        let (mut spent, mut these) = (0.0, 0.0);
        for &t in steps.iter().rev() {
            if spent >= 2.0 * LONGEST_WAIT {
                break;
            }
            spent += time(t);
            if t == threads {
                these += time(t);
            }
        }
        these / spent
    }

    #[test]
    fn steps_settle_on_the_faster_way_and_follow_a_change() {
        let mut choice = ThreadChoice::new();
        // Quiet machine: a step takes 2.1 ms on two threads, 3.4 ms on one. Two stay the
        // choice, and trials of one thread take about 1 % of the time once settled.
        let quiet = |t: usize| if t == 2 { 2.1e-3 } else { 3.4e-3 };
        let steps = run(&mut choice, 30.0, quiet);
        assert!(choice.uses_configured());
        let tried = share_at_end(&steps, 1, quiet);
        assert!(
            tried < 0.02,
            "{:.1} % of the time on one thread",
            tried * 100.0
        );
        // A busy neighbour: two threads now take 7 ms. Within one wait and a trial the steps
        // move to one thread, and stay there, trying two threads ever more rarely.
        let busy = |t: usize| if t == 2 { 7.0e-3 } else { 3.5e-3 };
        run(&mut choice, LONGEST_WAIT + 0.1, busy);
        assert!(!choice.uses_configured());
        let steps = run(&mut choice, 30.0, busy);
        assert!(!choice.uses_configured());
        let tried = share_at_end(&steps, 2, busy);
        assert!(
            tried < 0.04,
            "{:.1} % of the time on two threads",
            tried * 100.0
        );
        // The neighbour leaves: back to two threads.
        run(&mut choice, LONGEST_WAIT + 0.1, quiet);
        assert!(choice.uses_configured());
    }

    #[test]
    fn long_steps_try_the_other_way_in_few_of_them() {
        // Steps of half a second (a huge minibatch): 0.5 s on two threads, 0.8 s on one.
        let mut choice = ThreadChoice::new();
        let time = |t: usize| if t == 2 { 0.5 } else { 0.8 };
        let steps = run(&mut choice, 3000.0, time);
        assert!(choice.uses_configured());
        let last = &steps[steps.len() - 4 * (MOST_WAIT_STEPS + TRIAL_STEPS)..];
        let ones = last.iter().filter(|&&t| t == 1).count();
        assert!(
            ones <= 4 * TRIAL_STEPS,
            "{ones} one-thread steps of {}",
            last.len()
        );
    }

    #[test]
    fn short_steps_try_the_other_way_for_long_enough_to_meet_a_stall() {
        // Steps of 0.3 ms on two threads, but every 20th stalls for 4 ms (the helper lost
        // its core); one thread takes 0.45 ms. Eight steps of two threads often miss the
        // stall; 20 ms of them do not: one thread wins.
        let mut choice = ThreadChoice::new();
        let mut n = 0usize;
        for _ in 0..200_000 {
            let t = choice.threads(2);
            let seconds = if t == 2 {
                n += 1;
                if n.is_multiple_of(20) { 4.3e-3 } else { 0.3e-3 }
            } else {
                0.45e-3
            };
            choice.record(seconds);
        }
        assert!(!choice.uses_configured());
    }

    #[test]
    fn a_difference_within_the_margin_or_broken_timings_do_not_switch() {
        let mut choice = ThreadChoice::new();
        run(&mut choice, 30.0, |t| if t == 2 { 1.0e-3 } else { 0.97e-3 });
        assert!(choice.uses_configured(), "3 % is within the margin");
        // Into a trial of one thread, then timings that are not numbers.
        while choice.threads(2) == 2 {
            choice.record(1.0e-3);
        }
        for _ in 0..2 * LONGEST_TRIAL_STEPS {
            choice.record(f64::NAN);
        }
        assert!(
            choice.uses_configured(),
            "NaN timings are no reason to switch"
        );
        assert_eq!(choice.threads(2), 2, "and they end a trial");
    }
}
