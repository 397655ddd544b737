//! What each command does.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::args::{ExportArgs, TrainArgs};
use super::error::CliError;
use crate::data::{Dataset, locate};
use crate::fs::Existing;
use crate::preset::{self, Preset};
use crate::session::{self, RunStatus, Session};
use crate::train::{Control, Run, RunEvent};

/// `sample-sets presets`: one line per preset.
pub fn presets(dir: Option<&Path>) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{:<20} {:>6} {:>6} {:>5} {:>6} {:>7}",
        "name", "layers", "width", "loss", "batch", "epochs"
    );
    for p in preset::builtin()? {
        print_preset(&mut out, &p);
    }
    let dirs: Vec<PathBuf> = dir
        .map(Path::to_path_buf)
        .into_iter()
        .chain(preset::user_dir())
        .collect();
    for d in dirs {
        for p in preset::load_dir(&d) {
            match p {
                Ok(p) => print_preset(&mut out, &p),
                Err(e) => eprintln!("warning: {e}"),
            }
        }
    }
    Ok(())
}

fn print_preset(out: &mut impl Write, p: &Preset) {
    let _ = writeln!(
        out,
        "{:<20} {:>6} {:>6} {:>5} {:>6} {:>7}",
        super::printable(&p.name),
        p.hidden_layers,
        p.width,
        p.loss.short_name(),
        p.batch_size,
        p.epochs
    );
}

/// Loads the data set named by a preset, honouring `--data`; prints its notes and warnings.
pub fn load_data(explicit: Option<&Path>, name: &str) -> Result<Dataset, CliError> {
    let (dir, _) = locate(explicit, name)?;
    let data = Dataset::load(&dir)?;
    for n in &data.notes {
        eprintln!("note: {n}");
    }
    for w in &data.warnings {
        eprintln!("warning: {w}");
    }
    Ok(data)
}

