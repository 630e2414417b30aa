//! Unfinished sled snapshots, left by a crash, removed before sled opens the store.
//!
//! sled 0.34 writes a snapshot (its page table, from which it replays the log on open) to
//! `snap.<lsn>.generating`, fsyncs it, then renames it to `snap.<lsn>`: the rename is what
//! makes it a snapshot. But when it opens a store it reads the snapshot file with the greatest
//! name and counts the `.generating` ones too (sled issue #1527, also #1533). A process killed
//! while writing one (sled writes a snapshot while it opens a store, and again now and then)
//! leaves a torn `.generating` file, and from then on every open fails with "corrupt snapshot
//! file found" although no data is damaged. The kill -9 test of `rehome serve`
//! (`http/tests/crash.rs`) hit this after a kill during start-up.
//!
//! Such a file never was a snapshot, so removing it leaves the store as if the process had died
//! just before it started writing it: sled recovers from the previous snapshot and its log, as
//! after any crash. It is removed only while this process holds sled's own directory lock (an
//! exclusive `flock` of the `db` file, the one sled takes), so a snapshot that a live process
//! is writing is never touched.

use std::fs::{File, TryLockError};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// sled's log file in the store directory; sled locks it while the store is open.
const LOG_FILE: &str = "db";

/// Whether `name` is an unfinished snapshot (`snap.<lsn>.generating`).
fn is_unfinished(name: &str) -> bool {
    name.starts_with("snap.") && name.ends_with(".generating")
}

/// Removes the unfinished snapshots in the store directory `dir`; returns their paths. Does
/// nothing when the store is new (no log yet) or open elsewhere (sled's open then reports the
/// lock).
pub(crate) fn remove_unfinished(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let log = match File::open(dir.join(LOG_FILE)) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    match log.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Vec::new()),
        Err(TryLockError::Error(e)) => return Err(e),
    }
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_str().is_some_and(is_unfinished) && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    // Closing the file releases the lock, for sled to take.
    drop(log);
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_unfinished("snap.000000000017B5AF.generating"));
        assert!(!is_unfinished("snap.000000000017B5AF"));
        assert!(!is_unfinished("snap.000000000017B5AF.in___motion"));
        assert!(!is_unfinished("db"));
        assert!(!is_unfinished("rehome-flushed"));
    }

    #[test]
    fn removes_them_only_when_no_one_holds_the_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A new store (no log yet): nothing to do.
        assert_eq!(
            remove_unfinished(dir.path()).expect("remove"),
            Vec::<PathBuf>::new()
        );

        std::fs::write(dir.path().join(LOG_FILE), b"").expect("log");
        let unfinished = dir.path().join("snap.00000000000000FF.generating");
        let finished = dir.path().join("snap.0000000000000010");
        std::fs::write(&unfinished, b"torn").expect("write");
        std::fs::write(&finished, b"whole").expect("write");

        // Someone holds the lock, as a live sled would: nothing is touched.
        let holder = File::open(dir.path().join(LOG_FILE)).expect("open");
        holder.try_lock().expect("lock");
        assert_eq!(
            remove_unfinished(dir.path()).expect("remove"),
            Vec::<PathBuf>::new()
        );
        assert!(unfinished.exists());
        drop(holder);

        assert_eq!(
            remove_unfinished(dir.path()).expect("remove"),
            vec![unfinished.clone()]
        );
        assert!(!unfinished.exists());
        assert!(finished.exists());
        // The lock is released again.
        File::open(dir.path().join(LOG_FILE))
            .expect("open")
            .try_lock()
            .expect("lock after");
    }
}
