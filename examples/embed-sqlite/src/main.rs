//! Embedding rehome in a Rust program, on a SQLite file: the operator sets up a role and two
//! users, an intake volunteer logs in and takes a donated laptop in, a technician wipes and
//! ships it, and the audit log tells the story. No server: the same rules, called directly.
//!
//! ```sh
//! cargo run -p rehome-example-embed-sqlite -- sqlite://rehome-example.db
//! ```
//!
//! Running it again on the same file adds another laptop (users and roles are made once).

use std::error::Error;

use rehome_core::services::{ListParams, LoginOutcome, Model};
use rehome_core::store::Record;
use rehome_core::{Caller, Rehome};
use serde_json::json;

/// The demo users' password (the policy wants 10+ characters, not a common one).
const PASSWORD: &str = "correct horse battery staple";

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite://rehome-example.db".to_owned());
    let store = rehome_backends::open(&url).await?;
    let core = Rehome::new(store);
    println!("opened {url}");

    // The operator (this program itself) may do everything; its changes are audited with no
    // actor.
    let operator = Caller::system();
    if core.find_user("sam").await?.is_none() {
        core.create_role(
            &operator,
            &json!({"name": "intake", "description": "Takes donations in",
                    "permissions": ["readDevices", "createDevices", "scanDevices",
                                    "manageDonors", "manageWarehouses"]}),
        )
        .await?;
        core.create_user(
            &operator,
            &json!({"username": "sam", "email": "sam@example.org", "password": PASSWORD,
                    "role": "intake", "first_name": "Sam"}),
        )
        .await?;
        core.create_user(
            &operator,
            &json!({"username": "tess", "email": "tess@example.org", "password": PASSWORD,
                    "permissions": ["readDevices", "editDevices", "manageShipments"]}),
        )
        .await?;
        println!("created role intake, users sam and tess");
    }

    let sam = log_in(&core, "sam").await?;
    let donor = core
        .create(
            &sam,
            Model::Donor,
            &json!({"name": "Ada Lovelace", "email": format!("ada+{}@example.org", core.now().timestamp_micros())}),
        )
        .await?;
    let Record::Donor(donor) = donor else {
        return Err("expected a donor".into());
    };
    let devices_so_far = core
        .list(&sam, Model::Device, &ListParams::default())
        .await?
        .count;
    let serial = format!("SN-{:04}", devices_so_far + 1);
    let Record::Device(laptop) = core
        .create(
            &sam,
            Model::Device,
            &json!({"type": "Laptop", "make": "Dell", "model": "Latitude 5490",
                    "serial_number": serial, "donor": donor.donor_id.0,
                    "value": "120.00"}),
        )
        .await?
    else {
        return Err("expected a device".into());
    };
    println!(
        "sam took in {} {} {} ({}), status {}",
        laptop.device_type, laptop.make, laptop.model, laptop.serial_number, laptop.status
    );

    // Sam may not wipe it: that takes editDevices.
    let refused = core
        .update(
            &sam,
            Model::Device,
            &laptop.device_id.to_string(),
            &json!({"status": "wiped"}),
            rehome_core::services::Mode::Patch,
            None,
        )
        .await;
    println!("sam wiping it: {}", describe(&refused));
    if !matches!(refused, Err(rehome_core::Error::PermissionDenied)) {
        return Err("sam should not be allowed to wipe devices".into());
    }

    let tess = log_in(&core, "tess").await?;
    let found = core.lookup_device(&tess, Some(&serial), None).await?;
    let id = found.device_id.to_string();
    let skipped = core
        .update(
            &tess,
            Model::Device,
            &id,
            &json!({"status": "ready"}),
            rehome_core::services::Mode::Patch,
            None,
        )
        .await;
    println!("tess marking it ready unwiped: {}", describe(&skipped));
    if !matches!(&skipped, Err(rehome_core::Error::Validation(f)) if !f.get("status").is_empty()) {
        return Err("nothing should get past wiped without being wiped".into());
    }
    core.update(
        &tess,
        Model::Device,
        &id,
        &json!({"status": "wiped"}),
        rehome_core::services::Mode::Patch,
        None,
    )
    .await?;
    let Record::Shipment(shipment) = core
        .create(
            &tess,
            Model::Shipment,
            &json!({"date_shipped": core.now().date_naive().to_string(), "tracking_identifier": format!("TRK-{serial}")}),
        )
        .await?
    else {
        return Err("expected a shipment".into());
    };
    let Record::Device(shipped) = core
        .update(
            &tess,
            Model::Device,
            &id,
            &json!({"status": "shipped", "shipping_infos": [shipment.shipping_id.0]}),
            rehome_core::services::Mode::Patch,
            None,
        )
        .await?
    else {
        return Err("expected a device".into());
    };
    println!(
        "tess wiped and shipped it: status {}, version {}, shipment {}",
        shipped.status, shipped.version, shipment.shipping_id
    );

    let in_transit = core
        .list(
            &tess,
            Model::Device,
            &ListParams::new([("status", "shipped")]),
        )
        .await?;
    println!("devices shipped so far: {}", in_transit.count);

    let log = core
        .list_audit(
            &operator,
            &ListParams::new([("object_id", id.as_str()), ("object_type", "device")]),
        )
        .await?;
    println!("audit log of {serial}, newest first:");
    for event in log.results {
        println!(
            "  {} {} by {}",
            event.timestamp.format("%H:%M:%S%.3f"),
            event.action,
            event.actor_username.as_deref().unwrap_or("the operator")
        );
    }
    Ok(())
}

/// Logs `username` in with the demo password (no MFA) and answers the session's caller.
async fn log_in(core: &Rehome, username: &str) -> Result<Caller, Box<dyn Error>> {
    match core.login(username, PASSWORD, None).await? {
        LoginOutcome::Session(grant) => Ok(core.authenticate(&grant.access_token, None).await?),
        LoginOutcome::MfaRequired { .. } => Err(format!("{username} has MFA on").into()),
    }
}

fn describe<T>(r: &rehome_core::Result<T>) -> String {
    match r {
        Ok(_) => "done".to_owned(),
        Err(rehome_core::Error::PermissionDenied) => "refused (permission denied)".to_owned(),
        Err(rehome_core::Error::Validation(fields)) => format!("refused: {:?}", fields.0),
        Err(e) => format!("failed: {e}"),
    }
}
