//! `sample-sets`: the desktop app with no command, headless commands otherwise.
//!
//! On Windows the binary is a console program (no `windows_subsystem = "windows"`), so every
//! command prints to the terminal that ran it, the shell waits for it and sees its exit code.
//! A GUI-subsystem binary would need `AttachConsole`, and then cmd.exe and PowerShell neither
//! wait for it nor read its exit code, and its output lands on top of the next prompt. The
//! cost is a console window that flashes when the app is started from Explorer: the app
//! frees that console at once (see [`hide_own_console`]).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};
use sample_sets::cli::{Cli, Command, commands};

/// The command line. The app's `SAMPLE_SETS_*` variables matter only when the app starts: a
/// first pass without them finds a headless command, which then runs whatever they hold; with
/// no command (or for help and errors) the second pass reads them, and clap reports a bad
/// value naming the variable.
fn parse_cli() -> Cli {
    let args: Vec<OsString> = std::env::args_os().collect();
    let without_env = Cli::command().mut_args(|a| a.env(None));
    if let Ok(m) = without_env.try_get_matches_from(&args)
        && m.subcommand().is_some()
        && let Ok(cli) = Cli::from_arg_matches(&m)
    {
        return cli;
    }
    Cli::parse_from(args)
}

fn main() -> ExitCode {
    let cli = parse_cli();
    let threads = match &cli.command {
        Some(Command::Train(t)) => t.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        ),
        // The app sets its own as runs start and end (train::threads::for_concurrent_runs).
        _ => 1,
    };
    sample_sets::train::threads::configure(threads);
    let result = match cli.command {
        None => return open_app(cli.app),
        Some(Command::Presets { dir }) => commands::presets(dir.as_deref()),
        Some(Command::Train(args)) => commands::train(&args),
        Some(Command::Inspect { file, json }) => commands::inspect(&file, json),
        Some(Command::Export(args)) if args.grid_figure.is_some() => {
            sample_sets::cli::grid::export_grid_figure(&args)
        }
        Some(Command::Export(args)) => commands::export(&args),
        Some(Command::Findings { files, csv, force }) => {
            sample_sets::cli::findings::run(&files, csv.as_deref(), force)
        }
        Some(Command::Grid(args)) => sample_sets::cli::grid::grid(&args),
        Some(Command::DownloadMnist { dest, force }) => {
            commands::download_mnist(dest.as_deref(), force)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// No command: the desktop app, with the session files given.
fn open_app(mut options: sample_sets::app::startup::StartupOptions) -> ExitCode {
    // A mistyped command must not open a window: every argument must be a file.
    if let Some(f) = options.files.iter().find(|f| !f.exists()) {
        eprintln!(
            "error: '{}' is neither a command nor an existing session file or grid folder \
             (see --help)",
            f.display()
        );
        return ExitCode::from(2);
    }
    // The app remembers the runs it showed; a path relative to where it was started would
    // name another file, or none, when it is next started from elsewhere.
    for f in &mut options.files {
        if let Ok(abs) = std::path::absolute(&*f) {
            *f = abs;
        }
    }
    run_app(options)
}

/// The window; returns when it is closed.
#[cfg(feature = "gui")]
fn run_app(options: sample_sets::app::startup::StartupOptions) -> ExitCode {
    hide_own_console();
    match sample_sets::app::run_app(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot open the window: {e}");
            ExitCode::from(1)
        }
    }
}

/// No app in this build.
#[cfg(not(feature = "gui"))]
fn run_app(_options: sample_sets::app::startup::StartupOptions) -> ExitCode {
    eprintln!(
        "error: this sample-sets was built without the desktop app (cargo feature `gui`); \
         give a command (see --help)"
    );
    ExitCode::from(2)
}

/// Frees the console when it was made for this process alone (started from Explorer or the
/// Start menu, not from a terminal), so the app leaves no empty console window behind.
#[cfg(all(windows, feature = "gui"))]
fn hide_own_console() {
    use windows_sys::Win32::System::Console::{FreeConsole, GetConsoleProcessList};
    let mut ids = [0u32; 2];
    // SAFETY: `ids` is a live, writable buffer of exactly the length passed; the call writes
    // at most that many process ids into it and returns how many processes share the console
    // (0 on failure, e.g. when there is no console).
    let sharing = unsafe { GetConsoleProcessList(ids.as_mut_ptr(), ids.len() as u32) };
    if sharing == 1 {
        // SAFETY: detaches this process from its console; nothing here holds a handle to it.
        // Later writes to stdout/stderr go to handles that are no longer valid, which std's
        // Windows stdio treats as a closed stream and drops (ERROR_INVALID_HANDLE), so
        // `eprintln!` does not panic.
        unsafe { FreeConsole() };
    }
}

/// Elsewhere a terminal is never created for the app.
#[cfg(all(not(windows), feature = "gui"))]
fn hide_own_console() {}
