//! Crash durability of `rehome serve` on the embedded stores (SQLite and sled), as processes.
//!
//! Per store, one data directory lives through every round. A round starts the server, checks
//! the store against the test's own model of what must be there, lets [`CLIENTS`] threads run a
//! mixed write load (device creates, `PATCH` with `If-Match`, `PUT` with `version`, and
//! `POST /inventory/batch/` mixing creates and updates), and after a random pause (seeded RNG)
//! kills the server with `SIGKILL`; some rounds first start a server and kill it during start-up
//! (while it opens the store, or just after). The last round ends with `SIGTERM` instead, which must exit
//! 0. Then the server is started once more and checked a last time.
//!
//! The model (not the code under test) decides what must be found: each client owns its
//! devices (unique serials), sends its writes one after another and remembers, for each
//! request, the state it expects each device to have afterwards. A write whose 2xx answer
//! arrived is *acknowledged* and must be found after the restart; the one request in flight
//! when the server died is *in doubt*: each of its devices must show either the state before it
//! or the state after it, and all of them the same side (a batch is never partly applied). A
//! request that found the server gone before it was sent (connection refused) must not be there.
//! Nothing else may be in the store.
//!
//! `REHOME_CRASH_ROUNDS` sets the number of `SIGKILL` rounds per store (default 20);
//! `REHOME_CRASH_SEED` fixes the seed (printed at the start; timing still varies between runs);
//! `REHOME_CRASH_START_KILL_PERCENT` how often a round begins with a kill during start-up
//! (default 25).
//! Each store prints its figures, e.g.
//! `crash sqlite: rounds 20 + SIGTERM, writes acknowledged 812, found 812, ...`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Client, PASSWORD, Server, create_superuser, sled_url, sqlite_url};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value as Json, json};

/// Concurrent writer threads per round.
const CLIENTS: usize = 4;
/// `SIGKILL` rounds per store unless `REHOME_CRASH_ROUNDS` says otherwise.
const DEFAULT_ROUNDS: usize = 20;
/// The superuser the clients act as.
const USER: &str = "crash-admin";
/// How long the load runs before the kill: a random pause in this range (milliseconds)...
const PAUSE_MS: std::ops::RangeInclusive<u64> = 50..=800;
/// ...or, in some rounds, in this one (the kill lands while the clients connect).
const SHORT_PAUSE_MS: std::ops::RangeInclusive<u64> = 0..=50;
/// A round starts with a kill during start-up (store opening or just opened) with this
/// probability in percent (`REHOME_CRASH_START_KILL_PERCENT` overrides it), after a random time
/// in [`START_KILL_MS`].
const START_KILL_PERCENT: u64 = 25;
/// See [`START_KILL_PERCENT`] (milliseconds after the spawn).
const START_KILL_MS: std::ops::RangeInclusive<u64> = 0..=400;

/// The fields a write changes, and the version it leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    model: String,
    notes: String,
    version: u64,
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "v{} model {:?} notes {:?}",
            self.version, self.model, self.notes
        )
    }
}

/// A device whose state is known: acknowledged, or found after a restart.
#[derive(Debug, Clone)]
struct Known {
    id: String,
    state: State,
}

/// What one write does to one device: the state before (`None`: the write creates it) and after.
#[derive(Debug, Clone)]
struct Item {
    serial: String,
    before: Option<State>,
    after: State,
}

/// One write request of a client.
#[derive(Debug, Clone)]
struct Write {
    /// For messages, e.g. `round 3 client 1: PATCH C1-R0-N4`.
    what: String,
    batch: bool,
    items: Vec<Item>,
    method: &'static str,
    path: String,
    if_match: Option<String>,
    body: Json,
    status: u16,
}

/// What a client knows: the devices it owns, by serial.
#[derive(Debug, Default)]
struct ClientModel {
    devices: BTreeMap<String, Known>,
}

