//! The command line: headless runs, summaries and exports. Thin: all work is in the library.

pub mod args;
pub mod commands;
pub mod error;
pub mod findings;
pub mod grid;

pub use args::{Cli, Command};
pub use error::CliError;