/// `sample-sets train`.
pub fn train(args: &TrainArgs) -> Result<(), CliError> {
    let user_dirs: Vec<PathBuf> = args
        .preset_dir
        .iter()
        .cloned()
        .chain(preset::user_dir())
        .collect();
    let (mut run, data, out) = if let Some(file) = &args.resume {
        let mut session = session::load(file)?;
        if let Some(e) = args.epochs {
            session.preset.epochs = e.max(session.epochs_done());
        }
        // Checked before any work, so that the run never writes a file that does not load.
        session
            .preset
            .validate("command line")
            .map_err(|e| CliError::Usage(e.to_string()))?;
        // Its own file is the normal place to continue; another file only with --force.
        let out = args.out.clone().unwrap_or_else(|| file.clone());
        let existing = if same_file(&out, file) {
            Existing::Replace
        } else {
            Existing::from_force(args.force)
        };
        crate::fs::check_writable(&out, existing)?;
        let data = load_data(args.data.as_deref(), &session.preset.dataset)?;
        if let Some(difference) = session.dataset.difference(&data.identity) {
            return Err(CliError::Run(format!(
                "{}: trained on other data than {} holds ({difference})",
                file.display(),
                data.dir.display(),
            )));
        }
        let run = Run::resume(session, &data, &file.display().to_string())
            .map_err(|e| CliError::Run(e.to_string()))?;
        (run, data, out)
    } else {
        let mut p = match (&args.preset, &args.preset_file) {
            (_, Some(f)) => Preset::load(f)?,
            (Some(name), None) => preset::find(name, &user_dirs)?,
            (None, None) => {
                return Err(CliError::Usage(
                    "give --preset NAME or --preset-file FILE".into(),
                ));
            }
        };
        if let Some(e) = args.epochs {
            p.epochs = e;
        }
        if let Some(s) = args.seed {
            p.seed = s;
        }
        if let Some(k) = args.probe {
            p.probe_size = k;
        }
        if let Some(schedule) = args.schedule {
            p.schedule = schedule;
        }
        p.validate("command line")
            .map_err(|e| CliError::Usage(e.to_string()))?;
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{}.ron", p.file_stem())));
        // Before any training time is spent: an existing file (without --force), a folder,
        // or a folder that takes no new file.
        crate::fs::check_writable(&out, Existing::from_force(args.force))?;
        let data = load_data(args.data.as_deref(), &p.dataset)?;
        let run = Run::new(p, &data, crate::train::threads::current())
            .map_err(|e| CliError::Run(e.to_string()))?;
        (run, data, out)
    };
    let preset = run.session.preset.clone();
    let epochs = u64::from(preset.epochs);
    let per_epoch = data.train.len() as u64;
    let tty = std::io::stderr().is_terminal() && !args.quiet;
    let bar = if tty {
        let b = ProgressBar::new(epochs * per_epoch);
        b.set_style(
            ProgressStyle::with_template("{bar:30} epoch {msg} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    eprintln!(
        "training {} on {} ({} train / {} test samples), {} thread(s), writing {}",
        super::printable(&preset.name),
        super::printable(&data.identity.name),
        data.train.len(),
        data.test.len(),
        crate::train::threads::current(),
        out.display()
    );
    let steps_per_epoch = run.session.steps_per_epoch();
    let samples_at = |step: u64| {
        let within = ((step % steps_per_epoch) * preset.batch_size as u64).min(per_epoch);
        (step / steps_per_epoch) * per_epoch + within
    };
    let mut samples_before = run.session.epochs.last().map_or(0, |e| samples_at(e.step));
    let control = Control::default();
    let mut last_acc = (f64::NAN, f64::NAN);
    // The outcome of the latest save: a save that fails is reported at once, and the run ends
    // with exit 6 unless a later save succeeded. Each save's failure (if any) comes just
    // before the event of the epoch (or the end) it saved.
    let mut save_error: Option<String> = None;
    let mut this_save_failed = false;
    let status = run.execute(&data, Some(&out), &control, &mut |ev| match ev {
        RunEvent::Progress { epoch, samples_done, running_loss, samples_per_s, .. } => {
            bar.set_position(u64::from(epoch - 1) * per_epoch + samples_done as u64);
            bar.set_message(format!(
                "{epoch}/{epochs}  {samples_per_s:.0} samples/s  loss {running_loss:.4}  acc {:.2}%",
                last_acc.1 * 100.0
            ));
        }
        RunEvent::Epoch(rec) => {
            if !std::mem::take(&mut this_save_failed) {
                save_error = None;
            }
            last_acc = (rec.train_accuracy, rec.test_accuracy);
            let samples = samples_at(rec.step);
            let trained = samples.saturating_sub(std::mem::replace(&mut samples_before, samples));
            bar.set_position(samples);
            let at = if rec.step % steps_per_epoch == 0 {
                format!("epoch {:>4}/{epochs}", rec.epoch)
            } else {
                format!("step {:>5} ({:.4} epochs)", rec.step, rec.step as f64 / steps_per_epoch as f64)
            };
            let line = format!(
                "{at}  train loss {:.4} acc {:.2}%  test loss {:.4} acc {:.2}%  train {:.2}s measure {:.2}s ({} samples/s)",
                rec.train_loss,
                rec.train_accuracy * 100.0,
                rec.test_loss,
                rec.test_accuracy * 100.0,
                rec.timing.train_s,
                rec.timing.measure_s,
                if rec.timing.train_s > 0.0 { format!("{:.0}", trained as f64 / rec.timing.train_s) } else { "-".into() },
            );
            if tty {
                bar.println(line);
            } else {
                eprintln!("{line}");
            }
        }
        RunEvent::SaveFailed(e) => {
            // At once, and on stderr even when there is no progress bar to print above.
            let line = format!("warning: saving failed: {e}; the next save tries again");
            if tty {
                bar.println(line);
            } else {
                eprintln!("{line}");
            }
            save_error = Some(e);
            this_save_failed = true;
        }
        RunEvent::Finished(_) => {
            if !std::mem::take(&mut this_save_failed) {
                save_error = None;
            }
            bar.finish_and_clear();
        }
    });
    if let Some(e) = save_error {
        return Err(CliError::Save(format!(
            "{e} (the last save failed: the epochs after the last good save are not on disk)"
        )));
    }
    match status {
        RunStatus::Completed => {
            eprintln!("done: {}", out.display());
            Ok(())
        }
        RunStatus::Diverged { epoch } => Err(CliError::Run(format!(
            "{}: training diverged in epoch {epoch} (loss is NaN or infinite); the completed epochs are saved",
            out.display()
        ))),
        other => Err(CliError::Run(format!(
            "{}: run ended: {}",
            out.display(),
            other.label()
        ))),
    }
}

/// True when `a` and `b` name the same file (also through different spellings of the path).
fn same_file(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Per-layer activation fraction at the first, peak and last epoch.
#[derive(Debug, Serialize)]
pub struct LayerInspect {
    /// Layer (1-based).
    pub layer: usize,
    /// Nodes.
    pub width: usize,
    /// Mean activation fraction at epoch 0.
    pub first: f32,
    /// Completed epochs at the peak mean activation fraction (0 for a peak inside epoch 1).
    pub peak_epoch: u32,
    /// Step of the peak mean activation fraction.
    pub peak_step: u64,
    /// Position of the peak mean activation fraction, epochs (step / steps per epoch).
    pub peak_position: f64,
    /// Peak mean activation fraction.
    pub peak: f32,
    /// Mean activation fraction at the last epoch.
    pub last: f32,
    /// Dead nodes at the last epoch.
    pub dead_last: u32,
}

/// What `inspect` prints.
#[derive(Debug, Serialize)]
pub struct Inspect {
    /// File.
    pub file: String,
    /// Preset name.
    pub preset: String,
    /// Data set name.
    pub dataset: String,
    /// Seed.
    pub seed: u64,
    /// Epochs done.
    pub epochs_done: u32,
    /// Epochs planned.
    pub epochs_planned: u32,
    /// Run status.
    pub status: String,
    /// Final train accuracy.
    pub train_accuracy: f64,
    /// Final test accuracy.
    pub test_accuracy: f64,
    /// Best test accuracy.
    pub best_test_accuracy: f64,
    /// Measurement schedule (see `train --schedule`).
    pub schedule: String,
    /// Records (measurements) in the session.
    pub records: usize,
    /// Minibatch steps per epoch.
    pub steps_per_epoch: u64,
    /// Per layer.
    pub layers: Vec<LayerInspect>,
    /// Events on the time line (see `session::events`).
    pub events: Vec<crate::session::events::Event>,
}

/// Builds the `inspect` summary of a session.
pub fn summarize(s: &Session, file: &Path) -> Inspect {
    let last = s.epochs.last();
    let layers = (0..s.widths.len())
        .map(|l| {
            let frac =
                |e: &crate::session::EpochRecord| e.layers[l].summary.activation_fraction.mean;
            let (peak_record, peak) = s
                .epochs
                .iter()
                .map(frac)
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |a, b| if b.1 > a.1 { b } else { a });
            let peak_step = s.epochs.get(peak_record).map_or(0, |e| e.step);
            LayerInspect {
                layer: l + 1,
                width: s.widths[l],
                first: s.epochs.first().map_or(f32::NAN, frac),
                peak_epoch: s.epochs.get(peak_record).map_or(0, |e| e.epoch),
                peak_step,
                peak_position: s.position(peak_step),
                peak,
                last: last.map_or(f32::NAN, frac),
                dead_last: last.map_or(0, |e| e.layers[l].summary.dead),
            }
        })
        .collect();
    Inspect {
        file: file.display().to_string(),
        preset: s.preset.name.clone(),
        dataset: s.dataset.name.clone(),
        seed: s.preset.seed,
        epochs_done: s.epochs_done(),
        epochs_planned: s.preset.epochs,
        status: s.status.label().to_string(),
        train_accuracy: last.map_or(f64::NAN, |e| e.train_accuracy),
        test_accuracy: last.map_or(f64::NAN, |e| e.test_accuracy),
        best_test_accuracy: s
            .epochs
            .iter()
            .map(|e| e.test_accuracy)
            .fold(f64::NAN, f64::max),
        schedule: s.preset.schedule.name(),
        records: s.epochs.len(),
        steps_per_epoch: s.steps_per_epoch(),
        layers,
        events: crate::session::events::events(s),
    }
}

/// `sample-sets inspect`.
pub fn inspect(file: &Path, json: bool) -> Result<(), CliError> {
    let s = session::load(file)?;
    let i = summarize(&s, file);
    let mut out = std::io::stdout().lock();
    if json {
        let text = serde_json::to_string_pretty(&i).map_err(|e| CliError::Run(e.to_string()))?;
        let _ = writeln!(out, "{text}");
        return Ok(());
    }
    let _ = writeln!(out, "{}", i.file);
    let _ = writeln!(
        out,
        "preset      {} (seed {}) on {}",
        super::printable(&i.preset),
        i.seed,
        super::printable(&i.dataset)
    );
    let _ = writeln!(
        out,
        "epochs      {} of {} ({})",
        i.epochs_done, i.epochs_planned, i.status
    );
    let _ = writeln!(
        out,
        "accuracy    train {:.2}%  test {:.2}%  (best test {:.2}%)",
        i.train_accuracy * 100.0,
        i.test_accuracy * 100.0,
        i.best_test_accuracy * 100.0
    );
    let _ = writeln!(
        out,
        "records     {} (schedule {}, {} steps per epoch)",
        i.records, i.schedule, i.steps_per_epoch
    );
    let _ = writeln!(out, "mean activation fraction per layer:");
    let _ = writeln!(
        out,
        "  layer width  epoch 0     peak (epoch, step)        last   dead"
    );
    for l in &i.layers {
        let _ = writeln!(
            out,
            "  {:>5} {:>5}  {:>7.4}  {:>7.4} ({:>8.4}, {:>6})  {:>7.4}  {:>5}",
            l.layer, l.width, l.first, l.peak, l.peak_position, l.peak_step, l.last, l.dead_last
        );
    }
    let _ = writeln!(out, "events:");
    // Node deaths of one record on one line (a 9x320 run has dozens per record).
    let mut i_event = 0;
    while let Some(e) = i.events.get(i_event) {
        let deaths: Vec<&crate::session::events::Event> = i.events[i_event..]
            .iter()
            .take_while(|d| {
                d.record == e.record
                    && matches!(d.kind, crate::session::events::EventKind::NodesDie { .. })
            })
            .collect();
        if deaths.len() > 1 {
            let per_layer: Vec<String> = deaths
                .iter()
                .filter_map(|d| match &d.kind {
                    crate::session::events::EventKind::NodesDie { layer, nodes } => {
                        Some(format!("layer {} {}", layer + 1, nodes.len()))
                    }
                    _ => None,
                })
                .collect();
            let verb = if e.record == 0 {
                "dead from the start"
            } else {
                "die"
            };
            let _ = writeln!(
                out,
                "  epoch {:>9.4} (step {:>6})  nodes {verb}: {}",
                e.position,
                e.step,
                per_layer.join(", ")
            );
            i_event += deaths.len();
        } else {
            let _ = writeln!(out, "  {}", e.describe());
            i_event += 1;
        }
    }
    Ok(())
}

/// `sample-sets export`.
pub fn export(args: &ExportArgs) -> Result<(), CliError> {
    let s = session::load(&args.file)?;
    let mut did = false;
    let existing = Existing::from_force(args.force);
    for out in args.csv.iter().chain(&args.out).chain(&args.weights) {
        if same_file(out, &args.file) {
            return Err(CliError::Usage(format!(
                "{}: the output would overwrite the session being exported",
                out.display()
            )));
        }
    }
    // Every named output first, so that a refused one leaves the others unwritten too.
    let single = args.out.iter().filter(|_| !args.all);
    for out in args.csv.iter().chain(single).chain(&args.weights) {
        crate::fs::check_writable(out, existing)?;
    }
    if let Some(csv) = &args.csv {
        let text = crate::export::csv::nodes_csv(&s);
        crate::fs::write_atomic(csv, text.as_bytes(), existing)?;
        eprintln!("wrote {}", csv.display());
        did = true;
    }
    if let Some(path) = &args.weights {
        crate::export::weights::write_weights(&s, path, existing).map_err(|e| match e {
            crate::export::ExportError::Write { path, message } => {
                CliError::Write { path, message }
            }
            crate::export::ExportError::File(e) => CliError::from(e),
            other => CliError::Usage(format!("{}: {other}", args.file.display())),
        })?;
        eprintln!("wrote {}", path.display());
        did = true;
    }
    if args.all || args.plot.is_some() {
        let Some(out) = &args.out else {
            return Err(CliError::Usage("--plot and --all need --out".into()));
        };
        let written = if args.all {
            crate::export::figures::write_all(&s, out, existing)
        } else {
            let node = match &args.node {
                Some(n) => Some(parse_node(n)?),
                None => None,
            };
            let name = args.plot.as_deref().unwrap_or_default();
            let kind = crate::export::figures::FigureKind::parse(name).ok_or_else(|| {
                CliError::Usage(format!(
                    "unknown plot '{name}'; try: {}",
                    crate::export::figures::FigureKind::names().join(", ")
                ))
            })?;
            crate::export::figures::write_one(&s, kind, node, args.epoch, out, existing)
                .map(|()| vec![out.clone()])
        }
        .map_err(|e| match e {
            crate::export::ExportError::Write { path, message } => {
                CliError::Write { path, message }
            }
            crate::export::ExportError::File(e) => CliError::from(e),
            other => CliError::Usage(other.to_string()),
        })?;
        for p in written {
            eprintln!("wrote {}", p.display());
        }
        did = true;
    }
    if !did {
        return Err(CliError::Usage(
            "nothing to export: give --csv FILE, --weights FILE, --plot NAME --out FILE or --all --out DIR".into(),
        ));
    }
    Ok(())
}

/// Parses `LAYER:NODE` (1-based layer, 0-based node).
pub fn parse_node(s: &str) -> Result<(usize, usize), CliError> {
    let bad = || CliError::Usage(format!("--node '{s}' is not LAYER:NODE (e.g. 2:17)"));
    let (l, n) = s.split_once(':').ok_or_else(bad)?;
    let l: usize = l.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if l == 0 {
        return Err(bad());
    }
    Ok((l - 1, n))
}

/// `sample-sets download-mnist`.
pub fn download_mnist(dest: Option<&Path>, force: bool) -> Result<(), CliError> {
    use crate::data::download::{self, DownloadError};
    let dest = match dest {
        Some(d) => d.to_path_buf(),
        None => crate::data::locate::platform_datasets_dir()
            .map(|d| d.join("mnist"))
            .ok_or_else(|| {
                CliError::Usage("no platform data folder here; give --dest DIR".into())
            })?,
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mirrors: Vec<String> = download::MNIST_MIRRORS
        .iter()
        .map(|m| (*m).to_string())
        .collect();
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let options = download::DownloadOptions {
        existing: Existing::from_force(force),
        ..download::DownloadOptions::default()
    };
    download::download_mnist_with(
        &dest,
        &mirrors,
        &options,
        &mut |p| {
            bar.set_message(p.file.clone());
            bar.set_length(p.total.unwrap_or(p.bytes));
            bar.set_position(p.bytes);
        },
        &cancel,
    )
    .map_err(|e| match e {
        DownloadError::Write { path, message } => CliError::Write { path, message },
        DownloadError::Exists { path } => CliError::Write {
            path,
            message: "already exists and is not the MNIST file; give --force to replace it".into(),
        },
        other => CliError::Run(other.to_string()),
    })?;
    bar.finish_and_clear();
    eprintln!("MNIST is in {}", dest.display());
    Ok(())
}
