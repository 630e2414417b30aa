//! List requests as the contract states them (filters, search, ordering, pages), validated
//! into typed [`ListQuery`]s, so every front end lists the same way.

use chrono::{DateTime, NaiveTime, Utc};
use uuid::Uuid;

use super::input::{parse_bool, parse_date};
use crate::error::{Error, FieldErrors, Result};
use crate::model::DeviceStatus;
use crate::query::{Collection, Direction, Field, FieldType, ListQuery, Op, Order, Search, Value};
use crate::store::{Record, Store};

/// The page size used when none is asked for.
pub const DEFAULT_PAGE_SIZE: u64 = 10;
/// The largest page size.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Which page to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageRequest {
    /// Page N, from 1.
    Number(u64),
    /// The last page.
    Last,
}

/// A list request: the query parameters as given (`?make=Dell&ordering=-year_of_manufacture`).
/// Unknown parameters are ignored; empty values are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListParams {
    /// `(name, value)` pairs in order.
    pub pairs: Vec<(String, String)>,
}

impl ListParams {
    /// From query pairs.
    pub fn new<I, K, V>(pairs: I) -> ListParams
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        ListParams {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// The last non-blank value of `name`. A blank value (empty, or only white space as
    /// [`char::is_whitespace`] knows it) is ignored, as if absent; any other value is taken
    /// exactly as sent (no trimming), so `?page_size= 5` is refused like `?page_size=x`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    }
}

/// One page of results with the numbers the contract's list body needs.
#[derive(Debug, Clone, PartialEq)]
pub struct ListResult<T> {
    /// The records of the page.
    pub results: Vec<T>,
    /// All matches.
    pub count: u64,
    /// This page's number (from 1).
    pub page: u64,
    /// The page size used.
    pub page_size: u64,
    /// Number of pages (1 for an empty list).
    pub total_pages: u64,
}

impl<T> ListResult<T> {
    /// Whether a next page exists.
    pub fn has_next(&self) -> bool {
        self.page < self.total_pages
    }

    /// Whether a previous page exists.
    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    /// The same page with its results converted (those `f` maps to `None` left out).
    pub fn filter_map<U>(self, f: impl FnMut(T) -> Option<U>) -> ListResult<U> {
        ListResult {
            results: self.results.into_iter().filter_map(f).collect(),
            count: self.count,
            page: self.page,
            page_size: self.page_size,
            total_pages: self.total_pages,
        }
    }
}

/// Parses a query-string value into a value of `field`'s type.
fn parse_value(field: Field, raw: &str) -> std::result::Result<Value, String> {
    match field.field_type() {
        FieldType::Text => {
            if field == Field::DeviceStatus && raw.parse::<DeviceStatus>().is_err() {
                return Err(format!(
                    "Select a valid choice. {raw} is not one of the available choices."
                ));
            }
            Ok(Value::Text(raw.to_owned()))
        }
        FieldType::Int => raw
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| "Enter a whole number.".to_owned()),
        FieldType::Bool => parse_bool(raw)
            .map(Value::Bool)
            .ok_or_else(|| "Enter true or false.".to_owned()),
        FieldType::Date => parse_date(raw)
            .map(Value::Date)
            .ok_or_else(|| "Enter a valid date (YYYY-MM-DD).".to_owned()),
        FieldType::Timestamp => parse_timestamp(raw)
            .map(Value::Timestamp)
            .ok_or_else(|| "Enter a valid date/time (RFC 3339 or YYYY-MM-DD).".to_owned()),
        FieldType::Uuid => {
            if raw.len() != 32 && raw.len() != 36 {
                return Err("Enter a valid UUID.".to_owned());
            }
            Uuid::parse_str(raw)
                .map(Value::Uuid)
                .map_err(|_| "Enter a valid UUID.".to_owned())
        }
    }
}

/// An RFC 3339 timestamp, or a date (its midnight, UTC).
pub(crate) fn parse_timestamp(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    parse_date(raw).map(|d| d.and_time(NaiveTime::MIN).and_utc())
}

