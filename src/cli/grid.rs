//! `sample-sets grid run | status | slurm` and `export DIR --grid-figure`: thin wrappers over
//! [`crate::grid`] with progress bars, tables and exit codes.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::{
    ExportArgs, GridArgs, GridCommand, GridRunArgs, GridSelectionArgs, GridSlurmArgs,
};
use super::error::CliError;
use crate::grid::plan::PlannedRun;
use crate::grid::pool::{Outcome, PoolEvent, run_pool};
use crate::grid::slurm::{self, ScriptPaths, SlurmOptions};
use crate::grid::{
    GridStatus, Plan, PresetRow, Selection, Spread, parse_seeds, scan, seeds_text, summary_table,
};
use crate::session::Metric;

/// `sample-sets grid ...`.
pub fn grid(args: &GridArgs) -> Result<(), CliError> {
    match &args.command {
        GridCommand::Run(a) => run(a),
        GridCommand::Status { dir, json } => status(dir, *json),
        GridCommand::Slurm(a) => slurm(a),
    }
}

fn selection(a: &GridSelectionArgs) -> Result<Selection, CliError> {
    Ok(Selection {
        patterns: a.presets.clone(),
        seeds: a.seeds.as_deref().map(parse_seeds).transpose()?,
        epochs: a.epochs,
        preset_dirs: a
            .preset_dir
            .iter()
            .cloned()
            .chain(crate::preset::user_dir())
            .collect(),
    })
}

fn plan(a: &GridSelectionArgs) -> Result<Plan, CliError> {
    let plan = Plan::make(&a.dir, &selection(a)?)?;
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    Ok(plan)
}

