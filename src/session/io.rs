//! Saving (atomic: temporary file, then rename) and loading session files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use ron::value::RawValue;
use serde::Serialize;

use super::file::{
    Bulk, CheckpointFile, EpochFile, FINISHED_CHECKPOINT_LEVEL, ProbeFile, SessionFile, decode,
    decode_bulk, encode_checkpoint, encode_epoch, encode_probe,
};
use super::model::{Checkpoint, EpochRecord, RunStatus, Session};
use super::parts::{self, cut};
use super::write_behind::WriteBehind;
use super::{FORMAT, SCHEMA, SessionError};
use crate::fs::{Existing, write_atomic};

/// Largest session file accepted (4 GiB); the largest preset writes well under 100 MB.
pub const MAX_SESSION_BYTES: u64 = 4 << 30;

/// Keeps a session's encoded form so that saving after each epoch encodes only that epoch.
///
/// Epoch records never change once written, so each is turned into RON text once, when it
/// arrives. The writer also keeps the text it last saved: the next save serialises only the
/// new epochs and the checkpoint and puts them after the epochs already there. Re-serialising
/// all epochs took 0.65 s per save at epoch 200 of a 9x320 run (37 MB), more than a tenth of
/// that epoch; splicing their texts in through serde still took 0.2 s.
///
/// A running session saves with [`Self::save_in_background`], which leaves the writing to a
/// thread of its own ([`WriteBehind`]); [`Self::save`] writes before it returns.
#[derive(Debug)]
pub struct SessionWriter {
    path: PathBuf,
    /// Everything but the epochs (its `epochs` stays empty).
    file: SessionFile,
    /// Each epoch record as RON text, in order.
    epochs: Vec<EpochText>,
    /// The last record pushed: the next one is stored against it.
    last: Option<EpochRecord>,
    /// The checkpoint, kept to encode it again when the run finishes (see
    /// [`checkpoint_level`]).
    checkpoint: Option<Checkpoint>,
    /// The text of the last save, when it can be extended.
    saved: Option<SavedText>,
    /// The thread writing saves in the background, once the first such save is made.
    behind: Option<WriteBehind>,
}

/// A saved file's text, cut where the next epochs go: `text[..head]` runs to the opening
/// bracket of the epoch list, `text[..epochs_end]` to the end of its last element.
#[derive(Debug, Clone)]
struct SavedText {
    /// Shared with the background writer while it writes; extended in place otherwise.
    text: Arc<String>,
    head: usize,
    epochs_end: usize,
    /// Epoch records in `text`.
    epochs: usize,
}

impl SavedText {
    /// Keeps `text`, the whole file holding `epochs` records; None when it cannot be cut.
    fn new(text: String, epochs: usize) -> Option<Self> {
        let (head, epochs_end) = cut(&text)?;
        Some(Self {
            text: Arc::new(text),
            head,
            epochs_end,
            epochs,
        })
    }

    /// Extends the saved text by `part`, the text of a file holding only the `new_epochs`
    /// records after the saved ones (and the current checkpoint). False, changing nothing,
    /// when `part`'s head differs (the status or another field changed) or it cannot be cut.
    fn extend(&mut self, part: &str, new_epochs: usize) -> bool {
        let Some((head, end)) = cut(part) else {
            return false;
        };
        if part.get(..head) != self.text.get(..self.head) {
            return false;
        }
        let (Some(new), Some(tail)) = (part.get(head..end), part.get(end..)) else {
            return false;
        };
        // A copy only when the background writer still holds the last save.
        let text = Arc::make_mut(&mut self.text);
        text.truncate(self.epochs_end);
        if !new.is_empty() && self.epochs > 0 {
            // How `pretty` separates the elements of a list.
            text.push_str(", ");
        }
        text.push_str(new);
        self.epochs_end = text.len();
        text.push_str(tail);
        self.epochs += new_epochs;
        true
    }
}

