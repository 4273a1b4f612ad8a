//! Where recordings go, and the JSON written beside them.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::RecordingError;

#[cfg(test)]
mod tests;

/// Longest call id accepted, well inside file name limits.
const MAX_CALL_ID_LEN: usize = 200;

/// Writes `value` as JSON to `path` so that a crash leaves either the old file
/// or the new one, never a torn one: it writes `path.tmp`, syncs it, renames
/// it over `path` and syncs the directory. Creates parent directories.
pub fn write_json_atomic(path: &Path, value: &serde_json::Value) -> Result<(), RecordingError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let mut tmp_name = OsString::from(path.as_os_str());
    tmp_name.push(".tmp");
    let tmp = PathBuf::from(tmp_name);

    let mut out = BufWriter::new(File::create(&tmp)?);
    serde_json::to_writer_pretty(&mut out, value)?;
    out.write_all(b"\n")?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// The recording file for a call: `root/YYYY/MM/DD/<call_id>.wav`.
///
/// `call_id` comes from the network, so it must be 1 to 200 characters of
/// `[A-Za-z0-9._-]`; anything else is [`RecordingError::InvalidCallId`]. With
/// no separators allowed, and `.wav` appended, the file cannot land outside
/// the day's directory.
pub fn recording_path(
    root: &Path,
    date: (i32, u32, u32),
    call_id: &str,
) -> Result<PathBuf, RecordingError> {
    let valid = !call_id.is_empty()
        && call_id.len() <= MAX_CALL_ID_LEN
        && call_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid {
        return Err(RecordingError::InvalidCallId(call_id.to_owned()));
    }
    let (year, month, day) = date;
    Ok(root
        .join(format!("{year:04}"))
        .join(format!("{month:02}"))
        .join(format!("{day:02}"))
        .join(format!("{call_id}.wav")))
}