/// What a client did in one round.
#[derive(Debug, Default)]
struct Outcome {
    acked: Vec<Write>,
    in_doubt: Option<Write>,
    /// The last write found the server gone before it was sent (connection refused): it must
    /// not be in the store.
    refused: bool,
    /// Answers the workload never expects (a 4xx or 5xx, a body that disagrees with the model).
    failures: Vec<String>,
}

/// The figures of one store, and everything that went wrong.
#[derive(Debug, Default)]
struct Tally {
    rounds: usize,
    start_kills: usize,
    acked: usize,
    acked_found: usize,
    batches: usize,
    batches_whole: usize,
    refused: usize,
    doubt: usize,
    doubt_present: usize,
    doubt_batches: usize,
    doubt_batches_present: usize,
    devices: usize,
    violations: Vec<String>,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rounds {} + SIGTERM, kills during start-up {}, writes acknowledged {}, found {}, \
             in doubt {} (present {}), batches acknowledged {} (whole {}), in-doubt batches {} \
             (present {}), refused {}, devices {}, violations {}",
            self.rounds,
            self.start_kills,
            self.acked,
            self.acked_found,
            self.doubt,
            self.doubt_present,
            self.batches,
            self.batches_whole,
            self.doubt_batches,
            self.doubt_batches_present,
            self.refused,
            self.devices,
            self.violations.len()
        )
    }
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
    )
}

/// Plans the next write of client `c` in `round` from what it knows.
fn plan(rng: &mut ChaCha8Rng, model: &ClientModel, c: usize, round: usize, seq: usize) -> Write {
    let tag = format!("C{c}-R{round}-N{seq}");
    let create = |serial: String| {
        let after = State {
            model: format!("M-{round}-{seq}"),
            notes: format!("created {serial}"),
            version: 1,
        };
        let data = json!({"type": "Laptop", "make": "Dell", "model": after.model,
                          "serial_number": serial, "notes": after.notes});
        let item = Item {
            serial,
            before: None,
            after,
        };
        (item, data)
    };
    let owned: Vec<(&String, &Known)> = model.devices.iter().collect();
    let pick = rng.random_range(0..100);
    if owned.is_empty() || pick < 40 {
        let (item, body) = create(tag.clone());
        return Write {
            what: format!("POST {tag}"),
            batch: false,
            items: vec![item],
            method: "POST",
            path: "/inventory/devices/".into(),
            if_match: None,
            body,
            status: 201,
        };
    }
    if pick < 75 {
        let (serial, known) = owned[rng.random_range(0..owned.len())];
        let path = format!("/inventory/devices/{}/", known.id);
        let before = known.state.clone();
        if rng.random_bool(0.5) {
            let after = State {
                notes: format!("patched {tag}"),
                version: before.version + 1,
                ..before.clone()
            };
            return Write {
                what: format!("PATCH {serial} ({tag})"),
                batch: false,
                body: json!({"notes": after.notes}),
                items: vec![Item {
                    serial: serial.clone(),
                    before: Some(before.clone()),
                    after,
                }],
                method: "PATCH",
                path,
                if_match: Some(format!("\"{}\"", before.version)),
                status: 200,
            };
        }
        let after = State {
            model: format!("M-{round}-{seq}"),
            version: before.version + 1,
            ..before.clone()
        };
        return Write {
            what: format!("PUT {serial} ({tag})"),
            batch: false,
            body: json!({"type": "Laptop", "make": "Dell", "model": after.model,
                         "serial_number": serial, "version": before.version}),
            items: vec![Item {
                serial: serial.clone(),
                before: Some(before),
                after,
            }],
            method: "PUT",
            path,
            if_match: None,
            status: 200,
        };
    }
    // A batch: 1-3 creates and 0-2 updates of distinct owned devices, in a random order.
    let mut ops = Vec::new();
    let mut items = Vec::new();
    for i in 0..rng.random_range(1..=3) {
        let (item, data) = create(format!("{tag}-{i}"));
        ops.push(json!({"op": "create", "model": "device", "data": data}));
        items.push(item);
    }
    let mut chosen = BTreeSet::new();
    for _ in 0..rng.random_range(0..=2.min(owned.len())) {
        chosen.insert(rng.random_range(0..owned.len()));
    }
    for index in chosen {
        let (serial, known) = owned[index];
        let before = known.state.clone();
        let after = State {
            notes: format!("batch {tag}"),
            version: before.version + 1,
            ..before.clone()
        };
        let op = json!({"op": "update", "model": "device", "id": known.id,
                        "data": {"notes": after.notes, "version": before.version}});
        let at = rng.random_range(0..=ops.len());
        ops.insert(at, op);
        items.insert(
            at,
            Item {
                serial: serial.clone(),
                before: Some(before),
                after,
            },
        );
    }
    Write {
        what: format!("batch {tag} ({} operations)", ops.len()),
        batch: true,
        items,
        method: "POST",
        path: "/inventory/batch/".into(),
        if_match: None,
        body: json!({ "operations": ops }),
        status: 200,
    }
}

