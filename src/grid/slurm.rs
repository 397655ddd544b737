//! A grid as a Slurm job array: one task per (preset, seed), each running `sample-sets train`
//! for its run on one thread, resuming the run's session file when it exists. Slurm does the
//! scheduling; this module only writes the script and hands it to `sbatch`.
//!
//! Layout in the grid folder: `grid.sbatch` (the script), `slurm/presets/<run>.ron` (each
//! run's full preset, so nodes need no preset folder), `slurm/logs/<job>_<task>.out`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::GridError;
use super::plan::PlannedRun;

/// File name of the script in the grid folder.
pub const SCRIPT_FILE: &str = "grid.sbatch";
/// Folder (in the grid folder) of the per-run preset files and the task logs.
pub const SLURM_DIR: &str = "slurm";

/// `#SBATCH` options given on the command line; `None` leaves the cluster's default.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time` (e.g. `04:00:00` or `1-00:00:00`).
    pub time: Option<String>,
    /// `--mem` (e.g. `2G`).
    pub mem: Option<String>,
    /// `--account`.
    pub account: Option<String>,
}

/// Paths the script needs, all absolute.
#[derive(Debug, Clone)]
pub struct ScriptPaths {
    /// The grid folder.
    pub dir: PathBuf,
    /// The `sample-sets` binary the tasks run.
    pub binary: PathBuf,
    /// The data folder passed to every task as `--data`.
    pub data: PathBuf,
}

fn check_token(name: &str, value: &str, allowed: impl Fn(char) -> bool) -> Result<(), GridError> {
    if value.is_empty() || !value.chars().all(allowed) {
        return Err(GridError::Selection(format!(
            "--{name} '{value}' has characters a Slurm {name} does not"
        )));
    }
    Ok(())
}

impl SlurmOptions {
    /// Checks that each value is a plain Slurm token (so nothing can break out of its
    /// `#SBATCH` line).
    ///
    /// # Errors
    /// [`GridError::Selection`] naming the option.
    pub fn validate(&self) -> Result<(), GridError> {
        let name_char = |c: char| c.is_ascii_alphanumeric() || "_.,-".contains(c);
        if let Some(p) = &self.partition {
            check_token("partition", p, name_char)?;
        }
        if let Some(a) = &self.account {
            check_token("account", a, name_char)?;
        }
        if let Some(t) = &self.time {
            check_token("time", t, |c| c.is_ascii_digit() || ":-".contains(c))?;
        }
        if let Some(m) = &self.mem {
            check_token("mem", m, |c| c.is_ascii_alphanumeric())?;
        }
        Ok(())
    }
}

/// `path` as a bash word: single-quoted, with `'` written as `'\''`.
fn bash_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// A path that may go into an `#SBATCH` line (double-quoted there): absolute, and no
/// newline or double quote.
fn sbatch_path(path: &Path) -> Result<String, GridError> {
    let text = path.display().to_string();
    if !path.is_absolute() || text.contains(['"', '\n', '\r']) {
        return Err(GridError::Selection(format!(
            "{text}: a grid folder for Slurm needs an absolute path without quotes or line breaks"
        )));
    }
    Ok(text)
}

/// The job array script for `runs` (task `i` trains `runs[i]`).
///
/// # Errors
/// [`GridError::Selection`] for no runs, options that are not plain Slurm tokens, or a
/// grid folder path that cannot go into an `#SBATCH` line.
pub fn script(
    runs: &[PlannedRun],
    paths: &ScriptPaths,
    opts: &SlurmOptions,
) -> Result<String, GridError> {
    opts.validate()?;
    if runs.is_empty() {
        return Err(GridError::Selection("no runs to submit".into()));
    }
    let dir = sbatch_path(&paths.dir)?;
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    s.push_str(
        "# A Sample Sets grid as a Slurm job array: task i trains run i of the list below on\n\
         # one thread. Written by `sample-sets grid slurm`; submit with `sbatch grid.sbatch`\n\
         # from any folder. A task whose session file exists resumes it from its last saved\n\
         # epoch, so a resubmitted array continues where its tasks stopped.\n",
    );
    s.push_str("#SBATCH --job-name=sample-sets-grid\n");
    s.push_str(&format!("#SBATCH --array=0-{}\n", runs.len() - 1));
    s.push_str("#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n");
    s.push_str(&format!("#SBATCH --chdir=\"{dir}\"\n"));
    s.push_str(&format!(
        "#SBATCH --output=\"{dir}/{SLURM_DIR}/logs/%A_%a.out\"\n"
    ));
    for (name, value) in [
        ("partition", &opts.partition),
        ("time", &opts.time),
        ("mem", &opts.mem),
        ("account", &opts.account),
    ] {
        if let Some(v) = value {
            s.push_str(&format!("#SBATCH --{name}={v}\n"));
        }
    }
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!("bin={}\n", bash_quote(&paths.binary)));
    s.push_str(&format!("data={}\n", bash_quote(&paths.data)));
    s.push_str(&format!("dir={}\n", bash_quote(&paths.dir)));
    s.push_str("runs=(\n");
    for r in runs {
        let stem = r.run.file.trim_end_matches(".ron");
        s.push_str(&format!("    {}\n", bash_quote(Path::new(stem))));
    }
    s.push_str(")\n");
    s.push_str(
        r#"run="${runs[$SLURM_ARRAY_TASK_ID]}"
out="$dir/$run.ron"
if [ -e "$out" ]; then
    # Finished already: nothing to do (the status is near the top of a session file; no
    # grep -q, whose early exit would fail the pipe under pipefail).
    if head -c 4096 "$out" | grep '^    status: Completed,$' >/dev/null; then
        echo "$run: completed already"
        exit 0
    fi
    exec "$bin" train --resume "$out" --data "$data" --threads 1 --quiet
fi
exec "$bin" train --preset-file "$dir/slurm/presets/$run.ron" --out "$out" --data "$data" --threads 1 --quiet
"#,
    );
    Ok(s)
}

