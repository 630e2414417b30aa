//! `rehome serve`: flags, env vars, the optional TOML file, graceful shutdown and the periodic
//! purge of expired sessions.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use rehome_http::{AppState, Registration, Settings};
use serde::Deserialize;

use crate::{DEFAULT_BIND, LogFormat, StoreArg};

/// How often expired sessions, MFA challenges and stale throttles are deleted.
const PURGE_EVERY: Duration = Duration::from_secs(5 * 60);

/// Flags of `serve` (each also from an env var; flags win over the file, the file over the
/// defaults).
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Address to listen on [default: 127.0.0.1:8000]
    #[arg(long, env = "REHOME_BIND")]
    pub bind: Option<String>,
    /// An origin allowed to call the API from a browser (repeatable; `*` for any).
    #[arg(
        long = "cors-origin",
        env = "REHOME_CORS_ORIGIN",
        value_delimiter = ','
    )]
    pub cors_origin: Vec<String>,
    /// Whether anyone may register at /users/register/ [default: open]
    #[arg(long, env = "REHOME_REGISTRATION", value_enum)]
    pub registration: Option<RegistrationArg>,
    /// Believe X-Forwarded-For/-Proto/-Host (only behind a proxy that sets them).
    #[arg(long, env = "REHOME_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Seconds one request may take before it is answered 408 [default: 30]
    #[arg(long, env = "REHOME_REQUEST_TIMEOUT")]
    pub request_timeout: Option<u64>,
    /// A TOML file with any of: store, bind, cors_origins, registration, trust_proxy,
    /// request_timeout, log_format.
    #[arg(long, env = "REHOME_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `--registration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RegistrationArg {
    /// Anyone may register.
    Open,
    /// Only user managers create users.
    Closed,
}

/// The TOML settings file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Store URL.
    pub store: Option<String>,
    /// Address to listen on.
    pub bind: Option<String>,
    /// Allowed CORS origins.
    pub cors_origins: Option<Vec<String>>,
    /// open or closed.
    pub registration: Option<Registration>,
    /// Believe X-Forwarded-* headers.
    pub trust_proxy: Option<bool>,
    /// Seconds per request.
    pub request_timeout: Option<u64>,
    /// text or json.
    pub log_format: Option<LogFormat>,
}

/// Runs the server until SIGTERM or SIGINT.
pub async fn run(args: ServeArgs, config: ConfigFile) -> Result<()> {
    let url = args
        .store
        .store
        .clone()
        .or(config.store.clone())
        .unwrap_or_else(|| crate::DEFAULT_STORE.to_owned());
    let bind = args
        .bind
        .clone()
        .or(config.bind.clone())
        .unwrap_or_else(|| DEFAULT_BIND.to_owned());
    let registration = match args.registration {
        Some(RegistrationArg::Open) => Registration::Open,
        Some(RegistrationArg::Closed) => Registration::Closed,
        None => config.registration.unwrap_or_default(),
    };
    let cors_origins = if args.cors_origin.is_empty() {
        config.cors_origins.clone().unwrap_or_default()
    } else {
        args.cors_origin.clone()
    };
    for origin in &cors_origins {
        axum::http::HeaderValue::from_str(origin)
            .with_context(|| format!("--cors-origin {origin:?} is not a valid origin"))?;
    }
    let settings = Settings {
        registration,
        trust_proxy: args.trust_proxy || config.trust_proxy.unwrap_or(false),
        cors_origins,
        request_timeout: Duration::from_secs(
            args.request_timeout
                .or(config.request_timeout)
                .unwrap_or(30)
                .max(1),
        ),
        ..Settings::default()
    };

    let store = crate::store::open(&url).await?;
    let core = rehome_core::Rehome::new(store.clone());
    match core.has_superuser().await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            "no superuser exists yet; create one with: rehome createsuperuser --username NAME --email EMAIL --store {}",
            crate::store::redact(&url)
        ),
        Err(e) => tracing::error!(error = %e, "could not check for a superuser"),
    }

    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let address = listener.local_addr()?;
    tracing::info!(
        address = %address,
        store = %crate::store::redact(&url),
        registration = ?settings.registration,
        trust_proxy = settings.trust_proxy,
        "rehome is listening on http://{address}/"
    );

    let purger = {
        let core = core.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PURGE_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match core.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(records = n, "purged expired login state"),
                    Err(e) => tracing::error!(error = %e, "purging expired login state failed"),
                }
            }
        })
    };

    let app = rehome_http::app(AppState::new(core, settings));
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    purger.abort();
    tracing::info!("stopped accepting; in-flight requests finished; closing the store");
    let closed = store.close().await;
    served.context("the server failed")?;
    closed.context("closing the store")?;
    tracing::info!("store closed; bye");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}
