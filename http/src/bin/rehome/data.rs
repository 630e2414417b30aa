//! `rehome mock-data`, `rehome export` and `rehome import`.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use rehome_core::query::{Collection, ListQuery};
use rehome_core::services::batch::{BatchOp, MAX_OPERATIONS, Operation};
use rehome_core::services::inventory::record_json;
use rehome_core::services::mock::MockRequest;
use rehome_core::services::{Model, accounts::user_view};
use rehome_core::{Caller, Error, Record, Rehome};
use serde_json::{Map, Value as Json};

use crate::StoreArg;
use crate::progress::Progress;
use crate::store::describe;

/// `mock-data`.
#[derive(Debug, Args)]
pub struct MockArgs {
    /// Locations to make.
    #[arg(long, default_value_t = 5)]
    pub locations: u32,
    /// Donors to make.
    #[arg(long, default_value_t = 10)]
    pub donors: u32,
    /// Devices to make.
    #[arg(long, default_value_t = 50)]
    pub devices: u32,
    /// Shipments to make.
    #[arg(long, default_value_t = 20)]
    pub shipments: u32,
    /// The seed (the same seed on an empty store makes the same data); random when left out.
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub store: StoreArg,
}

/// Makes mock data as the operator.
pub async fn mock_data(args: MockArgs) -> Result<()> {
    let core = crate::store::core(&args.store.url()).await?;
    let request = MockRequest {
        locations: args.locations,
        donors: args.donors,
        devices: args.devices,
        shipments: args.shipments,
        seed: args.seed,
    };
    let progress = Progress::new("mock data", None);
    let counts = core
        .generate_mock_data(&Caller::system(), request)
        .await
        .map_err(describe)?;
    progress.finish(&format!(
        "{} locations, {} donors, {} devices, {} shipments",
        counts.locations, counts.donors, counts.devices, counts.shipments
    ));
    core.store().close().await?;
    Ok(())
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// A header of field names, then one row per object (lists and objects as JSON text).
    Csv,
}

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Devices.
    Device,
    /// Locations.
    Location,
    /// Donors.
    Donor,
    /// Shipments.
    Shipment,
    /// Users (never passwords or other secrets).
    User,
    /// Roles.
    Role,
    /// The audit log.
    Audit,
}

impl Kind {
    fn collection(self) -> Collection {
        match self {
            Kind::Device => Collection::Devices,
            Kind::Location => Collection::Locations,
            Kind::Donor => Collection::Donors,
            Kind::Shipment => Collection::Shipments,
            Kind::User => Collection::Users,
            Kind::Role => Collection::Roles,
            Kind::Audit => Collection::Audit,
        }
    }
}

/// `export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// jsonl or csv.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Which objects.
    #[arg(long, value_enum, default_value = "device")]
    pub model: Kind,
    /// Where to write (standard output when left out).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArg,
}

/// The JSON form an export writes for a record (users without secrets, as the API shows them).
fn export_json(record: &Record) -> Json {
    match record {
        Record::User(u) => user_view(u, None),
        other => record_json(other),
    }
}

