//! A session file's text cut into its records and the rest, so that the records are parsed on
//! all cores, each by the thread that then decodes its blobs ([`super::file::decode_records`]).
//!
//! Parsing the whole text with `ron` took 70 ms of a 9x320 session's 500 ms open on one core
//! (38.6 MB: 27 MB in 211 records, 11 MB in the checkpoint), before any blob was decoded. Cut
//! into pieces, the part before the records (header and probe, 1 MB) parses on its own, and
//! each record and the checkpoint where its blobs are decoded.
//!
//! The cut is only taken for text laid out the way this program writes it (see
//! [`super::io::SessionWriter`]): the epoch list found by its markers, its elements split at
//! the commas between them. Anything else (comments, escapes, raw strings, unbalanced
//! brackets) gives `None`, and the loader parses the whole text as before; so does any error
//! in a piece, so that errors are reported as the whole parse names them (line and column).

use memchr::{memchr2, memmem};

use super::file::SessionFile;

/// Where the epoch list opens and where it closes (the checkpoint follows it) in a session
/// file's text, as the writer lays it out.
pub(super) const EPOCHS_OPEN: &str = "\n    epochs: [";
pub(super) const EPOCHS_CLOSE: &str = "],\n    checkpoint: ";

/// Where the epoch list of a session file's text opens (just after the bracket) and where its
/// last element ends; None when the markers are not there. Text a user chose (preset and
/// dataset names, a failure message) only comes before the list and is written unescaped, so
/// it may hold a marker; the epoch records and the checkpoint after it hold numbers, names of
/// our own and base64, and no field called `epochs` or `checkpoint`. So both markers are
/// searched from the end (what the writer needs: it cuts texts it wrote itself).
pub(super) fn cut(text: &str) -> Option<(usize, usize)> {
    let end = text.rfind(EPOCHS_CLOSE)?;
    let head = text.get(..end)?.rfind(EPOCHS_OPEN)? + EPOCHS_OPEN.len();
    Some((head, end))
}

/// [`cut`] for reading a file: both markers searched from the start, the first opening one and
/// the first closing one after it (searching backwards through 38 MB took 12 ms of a
/// 9x320 session's open; forwards, `memmem` skips along in SIMD registers). An opening marker
/// inside a user's text comes first, but then the text before it ends inside a string (the
/// marker holds a line break, which no comment line does), so [`split`]'s parse of it fails and
/// the whole text is parsed instead.
fn locate(text: &str) -> Option<(usize, usize)> {
    let head = memmem::find(text.as_bytes(), EPOCHS_OPEN.as_bytes())? + EPOCHS_OPEN.len();
    let end = head + memmem::find(text.as_bytes().get(head..)?, EPOCHS_CLOSE.as_bytes())?;
    Some((head, end))
}

/// A session file's text in pieces: everything but the records and the checkpoint, parsed,
/// and the texts of each record and of the checkpoint.
pub struct Parts<'a> {
    /// The file with an empty epoch list and no checkpoint.
    pub file: SessionFile,
    /// Each record's text, in order.
    pub records: Vec<&'a str>,
    /// The checkpoint's text (`Some(...)` or `None`).
    pub checkpoint: &'a str,
}

/// How the writer ends a file after the checkpoint's value.
const END: &str = ",\n)";

/// Cuts `text` into its records, its checkpoint and the rest, and parses the rest; `None` when
/// the text is not laid out as this program writes it or the rest does not parse (the whole
/// text is then parsed as one, which names the problem).
pub fn split(text: &str) -> Option<Parts<'_>> {
    // Extensions (`#![enable(...)]`) at the top would apply to the whole text only.
    if text.trim_start().starts_with('#') {
        return None;
    }
    let (head, end) = locate(text)?;
    let records = elements(text.get(head..end)?)?;
    // The checkpoint is the last field: its value runs to the end but for `END`.
    let checkpoint = text
        .get(end + EPOCHS_CLOSE.len()..)?
        .trim_end()
        .strip_suffix(END)?;
    let mut rest = String::with_capacity(head + 64);
    rest.push_str(text.get(..head)?);
    rest.push_str(EPOCHS_CLOSE);
    rest.push_str("None");
    rest.push_str(END);
    let file: SessionFile = ron::from_str(&rest).ok()?;
    Some(Parts {
        file,
        records,
        checkpoint,
    })
}

/// The elements of a RON list's inside (between its brackets): split at the commas outside
/// any bracket and string. `None` for anything this program does not write inside a record
/// list: comments, character literals, raw strings, escapes in strings, unbalanced brackets
/// or empty elements.
fn elements(list: &str) -> Option<Vec<&str>> {
    let b = list.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0usize, 0usize);
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                // Straight to the closing quote (the blobs are 98 % of the bytes).
                let close = i + 1 + memchr2(b'"', b'\\', b.get(i + 1..)?)?;
                if b.get(close) != Some(&b'"') {
                    return None;
                }
                i = close + 1;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.checked_sub(1)?,
            b',' if depth == 0 => {
                out.push(list.get(start..i)?);
                start = i + 1;
            }
            b'/' | b'\'' | b'#' => return None,
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#')) => return None,
            _ => {}
        }
        i += 1;
    }
    if depth != 0 {
        return None;
    }
    // A trailing comma leaves only white space after it.
    let last = list.get(start..)?;
    if !last.trim().is_empty() {
        out.push(last);
    }
    if out.iter().any(|r| r.trim().is_empty()) {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_split_at_top_level_commas_only() {
        let list = r#" (a: [1, 2], b: "x,y(") , (c: (d: 3)), "#;
        assert_eq!(
            elements(list).unwrap(),
            vec![r#" (a: [1, 2], b: "x,y(") "#, " (c: (d: 3))"]
        );
        assert_eq!(elements(" ").unwrap(), Vec::<&str>::new());
        // What this program never writes inside a record list is left to the whole parse.
        for odd in [
            "(a: 1), , (b: 2)",
            "(a: \"\\\"\")",
            "(a: r#\"x\"#)",
            "(a: 1) // note",
            "(a: 'x')",
            "(a: (1)",
            "(a: 1))",
            "(a: \"open",
        ] {
            assert!(elements(odd).is_none(), "{odd}");
        }
    }
}