/// The texts of `session`'s first records as the file at `path` already holds them, when that
/// file is a save of the same run in this schema (a run resumed from its own file): encoding
/// the 200 records of a 9x320 run again took 15 s of CPU (7.5 s on two cores) before a resumed
/// run's first epoch, reading the file back ~0.3 s. Only records that read back equal to the
/// session's are taken; none when the file is missing, unreadable or of another schema.
fn texts_on_disk(path: &Path, session: &Session) -> Vec<EpochText> {
    if session.epochs.is_empty() {
        return Vec::new();
    }
    // `read` refuses files over the session size limit.
    let Some(text) = read(path).ok().and_then(|b| String::from_utf8(b).ok()) else {
        return Vec::new();
    };
    if head_schema(&text) != Some(SCHEMA) {
        return Vec::new();
    }
    let Ok(on_disk) = load_bytes(text.as_bytes().to_vec(), path) else {
        return Vec::new();
    };
    // A record's text depends only on it and the one before it, so equal records are enough;
    // the preset may differ (a resumed run given more epochs).
    let same_shapes = on_disk.widths == session.widths && on_disk.probe == session.probe;
    let Some(parts) =
        parts::split(&text).filter(|p| same_shapes && p.records.len() == on_disk.epochs.len())
    else {
        return Vec::new();
    };
    on_disk
        .epochs
        .iter()
        .zip(&session.epochs)
        .zip(parts.records)
        .map_while(|((a, b), piece)| {
            (a == b)
                .then(|| RawValue::from_boxed_ron(piece.trim().into()).ok())
                .flatten()
                .map(EpochText::Text)
        })
        .collect()
}

/// [`SessionFile`] with its epochs already in RON text: the same fields, names and order, so
/// it reads back as a [`SessionFile`].
#[derive(Serialize)]
struct SessionFileText<'a> {
    format: &'a str,
    schema: u32,
    app_version: &'a str,
    status: &'a RunStatus,
    preset: &'a crate::preset::Preset,
    dataset: &'a crate::data::DatasetIdentity,
    threads: usize,
    widths: &'a [usize],
    #[serde(skip_serializing_if = "Option::is_none")]
    settled_below: Option<f32>,
    probe: &'a ProbeFile,
    epochs: &'a [EpochText],
    checkpoint: &'a Option<CheckpointFile>,
}

/// How session files are laid out: indented to the depth of the layer summaries, then one
/// line per value. Strings are written as they are (a raw string when they hold a quote or
/// backslash) rather than escaped character by character: the blobs are base64, which needs
/// no escaping, and ron's per-character escaping took a third of a save's time.
fn pretty(depth: usize) -> ron::ser::PrettyConfig {
    ron::ser::PrettyConfig::new()
        .depth_limit(depth)
        .compact_arrays(true)
        .escape_strings(false)
}

/// One epoch record, as RON text when it could be checked to read back (always, in practice),
/// else as itself, serialised again at every save.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum EpochText {
    Text(Box<RawValue>),
    File(Box<EpochFile>),
}

impl EpochText {
    fn new(e: EpochFile) -> Self {
        ron::ser::to_string_pretty(&e, pretty(2))
            .ok()
            .and_then(|text| RawValue::from_boxed_ron(text.into_boxed_str()).ok())
            .map_or_else(|| Self::File(Box::new(e)), Self::Text)
    }
}

/// DEFLATE level of the checkpoint of a session with `status`: stored while it runs (rewritten
/// after every epoch), compressed once it has finished (see [`FINISHED_CHECKPOINT_LEVEL`]).
fn checkpoint_level(status: &RunStatus) -> u32 {
    match status {
        RunStatus::Running => 0,
        _ => FINISHED_CHECKPOINT_LEVEL,
    }
}

impl SessionWriter {
    /// A writer for `session` at `path`: takes the text of the records the file there already
    /// holds when they are the session's (see `texts_on_disk`) and encodes the others once, on
    /// all cores.
    pub fn new(path: &Path, session: &Session) -> Self {
        let mut epochs = texts_on_disk(path, session);
        let kept = epochs.len();
        epochs.par_extend(
            (kept..session.epochs.len())
                .into_par_iter()
                .map(|i| {
                    encode_epoch(
                        &session.epochs[i],
                        i.checked_sub(1).and_then(|p| session.epochs.get(p)),
                    )
                })
                .map(EpochText::new),
        );
        let level = checkpoint_level(&session.status);
        let file = SessionFile {
            format: FORMAT.to_string(),
            schema: SCHEMA,
            app_version: session.app_version.clone(),
            status: session.status.clone(),
            preset: session.preset.clone(),
            dataset: session.dataset.clone(),
            threads: session.threads,
            widths: session.widths.clone(),
            settled_below: session.settled_below,
            probe: encode_probe(&session.probe),
            epochs: Vec::new(),
            checkpoint: session
                .checkpoint
                .as_ref()
                .map(|c| encode_checkpoint(c, level)),
        };
        Self {
            path: path.to_path_buf(),
            file,
            epochs,
            last: session.epochs.last().cloned(),
            checkpoint: session.checkpoint.clone(),
            saved: None,
            behind: None,
        }
    }

    /// Where it saves.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends an epoch record.
    pub fn push_epoch(&mut self, rec: &EpochRecord) {
        let e = encode_epoch(rec, self.last.as_ref());
        self.epochs.push(EpochText::new(e));
        self.last = Some(rec.clone());
    }

