//! Evaluation of list queries over records in memory: used by the default, scan-based
//! [`crate::store::Store::list`] and by indexed backends to check candidates.

use std::cmp::Ordering;

use crate::fold::fold;
use crate::query::{Direction, Filter, ListQuery, Op, Order, Page, Search, Value};
use crate::store::{Record, Store, StoreResult};

/// A compiled form of a query's filters and search: folded needles computed once.
#[derive(Debug, Clone)]
pub struct Matcher {
    filters: Vec<(Filter, Option<String>)>,
    search: Option<(Search, String)>,
}

impl Matcher {
    /// Compiles the filters and search of `query`.
    pub fn new(query: &ListQuery) -> Matcher {
        Matcher {
            filters: query
                .filters
                .iter()
                .map(|f| {
                    let needle = match &f.op {
                        Op::IContains(s) => Some(fold(s)),
                        _ => None,
                    };
                    (f.clone(), needle)
                })
                .collect(),
            search: query.search.clone().map(|s| {
                let n = fold(&s.text);
                (s, n)
            }),
        }
    }

    /// Whether `record` matches every filter and the search.
    pub fn matches(&self, record: &Record) -> bool {
        self.filters
            .iter()
            .all(|(f, needle)| filter_matches(record, f, needle.as_deref()))
            && self.search.as_ref().is_none_or(|(s, needle)| {
                s.fields
                    .iter()
                    .any(|field| text_contains(&record.get(*field), needle))
            })
    }
}

fn text_contains(v: &Value, folded_needle: &str) -> bool {
    match v {
        Value::Text(t) => fold(t).contains(folded_needle),
        _ => false,
    }
}

fn filter_matches(record: &Record, f: &Filter, folded_needle: Option<&str>) -> bool {
    let v = record.get(f.field);
    if v == Value::Null {
        return false;
    }
    match &f.op {
        Op::Eq(x) => &v == x,
        Op::In(xs) => xs.contains(&v),
        Op::IContains(_) => text_contains(&v, folded_needle.unwrap_or_default()),
        Op::Gte(x) => same_type(&v, x) && &v >= x,
        Op::Lte(x) => same_type(&v, x) && &v <= x,
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Compares two values of one field: null first, then the value order.
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    // `Value`'s derived order puts Null first and compares like variants naturally
    // (text by bytes, which is code point order for UTF-8).
    a.cmp(b)
}

/// Compares two records by the ordering terms, then by id ascending.
pub fn compare_records(a: &Record, b: &Record, ordering: &[Order]) -> Ordering {
    for o in ordering {
        let c = compare_values(&a.get(o.field), &b.get(o.field));
        let c = match o.direction {
            Direction::Asc => c,
            Direction::Desc => c.reverse(),
        };
        if c != Ordering::Equal {
            return c;
        }
    }
    let id = a.collection().id_field();
    compare_values(&a.get(id), &b.get(id))
}

/// Applies filters, search, ordering, offset, limit and count to records in memory.
pub fn apply(query: &ListQuery, records: impl IntoIterator<Item = Record>) -> Page<Record> {
    let m = Matcher::new(query);
    let mut hits: Vec<Record> = records.into_iter().filter(|r| m.matches(r)).collect();
    let total = query.count.then_some(hits.len() as u64);
    hits.sort_by(|a, b| compare_records(a, b, &query.ordering));
    let items = hits
        .into_iter()
        .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
        .collect();
    Page { items, total }
}

/// The default [`Store::list`]: scans the whole collection in chunks and applies the query.
pub async fn list_by_scan<S: Store + ?Sized>(
    store: &S,
    query: &ListQuery,
) -> StoreResult<Page<Record>> {
    const CHUNK: usize = 1000;
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let chunk = store.scan(query.collection, after, CHUNK).await?;
        let done = chunk.len() < CHUNK;
        after = chunk.last().map(Record::key);
        all.extend(chunk);
        if done {
            break;
        }
    }
    Ok(apply(query, all))
}
