#![doc = include_str!("../README.md")]

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use rehome_core::kv::{KvBatch, KvEngine, KvOp, KvStore};
use rehome_core::store::{StoreError, StoreResult};

/// The store: rehome-core's key-value layer (records, indexes, list planning) over
/// [`LogEngine`].
pub type LogStore = KvStore<LogEngine>;

/// Opens (or creates) the store kept in the file at `path`.
pub fn open(path: impl AsRef<Path>) -> StoreResult<LogStore> {
    KvStore::new(LogEngine::open(path)?)
}

/// An ordered byte map in memory, every batch appended to a log file.
#[derive(Debug)]
pub struct LogEngine {
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
    log: Mutex<Log>,
}

#[derive(Debug)]
struct Log {
    file: BufWriter<File>,
    /// Batches appended, and how many of them are known durable.
    written: u64,
    synced: u64,
}

const PUT: u8 = 1;
const REMOVE: u8 = 2;

fn io(e: std::io::Error) -> StoreError {
    StoreError::backend(e)
}

impl LogEngine {
    /// Opens the log at `path` (created if missing) and replays it.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<LogEngine> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path.as_ref())
            .map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let mut map = BTreeMap::new();
        let valid = replay(&bytes, &mut map);
        if valid < bytes.len() {
            // A torn last batch: cut it off so later appends follow the last whole batch.
            file.set_len(valid as u64).map_err(io)?;
        }
        Ok(LogEngine {
            map: RwLock::new(map),
            log: Mutex::new(Log {
                file: BufWriter::new(file),
                written: 0,
                synced: 0,
            }),
        })
    }
}

/// Applies every whole batch of `bytes` to `map`; answers the length of the whole batches.
fn replay(bytes: &[u8], map: &mut BTreeMap<Vec<u8>, Vec<u8>>) -> usize {
    let mut at = 0;
    while let Some(header) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let Some(payload) = bytes.get(at + 8..at + 8 + len) else {
            break;
        };
        if crc32fast::hash(payload) != crc {
            break;
        }
        let Some(ops) = decode(payload) else { break };
        for op in ops {
            apply_op(map, op);
        }
        at += 8 + len;
    }
    at
}

fn apply_op(map: &mut BTreeMap<Vec<u8>, Vec<u8>>, op: KvOp) {
    match op {
        KvOp::Put(k, v) => {
            map.insert(k, v);
        }
        KvOp::Remove(k) => {
            map.remove(&k);
        }
    }
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

fn encode(batch: &KvBatch) -> Vec<u8> {
    let mut out = Vec::new();
    for op in &batch.ops {
        match op {
            KvOp::Put(k, v) => {
                out.push(PUT);
                put_bytes(&mut out, k);
                put_bytes(&mut out, v);
            }
            KvOp::Remove(k) => {
                out.push(REMOVE);
                put_bytes(&mut out, k);
            }
        }
    }
    out
}

fn decode(mut payload: &[u8]) -> Option<Vec<KvOp>> {
    fn take<'a>(p: &mut &'a [u8]) -> Option<&'a [u8]> {
        let len = u32::from_le_bytes(p.get(..4)?.try_into().ok()?) as usize;
        let b = p.get(4..4 + len)?;
        *p = &p[4 + len..];
        Some(b)
    }
    let mut ops = Vec::new();
    while let Some((&tag, rest)) = payload.split_first() {
        payload = rest;
        let key = take(&mut payload)?.to_vec();
        ops.push(match tag {
            PUT => KvOp::Put(key, take(&mut payload)?.to_vec()),
            REMOVE => KvOp::Remove(key),
            _ => return None,
        });
    }
    Some(ops)
}

#[async_trait]
impl KvEngine for LogEngine {
    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        Ok(map.get(key).cloned())
    }

    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
        let range = map.range::<[u8], _>((Bound::Included(start), upper));
        if reverse {
            for (k, v) in range.rev() {
                if !visit(k, v) {
                    break;
                }
            }
        } else {
            for (k, v) in range {
                if !visit(k, v) {
                    break;
                }
            }
        }
        Ok(())
    }

    fn apply(&self, batch: KvBatch) -> StoreResult<()> {
        let payload = encode(&batch);
        let len = u32::try_from(payload.len())
            .map_err(|_| StoreError::backend("a batch over 4 GiB does not fit the log format"))?;
        // Log first, then memory: a batch readers can see is in the log (if not yet durable).
        {
            let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
            log.file.write_all(&len.to_le_bytes()).map_err(io)?;
            log.file
                .write_all(&crc32fast::hash(&payload).to_le_bytes())
                .map_err(io)?;
            log.file.write_all(&payload).map_err(io)?;
            log.written += 1;
        }
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        for op in batch.ops {
            apply_op(&mut map, op);
        }
        Ok(())
    }

    async fn sync(&self) -> StoreResult<()> {
        // One flush covers every batch written before it; callers that wait for the lock
        // meanwhile find their batches already durable. The fsync blocks this thread briefly,
        // which an example can afford (rehome-sled flushes on a thread of its own).
        let mut log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        if log.synced < log.written {
            log.file.flush().map_err(io)?;
            log.file.get_ref().sync_data().map_err(io)?;
            log.synced = log.written;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_batch_is_dropped_whole() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("log");
        {
            let engine = LogEngine::open(&path).expect("open");
            for (k, v) in [(b"a", b"1"), (b"b", b"2")] {
                engine
                    .apply(KvBatch {
                        ops: vec![
                            KvOp::Put(k.to_vec(), v.to_vec()),
                            KvOp::Remove(b"x".to_vec()),
                        ],
                    })
                    .expect("apply");
            }
            let mut log = engine.log.lock().expect("log");
            log.file.flush().expect("flush");
        }
        // Cut the file inside the second batch, as a crash mid-write would.
        let full = std::fs::metadata(&path).expect("metadata").len();
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open file");
        file.set_len(full - 3).expect("truncate");
        drop(file);

        let engine = LogEngine::open(&path).expect("reopen");
        assert_eq!(engine.get(b"a").expect("get"), Some(b"1".to_vec()));
        assert_eq!(engine.get(b"b").expect("get"), None);
        // Appends continue after the last whole batch.
        engine
            .apply(KvBatch {
                ops: vec![KvOp::Put(b"c".to_vec(), b"3".to_vec())],
            })
            .expect("apply");
        engine.log.lock().expect("log").file.flush().expect("flush");
        let again = LogEngine::open(&path).expect("reopen");
        assert_eq!(again.get(b"c").expect("get"), Some(b"3".to_vec()));
        assert_eq!(again.get(b"a").expect("get"), Some(b"1".to_vec()));
    }
}