/// The state a device's JSON shows, and its id.
fn read_device(object: &Json) -> Option<(String, String, State)> {
    Some((
        object["serial_number"].as_str()?.to_owned(),
        object["device_id"].as_str()?.to_owned(),
        State {
            model: object["model"].as_str()?.to_owned(),
            notes: object["notes"].as_str().unwrap_or_default().to_owned(),
            version: object["version"].as_u64()?,
        },
    ))
}

/// Checks an acknowledged answer against the model; the ids of the devices, in item order.
fn check_answer(write: &Write, body: &Json) -> Result<Vec<String>, String> {
    let objects: Vec<&Json> = if write.batch {
        let results = body["results"]
            .as_array()
            .ok_or_else(|| format!("no results in {body}"))?;
        if results.len() != write.items.len() {
            return Err(format!(
                "{} results for {} operations",
                results.len(),
                write.items.len()
            ));
        }
        results.iter().map(|r| &r["object"]).collect()
    } else {
        vec![body]
    };
    let mut ids = Vec::new();
    for (item, object) in write.items.iter().zip(objects) {
        let (serial, id, state) =
            read_device(object).ok_or_else(|| format!("not a device: {object}"))?;
        if serial != item.serial || state != item.after {
            return Err(format!(
                "answered {serial} {state}, the model expects {} {}",
                item.serial, item.after
            ));
        }
        ids.push(id);
    }
    Ok(ids)
}

/// One client's load for one round: writes until the server stops answering.
fn run_client(
    client: &Client,
    token: &str,
    c: usize,
    round: usize,
    model: &mut ClientModel,
    seed: u64,
) -> Outcome {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut outcome = Outcome::default();
    for seq in 0.. {
        let mut write = plan(&mut rng, model, c, round, seq);
        write.what = format!("round {round} client {c}: {}", write.what);
        let headers: Vec<(&str, &str)> = write
            .if_match
            .as_deref()
            .map(|v| ("If-Match", v))
            .into_iter()
            .collect();
        let answer = client.send_with_headers(
            write.method,
            &write.path,
            Some(token),
            &headers,
            Some(&write.body),
        );
        match answer {
            Ok((status, body)) if status == write.status => match check_answer(&write, &body) {
                Ok(ids) => {
                    for (item, id) in write.items.iter().zip(ids) {
                        let known = Known {
                            id,
                            state: item.after.clone(),
                        };
                        model.devices.insert(item.serial.clone(), known);
                    }
                    outcome.acked.push(write);
                }
                Err(why) => {
                    outcome.failures.push(format!("{}: {why}", write.what));
                    outcome.in_doubt = Some(write);
                    break;
                }
            },
            Ok((status, body)) => {
                // Never expected: each client only touches its own devices, with the right
                // versions. Kept in doubt so the store check still runs.
                outcome
                    .failures
                    .push(format!("{}: answered {status} {body}", write.what));
                outcome.in_doubt = Some(write);
                break;
            }
            Err(e) => {
                // No answer: the server is gone. If it was gone before the request was sent
                // (a new connection refused; ureq never retries), the write cannot be there.
                outcome.refused = matches!(&e, ureq::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::ConnectionRefused);
                outcome.in_doubt = Some(write);
                break;
            }
        }
    }
    outcome
}

