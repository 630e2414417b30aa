//! List queries over the indexes of [`KvStore`]: choosing where candidates come from, reading
//! them, and giving exactly the answers of [`crate::eval::apply`].
//!
//! Every fetched record is checked against the whole query with [`Matcher`] (an index entry is
//! only a candidate), and ordering ties are always broken by id ascending.
//!
//! # Plans
//! The query's ordering is first reduced to its *effective* terms: terms on fields fixed by an
//! equality filter, repeated terms, and terms after the id are dropped (they cannot change the
//! order of matches). Then:
//! - **Ordered walk** (streams, stops when the page is full): when an index yields candidates
//!   already in the effective order. Sources: the records themselves (id order, either
//!   direction); the plain index `(value, id)` of an equality-filtered field (id order); the
//!   plain index of the first ordering field (optionally bounded by its range filters); the
//!   composite index `(value, default-order value, id)` of an equality-filtered field when
//!   ordering by the collection's default-order field. A descending value order with the
//!   ascending id tie-break visits distinct values from the top and reads each value's entries
//!   forwards. When more ordering terms follow, the walk sorts each group of equal first-term
//!   values with [`compare_records`] before paging.
//! - **Candidates**: otherwise the smallest candidate set (an equality or `In` filter's index
//!   entries, a range filter's, the ids of an id filter, or every record) is read, checked,
//!   sorted with [`compare_records`] (keeping only `offset + limit` at a time) and paged.
//!
//! A walk is chosen when its source is estimated no larger than the smallest candidate set, so
//! a query with an indexed equality filter reads no more than that filter's entries and their
//! records (plus a page). One exception, bounded: when the candidates are many and the walk
//! along the ordering's index is expected to fill the page from a small fraction of them
//! (e.g. `status = X` ordered by `-created_at`), the walk is tried first with a budget of a
//! sixteenth of the candidates; if it runs out, the candidates are read after all.
//!
//! # Counts
//! Maintained counters answer: no filter (the collection's record count), or one `Eq` / `In`
//! filter on an indexed field (per-value counters, see [`super::layout::counted`]; values without a
//! counter count their index entries). One range filter on an indexed field counts its index
//! entries. Any other counted query (a search, several filters, substring filters) reads every
//! candidate and counts the matches; its page then comes from the same pass.

use std::collections::{BTreeSet, HashSet};

use super::KvEngine;
use super::encode::{prefix_end, successor, tag, value_bytes};
use super::layout::{
    collection_count_key, composite_value_prefix, counted, decode_id, default_order, has_composite,
    id_len, index_prefix, index_value_prefix, is_indexed, key_of_id_value, record_key,
    record_prefix, value_count_key,
};
use super::store::{KvStore, corrupt, decode_record};
use crate::eval::{Matcher, compare_records};
use crate::query::{Collection, Direction, Field, ListQuery, Op, Order, Page, Value};
use crate::store::{Record, RecordKey, StoreResult};

/// The largest chunk read from the engine at once.
const MAX_CHUNK: usize = 1024;

/// A key range of entries shaped `prefix ++ group ++ id`.
#[derive(Debug, Clone)]
struct Run {
    lo: Vec<u8>,
    hi: Option<Vec<u8>>,
    /// Where the group (the ordering value; empty when there is none) starts.
    prefix_len: usize,
    /// Whether the entries are the records (else index entries naming records by id).
    records: bool,
}

impl Run {
    /// Every entry starting with `prefix`.
    fn prefix(prefix: Vec<u8>, records: bool) -> Run {
        Run {
            hi: prefix_end(&prefix),
            prefix_len: prefix.len(),
            lo: prefix,
            records,
        }
    }

    /// The entries of `prefix` whose group lies in `[lo, hi)` (encoded values).
    fn bounded(prefix: Vec<u8>, bounds: Option<&Bounds>) -> Run {
        let Some((lo, hi)) = bounds else {
            return Run::prefix(prefix, false);
        };
        let mut l = prefix.clone();
        l.extend_from_slice(lo);
        let mut h = prefix.clone();
        h.extend_from_slice(hi);
        Run {
            lo: l,
            hi: Some(h),
            prefix_len: prefix.len(),
            records: false,
        }
    }
}