/// Holds an exclusive lock on `DIR/.grid.lock` while a pool writes the folder, so that two
/// `grid run`s cannot train the same run at once (the lock goes with the process).
fn lock_folder(dir: &Path) -> Result<std::fs::File, CliError> {
    let path = dir.join(".grid.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| CliError::Write {
            path: path.clone(),
            message: e.to_string(),
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(CliError::Usage(format!(
            "{}: another `grid run` is training this grid; wait for it or stop it first",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(CliError::Write {
            path,
            message: format!("cannot lock: {e}"),
        }),
    }
}

/// Sets `flag` on the first SIGINT or SIGTERM; a second one ends the process at once
/// (exit 130: saves are atomic, so at most the epochs in progress are lost).
fn stop_on_signals(flag: &Arc<AtomicBool>) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for sig in [SIGINT, SIGTERM] {
        // Registered first, so it sees the flag as it was before this signal set it.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(flag));
        let _ = signal_hook::flag::register(sig, Arc::clone(flag));
    }
}

/// One run's line in the progress display.
struct Active {
    bar: ProgressBar,
    /// Cost units of this run already counted in the overall bar.
    counted: u64,
    /// Cost units of its saved epochs.
    saved: u64,
    epoch_cost: u64,
    test_accuracy: Option<f64>,
}

fn run_label(r: &PlannedRun) -> String {
    format!(
        "{} seed {}",
        super::printable(&r.run.preset.name),
        r.run.preset.seed
    )
}

/// `sample-sets grid run`.
fn run(a: &GridRunArgs) -> Result<(), CliError> {
    // Plan once to check the selection before creating anything, then again under the
    // folder's lock: another command may have changed the manifest in between.
    Plan::make(&a.selection.dir, &selection(&a.selection)?)?;
    std::fs::create_dir_all(&a.selection.dir).map_err(|e| CliError::Write {
        path: a.selection.dir.clone(),
        message: format!("cannot create the grid folder: {e}"),
    })?;
    let _lock = lock_folder(&a.selection.dir)?;
    let plan = plan(&a.selection)?;
    plan.save()?;
    let todo = plan.to_train();
    let done_before = plan.runs.len() - todo.len();
    if todo.is_empty() {
        eprintln!(
            "{}: all {} runs completed already",
            plan.dir.display(),
            plan.runs.len()
        );
        return Ok(());
    }
    let mut datasets = HashMap::new();
    for r in &todo {
        let name = &r.run.preset.dataset;
        if !datasets.contains_key(name) {
            let d = super::commands::load_data(a.selection.data.as_deref(), name)?;
            datasets.insert(name.clone(), d);
        }
    }
    let workers = a.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, usize::from),
        usize::from,
    );
    eprintln!(
        "grid {}: {} runs, {} completed already, training {} ({} at a time, one thread each, longest first)",
        plan.dir.display(),
        plan.runs.len(),
        done_before,
        todo.len(),
        workers.min(todo.len())
    );
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop);

    let tty = std::io::stderr().is_terminal() && !a.quiet;
    let multi = MultiProgress::with_draw_target(if tty {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let total_cost: u64 = todo.iter().map(PlannedRun::remaining_cost).sum();
    let overall = multi.add(ProgressBar::new(total_cost.max(1)));
    overall.set_style(
        ProgressStyle::with_template("{bar:30} {msg}  elapsed {elapsed}  ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let run_style = ProgressStyle::with_template("  {bar:20} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let mut finished = 0usize;
    let overall_msg = |finished: usize| format!("{finished}/{} runs", todo.len());
    overall.set_message(overall_msg(0));
    let mut active: HashMap<usize, Active> = HashMap::new();
    let mut counted_total = 0u64;
    let say = |line: String| {
        if tty {
            multi.suspend(|| eprintln!("{line}"));
        } else {
            eprintln!("{line}");
        }
    };
    let report = run_pool(&todo, &datasets, workers, &stop, &mut |ev| match ev {
        PoolEvent::Started { run, epochs_done } => {
            let r = &todo[run];
            let epochs = r.run.preset.epochs;
            // Thousandths of an epoch, so the bar moves within an epoch.
            let bar =
                multi.insert_before(&overall, ProgressBar::new(u64::from(epochs.max(1)) * 1000));
            bar.set_style(run_style.clone());
            bar.set_position(u64::from(epochs_done) * 1000);
            bar.set_message(format!("{}  epoch {epochs_done}/{epochs}", run_label(r)));
            if !tty {
                let how = if epochs_done > 0 {
                    "resuming"
                } else {
                    "starting"
                };
                eprintln!(
                    "{how} {} at epoch {}/{epochs}",
                    run_label(r),
                    epochs_done + 1
                );
            }
            active.insert(
                run,
                Active {
                    bar,
                    counted: 0,
                    saved: 0,
                    epoch_cost: r.run.epoch_cost(),
                    test_accuracy: None,
                },
            );
        }
        PoolEvent::Progress {
            run,
            epoch,
            samples_done,
            samples_total,
        } => {
            if let Some(act) = active.get_mut(&run) {
                let frac = samples_done as f64 / samples_total.max(1) as f64;
                let now = act.saved + (act.epoch_cost as f64 * frac) as u64;
                if now > act.counted {
                    counted_total += now - act.counted;
                    act.counted = now;
                    overall.set_position(counted_total.min(total_cost));
                }
                act.bar.set_position(
                    u64::from(epoch.saturating_sub(1)) * 1000 + (frac * 1000.0) as u64,
                );
                let r = &todo[run];
                let acc = act
                    .test_accuracy
                    .map_or_else(String::new, |a| format!("  test acc {:.2}%", a * 100.0));
                act.bar.set_message(format!(
                    "{}  epoch {epoch}/{}{acc}",
                    run_label(r),
                    r.run.preset.epochs
                ));
            }
        }
        PoolEvent::Epoch {
            run,
            epoch,
            test_accuracy,
        } => {
            if let Some(act) = active.get_mut(&run) {
                act.test_accuracy = Some(test_accuracy);
                if epoch > 0 {
                    act.saved += act.epoch_cost;
                    if act.saved > act.counted {
                        counted_total += act.saved - act.counted;
                        act.counted = act.saved;
                        overall.set_position(counted_total.min(total_cost));
                    }
                }
                act.bar.set_position(u64::from(epoch) * 1000);
            }
        }
        PoolEvent::Finished { run, outcome } => {
            let r = &todo[run];
            if let Some(act) = active.remove(&run) {
                act.bar.finish_and_clear();
                multi.remove(&act.bar);
            }
            if outcome.is_success() {
                finished += 1;
                overall.set_message(overall_msg(finished));
            }
            let line = match &outcome {
                Outcome::Completed => format!("done {}", run_label(r)),
                Outcome::Stopped { epochs_done } => {
                    format!("stopped {} after epoch {epochs_done}", run_label(r))
                }
                Outcome::Diverged { epoch } => {
                    format!("diverged {} in epoch {epoch}", run_label(r))
                }
                Outcome::Failed { message } => format!("failed {}: {message}", run_label(r)),
            };
            say(line);
        }
    });
    overall.finish_and_clear();
    let _ = multi.clear();
    for p in &report.problems {
        eprintln!("warning: {p}");
    }
    let mut failed: Vec<String> = Vec::new();
    let (mut completed, mut stopped, mut not_started) = (0usize, 0usize, 0usize);
    for (r, o) in todo.iter().zip(&report.outcomes) {
        match o {
            Some(Outcome::Completed) => completed += 1,
            Some(Outcome::Stopped { .. }) => stopped += 1,
            Some(Outcome::Diverged { epoch }) => failed.push(format!(
                "  {}: diverged in epoch {epoch} (loss not finite; a rerun would do the same)",
                r.run.file
            )),
            Some(Outcome::Failed { message }) => {
                failed.push(format!("  {}: {message}", r.run.file))
            }
            None => not_started += 1,
        }
    }
    eprintln!(
        "grid {}: {} of {} runs completed ({completed} now, {done_before} before){}{}{}",
        plan.dir.display(),
        completed + done_before,
        plan.runs.len(),
        if stopped > 0 {
            format!(", {stopped} stopped")
        } else {
            String::new()
        },
        if not_started > 0 {
            format!(", {not_started} not started")
        } else {
            String::new()
        },
        if failed.is_empty() {
            String::new()
        } else {
            format!(", {} failed", failed.len())
        },
    );
    if !failed.is_empty() {
        return Err(CliError::Run(format!(
            "{} run(s) failed:\n{}",
            failed.len(),
            failed.join("\n")
        )));
    }
    if stop.load(Ordering::Relaxed) || stopped > 0 || not_started > 0 {
        return Err(CliError::Interrupted(
            "stopped; run the same command again to resume".into(),
        ));
    }
    Ok(())
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |a| format!("{:.2}%", a * 100.0))
}

/// "mean ± sd" (the mean alone for one seed), `scale`d; "-" for none.
fn mean_sd(s: &Option<Spread>, scale: f64, decimals: usize) -> String {
    s.map_or_else(|| "-".into(), |s| s.mean_sd_text(scale, decimals))
}

/// The per-run table and the per-preset summary as text.
fn status_text(dir: &Path, st: &GridStatus, table: &[PresetRow]) -> String {
    let mut out = String::new();
    let name_w = st
        .rows
        .iter()
        .map(|r| r.preset.len())
        .max()
        .unwrap_or(6)
        .max(6);
    out.push_str(&format!(
        "{:<name_w$} {:>5} {:>9}  {:<10} {:>9}\n",
        "preset", "seed", "epochs", "state", "test acc"
    ));
    for r in &st.rows {
        out.push_str(&format!(
            "{:<name_w$} {:>5} {:>9}  {:<10} {:>9}{}{}\n",
            super::printable(&r.preset),
            r.seed,
            format!("{}/{}", r.epochs_done, r.epochs_planned),
            r.state,
            percent(r.final_test_accuracy),
            if r.in_manifest {
                ""
            } else {
                "  (not in grid.ron)"
            },
            r.detail
                .as_ref()
                .map_or_else(String::new, |d| format!("  {d}")),
        ));
    }
    let mut counts: Vec<(String, usize)> = Vec::new();
    for r in &st.rows {
        match counts.iter_mut().find(|(s, _)| *s == r.state) {
            Some(c) => c.1 += 1,
            None => counts.push((r.state.clone(), 1)),
        }
    }
    let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    out.push_str(&format!(
        "{}: {} runs: {}\n",
        dir.display(),
        st.rows.len(),
        counts.join(", ")
    ));
    if table.is_empty() {
        return out;
    }
    out.push_str(
        "\nper preset, over seeds: final test accuracy % and the epoch of layer 1's peak mean\n\
         activation fraction (mean ± sd), mean activation fraction of each layer at the last\n\
         epoch (mean; --json adds sd, min and max)\n",
    );
    let name_w = table
        .iter()
        .map(|r| r.preset.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let seeds_w = table
        .iter()
        .map(|r| seeds_text(&r.seeds).len())
        .max()
        .unwrap_or(5)
        .max(5);
    out.push_str(&format!(
        "{:<name_w$} {:<seeds_w$} {:>8}  {:>14}  {:>13}  last activation fraction L1..\n",
        "preset", "seeds", "complete", "test acc %", "peak epoch L1"
    ));
    for row in table {
        let layers: Vec<String> = row
            .last_activation_fraction
            .iter()
            .map(|s| s.map_or_else(|| "-".into(), |s| format!("{:.3}", s.mean)))
            .collect();
        out.push_str(&format!(
            "{:<name_w$} {:<seeds_w$} {:>8}  {:>14}  {:>13}  {}\n",
            super::printable(&row.preset),
            seeds_text(&row.seeds),
            format!("{}/{}", row.complete, row.seeds.len()),
            mean_sd(&row.final_test_accuracy, 100.0, 2),
            mean_sd(&row.peak_epoch_layer1, 1.0, 1),
            layers.join(" "),
        ));
    }
    out
}

/// `sample-sets grid status`.
fn status(dir: &Path, json: bool) -> Result<(), CliError> {
    let st = scan(dir)?;
    for w in &st.warnings {
        eprintln!("warning: {w}");
    }
    let table = summary_table(&st.summaries);
    let mut out = std::io::stdout().lock();
    if json {
        #[derive(serde::Serialize)]
        struct Json<'a> {
            dir: String,
            runs: &'a [crate::grid::RunRow],
            presets: &'a [PresetRow],
        }
        let text = serde_json::to_string_pretty(&Json {
            dir: dir.display().to_string(),
            runs: &st.rows,
            presets: &table,
        })
        .map_err(|e| CliError::Run(e.to_string()))?;
        let _ = writeln!(out, "{text}");
    } else {
        let _ = write!(out, "{}", status_text(dir, &st, &table));
    }
    if st.rows.is_empty() {
        return Err(CliError::Usage(format!(
            "{}: no grid here (no grid.ron and no session files)",
            dir.display()
        )));
    }
    Ok(())
}

/// An absolute form of `p` (relative to the current folder), without requiring it to exist.
fn absolute(p: &Path) -> Result<PathBuf, CliError> {
    std::path::absolute(p).map_err(|e| CliError::Usage(format!("{}: {e}", p.display())))
}

/// `sample-sets grid slurm`.
fn slurm(a: &GridSlurmArgs) -> Result<(), CliError> {
    let mut plan = plan(&a.selection)?;
    // Longest first, as the local pool: a cluster starts array tasks in index order.
    plan.runs.sort_by_key(|r| {
        (
            std::cmp::Reverse(u64::from(r.run.preset.epochs) * r.run.epoch_cost()),
            r.index,
        )
    });
    let dataset = plan
        .runs
        .first()
        .map(|r| r.run.preset.dataset.clone())
        .unwrap_or_else(|| "mnist".into());
    if let Some(other) = plan.runs.iter().find(|r| r.run.preset.dataset != dataset) {
        return Err(CliError::Usage(format!(
            "the grid mixes data sets ('{dataset}' and '{}'); `grid slurm` passes one --data to all tasks: use one folder per data set",
            other.run.preset.dataset
        )));
    }
    let (data, _) = crate::data::locate(a.selection.data.as_deref(), &dataset)?;
    let binary = std::env::current_exe().map_err(|e| {
        CliError::Run(format!(
            "cannot find this program's own path for the script: {e}"
        ))
    })?;
    let paths = ScriptPaths {
        dir: absolute(&plan.dir)?,
        binary: absolute(&binary)?,
        data: absolute(&data)?,
    };
    let opts = SlurmOptions {
        partition: a.partition.clone(),
        time: a.time.clone(),
        mem: a.mem.clone(),
        account: a.account.clone(),
    };
    let text = slurm::script(&plan.runs, &paths, &opts)?;
    plan.save()?;
    let path = slurm::write(&plan.runs, &plan.dir, &text)?;
    if a.submit {
        let id = slurm::submit(&path)?;
        eprintln!(
            "submitted {} ({} tasks); follow with `sample-sets grid status {}`",
            path.display(),
            plan.runs.len(),
            plan.dir.display()
        );
        println!("{id}");
    } else {
        eprintln!(
            "wrote {} ({} tasks); submit with `sbatch {}` or rerun with --submit",
            path.display(),
            plan.runs.len(),
            path.display()
        );
        print!("{text}");
    }
    Ok(())
}

/// `sample-sets export DIR --grid-figure METRIC --out FILE`.
pub fn export_grid_figure(args: &ExportArgs) -> Result<(), CliError> {
    let name = args.grid_figure.as_deref().unwrap_or_default();
    // "churn" is the set overlap's old name.
    let wanted = match name.trim().to_ascii_lowercase() {
        old if old == "churn" => Metric::Overlap.slug().to_string(),
        other => other,
    };
    let metric = Metric::ALL
        .into_iter()
        .find(|m| m.slug() == wanted)
        .ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.slug()).collect();
            CliError::Usage(format!(
                "unknown metric '{name}' for --grid-figure; try: {}",
                names.join(", ")
            ))
        })?;
    let Some(out) = &args.out else {
        return Err(CliError::Usage(
            "--grid-figure needs --out FILE.png|FILE.svg|FILE.csv".into(),
        ));
    };
    if !args.file.is_dir() {
        return Err(CliError::Usage(format!(
            "{}: --grid-figure needs a grid folder",
            args.file.display()
        )));
    }
    let st = scan(&args.file)?;
    for w in &st.warnings {
        eprintln!("warning: {w}");
    }
    let existing = if args.force {
        crate::fs::Existing::Replace
    } else {
        crate::fs::Existing::Keep
    };
    crate::export::figures::grid::write_grid_figure(&st.summaries, metric, out, existing).map_err(
        |e| match e {
            crate::export::ExportError::Write { path, message } => {
                CliError::Write { path, message }
            }
            crate::export::ExportError::File(e) => CliError::from(e),
            other => CliError::Usage(other.to_string()),
        },
    )?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
