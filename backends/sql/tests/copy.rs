//! Copying a store through every backend: memory -> sled -> SQLite -> PostgreSQL -> MariaDB
//! (the server ones when their URLs are set). Everything must arrive unchanged, and the last
//! store must then accept one new object of every kind (its id counters were advanced).

mod common;

use std::sync::Arc;

use rehome_core::auth::{Hasher, PasswordParams};
use rehome_core::copy::{CopyProgress, copy_store};
use rehome_core::memory::MemoryStore;
use rehome_core::query::Collection;
use rehome_core::services::mock::MockRequest;
use rehome_core::services::{LoginOutcome, Model};
use rehome_core::store::{Record, Store};
use rehome_core::{Caller, Rehome};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

fn rehome(store: Arc<dyn Store>) -> Rehome {
    let hasher = Hasher::new(PasswordParams::INSECURE_FOR_TESTS, Some(1)).expect("hasher");
    Rehome::new(store).with_hasher(Arc::new(hasher))
}

async fn everything(store: &dyn Store) -> Vec<Record> {
    let mut all = Vec::new();
    for c in Collection::ALL {
        let mut after = None;
        loop {
            let chunk = store.scan(c, after, 1000).await.expect("scan");
            let done = chunk.len() < 1000;
            after = chunk.last().map(Record::key);
            all.extend(chunk);
            if done {
                break;
            }
        }
    }
    all
}

async fn copy_checked(from: &dyn Store, to: &dyn Store, what: &str) {
    let mut calls: Vec<CopyProgress> = Vec::new();
    let n = copy_store(from, to, &mut |p| calls.push(p))
        .await
        .unwrap_or_else(|e| panic!("copy to {what}: {e}"));
    let want = everything(from).await;
    assert_eq!(n, want.len() as u64, "{what}: count");
    assert_eq!(calls.last().map(|p| p.total), Some(n), "{what}: progress");
    assert!(
        calls.windows(2).all(|w| w[0].total < w[1].total),
        "{what}: progress grows"
    );
    let got = everything(to).await;
    assert_eq!(got.len(), want.len(), "{what}: record count");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "{what}: record differs");
    }
    // Copying into a store that is not empty is refused.
    assert!(
        copy_store(from, to, &mut |_| {}).await.is_err(),
        "{what}: not empty"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn copy_through_every_backend() {
    // A source with every kind of record.
    let source: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let core = rehome(source.clone());
    let sys = Caller::system();
    core.create_role(
        &sys,
        &json!({"name": "intake", "permissions": ["readDevices", "createDevices"]}),
    )
    .await
    .expect("role");
    core.create_user(
        &sys,
        &json!({"username": "maria", "email": "maria@example.org", "role": "intake",
                 "permissions": ["scanDevices"], "password": PASSWORD}),
    )
    .await
    .expect("user");
    core.generate_mock_data(
        &sys,
        MockRequest {
            locations: 3,
            donors: 4,
            devices: 25,
            shipments: 3,
            seed: Some(1),
        },
    )
    .await
    .expect("mock data");
    let grant = match core
        .login("maria", PASSWORD, Some("10.0.0.9"))
        .await
        .expect("login")
    {
        LoginOutcome::Session(g) => g,
        other => panic!("{other:?}"),
    };
    let maria = core
        .authenticate(&grant.access_token, None)
        .await
        .expect("caller");
    core.totp_setup(&maria).await.expect("TOTP secret stored");
    let _ = core
        .login("maria", "wrong wrong wrong", Some("10.0.0.9"))
        .await;

    let mut chain: Vec<(String, Arc<dyn Store>)> = Vec::new();
    let sled_dir = tempfile::tempdir().expect("dir");
    let sled: Arc<dyn Store> = Arc::new(
        rehome_sled::open(sled_dir.path().join("sled"))
            .await
            .expect("sled"),
    );
    chain.push(("sled".into(), sled));
    let sqlite = common::Factory::sqlite_file();
    let sqlite_db = sqlite.database().await;
    chain.push(("SQLite".into(), sqlite.handle(sqlite_db.clone()).await));
    let pg = common::Factory::postgres();
    let mut keep = Vec::new();
    if let Some(f) = &pg {
        let db = f.database().await;
        keep.push(db.clone());
        chain.push(("PostgreSQL".into(), f.handle(db).await));
    }
    let my = common::Factory::mysql();
    if let Some(f) = &my {
        let db = f.database().await;
        keep.push(db.clone());
        chain.push(("MariaDB".into(), f.handle(db).await));
    }

    let mut from = source.clone();
    for (what, to) in &chain {
        copy_checked(from.as_ref(), to.as_ref(), what).await;
        from = to.clone();
    }

    // The last store works as a rehome store: the copied password logs in, and one new object
    // of every kind gets a fresh id.
    let last = rehome(from.clone());
    match last
        .login("maria", PASSWORD, None)
        .await
        .expect("login on the copy")
    {
        LoginOutcome::Session(_) => {}
        other => panic!("{other:?}"),
    }
    last.create(
        &sys,
        Model::Location,
        &json!({"name": "New", "address": "1 New Road"}),
    )
    .await
    .expect("location");
    last.create(
        &sys,
        Model::Donor,
        &json!({"name": "New", "email": "new-donor@example.org"}),
    )
    .await
    .expect("donor");
    last.create(
        &sys,
        Model::Shipment,
        &json!({"date_shipped": "2026-01-01"}),
    )
    .await
    .expect("shipment");
    last.create(
        &sys,
        Model::Device,
        &json!({"type": "Laptop", "make": "Dell", "model": "X", "serial_number": "NEW-1"}),
    )
    .await
    .expect("device");
    last.create_role(&sys, &json!({"name": "new-role"}))
        .await
        .expect("role");
    last.create_user(
        &sys,
        &json!({"username": "newbie", "email": "newbie@example.org"}),
    )
    .await
    .expect("user");
    drop(keep);
}