/// Builds the store query for `params` over `collection`, without paging.
pub(crate) fn build_query(collection: Collection, params: &ListParams) -> Result<ListQuery> {
    let spec = collection.list_spec();
    let mut errors = FieldErrors::new();
    let mut query = ListQuery::all(collection);
    for (key, raw) in &params.pairs {
        if raw.trim().is_empty() {
            continue;
        }
        let (name, suffix) = match key.split_once("__") {
            Some((n, s)) => (n, Some(s)),
            None => (key.as_str(), None),
        };
        let Some(&(field, range)) = spec.filters.iter().find(|(f, _)| f.name() == name) else {
            continue;
        };
        let op = match suffix {
            None => parse_value(field, raw).map(Op::Eq),
            Some("icontains") if field.field_type() == FieldType::Text => {
                Ok(Op::IContains(raw.clone()))
            }
            Some("gte") if range => parse_value(field, raw).map(Op::Gte),
            Some("lte") if range => parse_value(field, raw).map(Op::Lte),
            // Unknown lookups are unknown parameters.
            Some(_) => continue,
        };
        match op {
            Ok(op) => query.filters.push(crate::query::Filter { field, op }),
            Err(msg) => errors.add(key.clone(), msg),
        }
    }
    if collection == Collection::Audit {
        for (key, op) in [("since", true), ("until", false)] {
            if let Some(raw) = params.get(key) {
                match parse_timestamp(raw) {
                    Some(t) => query.filters.push(crate::query::Filter {
                        field: Field::AuditTimestamp,
                        op: if op {
                            Op::Gte(Value::Timestamp(t))
                        } else {
                            Op::Lte(Value::Timestamp(t))
                        },
                    }),
                    None => errors.add(key, "Enter a valid date/time (RFC 3339 or YYYY-MM-DD)."),
                }
            }
        }
    }
    if let Some(text) = params.get("search")
        && !spec.search.is_empty()
    {
        query.search = Some(Search {
            text: text.trim().to_owned(),
            fields: spec.search.to_vec(),
        });
    }
    query.ordering = vec![spec.default_order];
    if let Some(raw) = params.get("ordering") {
        let mut ordering = Vec::new();
        for term in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (name, direction) = match term.strip_prefix('-') {
                Some(n) => (n, Direction::Desc),
                None => (term, Direction::Asc),
            };
            match spec.order_field(name) {
                Some(field) => ordering.push(Order { field, direction }),
                None => errors.add(
                    "ordering",
                    format!(
                        "Unknown ordering field \"{name}\". Allowed: {}.",
                        spec.order_names().join(", ")
                    ),
                ),
            }
        }
        if !ordering.is_empty() {
            query.ordering = ordering;
        }
    }
    errors.into_result()?;
    Ok(query)
}

/// Parses `page` and `page_size`.
fn paging(params: &ListParams) -> Result<(PageRequest, u64)> {
    let page_size = match params.get("page_size") {
        None => DEFAULT_PAGE_SIZE,
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
            _ => {
                return Err(Error::invalid(
                    "page_size",
                    format!("Ensure this value is a whole number from 1 to {MAX_PAGE_SIZE}."),
                ));
            }
        },
    };
    let page = match params.get("page") {
        None => PageRequest::Number(1),
        Some("last") => PageRequest::Last,
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if n >= 1 => PageRequest::Number(n),
            _ => return Err(invalid_page()),
        },
    };
    Ok((page, page_size))
}

fn invalid_page() -> Error {
    Error::NotFound("Invalid page.".into())
}

