//! Running a preset: epoch 0 measurement, then train / measure / evaluate / save per epoch,
//! on the caller's thread. The desktop app calls [`run::Run::execute`] on worker threads,
//! the CLI on its main thread; both get the same [`RunEvent`]s.

pub mod control;
pub mod run;
pub mod thread_choice;
pub mod threads;

pub use control::Control;
pub use run::{Run, RunError, RunEvent};
