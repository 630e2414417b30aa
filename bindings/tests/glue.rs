//! The glue in Rust: error mapping, record conversion, both handles on one store. Expected
//! values are written by hand from the contract; the rules themselves are core's tests.

use std::collections::HashMap;

use rehome_ffi::{
    BatchOp, BatchOperation, Caller, DeviceStatus, LoginOutcome, Model, OpenOptions, Permission,
    RehomeBlocking, RehomeError,
};

fn store() -> std::sync::Arc<RehomeBlocking> {
    RehomeBlocking::open(
        "sqlite::memory:".into(),
        Some(OpenOptions {
            fast_password_hashing: true,
            ..OpenOptions::default()
        }),
    )
    .expect("opening an in-memory store")
}

fn fields(pairs: &[(&str, &str)]) -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in pairs {
        m.entry((*k).to_owned()).or_default().push((*v).to_owned());
    }
    m
}

#[test]
fn core_errors_map_to_their_variants() {
    use rehome_core::{Error, FieldErrors};
    let cases: Vec<(Error, RehomeError)> = vec![
        (
            Error::invalid("make", "This field is required."),
            RehomeError::Validation {
                fields: fields(&[("make", "This field is required.")]),
            },
        ),
        (
            Error::NotFound("Not found.".into()),
            RehomeError::NotFound {
                detail: "Not found.".into(),
            },
        ),
        (Error::PermissionDenied, RehomeError::PermissionDenied),
        (Error::RegistrationClosed, RehomeError::PermissionDenied),
        (Error::PasswordChangeRequired, RehomeError::PermissionDenied),
        (Error::InvalidToken, RehomeError::InvalidToken),
        (
            Error::Throttled {
                retry_after_secs: 42,
            },
            RehomeError::Locked {
                retry_after_secs: 42,
            },
        ),
        (
            Error::conflict_on("serial_number", "taken"),
            RehomeError::Conflict {
                detail: "taken".into(),
                fields: fields(&[("serial_number", "taken")]),
            },
        ),
        (
            Error::PreconditionFailed { current: 7 },
            RehomeError::PreconditionFailed { current_version: 7 },
        ),
        (
            Error::BatchRejected {
                errors: vec![rehome_core::error::OperationError {
                    index: 3,
                    errors: FieldErrors::one("email", "taken"),
                    conflict: true,
                }],
            },
            RehomeError::BatchRejected {
                errors: vec![rehome_ffi::BatchOperationError {
                    index: 3,
                    fields: fields(&[("email", "taken")]),
                    conflict: true,
                }],
            },
        ),
    ];
    for (core, expected) in cases {
        assert_eq!(RehomeError::from(core), expected);
    }
    let store_failure = RehomeError::from(Error::Store(rehome_core::StoreError::backend(
        "disk on fire",
    )));
    assert!(
        matches!(&store_failure, RehomeError::Backend { detail } if detail.contains("disk on fire")),
        "{store_failure:?}"
    );
    // The retryable kind keeps its name (HTTP answers it 503), and so does a failure inside
    // rehome that is not the store's (500).
    let unavailable = RehomeError::from(Error::Store(rehome_core::StoreError::unavailable(
        "no space left on device",
    )));
    assert!(
        matches!(&unavailable, RehomeError::Unavailable { detail } if detail.contains("no space left")),
        "{unavailable:?}"
    );
    let internal = RehomeError::from(Error::internal("password hashing", "the pool is gone"));
    assert!(
        matches!(&internal, RehomeError::Internal { detail } if detail.contains("password hashing") && detail.contains("the pool is gone")),
        "{internal:?}"
    );
    // A store conflict reaching core through `?` is a conflict here too, never a backend error.
    let conflict = RehomeError::from(Error::from(rehome_core::StoreError::Conflict {
        conflict: rehome_core::Conflict::Exists(rehome_core::RecordKey::User(rehome_core::UserId(
            3,
        ))),
        index: 0,
    }));
    assert!(
        matches!(&conflict, RehomeError::Conflict { .. }),
        "{conflict:?}"
    );
}

