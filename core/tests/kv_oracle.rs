//! `KvStore::list` (through `MemoryStore`) against the local oracle `eval::apply`, over
//! generated records of every collection and generated queries, after inserts, updates and
//! deletes (so stale index entries would show).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rehome_core::eval;
use rehome_core::model::DeviceStatus;
use rehome_core::query::{
    Collection, Direction, Field, Filter, ListQuery, Op, Order, Search, Value,
};
use rehome_core::{
    Change, ChangeSet, DonorId, LocationId, MemoryStore, Record, RecordKey, ShipmentId, Store,
    UserId,
};

/// Texts with case pairs beyond ASCII, LIKE metacharacters, NULs and prefixes of each other.
const TEXTS: &[&str] = &[
    "", "a", "A", "ab", "a\u{0}", "a\u{1}", "ä", "Ä", "ß", "ss", "SS", "Straße", "STRASSE", "Σ",
    "σ", "ς", "ΣΑΣ", "İ", "i", "I", "ı", "%", "_", "\\", "a%b", "a_b", "x\\y", "Laptop", "laptop",
    "LAPTOP", "\u{212A}", "k",
];
const NEEDLES: &[&str] = &[
    "a", "A", "ss", "SS", "ß", "σ", "Σ", "ς", "i\u{307}", "İ", "i", "%", "_", "\\", "a%", "_b",
    "top", "TOP", "k", "\u{0}", "",
];

fn pick<'a>(rng: &mut ChaCha8Rng, xs: &[&'a str]) -> &'a str {
    xs[rng.random_range(0..xs.len())]
}

fn text(rng: &mut ChaCha8Rng) -> String {
    pick(rng, TEXTS).to_owned()
}

fn opt<T>(rng: &mut ChaCha8Rng, f: impl FnOnce(&mut ChaCha8Rng) -> T) -> Option<T> {
    if rng.random_bool(0.3) {
        None
    } else {
        Some(f(rng))
    }
}

fn any_of<T: Copy>(rng: &mut ChaCha8Rng, xs: &[T]) -> Option<T> {
    (!xs.is_empty()).then(|| xs[rng.random_range(0..xs.len())])
}

/// A world of records, built deterministically from a seed, and kept as the oracle's model.
struct World {
    rng: ChaCha8Rng,
    model: BTreeMap<RecordKey, Record>,
    serial: u64,
}

impl World {
    fn ids<T>(&self, f: impl Fn(&RecordKey) -> Option<T>) -> Vec<T> {
        self.model.keys().filter_map(f).collect()
    }