/// Every device in the store, by serial: `(id, state)`.
fn fetch_all(client: &Client, token: &str) -> BTreeMap<String, (String, State)> {
    let mut found = BTreeMap::new();
    for object in client.all_devices(token) {
        let (serial, id, state) = read_device(&object).expect("a device");
        assert!(
            found.insert(serial.clone(), (id, state)).is_none(),
            "{serial} listed twice"
        );
    }
    found
}

fn show(found: Option<&(String, State)>) -> String {
    found.map_or_else(|| "absent".to_owned(), |(_, s)| s.to_string())
}

/// Checks the store after a restart against the model and the last round's outcomes, counts,
/// and resolves what was in doubt (the model then holds what the store holds).
fn verify(
    label: &str,
    found: &BTreeMap<String, (String, State)>,
    models: &mut [ClientModel],
    outcomes: Vec<Outcome>,
    tally: &mut Tally,
) {
    for (c, outcome) in outcomes.into_iter().enumerate() {
        tally.violations.extend(outcome.failures);
        // Acknowledged writes: each device at least at the version the write left (a later
        // write, acknowledged or in doubt, may have moved it further).
        for write in &outcome.acked {
            tally.acked += 1;
            tally.batches += usize::from(write.batch);
            let lost: Vec<String> = write
                .items
                .iter()
                .filter(|item| {
                    found
                        .get(&item.serial)
                        .is_none_or(|(_, s)| s.version < item.after.version)
                })
                .map(|item| format!("{} {}", item.serial, show(found.get(&item.serial))))
                .collect();
            if lost.is_empty() {
                tally.acked_found += 1;
                tally.batches_whole += usize::from(write.batch);
            } else {
                tally.violations.push(format!(
                    "{label}: acknowledged {} lost: {}",
                    write.what,
                    lost.join(", ")
                ));
            }
        }
        let model = &mut models[c];
        let doubtful: BTreeSet<&str> = outcome
            .in_doubt
            .iter()
            .flat_map(|w| w.items.iter().map(|i| i.serial.as_str()))
            .collect();
        // Every known device not touched by the write in doubt: exactly its known state.
        let mut wrong = Vec::new();
        for (serial, known) in &model.devices {
            if doubtful.contains(serial.as_str()) {
                continue;
            }
            let here = found.get(serial);
            if here.is_none_or(|(id, s)| *s != known.state || *id != known.id) {
                tally.violations.push(format!(
                    "{label}: {serial} should be {} ({}), the store has {}",
                    known.state,
                    known.id,
                    show(here)
                ));
                wrong.push(serial.clone());
            }
        }
        // Reported once; from now on the model follows the store, so that later rounds are
        // checked on their own.
        for serial in wrong {
            match found.get(&serial) {
                Some((id, state)) => {
                    let known = Known {
                        id: id.clone(),
                        state: state.clone(),
                    };
                    model.devices.insert(serial, known);
                }
                None => {
                    model.devices.remove(&serial);
                }
            }
        }
        // The write in doubt: before or after, the same for all its devices.
        if let Some(write) = &outcome.in_doubt {
            let mut sides = Vec::new();
            for item in &write.items {
                let here = found.get(&item.serial);
                let state = here.map(|(_, s)| s);
                if state == Some(&item.after) {
                    sides.push(true);
                } else if state == item.before.as_ref() {
                    sides.push(false);
                } else {
                    tally.violations.push(format!(
                        "{label}: in-doubt {}: {} is {}, neither before ({}) nor after ({})",
                        write.what,
                        item.serial,
                        show(here),
                        item.before
                            .as_ref()
                            .map_or_else(|| "absent".to_owned(), State::to_string),
                        item.after
                    ));
                }
            }
            let present = sides.iter().filter(|s| **s).count();
            if present != 0 && present != sides.len() {
                tally.violations.push(format!(
                    "{label}: in-doubt {} partly applied: {present} of {} operations present",
                    write.what,
                    sides.len()
                ));
            }
            if outcome.refused {
                tally.refused += 1;
                if present > 0 {
                    tally.violations.push(format!(
                        "{label}: {} was refused (never sent) but is in the store",
                        write.what
                    ));
                }
            } else {
                tally.doubt += 1;
                tally.doubt_batches += usize::from(write.batch);
            }
            if !outcome.refused && present == sides.len() && present > 0 {
                tally.doubt_present += 1;
                tally.doubt_batches_present += usize::from(write.batch);
            }
            // The store decides now: the model takes what was found.
            for item in &write.items {
                match found.get(&item.serial) {
                    Some((id, state)) => {
                        let known = Known {
                            id: id.clone(),
                            state: state.clone(),
                        };
                        model.devices.insert(item.serial.clone(), known);
                    }
                    None => {
                        model.devices.remove(&item.serial);
                    }
                }
            }
        }
    }
    let owned: BTreeSet<&String> = models.iter().flat_map(|m| m.devices.keys()).collect();
    for serial in found.keys().filter(|s| !owned.contains(s)) {
        tally.violations.push(format!(
            "{label}: {serial} is in the store, no write made it"
        ));
    }
    tally.devices = found.len();
}