#[test]
fn records_convert_with_contract_names_and_shapes() {
    let s = store();
    let system = Caller::system();
    let donor = s
        .create_donor(
            system.clone(),
            r#"{"name": "Ada", "email": "ada@example.org"}"#.into(),
        )
        .expect("donor");
    let device = s
        .create_device(
            system.clone(),
            format!(
                r#"{{"type": "Laptop", "make": "Dell", "model": "M", "serial_number": "SN-1",
                    "value": 416.5, "date_received": "2026-01-02", "donor": {}}}"#,
                donor.donor_id
            ),
        )
        .expect("device");
    assert_eq!(device.device_type, "Laptop");
    assert_eq!(device.value.as_deref(), Some("416.50"));
    assert_eq!(device.date_received.as_deref(), Some("2026-01-02"));
    assert_eq!(device.donor, Some(donor.donor_id));
    assert_eq!(device.status, DeviceStatus::Received);
    assert_eq!((device.version, device.created_at), (1, device.updated_at));
    let page = s
        .list_devices(
            system,
            HashMap::from([("make".to_owned(), "Dell".to_owned())]),
        )
        .expect("list");
    assert_eq!((page.count, page.total_pages, page.has_next), (1, 1, false));
    assert_eq!(page.results, vec![device]);
}

#[test]
fn login_outcomes_and_callers() {
    let s = store();
    let system = Caller::system();
    let user = s
        .create_user(
            system,
            r#"{"username": "ada", "email": "ada@example.org", "password": "correct horse battery",
                "permissions": ["scanDevices", "readDevices"]}"#
                .into(),
        )
        .expect("user");
    assert_eq!(
        user.permissions,
        vec![Permission::ReadDevices, Permission::ScanDevices]
    );
    let LoginOutcome::Session { grant } = s
        .login(
            "ada".into(),
            "correct horse battery".into(),
            Some("192.0.2.1".into()),
        )
        .expect("login")
    else {
        panic!("MFA is off: a session was expected");
    };
    let caller = s
        .authenticate(grant.access_token.clone(), None)
        .expect("authenticate");
    assert_eq!(caller.user_id(), Some(user.id));
    assert_eq!(caller.access_token(), Some(grant.access_token));
    assert!(caller.has_permission(Permission::ScanDevices));
    assert_eq!(
        s.login("ada".into(), "wrong password!!".into(), None),
        Err(RehomeError::AuthenticationFailed {
            detail: "Invalid username or password.".into()
        })
    );
}

#[test]
fn malformed_json_names_no_field_of_the_body() {
    let s = store();
    let err = s
        .create_location(Caller::system(), "{".into())
        .expect_err("malformed JSON");
    assert!(
        matches!(&err, RehomeError::Validation { fields } if fields.keys().eq(["non_field_errors"])),
        "{err:?}"
    );
    let err = s
        .batch(
            Caller::system(),
            vec![BatchOperation {
                op: BatchOp::Create,
                model: Model::Donor,
                id: None,
                data_json: Some("[".into()),
            }],
        )
        .expect_err("malformed JSON in a batch");
    assert!(matches!(err, RehomeError::Validation { .. }), "{err:?}");
}

#[test]
fn unknown_urls_are_invalid_input_and_both_handles_share_a_store() {
    let err = RehomeBlocking::open("redis://127.0.0.1/".into(), None).err();
    assert!(
        matches!(&err, Some(RehomeError::Validation { fields }) if fields.contains_key("url")),
        "{err:?}"
    );
    let s = store();
    s.create_location(
        Caller::system(),
        r#"{"name": "Depot", "address": "1 Main St"}"#.into(),
    )
    .expect("location");
    let async_handle = s.as_async();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime to await on");
    let page = runtime
        .block_on(async_handle.list_locations(Caller::system(), HashMap::new()))
        .expect("async list");
    assert_eq!(page.results.len(), 1);
    assert_eq!(
        async_handle
            .blocking()
            .list_locations(Caller::system(), HashMap::new())
            .expect("list")
            .count,
        1
    );
}