    fn fresh(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn unique_text(&mut self) -> String {
        let n = self.fresh();
        format!("{}#{n}", text(&mut self.rng))
    }

    fn ts(&mut self) -> rehome_core::model::Timestamp {
        ts(self.rng.random_range(0..4))
    }

    fn location(&mut self, id: i64) -> Record {
        let mut l = location(id, &self.unique_text());
        let rng = &mut self.rng;
        l.name = text(rng);
        l.location_type = text(rng);
        l.country = text(rng);
        l.city = text(rng);
        l.postal_code = text(rng);
        l.phone = if rng.random_bool(0.5) {
            String::new()
        } else {
            self.unique_text()
        };
        l.created_at = self.ts();
        l.updated_at = self.ts();
        Record::Location(l)
    }

    fn donor(&mut self, id: i64) -> Record {
        let mut d = donor(id, &self.unique_text());
        d.name = text(&mut self.rng);
        d.phone = text(&mut self.rng);
        d.contact_info = text(&mut self.rng);
        d.created_at = self.ts();
        Record::Donor(d)
    }

    fn role(&mut self, id: i64) -> Record {
        let mut r = role(id, &self.unique_text());
        r.created_at = self.ts();
        r.updated_at = self.ts();
        Record::Role(r)
    }

    fn user(&mut self, id: i64) -> Record {
        let (name, email) = (self.unique_text(), self.unique_text());
        let mut u = user(id, &name, &email);
        let roles: Vec<String> = self
            .model
            .values()
            .filter_map(|r| match r {
                Record::Role(r) => Some(r.name.clone()),
                _ => None,
            })
            .collect();
        let rng = &mut self.rng;
        u.role = if roles.is_empty() || rng.random_bool(0.3) {
            None
        } else {
            Some(roles[rng.random_range(0..roles.len())].clone())
        };
        u.first_name = text(rng);
        u.last_name = text(rng);
        u.is_active = rng.random_bool(0.7);
        u.is_superuser = rng.random_bool(0.2);
        u.date_joined = self.ts();
        u.updated_at = self.ts();
        Record::User(u)
    }

    fn shipment(&mut self, id: i64) -> Record {
        let locations = self.ids(|k| match k {
            RecordKey::Location(l) => Some(*l),
            _ => None,
        });
        let mut s = shipment(id);
        let rng = &mut self.rng;
        s.destination = opt(rng, |r| any_of(r, &locations)).flatten();
        s.arrived = rng.random_bool(0.5);
        s.date_shipped = day(rng.random_range(0..4));
        s.date_delivered = opt(rng, |r| day(r.random_range(0..4)));
        s.tracking_identifier = text(rng);
        s.created_at = self.ts();
        Record::Shipment(s)
    }

    fn device(&mut self, n: u128) -> Record {
        let donors: Vec<DonorId> = self.ids(|k| match k {
            RecordKey::Donor(d) => Some(*d),
            _ => None,
        });
        let locations: Vec<LocationId> = self.ids(|k| match k {
            RecordKey::Location(l) => Some(*l),
            _ => None,
        });
        let users: Vec<UserId> = self.ids(|k| match k {
            RecordKey::User(u) => Some(*u),
            _ => None,
        });
        let ships: Vec<ShipmentId> = self.ids(|k| match k {
            RecordKey::Shipment(s) => Some(*s),
            _ => None,
        });
        let serial = self.unique_text();
        let mut d = device(n, &serial);
        d.mac_id = if self.rng.random_bool(0.5) {
            String::new()
        } else {
            self.unique_text()
        };
        let rng = &mut self.rng;
        d.device_type = text(rng);
        d.make = text(rng);
        d.model = text(rng);
        d.status = DeviceStatus::ALL[rng.random_range(0..DeviceStatus::ALL.len())];
        d.year_of_manufacture = opt(rng, |r| r.random_range(1990..1994));
        d.operating_system = text(rng);
        d.physical_condition = text(rng);
        d.notes = text(rng);
        d.donor = opt(rng, |r| any_of(r, &donors)).flatten();
        d.start_location = opt(rng, |r| any_of(r, &locations)).flatten();
        d.end_location = opt(rng, |r| any_of(r, &locations)).flatten();
        d.received_by = opt(rng, |r| any_of(r, &users)).flatten();
        d.created_by = opt(rng, |r| any_of(r, &users)).flatten();
        d.date_received = opt(rng, |r| day(r.random_range(0..4)));
        let mut s: Vec<ShipmentId> = ships
            .iter()
            .copied()
            .filter(|_| rng.random_bool(0.3))
            .collect();
        s.sort();
        d.shipping_infos = s;
        d.created_at = self.ts();
        d.updated_at = self.ts();
        Record::Device(d)
    }

    fn audit(&mut self, id: i64) -> Record {
        let users: Vec<UserId> = self.ids(|k| match k {
            RecordKey::User(u) => Some(*u),
            _ => None,
        });
        let mut a = audit(id);
        let rng = &mut self.rng;
        a.actor = opt(rng, |r| any_of(r, &users)).flatten();
        a.action = text(rng);
        a.object_type = text(rng);
        a.object_id = text(rng);
        a.timestamp = ts(rng.random_range(0..4));
        Record::Audit(a)
    }
}

fn bump(r: Record, old: &Record) -> Record {
    let v = old.version() + 1;
    match r {
        Record::Device(mut x) => {
            x.version = v;
            Record::Device(x)
        }
        Record::Location(mut x) => {
            x.version = v;
            Record::Location(x)
        }
        Record::Donor(mut x) => {
            x.version = v;
            Record::Donor(x)
        }
        Record::Shipment(mut x) => {
            x.version = v;
            Record::Shipment(x)
        }
        Record::User(mut x) => {
            x.version = v;
            Record::User(x)
        }
        Record::Role(mut x) => {
            x.version = v;
            Record::Role(x)
        }
        Record::Audit(x) => Record::Audit(x),
    }
}

async fn build(seed: u64, devices: usize) -> (MemoryStore, BTreeMap<RecordKey, Record>) {
    let store = MemoryStore::new();
    let mut w = World {
        rng: ChaCha8Rng::seed_from_u64(seed),
        model: BTreeMap::new(),
        serial: 0,
    };
    let commit = |w: &mut World, changes: Vec<Change>| {
        for c in &changes {
            match c {
                Change::Insert(r) | Change::Update { record: r, .. } => {
                    w.model.insert(r.key(), r.clone());
                }
                Change::Delete { key, .. } => {
                    w.model.remove(key);
                }
            }
        }
        ChangeSet { changes }
    };
    // Ids are spread over negative and positive values to exercise the sign encoding.
    let ids = |w: &mut World, n: usize| -> Vec<i64> {
        let mut set = BTreeSet::new();
        while set.len() < n {
            set.insert(w.rng.random_range(-20i64..60));
        }
        set.into_iter().collect()
    };
    type Make = fn(&mut World, i64) -> Record;
    let kinds: [(usize, Make); 5] = [
        (3, World::role),
        (6, World::user),
        (4, World::location),
        (4, World::donor),
        (5, World::shipment),
    ];
    for (n, make) in kinds {
        let n = w.rng.random_range(0..=n);
        let changes = ids(&mut w, n)
            .into_iter()
            .map(|id| Change::Insert(make(&mut w, id)))
            .collect();
        let cs = commit(&mut w, changes);
        store.commit(cs).await.expect("insert");
    }
    let dev_changes = (0..devices)
        .map(|_| {
            let n = u128::from(w.rng.random::<u16>());
            Change::Insert(w.device(n))
        })
        .collect::<Vec<_>>();
    // Random 16-bit device ids may repeat: keep the first of each.
    let mut seen = BTreeSet::new();
    let dev_changes = dev_changes.into_iter().filter(|c| match c {
        Change::Insert(r) => seen.insert(r.key()),
        _ => true,
    });
    for chunk in dev_changes.collect::<Vec<_>>().chunks(7) {
        let cs = commit(&mut w, chunk.to_vec());
        store.commit(cs).await.expect("insert devices");
    }
    let n = w.rng.random_range(0..8);
    let changes = ids(&mut w, n)
        .into_iter()
        .map(|id| Change::Insert(w.audit(id)))
        .collect();
    let cs = commit(&mut w, changes);
    store.commit(cs).await.expect("audit");

    // Updates (fresh values, same references kept valid) and device deletes.
    let keys: Vec<RecordKey> = w.model.keys().copied().collect();
    let mut changes = Vec::new();
    for key in keys {
        let roll = w.rng.random_range(0..10);
        let Some(old) = w.model.get(&key).cloned() else {
            continue;
        };
        let new = match key {
            RecordKey::Device(_) if roll < 2 => {
                changes.push(Change::Delete {
                    key,
                    expected_version: old.version(),
                });
                continue;
            }
            RecordKey::Device(id) if roll < 5 => w.device(id.0.as_u128()),
            RecordKey::Shipment(id) if roll < 4 => {
                // Keep the destination: a device may not refer to it, but others might.
                let mut s = match w.shipment(id.0) {
                    Record::Shipment(s) => s,
                    _ => unreachable!(),
                };
                if let Record::Shipment(o) = &old {
                    s.destination = o.destination;
                }
                Record::Shipment(s)
            }
            RecordKey::Location(id) if roll < 4 => w.location(id.0),
            RecordKey::Donor(id) if roll < 4 => w.donor(id.0),
            RecordKey::User(id) if roll < 4 => w.user(id.0),
            _ => continue,
        };
        let new = bump(new, &old);
        changes.push(Change::Update {
            record: new,
            expected_version: old.version(),
        });
    }
    let cs = commit(&mut w, changes);
    store.commit(cs).await.expect("updates");
    (store, w.model)
}

/// A query described by numbers, turned into a query over the records at hand.
#[derive(Debug, Clone)]
struct QSpec {
    collection: usize,
    filters: Vec<(usize, u8, usize, usize)>,
    search: Option<(usize, Vec<usize>)>,
    ordering_mode: u8,
    ordering: Vec<(usize, bool)>,
    offset: u8,
    limit: u8,
    count: bool,
}

fn qspec() -> impl Strategy<Value = QSpec> {
    (
        0usize..7,
        proptest::collection::vec(
            (any::<usize>(), 0u8..12, any::<usize>(), any::<usize>()),
            0..3,
        ),
        proptest::option::weighted(
            0.2,
            (
                any::<usize>(),
                proptest::collection::vec(any::<usize>(), 0..3),
            ),
        ),
        0u8..4,
        proptest::collection::vec((any::<usize>(), any::<bool>()), 0..4),
        0u8..5,
        0u8..9,
        any::<bool>(),
    )
        .prop_map(
            |(collection, filters, search, ordering_mode, ordering, offset, limit, count)| QSpec {
                collection,
                filters,
                search,
                ordering_mode,
                ordering,
                offset,
                limit,
                count,
            },
        )
}

/// The orderings the HTTP layer sends by default (from the contract).
fn default_ordering(c: Collection) -> Vec<Order> {
    match c {
        Collection::Devices => vec![Order::asc(Field::DeviceType)],
        Collection::Locations => vec![Order::asc(Field::LocationName)],
        Collection::Donors => vec![Order::asc(Field::DonorName)],
        Collection::Roles => vec![Order::asc(Field::RoleName)],
        Collection::Shipments => vec![Order::asc(Field::ShipmentDateShipped)],
        Collection::Users => vec![Order::asc(Field::UserUsername)],
        Collection::Audit => vec![Order::desc(Field::AuditId)],
    }
}

fn build_query(spec: &QSpec, records: &[Record]) -> ListQuery {
    let c = Collection::ALL[spec.collection];
    let fields = c.fields();
    let values_of = |f: Field| -> Vec<Value> {
        let mut set: BTreeSet<Value> = records.iter().map(|r| r.get(f)).collect();
        // Values no record has, of the field's type and of others.
        set.extend([
            Value::Null,
            Value::Int(0),
            Value::Text("zz".into()),
            Value::Text(String::new()),
        ]);
        set.into_iter().collect()
    };
    let mut q = ListQuery::all(c);
    for &(fi, op, a, b) in &spec.filters {
        // Now and then a field of another collection, which no record of this one matches.
        let field = if op == 11 {
            Collection::ALL[(spec.collection + 1) % 7].fields()[fi % 4]
        } else {
            fields[fi % fields.len()]
        };
        let vals = values_of(field);
        let v = |i: usize| vals[i % vals.len()].clone();
        let op = match op {
            0..=4 | 11 => Op::Eq(v(a)),
            5 => Op::In(vec![v(a), v(b), v(a / 7)]),
            6 | 7 => Op::IContains(NEEDLES[a % NEEDLES.len()].to_owned()),
            8 => Op::Gte(v(a)),
            9 => Op::Lte(v(a)),
            _ => Op::In(vec![v(a)]),
        };
        q.filters.push(Filter { field, op });
    }
    q.search = spec.search.as_ref().map(|(n, fs)| Search {
        text: NEEDLES[n % NEEDLES.len()].to_owned(),
        fields: fs.iter().map(|i| fields[i % fields.len()]).collect(),
    });
    q.ordering = match spec.ordering_mode {
        0 => Vec::new(),
        1 => default_ordering(c),
        _ => spec
            .ordering
            .iter()
            .map(|&(i, desc)| Order {
                field: fields[i % fields.len()],
                direction: if desc {
                    Direction::Desc
                } else {
                    Direction::Asc
                },
            })
            .collect(),
    };
    q.offset = u64::from(spec.offset % 4);
    q.limit = match spec.limit {
        7 => u64::MAX,
        8 => 100,
        n => u64::from(n),
    };
    q.count = spec.count;
    q
}

fn check(seed: u64, devices: usize, specs: &[QSpec]) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (store, model) = build(seed, devices).await;
        for spec in specs {
            let c = Collection::ALL[spec.collection];
            let records: Vec<Record> = model
                .values()
                .filter(|r| r.collection() == c)
                .cloned()
                .collect();
            let q = build_query(spec, &records);
            let want = eval::apply(&q, records.clone());
            let got = store.list(&q).await.expect("list");
            let keys = |p: &[Record]| p.iter().map(Record::key).collect::<Vec<_>>();
            prop_assert_eq!(keys(&got.items), keys(&want.items), "query {:?}", q);
            prop_assert_eq!(&got.items, &want.items, "query {:?}", q);
            prop_assert_eq!(got.total, want.total, "query {:?}", q);
        }
        // Every record is stored as the model has it.
        for (k, r) in &model {
            let got = store.get(*k).await.expect("get");
            prop_assert_eq!(got.as_ref(), Some(r));
        }
        Ok(())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn list_matches_the_oracle(
        seed in any::<u64>(),
        devices in 0usize..60,
        specs in proptest::collection::vec(qspec(), 1..24),
    ) {
        check(seed, devices, &specs)?;
    }
}

