#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]
//! `sample-sets`: the desktop app with no command, headless commands otherwise.

use std::process::ExitCode;

use clap::Parser;
use sample_sets::cli::{Cli, Command, commands};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let threads = match &cli.command {
        Some(Command::Train(t)) => t.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        ),
        // The app runs several runs side by side: one matrix thread each is fastest.
        _ => 1,
    };
    sample_sets::train::threads::configure(threads);
    let result = match &cli.command {
        None => {
            // A mistyped command must not open a window: every argument must be a file.
            if let Some(f) = cli.files.iter().find(|f| !f.exists()) {
                eprintln!(
                    "error: '{}' is neither a command nor an existing session file (see --help)",
                    f.display()
                );
                return ExitCode::from(2);
            }
            return match sample_sets::app::run_app(cli.files.clone()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot open the window: {e}");
                    ExitCode::from(1)
                }
            };
        }
        Some(Command::Presets { dir }) => commands::presets(dir.as_deref()),
        Some(Command::Train(args)) => commands::train(args),
        Some(Command::Inspect { file, json }) => commands::inspect(file, *json),
        Some(Command::Export(args)) => commands::export(args),
        Some(Command::Findings { files, csv }) => {
            sample_sets::cli::findings::run(files, csv.as_deref())
        }
        Some(Command::DownloadMnist { dest }) => commands::download_mnist(dest.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
