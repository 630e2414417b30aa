//! The Store conformance suite against `LogStore`: passing it is what makes this crate a
//! rehome backend. Each store lives in its own temporary directory.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rehome_core::Store;
use rehome_core::testing::StoreFactory;
use tempfile::TempDir;

#[derive(Default)]
struct Factory {
    /// The directories handed out, removed when the factory (one per test) goes; and the log
    /// file of each store, by the store's address, for reopening.
    dirs: Mutex<Vec<TempDir>>,
    paths: Mutex<Vec<(usize, std::path::PathBuf)>>,
}

fn address(store: &Arc<dyn Store>) -> usize {
    Arc::as_ptr(store) as *const () as usize
}

impl Factory {
    fn open_at(&self, path: std::path::PathBuf) -> Arc<dyn Store> {
        let store: Arc<dyn Store> =
            Arc::new(rehome_example_custom_backend::open(&path).expect("opening a log store"));
        self.paths
            .lock()
            .expect("factory lock")
            .push((address(&store), path));
        store
    }
}

#[async_trait]
impl StoreFactory for Factory {
    async fn open(&self) -> Arc<dyn Store> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("rehome.log");
        self.dirs.lock().expect("factory lock").push(dir);
        self.open_at(path)
    }

    async fn reopen(&self, store: Arc<dyn Store>) -> Option<Arc<dyn Store>> {
        store.close().await.expect("close");
        let key = address(&store);
        let path = {
            let mut paths = self.paths.lock().expect("factory lock");
            let at = paths
                .iter()
                .position(|(a, _)| *a == key)
                .expect("a store this factory opened");
            paths.remove(at).1
        };
        drop(store);
        Some(self.open_at(path))
    }
}

rehome_core::store_conformance_tests!(Factory::default());
