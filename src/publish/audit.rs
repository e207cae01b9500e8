//! The audit log: one JSON object per line, appended, never rewritten — every upload,
//! publish, rollback, discard, login and failed login, with who, when and what.

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};

/// Appends one line: `{"at": …, "action": …, "user": …, …details}`. A log that cannot be
/// written is reported in the server's log and does not stop the operation.
pub fn append(file: &Path, action: &str, user: &str, details: Value) {
    let mut line = json!({ "at": super::now_rfc3339(), "action": action, "user": user });
    if let (Some(line), Value::Object(details)) = (line.as_object_mut(), details) {
        for (k, v) in details {
            line.entry(k).or_insert(v);
        }
    }
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| {
            // One write of the whole line: appends of concurrent writers do not mix.
            f.write_all(format!("{line}\n").as_bytes())?;
            f.sync_data()
        });
    if let Err(e) = written {
        tracing::error!("cannot write the audit log {}: {e}", file.display());
    }
    tracing::info!(target: "dtmap::audit", "{line}");
}

/// The last `count` lines, newest first (lines that are not JSON are skipped). Reads at
/// most the last 4 MiB of the file.
pub fn tail(file: &Path, count: usize) -> Vec<Value> {
    use std::io::{Read, Seek, SeekFrom};
    const MAX_READ: u64 = 4 * 1024 * 1024;
    let Ok(mut f) = std::fs::File::open(file) else {
        return Vec::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(MAX_READ);
    let mut text = String::new();
    if f.seek(SeekFrom::Start(start)).is_err() || f.read_to_string(&mut text).is_err() {
        return Vec::new();
    }
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str(l).ok())
        .take(count)
        .collect()
}
