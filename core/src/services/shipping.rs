//! The devices a shipment holds: devices name their shipments (`shipping_infos`), so a
//! shipment's devices are the devices referring to it (the store's reverse references).

use super::{Caller, Model, Rehome};
use crate::error::{Error, Result};
use crate::model::Device;
use crate::store::{Record, RecordKey, Reference};

impl Rehome {
    /// The devices whose `shipping_infos` hold shipment `id`, by device id. Needs
    /// `readDevices` (it shows devices); [`Error::NotFound`] for an unknown shipment.
    pub async fn shipment_devices(&self, caller: &Caller, id: &str) -> Result<Vec<Device>> {
        caller.require_any(Model::Device.read_permissions())?;
        let not_found = || Error::NotFound("Not found.".into());
        let key = Model::Shipment.parse_key(id).ok_or_else(not_found)?;
        let RecordKey::Shipment(shipment) = key else {
            return Err(not_found());
        };
        if self.store().get(key).await?.is_none() {
            return Err(not_found());
        }
        let mut devices = Vec::new();
        for referrer in self.store().referrers(&Reference::Key(key)).await? {
            if let RecordKey::Device(_) = referrer
                && let Some(Record::Device(d)) = self.store().get(referrer).await?
                && d.shipping_infos.contains(&shipment)
            {
                devices.push(d);
            }
        }
        Ok(devices)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::memory::MemoryStore;

    async fn create(core: &Rehome, model: Model, body: serde_json::Value) -> Record {
        core.create(&Caller::system(), model, &body)
            .await
            .expect("created")
    }

    #[tokio::test]
    async fn a_shipments_devices_are_those_naming_it() -> Result<()> {
        let core = Rehome::new(Arc::new(MemoryStore::new()));
        let op = Caller::system();
        let day = json!({"date_shipped": "2026-12-01"});
        let Record::Shipment(s1) = create(&core, Model::Shipment, day.clone()).await else {
            panic!("a shipment")
        };
        let Record::Shipment(s2) = create(&core, Model::Shipment, day).await else {
            panic!("a shipment")
        };
        let (a, b) = (s1.shipping_id.0, s2.shipping_id.0);
        let device = |serial: &str, ships: serde_json::Value| {
            json!({"type": "Laptop", "make": "Dell", "model": "5490",
                   "serial_number": serial, "shipping_infos": ships})
        };
        create(&core, Model::Device, device("IN-A", json!([a]))).await;
        create(&core, Model::Device, device("IN-BOTH", json!([a, b]))).await;
        create(&core, Model::Device, device("IN-B", json!([b]))).await;
        create(&core, Model::Device, device("NONE", json!([]))).await;

        let serials = |ds: Vec<Device>| {
            let mut s: Vec<String> = ds.into_iter().map(|d| d.serial_number).collect();
            s.sort();
            s
        };
        assert_eq!(
            serials(core.shipment_devices(&op, &a.to_string()).await?),
            ["IN-A", "IN-BOTH"]
        );
        assert_eq!(
            serials(core.shipment_devices(&op, &b.to_string()).await?),
            ["IN-B", "IN-BOTH"]
        );
        // An unknown shipment, a caller who may not read devices.
        assert!(matches!(
            core.shipment_devices(&op, "999").await,
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            core.shipment_devices(&Caller::anonymous(), &a.to_string())
                .await,
            Err(Error::PermissionDenied)
        ));
        Ok(())
    }
}
