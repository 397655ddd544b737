//! The command line: headless runs, summaries and exports. Thin: all work is in the library.

pub mod args;
pub mod commands;
pub mod error;
pub mod findings;
pub mod grid;

pub use args::{Cli, Command};
pub use error::CliError;

/// `text` (a name from a file) as the terminal may show it: control characters (new lines,
/// terminal escapes) written as escapes (`\n`, `\u{1b}`), so that a name cannot start a new
/// line of output or recolour the terminal.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(char::is_control) {
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}