    /// Sets the run status (a finished run's checkpoint is compressed then).
    pub fn set_status(&mut self, status: RunStatus) {
        let level = checkpoint_level(&status);
        if level != checkpoint_level(&self.file.status)
            && let Some(c) = &self.checkpoint
        {
            self.file.checkpoint = Some(encode_checkpoint(c, level));
        }
        self.file.status = status;
    }

    /// Replaces the checkpoint.
    pub fn set_checkpoint(&mut self, c: &Checkpoint) {
        self.file.checkpoint = Some(encode_checkpoint(c, checkpoint_level(&self.file.status)));
        self.checkpoint = Some(c.clone());
    }

    /// The file's text.
    pub fn to_ron(&self) -> String {
        self.text_with(&self.epochs)
    }

    /// The text of the file with only `epochs` for its epoch list.
    fn text_with(&self, epochs: &[EpochText]) -> String {
        let f = &self.file;
        let text = SessionFileText {
            format: &f.format,
            schema: f.schema,
            app_version: &f.app_version,
            status: &f.status,
            preset: &f.preset,
            dataset: &f.dataset,
            threads: f.threads,
            widths: &f.widths,
            settled_below: f.settled_below,
            probe: &f.probe,
            epochs,
            checkpoint: &f.checkpoint,
        };
        // Serialising plain structs and strings into a String cannot fail.
        ron::ser::to_string_pretty(&text, pretty(4)).unwrap_or_default()
    }

    /// The whole file's text for a save now: the last save's text with the new epochs and the
    /// current checkpoint put in (the same bytes as [`Self::to_ron`]), or all of it when a
    /// field before the epochs changed.
    fn text_to_save(&mut self) -> Arc<String> {
        let part = self
            .saved
            .as_ref()
            .and_then(|saved| self.epochs.get(saved.epochs..))
            .map(|new| (self.text_with(new), new.len()));
        let extended = match (self.saved.as_mut(), part) {
            (Some(saved), Some((part, new))) => saved.extend(&part, new),
            _ => false,
        };
        if !extended {
            self.saved = SavedText::new(self.to_ron(), self.epochs.len());
        }
        match &self.saved {
            Some(saved) => Arc::clone(&saved.text),
            None => Arc::new(self.to_ron()),
        }
    }

    /// Writes the file atomically before returning: a temporary file in the same folder,
    /// flushed to disk, then renamed over the target, so a crash leaves either the old or the
    /// new file whole. Saves still being written in the background are finished first; their
    /// failures are not reported here, as this save replaces them.
    ///
    /// # Errors
    /// [`SessionError::Write`] naming the target when it is a folder, its folder is not
    /// writable or the disk is full; the file on disk is then the previous save, whole.
    pub fn save(&mut self) -> Result<(), SessionError> {
        let text = self.text_to_save();
        if let Some(behind) = self.behind.as_mut() {
            // Superseded by this save; only its own result matters.
            let _ = behind.wait();
        }
        // The run's own file: each save replaces the previous one.
        Ok(write_atomic(
            &self.path,
            text.as_bytes(),
            Existing::Replace,
        )?)
    }

    /// Like [`Self::save`], but a thread of its own writes the file while the caller goes on
    /// (see [`WriteBehind`]); a later save, or dropping the writer, waits for it.
    ///
    /// # Errors
    /// [`SessionError::Write`] for an earlier background save that failed (reported once); the
    /// file on disk is then an older save, whole.
    pub fn save_in_background(&mut self) -> Result<(), SessionError> {
        let text = self.text_to_save();
        if self.behind.is_none() {
            self.behind = WriteBehind::new(self.path.clone()).ok();
        }
        match self.behind.as_mut() {
            Some(behind) => Ok(behind.write(text)?),
            // No thread to be had: write here instead.
            None => Ok(write_atomic(
                &self.path,
                text.as_bytes(),
                Existing::Replace,
            )?),
        }
    }
}

/// Saves `session` to `path` atomically, replacing the file there (callers check first when
/// the user has not agreed to replace it, see [`crate::fs::check_writable`]).
///
/// # Errors
/// As [`SessionWriter::save`].
pub fn save(session: &Session, path: &Path) -> Result<(), SessionError> {
    SessionWriter::new(path, session).save()
}

/// Bytes at the top of a file where the format and schema are looked for.
const HEAD_BYTES: usize = 4096;

/// The first [`HEAD_BYTES`] of `text`, cut back to a character boundary: the preset name
/// comes before the epochs and may hold multi-byte characters across the cut.
fn head(text: &str) -> &str {
    let end = text.floor_char_boundary(HEAD_BYTES.min(text.len()));
    text.get(..end).unwrap_or_default()
}