/// Where unordered candidates come from.
#[derive(Debug)]
enum Source {
    Keys(Vec<RecordKey>),
    Runs(Vec<Run>),
}

/// A walk yielding candidates in (group, id) order.
#[derive(Debug)]
struct Walk {
    run: Run,
    group_dir: Direction,
    id_dir: Direction,
    /// Whether the walk order is the whole effective order (else only its first term).
    exact: bool,
    estimate: u64,
}

/// An encoded-value range `[lo, hi)`.
type Bounds = (Vec<u8>, Vec<u8>);

/// The filters, boiled down to what indexes can use.
#[derive(Debug, Default)]
struct Analysis {
    /// Some filter matches nothing whatever the record.
    impossible: bool,
    /// Non-null equalities (and one-value `In`s).
    eqs: Vec<(Field, Value)>,
    /// `In`s of several distinct non-null values.
    ins: Vec<(Field, Vec<Value>)>,
    /// Per field but the id, the encoded-value range `[lo, hi)` its `Gte`/`Lte` filters allow.
    ranges: Vec<(Field, Bounds)>,
    /// The record-key range `[lo, hi)` the id's `Gte`/`Lte` filters allow.
    id_range: Option<(Vec<u8>, Option<Vec<u8>>)>,
}

fn analyse(q: &ListQuery) -> Analysis {
    let mut a = Analysis::default();
    for f in &q.filters {
        if f.field.collection() != q.collection {
            // A field of another collection reads as null, which no filter matches.
            a.impossible = true;
            continue;
        }
        let bound = |lo: Vec<u8>, hi: Vec<u8>, a: &mut Analysis| match a
            .ranges
            .iter_mut()
            .find(|(g, _)| *g == f.field)
        {
            Some((_, (l, h))) => {
                *l = lo.max(std::mem::take(l));
                *h = hi.min(std::mem::take(h));
            }
            None => a.ranges.push((f.field, (lo, hi))),
        };
        match &f.op {
            Op::Eq(Value::Null) | Op::Gte(Value::Null) | Op::Lte(Value::Null) => {
                a.impossible = true;
            }
            // Record keys hold ids without type tags: bound them by key. Digest ids are text
            // whose order is byte order only for canonical (lowercase hex) values, so their
            // ranges are left to the candidate check.
            Op::Gte(v) | Op::Lte(v)
                if f.field == q.collection.id_field()
                    && q.collection.id_field().field_type() != crate::query::FieldType::Text =>
            {
                let Some(k) = key_of_id_value(q.collection, v) else {
                    a.impossible = true;
                    continue;
                };
                let (lo, hi) = a.id_range.get_or_insert((Vec::new(), None));
                if matches!(f.op, Op::Gte(_)) {
                    *lo = record_key(k).max(std::mem::take(lo));
                } else {
                    let h = successor(&record_key(k));
                    *hi = Some(hi.take().map_or(h.clone(), |old| old.min(h)));
                }
            }
            Op::Eq(v) => a.eqs.push((f.field, v.clone())),
            Op::In(vs) => {
                let set: BTreeSet<&Value> = vs.iter().filter(|v| **v != Value::Null).collect();
                let mut values: Vec<Value> = set.into_iter().cloned().collect();
                match values.len() {
                    0 => a.impossible = true,
                    1 => a.eqs.extend(values.pop().map(|v| (f.field, v))),
                    _ => a.ins.push((f.field, values)),
                }
            }
            // Values of another type never compare, so a bound also confines the range to
            // the bound's type tag.
            Op::Gte(v) => bound(value_bytes(v), vec![tag(v) + 1], &mut a),
            Op::Lte(v) => {
                let hi = prefix_end(&value_bytes(v)).unwrap_or_else(|| vec![0xFF]);
                bound(vec![tag(v)], hi, &mut a);
            }
            Op::IContains(_) => {}
        }
    }
    if a.ranges.iter().any(|(_, (lo, hi))| lo >= hi)
        || a.id_range
            .as_ref()
            .is_some_and(|(lo, hi)| hi.as_ref().is_some_and(|hi| hi <= lo))
    {
        a.impossible = true;
    }
    a
}

