//! Pause, resume and cancel for a run, shared between the thread that trains and the UI.

use std::sync::atomic::{AtomicBool, Ordering};

/// Flags a running run checks after every minibatch.
#[derive(Debug, Default)]
pub struct Control {
    cancel: AtomicBool,
    pause: AtomicBool,
}

impl Control {
    /// Asks the run to stop after the current minibatch; the completed epochs are kept.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
    /// True once cancel was asked.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
    /// Pauses (true) or resumes (false) the run at the next minibatch.
    pub fn set_paused(&self, paused: bool) {
        self.pause.store(paused, Ordering::Relaxed);
    }
    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.pause.load(Ordering::Relaxed)
    }
}
