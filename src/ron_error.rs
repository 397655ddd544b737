//! RON parse errors as users should read them: where and what, without the advice ron gives
//! programmers (its nesting-limit error suggests raising `recursion_limit` and adding
//! `serde_stacker`, which a user opening a file can do nothing with).

/// Levels of nesting ron's parser allows by default (`ron::Options::recursion_limit`).
const NESTING_LIMIT: usize = 128;

/// `e` as one line: `line:column: problem`.
pub fn describe(e: &ron::error::SpannedError) -> String {
    match e.code {
        ron::Error::ExceededRecursionLimit => format!(
            "{}: nested too deeply (more than {NESTING_LIMIT} levels of brackets)",
            e.span
        ),
        _ => e.to_string(),
    }
}