/// The ordering terms that can change the order of matches (see the module docs).
fn effective_ordering(q: &ListQuery, a: &Analysis) -> Vec<Order> {
    let id = q.collection.id_field();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for o in &q.ordering {
        if o.field.collection() != q.collection
            || a.eqs.iter().any(|(f, _)| *f == o.field)
            || !seen.insert(o.field)
        {
            continue;
        }
        out.push(*o);
        if o.field == id {
            break;
        }
    }
    out
}

fn empty_page() -> Page<Record> {
    Page {
        items: Vec::new(),
        total: None,
    }
}

/// Offsets and limits as in-memory sizes.
fn size(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Pages matches arriving in order.
struct Pager {
    skip: usize,
    limit: usize,
    items: Vec<Record>,
    /// Keys offered so far, when the source may repeat a record (see [`Seen`]).
    seen: Seen,
}

/// The keys of records taken from index entries. Readers take no snapshot, so a record
/// updated while a walk reads its index in chunks can be met again at its new place; it is
/// taken once. Records read in key order cannot repeat and are not tracked.
struct Seen(Option<HashSet<RecordKey>>);

impl Seen {
    fn new(track: bool) -> Seen {
        Seen(track.then(HashSet::new))
    }

    /// Whether `key` is met for the first time.
    fn first(&mut self, key: RecordKey) -> bool {
        self.0.as_mut().is_none_or(|s| s.insert(key))
    }
}

impl Pager {
    fn new(q: &ListQuery, track: bool) -> Pager {
        Pager {
            skip: size(q.offset),
            limit: size(q.limit),
            items: Vec::new(),
            seen: Seen::new(track),
        }
    }

    fn full(&self) -> bool {
        self.items.len() >= self.limit
    }

    /// Takes the next match in order; `true` when the page is full.
    fn offer(&mut self, record: Record) -> bool {
        if !self.seen.first(record.key()) {
            return self.full();
        }
        if self.skip > 0 {
            self.skip -= 1;
        } else if !self.full() {
            self.items.push(record);
        }
        self.full()
    }
}

/// Keeps the first `need` records of an ordering, in bounded memory.
struct TopN<'a> {
    need: usize,
    ordering: &'a [Order],
    buf: Vec<Record>,
}

impl<'a> TopN<'a> {
    fn new(need: usize, ordering: &'a [Order]) -> Self {
        TopN {
            need,
            ordering,
            buf: Vec::new(),
        }
    }

    fn push(&mut self, r: Record) {
        self.buf.push(r);
        if self.buf.len() >= self.need.saturating_mul(2).max(4096) {
            self.shrink();
        }
    }

    fn shrink(&mut self) {
        if self.buf.len() > self.need {
            let ordering = self.ordering;
            self.buf
                .select_nth_unstable_by(self.need, |a, b| compare_records(a, b, ordering));
            self.buf.truncate(self.need);
        }
    }

    fn finish(mut self) -> Vec<Record> {
        self.shrink();
        let ordering = self.ordering;
        self.buf.sort_by(|a, b| compare_records(a, b, ordering));
        self.buf
    }
}

impl<E: KvEngine> KvStore<E> {
    /// [`crate::store::Store::list`], planned over the indexes.
    pub(crate) fn list_indexed(&self, q: &ListQuery) -> StoreResult<Page<Record>> {
        let a = analyse(q);
        if a.impossible {
            return Ok(Page {
                items: Vec::new(),
                total: q.count.then_some(0),
            });
        }
        let m = Matcher::new(q);
        let total = if q.count {
            match self.count_from_indexes(q, &a)? {
                Some(n) => Some(n),
                None => return self.list_candidates(q, &a, &m, true),
            }
        } else {
            None
        };
        let mut page = if q.limit == 0 {
            Page {
                items: Vec::new(),
                total: None,
            }
        } else {
            self.list_page(q, &a, &m)?
        };
        page.total = total;
        Ok(page)
    }

    fn collection_size(&self, c: Collection) -> StoreResult<u64> {
        self.read_counter(&collection_count_key(c))
    }

    /// How many records have `field == v` (an estimate only for unindexed fields).
    fn eq_count(&self, c: Collection, field: Field, v: &Value) -> StoreResult<u64> {
        if field == c.id_field() {
            return Ok(1);
        }
        if counted(field, v) {
            return self.read_counter(&value_count_key(field, v));
        }
        if is_indexed(field) {
            let p = index_value_prefix(field, v);
            return self.count_range(&p, prefix_end(&p).as_deref());
        }
        Ok(1)
    }

