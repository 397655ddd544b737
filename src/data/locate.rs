//! Where a data set is looked for, in order: `--data DIR`, env `SAMPLE_SETS_DATA`, the
//! platform data directory, then Debian's `/usr/share/datasets/<name>/`.

use std::path::{Path, PathBuf};

use super::DataError;
use super::dataset::has_files;

/// Environment variable naming a data folder.
pub const DATA_ENV: &str = "SAMPLE_SETS_DATA";

/// Which rule found the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// Given on the command line or chosen in the app.
    Explicit,
    /// From `SAMPLE_SETS_DATA`.
    Environment,
    /// The platform data directory (e.g. `~/.local/share/sample-sets/datasets/<name>`).
    PlatformDir,
    /// Debian's dataset packages.
    System,
}

/// The platform data directory for data sets, `<data dir>/datasets`, if the platform has one.
pub fn platform_datasets_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("org", "sample-sets", "sample-sets")
        .map(|d| d.data_dir().join("datasets"))
}

/// A folder holds the set when it has the four files itself, or in a sub-folder `<name>`.
fn resolve(dir: &Path, name: &str) -> Option<PathBuf> {
    if has_files(dir) {
        Some(dir.to_path_buf())
    } else {
        let sub = dir.join(name);
        has_files(&sub).then_some(sub)
    }
}

/// Finds the folder holding data set `name` (e.g. `mnist`).
///
/// # Errors
/// [`DataError::NotFound`] listing every folder searched. An explicit folder that lacks
/// the files is an error even if another rule would have found them: the user asked for it.
pub fn locate(explicit: Option<&Path>, name: &str) -> Result<(PathBuf, DataSource), DataError> {
    if let Some(dir) = explicit {
        // A folder that holds some of the files but not all: name the first missing one.
        if dir.is_dir()
            && super::dataset::FILES
                .iter()
                .any(|f| super::dataset::file_in(dir, f).is_some())
            && let Some(f) = super::dataset::FILES
                .iter()
                .find(|f| super::dataset::file_in(dir, f).is_none())
        {
            return Err(super::dataset::missing(dir, f));
        }
        return resolve(dir, name)
            .map(|d| (d, DataSource::Explicit))
            .ok_or_else(|| DataError::NotFound {
                name: name.to_string(),
                searched: vec![dir.to_path_buf()],
            });
    }
    let mut searched = Vec::new();
    if let Some(env) = std::env::var_os(DATA_ENV).filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(env);
        if let Some(d) = resolve(&dir, name) {
            return Ok((d, DataSource::Environment));
        }
        searched.push(dir);
    }
    if let Some(dir) = platform_datasets_dir() {
        if let Some(d) = resolve(&dir, name) {
            return Ok((d, DataSource::PlatformDir));
        }
        searched.push(dir.join(name));
    }
    let sys = PathBuf::from("/usr/share/datasets").join(name);
    if has_files(&sys) {
        return Ok((sys, DataSource::System));
    }
    searched.push(sys);
    Err(DataError::NotFound {
        name: name.to_string(),
        searched,
    })
}
