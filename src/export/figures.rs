//! Figures rendered with plotters to PNG or SVG.

use std::path::{Path, PathBuf};

use super::ExportError;
use crate::session::Session;

/// Which figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureKind {
    /// Train and test loss over epochs.
    Loss,
}

impl FigureKind {
    /// Names accepted on the command line.
    pub const NAMES: &'static [&'static str] = &["loss"];
    /// Parses a command-line name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "loss" => Some(Self::Loss),
            _ => None,
        }
    }
}

/// Writes one figure.
///
/// # Errors
/// [`ExportError`].
pub fn write_one(
    _s: &Session,
    _kind: FigureKind,
    _node: Option<(usize, usize)>,
    _epoch: Option<u32>,
    _out: &Path,
) -> Result<(), ExportError> {
    Err(ExportError::Request(
        "figures are not implemented yet".into(),
    ))
}

/// Writes the standard figure set into `dir`.
///
/// # Errors
/// [`ExportError`].
pub fn write_all(_s: &Session, _dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    Err(ExportError::Request(
        "figures are not implemented yet".into(),
    ))
}