    /// [`Self::eq_count`] of each equality filter.
    fn eq_estimates(&self, c: Collection, a: &Analysis) -> StoreResult<Vec<u64>> {
        a.eqs.iter().map(|(f, v)| self.eq_count(c, *f, v)).collect()
    }

    /// The exact count when counters or index entries alone give it.
    fn count_from_indexes(&self, q: &ListQuery, a: &Analysis) -> StoreResult<Option<u64>> {
        let c = q.collection;
        if q.search.is_some() {
            return Ok(None);
        }
        let [filter] = q.filters.as_slice() else {
            return if q.filters.is_empty() {
                self.collection_size(c).map(Some)
            } else {
                Ok(None)
            };
        };
        let field = filter.field;
        let values: Vec<&Value> = match (&a.eqs[..], &a.ins[..]) {
            ([(_, v)], []) => vec![v],
            ([], [(_, vs)]) => vs.iter().collect(),
            _ => Vec::new(),
        };
        if !values.is_empty() {
            let mut n = 0;
            for v in values {
                n += if field == c.id_field() {
                    match key_of_id_value(c, v) {
                        Some(k) => u64::from(self.read(&record_key(k))?.is_some()),
                        None => 0,
                    }
                } else if is_indexed(field) {
                    self.eq_count(c, field, v)?
                } else {
                    return Ok(None);
                };
            }
            return Ok(Some(n));
        }
        if a.id_range.is_some() {
            let run = id_run(c, a);
            return self.count_range(&run.lo, run.hi.as_deref()).map(Some);
        }
        if let [(_, bounds)] = &a.ranges[..]
            && is_indexed(field)
        {
            let run = Run::bounded(index_prefix(field), Some(bounds));
            return self.count_range(&run.lo, run.hi.as_deref()).map(Some);
        }
        Ok(None)
    }

    /// The smallest candidate set and its estimated size.
    fn best_source(
        &self,
        q: &ListQuery,
        a: &Analysis,
        n: u64,
        eq_est: &[u64],
    ) -> StoreResult<(Source, u64)> {
        let c = q.collection;
        let id = c.id_field();
        let mut best = (Source::Runs(vec![Run::prefix(record_prefix(c), true)]), n);
        let consider = |s: Source, est: u64, best: &mut (Source, u64)| {
            if est < best.1 {
                *best = (s, est);
            }
        };
        for ((f, v), &est) in a.eqs.iter().zip(eq_est) {
            if *f == id {
                let keys: Vec<RecordKey> = key_of_id_value(c, v).into_iter().collect();
                let est = keys.len() as u64;
                consider(Source::Keys(keys), est, &mut best);
            } else if is_indexed(*f) {
                let run = Run::prefix(index_value_prefix(*f, v), false);
                consider(Source::Runs(vec![run]), est, &mut best);
            }
        }
        for (f, vs) in &a.ins {
            if *f == id {
                let keys: Vec<RecordKey> =
                    vs.iter().filter_map(|v| key_of_id_value(c, v)).collect();
                let est = keys.len() as u64;
                consider(Source::Keys(keys), est, &mut best);
            } else if is_indexed(*f) {
                let mut est = 0;
                let mut runs = Vec::new();
                for v in vs {
                    est += self.eq_count(c, *f, v)?;
                    runs.push(Run::prefix(index_value_prefix(*f, v), false));
                }
                consider(Source::Runs(runs), est, &mut best);
            }
        }
        // A range's size is unknown without reading it; guess a quarter.
        if a.id_range.is_some() {
            consider(Source::Runs(vec![id_run(c, a)]), n / 4, &mut best);
        }
        for (f, bounds) in &a.ranges {
            if is_indexed(*f) {
                let run = Run::bounded(index_prefix(*f), Some(bounds));
                consider(Source::Runs(vec![run]), n / 4, &mut best);
            }
        }
        Ok(best)
    }