/// Many queries over equality filters and default orderings (the index plans), with ties.
#[test]
fn indexed_plans_match_the_oracle_exhaustively() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (store, model) = build(7, 120).await;
        for c in Collection::ALL {
            let records: Vec<Record> = model
                .values()
                .filter(|r| r.collection() == c)
                .cloned()
                .collect();
            for f in c.fields() {
                let values: BTreeSet<Value> = records.iter().map(|r| r.get(*f)).collect();
                for v in values {
                    for ordering in [
                        Vec::new(),
                        default_ordering(c),
                        vec![Order::desc(default_ordering(c)[0].field)],
                    ] {
                        for (offset, limit) in [(0, 3), (2, 5), (0, u64::MAX)] {
                            let q = ListQuery::all(c)
                                .filter(*f, Op::Eq(v.clone()))
                                .order_by(ordering.clone())
                                .page(offset, limit)
                                .with_count();
                            let want = eval::apply(&q, records.clone());
                            let got = store.list(&q).await.expect("list");
                            assert_eq!(got, want, "{q:?}");
                        }
                    }
                }
                for dir in [Direction::Asc, Direction::Desc] {
                    for tie in [None, Some(Direction::Desc)] {
                        let mut ordering = vec![Order {
                            field: *f,
                            direction: dir,
                        }];
                        if let Some(t) = tie {
                            ordering.push(Order {
                                field: c.id_field(),
                                direction: t,
                            });
                        }
                        let q = ListQuery::all(c).order_by(ordering).page(1, 7);
                        let want = eval::apply(&q, records.clone());
                        assert_eq!(store.list(&q).await.expect("list"), want, "{q:?}");
                    }
                }
            }
        }
    });
}
