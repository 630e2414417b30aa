//! The flush marker: a tiny file beside sled's, recording the number of the last flush known
//! durable, so that an open can tell when sled lost data that had been flushed.
//!
//! sled 0.34 treats any damage in its log as a torn write at the end: it recovers up to the first
//! bad record and silently drops everything after it (flipping one byte of the log file loses
//! every later write without an error). Before each group-commit flush the engine writes the
//! flush's number into the store; once the flush succeeds it records the number here. A store
//! whose recovered number is below the marker has lost flushed writes and is refused.
//!
//! The marker only ever trails the store (written after the flush it names), so a crash at any
//! point leaves it at or below what sled recovers: no false alarm. It is written without fsync;
//! a power loss can leave it stale (which only weakens the check) or torn, which is why it has
//! two checksummed slots, written alternately: a torn slot is ignored and the other one is used.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The marker's file name inside the store directory.
pub(crate) const MARKER_FILE: &str = "rehome-flushed";

const SLOT_LEN: usize = 16;

/// The open marker file.
#[derive(Debug)]
pub(crate) struct Marker {
    file: File,
    path: PathBuf,
    last: u64,
}

fn slot(number: u64) -> [u8; SLOT_LEN] {
    let mut slot = [0u8; SLOT_LEN];
    let bytes = number.to_le_bytes();
    slot[..8].copy_from_slice(&bytes);
    slot[8..12].copy_from_slice(&crc32fast::hash(&bytes).to_le_bytes());
    slot
}

fn read_slot(bytes: &[u8]) -> Option<u64> {
    let number: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
    let crc: [u8; 4] = bytes.get(8..12)?.try_into().ok()?;
    (u32::from_le_bytes(crc) == crc32fast::hash(&number)).then(|| u64::from_le_bytes(number))
}

impl Marker {
    /// Opens (or creates) the marker of the store in `dir`.
    pub(crate) fn open(dir: &Path) -> std::io::Result<Marker> {
        let path = dir.join(MARKER_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let mut bytes = Vec::new();
        match file.read_to_end(&mut bytes) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        let last = bytes
            .chunks(SLOT_LEN)
            .take(2)
            .filter_map(read_slot)
            .max()
            .unwrap_or(0);
        Ok(Marker { file, path, last })
    }

    /// The number of the last flush recorded (0 when none).
    pub(crate) fn last(&self) -> u64 {
        self.last
    }

    /// Records that flush `number` (greater than every number recorded before) is durable.
    pub(crate) fn record(&mut self, number: u64) -> std::io::Result<()> {
        // Alternate slots so that a torn write leaves the previous number readable.
        let offset = (number % 2) * SLOT_LEN as u64;
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.write_all(&slot(number))?;
        self.last = number;
        Ok(())
    }

    /// The marker file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_highest_intact_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(Marker::open(dir.path()).expect("open").last(), 0);
        {
            let mut marker = Marker::open(dir.path()).expect("open");
            for n in 1..=5 {
                marker.record(n).expect("record");
            }
        }
        assert_eq!(Marker::open(dir.path()).expect("open").last(), 5);

        // Tear the slot holding 5 (odd numbers go to slot 1): 4 remains.
        let path = dir.path().join(MARKER_FILE);
        let mut bytes = std::fs::read(&path).expect("read");
        assert_eq!(bytes.len(), 2 * SLOT_LEN);
        bytes[SLOT_LEN + 3] ^= 0xff;
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(Marker::open(dir.path()).expect("open").last(), 4);

        // Both torn, or an empty file: nothing is known.
        bytes[2] ^= 0xff;
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(Marker::open(dir.path()).expect("open").last(), 0);
        std::fs::write(&path, b"").expect("write");
        assert_eq!(Marker::open(dir.path()).expect("open").last(), 0);
    }
}