    /// The cheapest walk giving candidates in the effective order, if any.
    fn best_walk(&self, q: &ListQuery, a: &Analysis, n: u64, eq_est: &[u64]) -> Option<Walk> {
        let c = q.collection;
        let id = c.id_field();
        let ordering = effective_ordering(q, a);
        let mut walks = Vec::new();
        let range_of = |f: Field| a.ranges.iter().find(|(g, _)| *g == f).map(|(_, b)| b);
        match ordering.first().filter(|o| o.field != id) {
            None => {
                let dir = ordering.first().map_or(Direction::Asc, |o| o.direction);
                walks.push(Walk {
                    run: id_run(c, a),
                    group_dir: dir,
                    id_dir: dir,
                    exact: true,
                    estimate: if a.id_range.is_some() { n / 4 } else { n },
                });
                for ((f, v), &estimate) in a.eqs.iter().zip(eq_est) {
                    if *f != id && is_indexed(*f) {
                        walks.push(Walk {
                            run: Run::prefix(index_value_prefix(*f, v), false),
                            group_dir: dir,
                            id_dir: dir,
                            exact: true,
                            estimate,
                        });
                    }
                }
            }
            Some(first) => {
                let (id_dir, exact) = match &ordering[1..] {
                    [] => (Direction::Asc, true),
                    [t] if t.field == id => (t.direction, true),
                    // Only the first term is served; ids need no order inside a group that
                    // is sorted anyway.
                    _ => (first.direction, false),
                };
                let g = first.field;
                if is_indexed(g) {
                    let bounds = range_of(g);
                    walks.push(Walk {
                        run: Run::bounded(index_prefix(g), bounds),
                        group_dir: first.direction,
                        id_dir,
                        exact,
                        estimate: if bounds.is_some() { n / 4 } else { n },
                    });
                }
                if g == default_order(c).field {
                    for ((f, v), &estimate) in a.eqs.iter().zip(eq_est) {
                        if has_composite(*f) {
                            walks.push(Walk {
                                run: Run::prefix(composite_value_prefix(*f, v), false),
                                group_dir: first.direction,
                                id_dir,
                                exact,
                                estimate,
                            });
                        }
                    }
                }
            }
        }
        // Prefer the smallest source; among equals, an exact walk.
        walks.into_iter().min_by_key(|w| (w.estimate, !w.exact))
    }

    /// One page, without a count.
    fn list_page(&self, q: &ListQuery, a: &Analysis, m: &Matcher) -> StoreResult<Page<Record>> {
        let n = self.collection_size(q.collection)?;
        let eq_est = self.eq_estimates(q.collection, a)?;
        let (source, source_est) = self.best_source(q, a, n, &eq_est)?;
        let Some(walk) = self.best_walk(q, a, n, &eq_est) else {
            return self.collect_candidates(q, m, source, false);
        };
        if walk.estimate <= source_est {
            return self
                .list_walk(q, m, &walk, None)
                .map(|p| p.unwrap_or_else(empty_page));
        }
        // The candidates are many but the ordering's index would meet enough of them early
        // (if they are spread evenly along it): try it, giving up after a sixteenth of the
        // candidates' cost, so a bad guess costs little more than the candidates.
        let need = q.offset.saturating_add(q.limit);
        let expected = need.saturating_mul(walk.estimate) / source_est.max(1);
        let budget = source_est / 16;
        if walk.exact
            && expected.saturating_mul(4) <= budget
            && let Some(page) = self.list_walk(q, m, &walk, Some(budget))?
        {
            return Ok(page);
        }
        self.collect_candidates(q, m, source, false)
    }

    /// Reads every candidate of the best source; counts when `count`.
    fn list_candidates(
        &self,
        q: &ListQuery,
        a: &Analysis,
        m: &Matcher,
        count: bool,
    ) -> StoreResult<Page<Record>> {
        let n = self.collection_size(q.collection)?;
        let eq_est = self.eq_estimates(q.collection, a)?;
        let (source, _) = self.best_source(q, a, n, &eq_est)?;
        self.collect_candidates(q, m, source, count)
    }

