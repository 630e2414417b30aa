//! The `rehome` command: the server, and the operator's tools (superuser, users, mock data,
//! export and import, import from the original Django backend). Run `rehome --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod accounts;
mod data;
mod django;
mod progress;
mod serve;
mod store;
mod tls;

/// The default store: an SQLite file in the working directory.
pub const DEFAULT_STORE: &str = "sqlite://./rehome.db";
/// The default address.
pub const DEFAULT_BIND: &str = "127.0.0.1:8000";

#[derive(Debug, Parser)]
#[command(
    name = "rehome",
    version,
    about = "rehome: inventory of donated devices, with users, roles and an audit log"
)]
struct Cli {
    /// Log lines as text or JSON.
    #[arg(long, global = true, env = "REHOME_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The store option every command shares.
#[derive(Debug, Clone, Args)]
pub struct StoreArg {
    /// Store URL: sqlite://PATH, sqlite::memory:, sled://PATH, postgres://..., mysql://...,
    /// memory: [default: sqlite://./rehome.db]
    #[arg(long, env = "REHOME_STORE", global = true)]
    pub store: Option<String>,
}

impl StoreArg {
    /// The URL given, or the default.
    pub fn url(&self) -> String {
        self.store
            .clone()
            .unwrap_or_else(|| DEFAULT_STORE.to_owned())
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the REST API.
    Serve(serve::ServeArgs),
    /// Create a superuser (password from REHOME_PASSWORD, else a prompt, else one line of stdin).
    Createsuperuser(accounts::CreateSuperuserArgs),
    /// List users, set a password, deactivate a user.
    Users {
        #[command(flatten)]
        store: StoreArg,
        #[command(subcommand)]
        command: accounts::UsersCommand,
    },
    /// Make mock locations, donors, devices and shipments.
    MockData(data::MockArgs),
    /// Write every object of one kind as JSON lines or CSV.
    Export(data::ExportArgs),
    /// Read devices from a CSV file (JSON field names as headers), all or nothing.
    Import(data::ImportArgs),
    /// Copy every object (users with their passwords and MFA state, roles, inventory, audit
    /// log) from one store into an empty other, keeping ids and versions.
    Copy(data::CopyArgs),
    /// Move the data of the original Django backend (sqlite:// or mysql://) into an empty
    /// store: users keep their passwords, ids are kept.
    ImportDjango(django::ImportDjangoArgs),
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("REHOME_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let result = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    if let Err(e) = result {
        eprintln!("logging could not start: {e}");
    }
}

/// Reads the TOML settings file of `serve`.
pub fn read_config(path: &PathBuf) -> anyhow::Result<serve::ConfigFile> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => {
                let config = match &args.config {
                    Some(p) => read_config(p)?,
                    None => serve::ConfigFile::default(),
                };
                init_logging(
                    cli.log_format
                        .or(config.log_format)
                        .unwrap_or(LogFormat::Text),
                );
                serve::run(args, config).await
            }
            command => {
                init_logging(cli.log_format.unwrap_or(LogFormat::Text));
                match command {
                    Command::Createsuperuser(args) => accounts::create_superuser(args).await,
                    Command::Users { store, command } => accounts::users(store, command).await,
                    Command::MockData(args) => data::mock_data(args).await,
                    Command::Export(args) => data::export(args).await,
                    Command::Import(args) => data::import(args).await,
                    Command::Copy(args) => data::copy(args).await,
                    Command::ImportDjango(args) => django::import_django(args).await,
                    Command::Serve(_) => Ok(()),
                }
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", sentence(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each cause once: several of rehome's errors already
/// say their cause, which `{:#}` would repeat.
fn sentence(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}
