//! One `serve` per store: an exclusive OS lock (`flock` through std's `File::try_lock`) on a
//! lock file next to the SQLite database and one in the recordings folder, taken before crash
//! recovery touches anything. A second `serve` on the same store or folder is refused at once,
//! naming the holder's pid. The OS drops the locks when the process dies, however it dies, so
//! a stale lock file never blocks a restart.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file inside the recordings folder (neither `.wav` nor `.json`: `verify` and
/// crash recovery ignore it).
pub const RECORDINGS_LOCK: &str = ".hotline.lock";

/// Held for the life of the process; the locks go with it.
#[derive(Debug)]
pub struct StoreLock {
    _files: Vec<File>,
    /// The lock files held.
    pub paths: Vec<PathBuf>,
}

/// The lock file of a SQLite store: `<db>.lock`.
pub fn store_lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    db.with_file_name(name)
}

/// Locks the SQLite store at `db` (`None`: a PostgreSQL store, shared by replicas) and the
/// recordings folder `recordings` (creating their folders), or says who holds them.
pub fn acquire(db: Option<&Path>, recordings: &Path) -> Result<StoreLock, String> {
    let mut lock = StoreLock {
        _files: Vec::new(),
        paths: Vec::new(),
    };
    let store = db.map(|db| ("store", store_lock_path(db)));
    let folder = ("recordings folder", recordings.join(RECORDINGS_LOCK));
    for (what, path) in store.into_iter().chain([folder]) {
        lock._files.push(lock_one(what, &path)?);
        lock.paths.push(path);
    }
    Ok(lock)
}

/// Crash recovery for a command that takes no lock (`hotline dial`): run only while no
/// `serve` holds the recordings folder (its calls are live, not crashed); the folder is held
/// while recovering.
pub fn recover_unless_served(recordings: &Path) {
    let path = recordings.join(RECORDINGS_LOCK);
    let file = match File::open(&path) {
        Ok(f) => f,
        // No lock file: no serve has used this folder.
        Err(_) => {
            super::recover::recover_recordings(recordings);
            return;
        }
    };
    match file.try_lock() {
        Ok(()) => {
            super::recover::recover_recordings(recordings);
        }
        Err(_) => {
            let mut pid = String::new();
            let _ = (&file).read_to_string(&mut pid);
            tracing::info!(
                pid = pid.trim(),
                "a serve holds the recordings folder: its calls are live, no crash recovery"
            );
        }
    }
}

fn lock_one(what: &str, path: &Path) -> Result<File, String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| format!("{}: cannot open the lock file: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let pid = holder.trim();
            let pid = if pid.is_empty() { "unknown" } else { pid };
            return Err(format!(
                "{}: the {what} is in use by another hotline (pid {pid}); \
                 stop it first, or give this one its own [store] path and [recording] dir",
                path.display()
            ));
        }
        Err(TryLockError::Error(e)) => {
            return Err(format!("{}: cannot lock: {e}", path.display()));
        }
    }
    // Ours now: say who holds it.
    let pid = std::process::id().to_string();
    let written = file
        .set_len(0)
        .and_then(|_| file.seek(SeekFrom::Start(0)))
        .and_then(|_| file.write_all(pid.as_bytes()))
        .and_then(|_| file.flush());
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "cannot write the pid into the lock file");
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_pid_and_path() {
        let d = tempfile::tempdir().expect("tmp");
        let db = d.path().join("data/hotline.db");
        let rec = d.path().join("recordings");
        let first = acquire(Some(&db), &rec).expect("first");
        assert_eq!(
            std::fs::read_to_string(d.path().join("data/hotline.db.lock")).expect("pid"),
            std::process::id().to_string()
        );
        // flock locks belong to the open file: a second open in this process conflicts too.
        let e = acquire(Some(&db), &rec).expect_err("second");
        assert!(e.contains("hotline.db.lock"), "{e}");
        assert!(e.contains(&format!("pid {}", std::process::id())), "{e}");
        // Another store, same recordings folder: refused on the folder.
        let e = acquire(Some(&d.path().join("other.db")), &rec).expect_err("folder");
        assert!(
            e.contains(RECORDINGS_LOCK) && e.contains("recordings folder"),
            "{e}"
        );
        // A live call of the holder is not "recovered" by a command that takes no lock.
        let sidecar = rec.join("live.json");
        std::fs::write(&sidecar, r#"{"stages":{}}"#).expect("sidecar");
        recover_unless_served(&rec);
        assert_eq!(
            std::fs::read_to_string(&sidecar).expect("read"),
            r#"{"stages":{}}"#
        );
        drop(first);
        let again = acquire(Some(&db), &rec).expect("free again once dropped");
        drop(again);
        recover_unless_served(&rec);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&sidecar).expect("read")).expect("json");
        assert_eq!(v["interrupted"], true, "no serve: recovered");
    }
}