    fn collect_candidates(
        &self,
        q: &ListQuery,
        m: &Matcher,
        source: Source,
        count: bool,
    ) -> StoreResult<Page<Record>> {
        let need = size(q.offset.saturating_add(q.limit));
        let mut top = TopN::new(need, &q.ordering);
        let mut total = 0u64;
        let from_index = matches!(&source, Source::Runs(runs) if runs.iter().any(|r| !r.records));
        let mut seen = Seen::new(from_index);
        let mut take = |r: Record| {
            if m.matches(&r) && seen.first(r.key()) {
                total += 1;
                top.push(r);
            }
        };
        match source {
            Source::Keys(keys) => {
                let keys: BTreeSet<RecordKey> = keys.into_iter().collect();
                for k in keys {
                    if let Some(r) = self.fetch(k)? {
                        take(r);
                    }
                }
            }
            Source::Runs(runs) => {
                for run in runs {
                    let mut chunk = MAX_CHUNK;
                    let (lo, hi) = (run.lo.clone(), run.hi.clone());
                    self.scan_run(
                        q.collection,
                        &run,
                        lo,
                        hi,
                        false,
                        &mut chunk,
                        &mut |_, r| {
                            take(r);
                            false
                        },
                    )?;
                }
            }
        }
        let items = top
            .finish()
            .into_iter()
            .skip(size(q.offset))
            .take(size(q.limit))
            .collect();
        Ok(Page {
            items,
            total: count.then_some(total),
        })
    }

    /// Streams a page from an ordered walk.
    /// Streams a page from an ordered walk; with a `budget`, gives up (`None`) after visiting
    /// that many candidates.
    fn list_walk(
        &self,
        q: &ListQuery,
        m: &Matcher,
        walk: &Walk,
        budget: Option<u64>,
    ) -> StoreResult<Option<Page<Record>>> {
        let mut pager = Pager::new(q, !walk.run.records);
        let mut chunk = size(q.offset.saturating_add(q.limit)).clamp(1, MAX_CHUNK);
        if walk.exact {
            let mut left = budget;
            let mut exhausted = false;
            self.walk(q.collection, walk, &mut chunk, &mut |_, r| {
                if let Some(left) = &mut left {
                    if *left == 0 {
                        exhausted = true;
                        return true;
                    }
                    *left -= 1;
                }
                m.matches(&r) && pager.offer(r)
            })?;
            if exhausted {
                return Ok(None);
            }
        } else {
            // Sort each group of equal first-term values before paging it.
            let mut group: Option<Vec<u8>> = None;
            let mut buf: Vec<Record> = Vec::new();
            let flush = |buf: &mut Vec<Record>, pager: &mut Pager| {
                buf.sort_by(|x, y| compare_records(x, y, &q.ordering));
                buf.drain(..).any(|r| pager.offer(r))
            };
            let mut done = false;
            self.walk(q.collection, walk, &mut chunk, &mut |g, r| {
                if group.as_deref() != Some(g) {
                    if flush(&mut buf, &mut pager) {
                        done = true;
                        return true;
                    }
                    group = Some(g.to_vec());
                }
                if m.matches(&r) {
                    buf.push(r);
                }
                false
            })?;
            if !done {
                flush(&mut buf, &mut pager);
            }
        }
        Ok(Some(Page {
            items: pager.items,
            total: None,
        }))
    }