/// Writes the script and each run's preset file into the grid folder; returns the script's
/// path.
///
/// # Errors
/// [`GridError::Io`] / [`GridError::Session`] naming what could not be written.
pub fn write(runs: &[PlannedRun], dir: &Path, script_text: &str) -> Result<PathBuf, GridError> {
    let presets = dir.join(SLURM_DIR).join("presets");
    let logs = dir.join(SLURM_DIR).join("logs");
    for d in [&presets, &logs] {
        std::fs::create_dir_all(d).map_err(|source| GridError::Io {
            path: d.clone(),
            action: "cannot create the folder",
            source,
        })?;
    }
    for r in runs {
        // The grid's own files: regenerated from the manifest on every call.
        crate::fs::write_atomic(
            &presets.join(&r.run.file),
            r.run.preset.to_ron().as_bytes(),
            crate::fs::Existing::Replace,
        )?;
    }
    let path = dir.join(SCRIPT_FILE);
    crate::fs::write_atomic(&path, script_text.as_bytes(), crate::fs::Existing::Replace)?;
    Ok(path)
}

/// Submits `script` with `sbatch --parsable` and returns the job id.
///
/// # Errors
/// [`GridError::Submit`] when `sbatch` is not installed, cannot run, or refuses the script
/// (its message included).
pub fn submit(script: &Path) -> Result<String, GridError> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                GridError::Submit(
                    "not found: install Slurm's client commands, or copy the grid folder to a \
                     cluster and run `sbatch grid.sbatch` there"
                        .into(),
                )
            } else {
                GridError::Submit(format!("cannot run: {e}"))
            }
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(GridError::Submit(format!(
            "refused {} ({}): {}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    // `--parsable` prints "jobid" or "jobid;cluster".
    let id = stdout
        .trim()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(GridError::Submit(format!(
            "unexpected answer '{}'",
            stdout.trim()
        )));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::manifest::GridRun;

    fn planned(name: &str, seed: u64) -> PlannedRun {
        let mut p = crate::preset::find(name, &[]).unwrap();
        p.seed = seed;
        p.epochs = 2;
        let run = GridRun::new(p);
        PlannedRun {
            index: 0,
            path: PathBuf::from("/g").join(&run.file),
            run,
            epochs_done: 0,
            complete: false,
        }
    }

    fn paths(dir: &str) -> ScriptPaths {
        ScriptPaths {
            dir: dir.into(),
            binary: "/opt/bin/sample-sets".into(),
            data: "/data/it's mnist".into(),
        }
    }

    #[test]
    fn the_script_lists_one_task_per_run_with_absolute_paths_and_options() {
        let runs = [planned("mnist-2x20-ce", 1), planned("mnist-2x20-mse", 2)];
        let opts = SlurmOptions {
            partition: Some("short".into()),
            time: Some("01:30:00".into()),
            mem: Some("2G".into()),
            account: None,
        };
        let s = script(&runs, &paths("/shared/grid"), &opts).unwrap();
        assert!(s.contains("#SBATCH --array=0-1\n"), "{s}");
        assert!(s.contains("#SBATCH --cpus-per-task=1\n"));
        assert!(
            s.contains("#SBATCH --partition=short\n#SBATCH --time=01:30:00\n#SBATCH --mem=2G\n")
        );
        assert!(!s.contains("--account"));
        assert!(s.contains("#SBATCH --output=\"/shared/grid/slurm/logs/%A_%a.out\""));
        assert!(s.contains("bin='/opt/bin/sample-sets'\n"));
        assert!(s.contains(r"data='/data/it'\''s mnist'"), "{s}");
        assert!(s.contains("    'mnist-2x20-ce-seed1'\n    'mnist-2x20-mse-seed2'\n"));
        assert!(s.contains("--threads 1"));
    }

    #[test]
    fn options_and_paths_that_could_break_the_script_are_refused() {
        let runs = [planned("mnist-2x20-ce", 1)];
        let bad = SlurmOptions {
            partition: Some("x\n#SBATCH --uid=0".into()),
            ..SlurmOptions::default()
        };
        assert!(script(&runs, &paths("/g"), &bad).is_err());
        assert!(script(&runs, &paths("relative/grid"), &SlurmOptions::default()).is_err());
        assert!(script(&runs, &paths("/g\"x"), &SlurmOptions::default()).is_err());
        assert!(script(&[], &paths("/g"), &SlurmOptions::default()).is_err());
    }
}