/// Copies the directory `from` to `to` (files and subdirectories).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// One store under test: its name, data directory and URL, and what happened to it so far.
struct Subject {
    name: &'static str,
    dir: PathBuf,
    url: String,
    /// The faults so far, newest last (shown when the store does not open).
    events: Vec<String>,
}

impl Subject {
    /// Starts the server; a store that does not open fails the test with the log, the
    /// figures, the last faults, and a copy of the data directory kept for inspection.
    fn start(&self, label: &str, tally: &Tally) -> Server {
        Server::try_start(&self.url, &[]).unwrap_or_else(|log| {
            let kept = std::env::temp_dir().join(format!(
                "rehome-crash-evidence-{}-{}",
                self.name,
                std::process::id()
            ));
            let copied = match copy_dir(&self.dir, &kept) {
                Ok(()) => format!("the data directory is kept at {}", kept.display()),
                Err(e) => format!("copying the data directory failed: {e}"),
            };
            let recent = self.events.len().saturating_sub(5);
            panic!(
                "crash {}: {label}: the store did not open:\n{log}\nlast faults:\n  {}\n\
                 {copied}\nso far: {tally}\n{}",
                self.name,
                self.events[recent..].join("\n  "),
                tally.violations.join("\n")
            )
        })
    }
}

/// The whole scenario on one store; returns the figures (printed, and asserted by the caller).
fn crash_rounds(subject: &mut Subject) -> Tally {
    let name = subject.name;
    let store = subject.url.clone();
    let store = store.as_str();
    let rounds = env_number("REHOME_CRASH_ROUNDS").map_or(DEFAULT_ROUNDS, |n| n as usize);
    let seed = env_number("REHOME_CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    println!("crash {name}: {rounds} rounds, seed {seed} (REHOME_CRASH_SEED={seed} to rerun)");
    let start_kill_percent =
        env_number("REHOME_CRASH_START_KILL_PERCENT").unwrap_or(START_KILL_PERCENT);
    let started = Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    create_superuser(store, USER);
    let mut tally = Tally::default();
    let mut models: Vec<ClientModel> = (0..CLIENTS).map(|_| ClientModel::default()).collect();
    let mut pending: Option<Vec<Outcome>> = None;
    let mut token: Option<String> = None;
    // Rounds 0..rounds end with SIGKILL, the last one with SIGTERM.
    for round in 0..=rounds {
        let label = format!("round {round}");
        if round > 0 && rng.random_range(0..100) < start_kill_percent {
            let after = rng.random_range(START_KILL_MS);
            let log = common::kill_during_start(store, Duration::from_millis(after));
            let phase = if log.contains("listening on") {
                "listening"
            } else {
                "opening"
            };
            subject.events.push(format!(
                "{label}: SIGKILL {after} ms after spawn ({phase}); its log:\n{log}"
            ));
            tally.start_kills += 1;
        }
        let mut server = subject.start(&format!("start of {label}"), &tally);
        let client = server.client();
        // One login per store: the session lives in the store and survives every restart.
        let token = token
            .get_or_insert_with(|| client.login(USER, PASSWORD))
            .clone();
        if let Some(outcomes) = pending.take() {
            let found = fetch_all(&client, &token);
            verify(
                &format!("after round {}", round - 1),
                &found,
                &mut models,
                outcomes,
                &mut tally,
            );
        }
        let pause = if rng.random_bool(0.15) {
            SHORT_PAUSE_MS
        } else {
            PAUSE_MS
        };
        let pause = Duration::from_millis(rng.random_range(pause));
        let seeds: Vec<u64> = (0..CLIENTS).map(|_| rng.random()).collect();
        let sigterm = round == rounds;
        let outcomes = std::thread::scope(|scope| {
            let handles: Vec<_> = models
                .iter_mut()
                .zip(seeds)
                .enumerate()
                .map(|(c, (model, seed))| {
                    let client = client.clone();
                    let token = token.as_str();
                    scope.spawn(move || run_client(&client, token, c, round, model, seed))
                })
                .collect();
            std::thread::sleep(pause);
            subject.events.push(format!(
                "{label}: {} {} ms into the load",
                if sigterm { "SIGTERM" } else { "SIGKILL" },
                pause.as_millis()
            ));
            if sigterm {
                let status = server.stop().expect("the server was running");
                if !status.success() {
                    tally.violations.push(format!(
                        "{label}: SIGTERM under load exited with {status}:\n{}",
                        server.log()
                    ));
                }
                if !server.log().contains("store closed") {
                    tally.violations.push(format!(
                        "{label}: SIGTERM under load did not close the store:\n{}",
                        server.log()
                    ));
                }
            } else {
                server.kill9();
            }
            handles
                .into_iter()
                .map(|h| h.join().expect("a client thread"))
                .collect::<Vec<_>>()
        });
        pending = Some(outcomes);
        tally.rounds = round;
    }
    let mut server = subject.start("after SIGTERM", &tally);
    let client = server.client();
    let token = token.expect("logged in");
    let found = fetch_all(&client, &token);
    verify(
        "after SIGTERM",
        &found,
        &mut models,
        pending.take().expect("the last round's outcomes"),
        &mut tally,
    );
    server.stop();
    println!(
        "crash {name}: {tally} ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    tally
}

fn assert_clean(name: &str, tally: &Tally) {
    let mut report = String::new();
    for v in &tally.violations {
        let _ = writeln!(report, "  {v}");
    }
    assert!(
        tally.violations.is_empty(),
        "crash {name}: {tally}\n{report}"
    );
    assert_eq!(tally.acked, tally.acked_found);
}

#[test]
fn kill9_crash_sqlite_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tally = crash_rounds(&mut Subject {
        name: "sqlite",
        dir: dir.path().to_owned(),
        url: sqlite_url(dir.path()),
        events: Vec::new(),
    });
    assert_clean("sqlite", &tally);
}

#[test]
fn kill9_crash_sled_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().expect("temp dir");
    let tally = crash_rounds(&mut Subject {
        name: "sled",
        dir: dir.path().to_owned(),
        url: sled_url(dir.path()),
        events: Vec::new(),
    });
    assert_clean("sled", &tally);
}
