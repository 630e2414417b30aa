//! `rehome import-django`: moves the data of the original Django backend (SQLite or MySQL)
//! into an empty rehome store, keeping every user's password (see `rehome-django`).

use std::sync::{Arc, Mutex};

use anyhow::{Result, anyhow};
use clap::Args;
use rehome_django::{ImportError, Options, Problem, Report};

use crate::StoreArg;
use crate::progress::Progress;
use crate::store::redact;

/// `import-django`.
#[derive(Debug, Args)]
pub struct ImportDjangoArgs {
    /// The original database: sqlite://PATH or mysql://USER:PASSWORD@HOST/DATABASE.
    #[arg(long = "from", value_name = "URL")]
    pub from: String,
    /// Check and report every row, write nothing (exits with 1 when rows would stop the
    /// import).
    #[arg(long)]
    pub dry_run: bool,
    /// Leave out the rows that break rehome's rules (and rows that refer to them) instead of
    /// aborting.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Objects per atomic write.
    #[arg(long, default_value_t = rehome_django::DEFAULT_BATCH_SIZE)]
    pub batch_size: usize,
    #[command(flatten)]
    pub store: StoreArg,
}

/// Runs the import; prints the problems and a summary of counts.
pub async fn import_django(args: ImportDjangoArgs) -> Result<()> {
    let store_url = args.store.url();
    let core = crate::store::core(&store_url).await?;
    let progress: Arc<Mutex<Option<Progress>>> = Arc::new(Mutex::new(None));
    let shared = progress.clone();
    let options = Options {
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
        batch_size: args.batch_size,
        progress: Some(Box::new(move |p| {
            if let Ok(mut slot) = shared.lock() {
                let bar = slot.get_or_insert_with(|| Progress::new("importing", Some(p.total)));
                let more = p.done.saturating_sub(bar.done());
                bar.inc(more);
            }
        })),
    };
    let result = rehome_django::import(&args.from, &core, options).await;
    let bar = progress.lock().ok().and_then(|mut s| s.take());
    let closed = core.store().close().await;
    match result {
        Ok(report) => {
            if let Some(bar) = bar {
                bar.finish("done");
            }
            print_problems(&report.problems, args.dry_run, args.skip_invalid);
            print_summary(&report, &args.from, &store_url);
            closed.map_err(|e| anyhow!("closing the store: {e}"))?;
            if report.dry_run && !report.problems.is_empty() && !args.skip_invalid {
                return Err(anyhow!(
                    "dry run: {} row(s) would stop the import (nothing was written)",
                    report.problems.len()
                ));
            }
            Ok(())
        }
        Err(ImportError::Invalid(report)) => {
            print_problems(&report.problems, false, false);
            Err(anyhow!(
                "{} row(s) break rehome's rules; nothing was written. Fix them in the original \
                 database, or run again with --skip-invalid to leave them out (--dry-run lists \
                 everything without writing)",
                report.problems.len()
            ))
        }
        Err(e) => {
            if let Some(bar) = bar {
                bar.finish("stopped");
            }
            Err(anyhow!("import-django: {e}"))
        }
    }
}

fn print_problems(problems: &[Problem], dry_run: bool, skip_invalid: bool) {
    if problems.is_empty() {
        return;
    }
    let what = match (dry_run, skip_invalid) {
        (true, true) => "would be left out",
        (true, false) => "would stop the import; --skip-invalid leaves them out",
        (false, true) => "left out",
        (false, false) => "they stop the import",
    };
    eprintln!("{} row(s) break rehome's rules ({what}):", problems.len());
    let width = problems.iter().map(|p| p.table.len()).max().unwrap_or(0);
    for p in problems {
        eprintln!(
            "  {:<width$}  row {:<34}  {}: {}",
            p.table, p.row, p.field, p.reason
        );
    }
}

fn print_summary(report: &Report, from: &str, store: &str) {
    let verb = if report.dry_run {
        "would import"
    } else {
        "imported"
    };
    println!(
        "{verb} from {} into {}: {}",
        redact(from),
        redact(store),
        report.counts
    );
    if report.already_present > 0 {
        println!(
            "{} objects were already there from an interrupted run (checked, kept)",
            report.already_present
        );
    }
    if !report.problems.is_empty() {
        let verb = if report.dry_run {
            "would be left out"
        } else {
            "left out"
        };
        println!("{} source row(s) {verb}", report.problems.len());
    }
    if !report.dry_run {
        println!(
            "{} audit events written; users log in with their old passwords",
            report.audit_events
        );
    }
}
