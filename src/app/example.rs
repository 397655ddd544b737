//! The example session shipped inside the binary, so a first run can explore at once with no
//! network and no data.

use std::path::{Path, PathBuf};

/// The example session: mnist-2x80-ce, seed 1, 20 epochs, the default schedule (records at
/// steps 0, 1, 2, 4, ..., 256 inside epoch 1, then every epoch) and the backward pass, made by
/// `sample-sets train --preset mnist-2x80-ce --epochs 20 --threads 1`. (The schema-1 example it
/// replaced is kept as `tests/fixtures/example-schema1-2x80-ce.ron`, where tests of old files use it.)
pub const EXAMPLE_SESSION: &[u8] = include_bytes!("../../assets/example-session.ron");

/// Writes the example session into `dir` (if not there yet) and returns its path.
///
/// # Errors
/// A message naming the file when it cannot be written.
pub fn example_session_path(dir: &Path) -> Result<PathBuf, String> {
    let path = dir.join("example-mnist-2x80-ce.ron");
    if !path.exists() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
        crate::fs::write_atomic(&path, EXAMPLE_SESSION, crate::fs::Existing::Keep)
            .map_err(|e| e.to_string())?;
    }
    Ok(path)
}
