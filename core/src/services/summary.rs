//! The inventory at a glance (the console's home, `GET /inventory/summary/`): devices by
//! status, and devices taken in and shipped per week. Counting queries only: no device is
//! read, so it costs the same on 100 devices as on 100,000.

use chrono::{Datelike, NaiveDate, TimeDelta};
use serde::Serialize;

use super::{Caller, Model, Rehome};
use crate::error::Result;
use crate::model::DeviceStatus;
use crate::query::{Collection, Field, Filter, ListQuery, Op, Value};
use crate::store::{Record, RecordKey, Reference};

/// How many weeks [`Rehome::inventory_summary`] covers (the current one and those before).
pub const SUMMARY_WEEKS: usize = 8;

/// Devices by status and per week.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventorySummary {
    /// Every status in lifecycle order, with how many devices have it (zeros included).
    pub by_status: Vec<StatusCount>,
    /// The last [`SUMMARY_WEEKS`] weeks (Monday to Sunday), oldest first, the current last.
    pub weeks: Vec<WeekCount>,
}

/// How many devices have one status.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatusCount {
    /// The status.
    pub status: DeviceStatus,
    /// Devices with it.
    pub count: u64,
}

/// One week's movements.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WeekCount {
    /// Its Monday.
    pub week_start: NaiveDate,
    /// Devices whose `date_received` is in the week.
    pub taken_in: u64,
    /// Devices on shipments whose `date_shipped` is in the week.
    pub shipped: u64,
}

fn count_query(collection: Collection, filters: Vec<Filter>) -> ListQuery {
    ListQuery {
        filters,
        limit: 0,
        count: true,
        ..ListQuery::all(collection)
    }
}

fn between(field: Field, from: NaiveDate, to: NaiveDate) -> [Filter; 2] {
    [
        Filter {
            field,
            op: Op::Gte(Value::Date(from)),
        },
        Filter {
            field,
            op: Op::Lte(Value::Date(to)),
        },
    ]
}

impl Rehome {
    /// Devices by status, and devices taken in and shipped in each of the last
    /// [`SUMMARY_WEEKS`] weeks up to the week of `today` (the caller's own date, so the
    /// organisation's time zone decides when a week starts). Needs what reading devices
    /// needs.
    pub async fn inventory_summary(
        &self,
        caller: &Caller,
        today: NaiveDate,
    ) -> Result<InventorySummary> {
        caller.require_any(Model::Device.read_permissions())?;
        let store = &**self.store();
        let mut by_status = Vec::with_capacity(DeviceStatus::ALL.len());
        for status in DeviceStatus::ALL {
            let filter = Filter {
                field: Field::DeviceStatus,
                op: Op::Eq(Value::Text(status.as_str().to_owned())),
            };
            let found = store
                .list(&count_query(Collection::Devices, vec![filter]))
                .await?;
            by_status.push(StatusCount {
                status,
                count: found.total.unwrap_or(0),
            });
        }

        let monday = today - TimeDelta::days(i64::from(today.weekday().num_days_from_monday()));
        let weeks_back = i64::try_from(SUMMARY_WEEKS).unwrap_or(8) - 1;
        let first = monday - TimeDelta::weeks(weeks_back);
        let last = monday + TimeDelta::days(6);
        let mut weeks = Vec::with_capacity(SUMMARY_WEEKS);
        for i in 0..=weeks_back {
            let start = first + TimeDelta::weeks(i);
            let end = start + TimeDelta::days(6);
            let query = count_query(
                Collection::Devices,
                between(Field::DeviceDateReceived, start, end).to_vec(),
            );
            weeks.push(WeekCount {
                week_start: start,
                taken_in: store.list(&query).await?.total.unwrap_or(0),
                shipped: 0,
            });
        }

        // Shipments in the weeks are few next to devices: list them, count each one's devices
        // through the reverse-reference index.
        let shipments = ListQuery {
            filters: between(Field::ShipmentDateShipped, first, last).to_vec(),
            ..ListQuery::all(Collection::Shipments)
        };
        for record in store.list(&shipments).await?.items {
            let Record::Shipment(shipment) = record else {
                continue;
            };
            let devices = store
                .referrers(&Reference::Key(RecordKey::Shipment(shipment.shipping_id)))
                .await?
                .into_iter()
                .filter(|k| matches!(k, RecordKey::Device(_)))
                .count();
            let week = (shipment.date_shipped - first).num_weeks();
            if let Some(w) = usize::try_from(week).ok().and_then(|w| weeks.get_mut(w)) {
                w.shipped += devices as u64;
            }
        }
        Ok(InventorySummary { by_status, weeks })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::memory::MemoryStore;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[tokio::test]
    async fn counts_by_status_and_by_week() -> Result<()> {
        let core = Rehome::new(Arc::new(MemoryStore::new()));
        let op = Caller::system();
        // Thursday 2026-12-03: its week starts Monday 2026-11-30; eight weeks start 2026-10-12.
        let today = date("2026-12-03");
        let shipment = core
            .create(&op, Model::Shipment, &json!({"date_shipped": "2026-11-18"}))
            .await?;
        let Record::Shipment(shipment) = shipment else {
            panic!("a shipment")
        };
        let old = core
            .create(&op, Model::Shipment, &json!({"date_shipped": "2026-10-11"}))
            .await?;
        let Record::Shipment(old) = old else {
            panic!("a shipment")
        };
        // (serial, date_received, status, shipments)
        let devices = [
            ("A", Some("2026-10-12"), "received", vec![]),
            ("B", Some("2026-11-30"), "received", vec![]),
            ("C", Some("2026-12-06"), "wiped", vec![]),
            ("D", Some("2026-12-07"), "ready", vec![]),
            (
                "E",
                Some("2026-10-11"),
                "shipped",
                vec![shipment.shipping_id.0],
            ),
            (
                "F",
                None,
                "shipped",
                vec![shipment.shipping_id.0, old.shipping_id.0],
            ),
            ("G", None, "recycled", vec![old.shipping_id.0]),
        ];
        for (serial, received, status, ships) in devices {
            core.create(
                &op,
                Model::Device,
                &json!({
                    "type": "Laptop", "make": "Dell", "model": "5490",
                    "serial_number": serial, "date_received": received,
                    "status": status, "shipping_infos": ships,
                }),
            )
            .await?;
        }
        let s = core.inventory_summary(&op, today).await?;
        let by_status: Vec<(&str, u64)> = s
            .by_status
            .iter()
            .map(|c| (c.status.as_str(), c.count))
            .collect();
        assert_eq!(
            by_status,
            [
                ("received", 2),
                ("wiped", 1),
                ("refurbished", 0),
                ("ready", 1),
                ("shipped", 2),
                ("delivered", 0),
                ("recycled", 1),
            ]
        );
        let weeks: Vec<(NaiveDate, u64, u64)> = s
            .weeks
            .iter()
            .map(|w| (w.week_start, w.taken_in, w.shipped))
            .collect();
        assert_eq!(
            weeks,
            [
                (date("2026-10-12"), 1, 0),
                (date("2026-10-19"), 0, 0),
                (date("2026-10-26"), 0, 0),
                (date("2026-11-02"), 0, 0),
                (date("2026-11-09"), 0, 0),
                (date("2026-11-16"), 0, 2),
                (date("2026-11-23"), 0, 0),
                (date("2026-11-30"), 2, 0),
            ]
        );
        assert!(matches!(
            core.inventory_summary(&Caller::anonymous(), today).await,
            Err(crate::Error::PermissionDenied)
        ));
        Ok(())
    }
}
