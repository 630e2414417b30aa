//! The Store conformance suite against `MemoryStore`, and its reopen check against a `KvStore`
//! over an engine that outlives the store (`MemoryStore` itself is volatile, so the suite skips
//! its reopen check).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rehome_core::kv::{KvBatch, KvEngine, KvStore};
use rehome_core::memory::MemoryEngine;
use rehome_core::store::StoreResult;
use rehome_core::testing::StoreFactory;
use rehome_core::{MemoryStore, Store};

/// Fresh `MemoryStore`s; nothing to reopen.
struct Memory;

#[async_trait]
impl StoreFactory for Memory {
    async fn open(&self) -> Arc<dyn Store> {
        Arc::new(MemoryStore::new())
    }

    async fn reopen(&self, _store: Arc<dyn Store>) -> Option<Arc<dyn Store>> {
        None
    }
}

rehome_core::store_conformance_tests!(Memory);

/// An engine shared by every store opened on it, standing in for data on disk.
#[derive(Clone, Default)]
struct Shared(Arc<MemoryEngine>);

#[async_trait]
impl KvEngine for Shared {
    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.0.get(key)
    }

    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        self.0.scan(start, end, reverse, visit)
    }

    fn apply(&self, batch: KvBatch) -> StoreResult<()> {
        self.0.apply(batch)
    }
}

/// `KvStore`s over shared engines; a reopen opens a new `KvStore` on the same engine.
#[derive(Default)]
struct ReopenableKv {
    engines: Mutex<HashMap<usize, Shared>>,
}

impl ReopenableKv {
    fn handle(&self, engine: Shared) -> Arc<dyn Store> {
        let store: Arc<dyn Store> =
            Arc::new(KvStore::new(engine.clone()).expect("opening a KvStore"));
        self.engines
            .lock()
            .expect("factory lock")
            .insert(Arc::as_ptr(&store) as *const () as usize, engine);
        store
    }
}

#[async_trait]
impl StoreFactory for ReopenableKv {
    async fn open(&self) -> Arc<dyn Store> {
        self.handle(Shared::default())
    }

    async fn reopen(&self, store: Arc<dyn Store>) -> Option<Arc<dyn Store>> {
        store.close().await.expect("close");
        let engine = self
            .engines
            .lock()
            .expect("factory lock")
            .remove(&(Arc::as_ptr(&store) as *const () as usize))
            .expect("a store this factory opened");
        drop(store);
        Some(self.handle(engine))
    }
}

#[test]
fn check_reopen_kv_store_on_a_shared_engine() {
    rehome_core::testing::run_check(rehome_core::testing::check_reopen(&ReopenableKv::default()));
}