/// Runs a list request against `store`: validation, one page, counts.
pub(crate) async fn run(
    store: &dyn Store,
    collection: Collection,
    params: &ListParams,
    extra: impl FnOnce(&mut ListQuery),
) -> Result<ListResult<Record>> {
    let mut query = build_query(collection, params)?;
    extra(&mut query);
    let (page, page_size) = paging(params)?;
    query.count = true;
    query.limit = page_size;
    let number = match page {
        PageRequest::Number(n) => n,
        PageRequest::Last => {
            let mut count_only = query.clone();
            count_only.limit = 0;
            let total = store.list(&count_only).await?.total.unwrap_or(0);
            total.div_ceil(page_size).max(1)
        }
    };
    query.offset = (number - 1).saturating_mul(page_size);
    let found = store.list(&query).await?;
    let count = found.total.unwrap_or(0);
    let total_pages = count.div_ceil(page_size).max(1);
    if number > total_pages {
        return Err(invalid_page());
    }
    Ok(ListResult {
        results: found.items,
        count,
        page: number,
        page_size,
        total_pages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(c: Collection, pairs: &[(&str, &str)]) -> Result<ListQuery> {
        build_query(c, &ListParams::new(pairs.iter().copied()))
    }

    #[test]
    fn filters_search_and_ordering() {
        let query = q(
            Collection::Devices,
            &[
                ("make", "Dell"),
                ("model__icontains", "lat"),
                ("year_of_manufacture__gte", "2019"),
                ("date_received__lte", "2024-01-31"),
                ("status", ""),
                ("unknown", "x"),
                ("search", " think "),
                ("ordering", "-year_of_manufacture,make"),
            ],
        )
        .expect("valid");
        let want = vec![
            crate::query::Filter {
                field: Field::DeviceMake,
                op: Op::Eq(Value::Text("Dell".into())),
            },
            crate::query::Filter {
                field: Field::DeviceModel,
                op: Op::IContains("lat".into()),
            },
            crate::query::Filter {
                field: Field::DeviceYearOfManufacture,
                op: Op::Gte(Value::Int(2019)),
            },
            crate::query::Filter {
                field: Field::DeviceDateReceived,
                op: Op::Lte(Value::Date(
                    chrono::NaiveDate::from_ymd_opt(2024, 1, 31).expect("date"),
                )),
            },
        ];
        assert_eq!(query.filters, want);
        assert_eq!(
            query.search.as_ref().map(|s| s.text.as_str()),
            Some("think")
        );
        assert_eq!(
            query.ordering,
            vec![
                Order::desc(Field::DeviceYearOfManufacture),
                Order::asc(Field::DeviceMake)
            ]
        );
    }

    #[test]
    fn default_orderings_match_the_contract() {
        let table = [
            (Collection::Devices, Order::asc(Field::DeviceType)),
            (Collection::Locations, Order::asc(Field::LocationName)),
            (Collection::Donors, Order::asc(Field::DonorName)),
            (
                Collection::Shipments,
                Order::asc(Field::ShipmentDateShipped),
            ),
            (Collection::Users, Order::asc(Field::UserUsername)),
            (Collection::Audit, Order::desc(Field::AuditId)),
        ];
        for (c, want) in table {
            assert_eq!(q(c, &[]).expect("valid").ordering, vec![want], "{c:?}");
        }
    }

    #[test]
    fn the_audit_log_orders_by_its_filters_id_and_timestamp() {
        let query = q(Collection::Audit, &[("ordering", "timestamp,-id,actor")]).expect("valid");
        assert_eq!(
            query.ordering,
            vec![
                Order::asc(Field::AuditTimestamp),
                Order::desc(Field::AuditId),
                Order::asc(Field::AuditActor)
            ]
        );
        for bad in ["nosuchfield", "password"] {
            let Err(Error::Validation(f)) = q(Collection::Audit, &[("ordering", bad)]) else {
                panic!("{bad}: validation error expected")
            };
            assert_eq!(
                f.get("ordering"),
                [format!(
                    "Unknown ordering field \"{bad}\". Allowed: actor, action, object_type, \
                     object_id, id, timestamp."
                )]
            );
        }
    }

    #[test]
    fn malformed_values_are_field_errors() {
        let err = q(
            Collection::Devices,
            &[
                ("donor", "abc"),
                ("device_id", "not-a-uuid"),
                ("date_received__gte", "2024-02-30"),
                ("status", "lost"),
                ("ordering", "price"),
            ],
        )
        .expect_err("invalid");
        let Error::Validation(f) = err else {
            panic!("validation error expected")
        };
        let keys: Vec<&str> = f.0.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "date_received__gte",
                "device_id",
                "donor",
                "ordering",
                "status"
            ]
        );
        // icontains on a non-text field and gte on a field without ranges are ignored.
        let ok = q(
            Collection::Devices,
            &[("donor__icontains", "x"), ("make__gte", "a")],
        )
        .expect("ignored");
        assert!(ok.filters.is_empty());
    }

    #[test]
    fn paging_rules() {
        let p = |pairs: &[(&str, &str)]| paging(&ListParams::new(pairs.iter().copied()));
        assert_eq!(p(&[]).ok(), Some((PageRequest::Number(1), 10)));
        assert_eq!(p(&[("page", "last")]).ok(), Some((PageRequest::Last, 10)));
        assert_eq!(
            p(&[("page_size", "100")]).ok(),
            Some((PageRequest::Number(1), 100))
        );
        for bad in ["0", "101", "-1", "x"] {
            assert!(
                matches!(p(&[("page_size", bad)]), Err(Error::Validation(_))),
                "{bad}"
            );
        }
        for bad in ["0", "-2", "x", "1.5"] {
            assert!(
                matches!(p(&[("page", bad)]), Err(Error::NotFound(_))),
                "{bad}"
            );
        }
    }
}