fn csv_cell(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Where exported objects go.
enum Sink {
    Jsonl(std::io::BufWriter<Box<dyn Write>>),
    /// The writer, and the columns once the first object named them.
    Csv(Box<csv::Writer<Box<dyn Write>>>, Option<Vec<String>>),
}

impl Sink {
    fn write(&mut self, json: &Json) -> Result<()> {
        match self {
            Sink::Jsonl(out) => {
                serde_json::to_writer(&mut *out, json)?;
                out.write_all(b"\n")?;
            }
            Sink::Csv(w, columns) => {
                let Some(obj) = json.as_object() else {
                    return Ok(());
                };
                let columns = match columns {
                    Some(c) => c,
                    None => {
                        let c: Vec<String> = obj.keys().cloned().collect();
                        w.write_record(&c)?;
                        columns.insert(c)
                    }
                };
                let row: Vec<String> = columns
                    .iter()
                    .map(|c| obj.get(c).map(csv_cell).unwrap_or_default())
                    .collect();
                w.write_record(&row)?;
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        match self {
            Sink::Jsonl(out) => out.flush()?,
            Sink::Csv(w, _) => w.flush()?,
        }
        Ok(())
    }
}

/// Writes every object of one kind, in id order.
pub async fn export(args: ExportArgs) -> Result<()> {
    let core = crate::store::core(&args.store.url()).await?;
    let store = core.store().clone();
    let collection = args.model.collection();
    let total = store
        .list(&ListQuery::all(collection).page(0, 0).with_count())
        .await?
        .total;
    let out: Box<dyn Write> = match &args.output {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = match args.format {
        Format::Jsonl => Sink::Jsonl(std::io::BufWriter::new(out)),
        Format::Csv => Sink::Csv(Box::new(csv::Writer::from_writer(out)), None),
    };
    let mut progress = Progress::new("export", total);
    let mut after = None;
    let mut n = 0u64;
    loop {
        let chunk = store.scan(collection, after, 1000).await?;
        let Some(last) = chunk.last() else { break };
        after = Some(last.key());
        for record in &chunk {
            sink.write(&export_json(record))?;
            n += 1;
        }
        progress.inc(chunk.len() as u64);
        if chunk.len() < 1000 {
            break;
        }
    }
    sink.flush()?;
    progress.finish(&format!("{n} objects written"));
    core.store().close().await?;
    Ok(())
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A CSV file of devices whose header names the JSON fields (`type`, `make`, `model`,
    /// `serial_number`, ...).
    pub file: PathBuf,
    /// Write the valid rows and report the others (default: write nothing when a row fails).
    #[arg(long)]
    pub skip_invalid: bool,
    #[command(flatten)]
    pub store: StoreArg,
}

/// Device fields whose CSV text is a number in JSON.
const INT_FIELDS: [&str; 6] = [
    "version",
    "year_of_manufacture",
    "received_by",
    "donor",
    "start_location",
    "end_location",
];

/// One CSV row as the JSON body of a device: empty cells are left out; numbers, and the
/// `shipping_infos` list (`[1,2]` or `1;2`), are given their JSON types; anything that does not
/// convert is passed on as text for core to refuse by name.
fn row_json(headers: &[String], row: &csv::StringRecord) -> Json {
    let mut obj = Map::new();
    for (h, cell) in headers.iter().zip(row.iter()) {
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let value = if INT_FIELDS.contains(&h.as_str()) {
            cell.parse::<i64>()
                .map(Json::from)
                .unwrap_or_else(|_| Json::String(cell.to_owned()))
        } else if h == "shipping_infos" {
            if cell.starts_with('[') {
                serde_json::from_str(cell).unwrap_or_else(|_| Json::String(cell.to_owned()))
            } else {
                let ids: Option<Vec<Json>> = cell
                    .split([';', ','])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<i64>().ok().map(Json::from))
                    .collect();
                ids.map(Json::Array)
                    .unwrap_or_else(|| Json::String(cell.to_owned()))
            }
        } else {
            Json::String(cell.to_owned())
        };
        obj.insert(h.clone(), value);
    }
    Json::Object(obj)
}

/// A row's errors, for people: `line 7: serial_number: device with this serial number already exists.`
fn report(line: usize, errors: &rehome_core::FieldErrors) {
    for (field, messages) in &errors.0 {
        for m in messages {
            eprintln!("line {line}: {field}: {m}");
        }
    }
}

struct Row {
    /// The CSV line the row started on.
    line: usize,
    data: Json,
}

fn create_ops(rows: &[Row]) -> Vec<Operation> {
    rows.iter()
        .map(|r| Operation {
            op: BatchOp::Create,
            model: Model::Device,
            id: None,
            data: r.data.clone(),
        })
        .collect()
}

/// Checks every row without writing; answers the indexes (into `rows`) of the failing ones,
/// reporting each.
async fn check_rows(core: &Rehome, rows: &[Row]) -> Result<BTreeSet<usize>> {
    let mut failed = BTreeSet::new();
    let mut progress = Progress::new("import: checking", Some(rows.len() as u64));
    for (chunk_no, chunk) in rows.chunks(MAX_OPERATIONS).enumerate() {
        let base = chunk_no * MAX_OPERATIONS;
        match core.check_batch(&Caller::system(), create_ops(chunk)).await {
            Ok(_) => {}
            Err(Error::BatchRejected { errors }) => {
                for e in errors {
                    report(chunk[e.index].line, &e.errors);
                    failed.insert(base + e.index);
                }
            }
            Err(e) => return Err(describe(e)),
        }
        progress.inc(chunk.len() as u64);
    }
    progress.finish(&format!("{} of {} rows invalid", failed.len(), rows.len()));
    Ok(failed)
}

/// Deletes the devices an interrupted import wrote, so that it leaves nothing behind.
async fn undo(core: &Rehome, ids: &[String]) -> Result<()> {
    for chunk in ids.chunks(MAX_OPERATIONS) {
        let ops = chunk
            .iter()
            .map(|id| Operation {
                op: BatchOp::Delete,
                model: Model::Device,
                id: Some(id.clone()),
                data: Json::Null,
            })
            .collect();
        core.run_batch(&Caller::system(), ops)
            .await
            .map_err(describe)?;
    }
    Ok(())
}

/// Imports devices from a CSV file, all or nothing (or the valid rows with `--skip-invalid`).
/// Every row is checked first without writing; then the rows are written in batches of 1000.
/// Should the store refuse a batch (a duplicate across batches, or a concurrent writer), the
/// batches already written are deleted again, unless `--skip-invalid` drops the refused rows
/// and goes on.
pub async fn import(args: ImportArgs) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_path(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let headers: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
    let mut rows = Vec::new();
    let mut unreadable = 0usize;
    for (i, record) in reader.records().enumerate() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(i + 2, |p| p.line() as usize);
                rows.push(Row {
                    line,
                    data: row_json(&headers, &r),
                });
            }
            Err(e) => {
                let line = e.position().map_or(i + 2, |p| p.line() as usize);
                eprintln!("line {line}: {e}");
                unreadable += 1;
            }
        }
    }
    if rows.is_empty() && unreadable == 0 {
        bail!("{} holds no rows", args.file.display());
    }
    let core = crate::store::core(&args.store.url()).await?;
    let failed = check_rows(&core, &rows).await?;
    let invalid = failed.len() + unreadable;
    if invalid > 0 && !args.skip_invalid {
        bail!("{invalid} invalid row(s); nothing was written (--skip-invalid writes the others)");
    }
    let mut rows: Vec<Row> = rows
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !failed.contains(i))
        .map(|(_, r)| r)
        .collect();

    let mut written: Vec<String> = Vec::new();
    let mut skipped_late = 0usize;
    let mut progress = Progress::new("import: writing", Some(rows.len() as u64));
    let mut start = 0;
    while start < rows.len() {
        let end = (start + MAX_OPERATIONS).min(rows.len());
        match core
            .run_batch(&Caller::system(), create_ops(&rows[start..end]))
            .await
        {
            Ok(results) => {
                written.extend(results.into_iter().map(|r| r.id));
                progress.inc((end - start) as u64);
                start = end;
            }
            Err(Error::BatchRejected { errors }) => {
                for e in &errors {
                    report(rows[start + e.index].line, &e.errors);
                }
                if args.skip_invalid {
                    let drop: BTreeSet<usize> = errors.iter().map(|e| start + e.index).collect();
                    skipped_late += drop.len();
                    let mut i = 0;
                    rows.retain(|_| {
                        let keep = !drop.contains(&i);
                        i += 1;
                        keep
                    });
                    continue;
                }
                progress.finish("refused by the store; undoing");
                undo(&core, &written).await.with_context(|| {
                    format!(
                        "{} devices were written and could not be deleted again",
                        written.len()
                    )
                })?;
                bail!("the store refused a batch; nothing was written");
            }
            Err(e) => {
                progress.finish("failed; undoing");
                undo(&core, &written).await.with_context(|| {
                    format!(
                        "{} devices were written and could not be deleted again",
                        written.len()
                    )
                })?;
                return Err(describe(e));
            }
        }
    }
    progress.finish(&format!(
        "{} devices written, {} rows skipped",
        written.len(),
        invalid + skipped_late
    ));
    core.store().close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_typed_bodies() {
        let headers: Vec<String> = [
            "type",
            "make",
            "year_of_manufacture",
            "donor",
            "shipping_infos",
            "notes",
            "value",
        ]
        .map(str::to_owned)
        .to_vec();
        let row = csv::StringRecord::from(vec!["Laptop", "Dell", "2019", "x", "1; 2", "", "12.50"]);
        assert_eq!(
            row_json(&headers, &row),
            serde_json::json!({
                "type": "Laptop", "make": "Dell", "year_of_manufacture": 2019,
                "donor": "x", "shipping_infos": [1, 2], "value": "12.50"
            })
        );
        let row = csv::StringRecord::from(vec!["", "", "", "", "[3]", "n", ""]);
        assert_eq!(
            row_json(&headers, &row),
            serde_json::json!({"shipping_infos": [3], "notes": "n"})
        );
    }
}

/// `rehome copy`.
#[derive(Debug, clap::Args)]
pub struct CopyArgs {
    /// The store to read (any store URL).
    #[arg(long)]
    pub from: String,
    /// The empty store to fill (created if missing, for file stores).
    #[arg(long)]
    pub to: String,
}

/// Copies one store into an empty other, with progress.
pub async fn copy(args: CopyArgs) -> anyhow::Result<()> {
    let from = crate::store::open(&args.from).await?;
    let to = crate::store::open(&args.to).await?;
    let mut progress = crate::progress::Progress::new("copying", None);
    let mut last = 0u64;
    let n = rehome_core::copy::copy_store(from.as_ref(), to.as_ref(), &mut |p| {
        progress.inc(p.total - last);
        last = p.total;
    })
    .await
    .map_err(|e| anyhow::anyhow!("copy failed: {e}"))?;
    to.close()
        .await
        .map_err(|e| anyhow::anyhow!("closing the target: {e}"))?;
    from.close()
        .await
        .map_err(|e| anyhow::anyhow!("closing the source: {e}"))?;
    progress.finish(&format!(
        "copied {n} records from {} to {}",
        crate::store::redact(&args.from),
        crate::store::redact(&args.to)
    ));
    Ok(())
}