    /// Feeds the candidates of `walk` to `sink` (group bytes, record) in walk order until it
    /// returns `true`.
    fn walk(
        &self,
        c: Collection,
        walk: &Walk,
        chunk: &mut usize,
        sink: &mut dyn FnMut(&[u8], Record) -> bool,
    ) -> StoreResult<()> {
        let run = &walk.run;
        if walk.group_dir == walk.id_dir {
            let reverse = walk.id_dir == Direction::Desc;
            self.scan_run(c, run, run.lo.clone(), run.hi.clone(), reverse, chunk, sink)?;
            return Ok(());
        }
        // Values in one direction, ids in the other: read entries in value order, and
        // replay each group of equal values backwards once it is complete (the last group of a
        // full chunk may continue past it, so it is read again with the next chunk). A group
        // larger than a chunk is streamed on its own in id order.
        let l = id_len(c);
        let values_desc = walk.group_dir == Direction::Desc;
        let id_desc = walk.id_dir == Direction::Desc;
        let (mut lo, mut hi) = (run.lo.clone(), run.hi.clone());
        // Start small and double: with few entries per value the page's groups complete
        // quickly, and with many the first read tells so after two entries.
        let mut size = 2;
        let group_of = |key: &[u8]| -> StoreResult<Vec<u8>> {
            key.len()
                .checked_sub(l)
                .filter(|e| *e >= run.prefix_len)
                .map(|e| key[..e].to_vec())
                .ok_or_else(|| corrupt("index entry too short"))
        };
        loop {
            let entries = self.read_range(&lo, hi.as_deref(), values_desc, size, false)?;
            let full = entries.len() == size;
            let mut groups: Vec<(Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
            for (key, _) in entries {
                let g = group_of(&key)?;
                match groups.last_mut() {
                    Some((last, keys)) if *last == g => keys.push(key),
                    _ => groups.push((g, vec![key])),
                }
            }
            let partial = if full { groups.pop() } else { None };
            if groups.is_empty() {
                let Some((gp, _)) = partial else {
                    return Ok(());
                };
                let ge = prefix_end(&gp);
                let from = gp.clone().max(lo.clone());
                let to = match (&ge, &hi) {
                    (Some(a), Some(b)) => Some(a.clone().min(b.clone())),
                    (a, b) => a.clone().or_else(|| b.clone()),
                };
                if self.scan_run(c, run, from, to, id_desc, chunk, sink)? {
                    return Ok(());
                }
                if values_desc {
                    hi = Some(gp);
                } else {
                    match ge {
                        Some(e) => lo = e,
                        None => return Ok(()),
                    }
                }
                continue;
            }
            for (_, keys) in groups {
                for key in keys.into_iter().rev() {
                    if self.emit(c, run, key, Vec::new(), sink)? {
                        return Ok(());
                    }
                }
            }
            let Some((gp, _)) = partial else {
                return Ok(());
            };
            if values_desc {
                let ge = prefix_end(&gp);
                hi = match (ge, hi) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            } else {
                lo = gp.max(lo);
            }
            size = size.saturating_mul(2).min(MAX_CHUNK);
        }
    }

    /// Scans `[lo, hi)` of `run` in chunks (growing from `chunk`), materialising records and
    /// feeding `sink` until it returns `true`; returns whether it did.
    #[allow(clippy::too_many_arguments)]
    fn scan_run(
        &self,
        c: Collection,
        run: &Run,
        mut lo: Vec<u8>,
        mut hi: Option<Vec<u8>>,
        reverse: bool,
        chunk: &mut usize,
        sink: &mut dyn FnMut(&[u8], Record) -> bool,
    ) -> StoreResult<bool> {
        loop {
            let entries = self.read_range(&lo, hi.as_deref(), reverse, *chunk, run.records)?;
            let full = entries.len() == *chunk;
            let Some(last) = entries.last().map(|(k, _)| k.clone()) else {
                return Ok(false);
            };
            for (key, value) in entries {
                if self.emit(c, run, key, value, sink)? {
                    return Ok(true);
                }
            }
            if !full {
                return Ok(false);
            }
            if reverse {
                hi = Some(last);
            } else {
                lo = successor(&last);
            }
            *chunk = chunk.saturating_mul(2).min(MAX_CHUNK);
        }
    }

    /// Materialises one entry of `run` (its record, fetched when the entry is an index entry)
    /// and feeds it to `sink`; returns what `sink` returned.
    fn emit(
        &self,
        c: Collection,
        run: &Run,
        key: Vec<u8>,
        value: Vec<u8>,
        sink: &mut dyn FnMut(&[u8], Record) -> bool,
    ) -> StoreResult<bool> {
        let group_end = key
            .len()
            .checked_sub(id_len(c))
            .filter(|e| *e >= run.prefix_len)
            .ok_or_else(|| corrupt("index entry too short"))?;
        let record = if run.records {
            decode_record(&value)?
        } else {
            let k =
                decode_id(c, &key[group_end..]).ok_or_else(|| corrupt("malformed index entry"))?;
            match self.fetch(k)? {
                Some(r) => r,
                // Removed since the index entry was read.
                None => return Ok(false),
            }
        };
        Ok(sink(&key[run.prefix_len..group_end], record))
    }
}

/// The records of `c` within the id range filters' bounds.
fn id_run(c: Collection, a: &Analysis) -> Run {
    let prefix = record_prefix(c);
    let mut run = Run::prefix(prefix, true);
    if let Some((lo, hi)) = &a.id_range {
        run.lo = lo.clone().max(run.lo);
        run.hi = match (hi, run.hi) {
            (Some(h), Some(e)) => Some(h.clone().min(e)),
            (h, e) => h.clone().or(e),
        };
    }
    run
}