/// The schema number near the top of a file, if it has one where we write it.
fn head_schema(text: &str) -> Option<u32> {
    let head = head(text);
    let at = head.find("schema:")? + "schema:".len();
    let digits: String = head
        .get(at..)?
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Loads a session file, checking its format, schema and every array's shape.
///
/// # Errors
/// [`SessionError`] naming `path`: unreadable, too large, not a session, newer schema,
/// corrupt or truncated RON, bad blobs or inconsistent shapes. Never panics on any input.
pub fn load(path: &Path) -> Result<Session, SessionError> {
    load_bytes(read(path)?, path)
}

/// Files at least this large (bytes) are read in two halves side by side (see [`read`]).
const SPLIT_READ_BYTES: u64 = 4 << 20;

/// A session file's bytes, as [`load`] reads them: a large file in two halves side by side
/// (on Unix): copying 38.6 MB out of the page cache into fresh memory took 35-50 ms on one
/// core, most of it the kernel's copy and page faults, which two threads share.
///
/// # Errors
/// [`SessionError::Io`] naming `path` when it cannot be read (or shrinks while it is),
/// [`SessionError::TooLarge`] above [`MAX_SESSION_BYTES`].
pub fn read(path: &Path) -> Result<Vec<u8>, SessionError> {
    let io = |source| SessionError::Io {
        path: path.to_path_buf(),
        action: "cannot read",
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_SESSION_BYTES {
        return Err(SessionError::TooLarge {
            path: path.to_path_buf(),
            bytes: len,
            limit: MAX_SESSION_BYTES,
        });
    }
    #[cfg(unix)]
    if len >= SPLIT_READ_BYTES
        && let Ok(len) = usize::try_from(len)
    {
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::open(path).map_err(io)?;
        // Zeroed by the system's fresh pages, not by a pass over them: each half's pages are
        // first touched by the thread that reads into it.
        let mut bytes = vec![0u8; len];
        let (first, second) = bytes.split_at_mut(len / 2);
        let (a, b) = rayon::join(
            || file.read_exact_at(first, 0),
            || file.read_exact_at(second, (len / 2) as u64),
        );
        a.and(b).map_err(io)?;
        return Ok(bytes);
    }
    // A device or pipe reports length 0, so the limit is kept while reading, and a stream
    // without the header near its top stops there (`/dev/zero` would otherwise be read
    // until memory runs out).
    use std::io::Read;
    let mut file = std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_SESSION_BYTES + 1);
    let mut bytes = Vec::new();
    (&mut file)
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if !bytes.windows(FORMAT.len()).any(|w| w == FORMAT.as_bytes()) {
        return Err(SessionError::NotASession {
            path: path.to_path_buf(),
            reason: format!("no '{FORMAT}' header"),
        });
    }
    file.read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_SESSION_BYTES {
        return Err(SessionError::TooLarge {
            path: path.to_path_buf(),
            bytes: bytes.len() as u64,
            limit: MAX_SESSION_BYTES,
        });
    }
    Ok(bytes)
}

/// [`load`] of a file's bytes already read; `path` names the file in errors.
///
/// # Errors
/// As [`load`], except for reading.
pub fn load_bytes(bytes: Vec<u8>, path: &Path) -> Result<Session, SessionError> {
    let mut text = String::from_utf8(bytes).map_err(|_| SessionError::NotASession {
        path: path.to_path_buf(),
        reason: "not UTF-8 text".into(),
    })?;
    // A byte-order mark, which some editors write when saving a file, is not RON.
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    if !head(&text).contains(FORMAT) {
        return Err(SessionError::NotASession {
            path: path.to_path_buf(),
            reason: format!("no '{FORMAT}' header"),
        });
    }
    // Refuse newer files before parsing: their layout may differ in ways that would only
    // produce a confusing parse error.
    if let Some(found) = head_schema(&text)
        && found > SCHEMA
    {
        return Err(SessionError::NewerSchema {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA,
        });
    }
    // Records parsed on all cores, each where its blobs are decoded; a file laid out otherwise,
    // or with any problem, is parsed whole (whose errors name line and column) and decoded
    // again: a bad file costs twice, a good one a fifth less (see `parts`).
    if let Some(p) = parts::split(&text)
        && let Ok(session) = decode_bulk(
            p.file,
            Bulk::Text {
                records: p.records,
                checkpoint: p.checkpoint,
            },
            path,
        )
    {
        return Ok(session);
    }
    let file: SessionFile = ron::from_str(&text).map_err(|e| SessionError::Corrupt {
        path: path.to_path_buf(),
        message: crate::ron_error::describe(&e),
    })?;
    drop(text);
    decode(file, path)
}
