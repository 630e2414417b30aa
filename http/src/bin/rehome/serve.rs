//! `rehome serve`: flags, env vars, the optional TOML file, TLS, graceful shutdown and the
//! periodic purge of expired sessions.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use rehome_http::{AppState, PublicUrl, Registration, SecureCookies, Settings};
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
    /// The address people reach the server at, for labels and links (instead of each
    /// request's Host header): an http or https URL, e.g. `https://rehome.example.org/`
    #[arg(long, env = "REHOME_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// The organisation's time zone for showing times, an IANA name such as Europe/London
    /// (`timedatectl list-timezones` lists them) [default: UTC]
    #[arg(long, env = "REHOME_TIME_ZONE", value_name = "NAME")]
    pub time_zone: Option<String>,
    /// Whether sign-in cookies are Secure (HTTPS only); auto: Secure unless plain HTTP on a
    /// loopback address with no https --public-url [default: auto]
    #[arg(long, env = "REHOME_SECURE_COOKIES", value_enum)]
    pub secure_cookies: Option<SecureCookiesArg>,
    /// Speak HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, env = "REHOME_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "REHOME_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Speak HTTPS with a self-signed certificate made on first use (for localhost, the bound
    /// address, this machine's name and the --public-url host) and kept beside an sqlite:// or
    /// sled:// store (or in --tls-dir) as rehome-tls-cert.pem and rehome-tls-key.pem; its
    /// SHA-256 fingerprint is logged at start.
    #[arg(long, env = "REHOME_TLS_SELF_SIGNED")]
    pub tls_self_signed: bool,
    /// Where --tls-self-signed keeps its certificate and key (required for stores other than
    /// sqlite:// and sled://).
    #[arg(long, env = "REHOME_TLS_DIR", value_name = "DIR")]
    pub tls_dir: Option<PathBuf>,
    /// A TOML file with any of: store, bind, cors_origins, registration, trust_proxy,
    /// request_timeout, log_format, public_url, time_zone, secure_cookies, tls_cert, tls_key,
    /// tls_self_signed, tls_dir.
    #[arg(long, env = "REHOME_CONFIG")]
    pub config: Option<PathBuf>,
}

/// `--secure-cookies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SecureCookiesArg {
    /// Secure unless plain HTTP on a loopback address (and no https --public-url).
    Auto,
    /// Always Secure (e.g. behind a TLS proxy on this machine).
    Always,
    /// Never Secure (plain HTTP on a trusted network).
    Never,
}

impl From<SecureCookiesArg> for SecureCookies {
    fn from(arg: SecureCookiesArg) -> SecureCookies {
        match arg {
            SecureCookiesArg::Auto => SecureCookies::Auto,
            SecureCookiesArg::Always => SecureCookies::Always,
            SecureCookiesArg::Never => SecureCookies::Never,
        }
    }
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
    /// The public URL.
    pub public_url: Option<String>,
    /// IANA time zone name.
    pub time_zone: Option<String>,
    /// auto, always or never.
    pub secure_cookies: Option<SecureCookies>,
    /// PEM certificate chain.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key.
    pub tls_key: Option<PathBuf>,
    /// Make and keep a self-signed certificate.
    pub tls_self_signed: Option<bool>,
    /// Where the self-signed certificate is kept.
    pub tls_dir: Option<PathBuf>,
}

/// Where the certificate comes from.
enum TlsSource {
    /// `--tls-cert` and `--tls-key`.
    Files { cert: PathBuf, key: PathBuf },
    /// `--tls-self-signed`, kept in this directory.
    SelfSigned { dir: PathBuf },
}

/// The TLS flags (after the file and the env) as one choice, or a sentence saying what is
/// wrong with them.
fn tls_source(args: &ServeArgs, config: &ConfigFile, store: &str) -> Result<Option<TlsSource>> {
    let cert = args.tls_cert.clone().or(config.tls_cert.clone());
    let key = args.tls_key.clone().or(config.tls_key.clone());
    let self_signed = args.tls_self_signed || config.tls_self_signed.unwrap_or(false);
    let dir = args.tls_dir.clone().or(config.tls_dir.clone());
    match (cert, key, self_signed) {
        (Some(_), _, true) | (_, Some(_), true) => anyhow::bail!(
            "--tls-self-signed makes its own certificate: leave out --tls-cert and --tls-key, or \
             leave out --tls-self-signed"
        ),
        (Some(cert), Some(key), false) => {
            if dir.is_some() {
                anyhow::bail!("--tls-dir is only for --tls-self-signed");
            }
            Ok(Some(TlsSource::Files { cert, key }))
        }
        (Some(_), None, false) => {
            anyhow::bail!("--tls-cert needs --tls-key (the certificate's PEM private key)")
        }
        (None, Some(_), false) => {
            anyhow::bail!("--tls-key needs --tls-cert (the PEM certificate chain)")
        }
        (None, None, true) => match dir.or_else(|| crate::tls::dir_beside_store(store)) {
            Some(dir) => Ok(Some(TlsSource::SelfSigned { dir })),
            None => anyhow::bail!(
                "--tls-self-signed keeps its certificate beside an sqlite:// or sled:// store; \
                 for {} say where with --tls-dir DIR",
                crate::store::redact(store)
            ),
        },
        (None, None, false) => {
            if dir.is_some() {
                anyhow::bail!("--tls-dir is only for --tls-self-signed");
            }
            Ok(None)
        }
    }
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
    let public_url = args
        .public_url
        .clone()
        .or(config.public_url.clone())
        .map(|u| PublicUrl::parse(&u).context("--public-url"))
        .transpose()?;
    let time_zone = match args.time_zone.clone().or(config.time_zone.clone()) {
        Some(name) => rehome_http::parse_time_zone(&name).context("--time-zone")?,
        None => rehome_http::Tz::UTC,
    };
    let secure_cookies = args
        .secure_cookies
        .map(SecureCookies::from)
        .or(config.secure_cookies)
        .unwrap_or_default();
    let tls_source = tls_source(&args, &config, &url)?;
    // Files named by the operator are checked before anything is opened or written.
    let mut tls = match &tls_source {
        Some(TlsSource::Files { cert, key }) => Some(crate::tls::load(cert, key)?),
        _ => None,
    };
    let mut settings = Settings {
        registration,
        trust_proxy: args.trust_proxy || config.trust_proxy.unwrap_or(false),
        cors_origins,
        request_timeout: Duration::from_secs(
            args.request_timeout
                .or(config.request_timeout)
                .unwrap_or(30)
                .max(1),
        ),
        public_url,
        time_zone,
        secure_cookies,
        tls: tls_source.is_some(),
        ..Settings::default()
    };

    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let address = listener.local_addr()?;
    settings.listen = Some(address);
    if let Some(TlsSource::SelfSigned { dir }) = &tls_source {
        let public_host = settings.public_url.as_ref().map(PublicUrl::host);
        let names = crate::tls::self_signed_names(address, public_host.as_deref());
        let (cert, key) = crate::tls::self_signed(dir, &names)?;
        tls = Some(crate::tls::load(&cert, &key)?);
    }
    if let Some(loaded) = &tls {
        tracing::info!(
            fingerprint = %loaded.fingerprint,
            "TLS certificate SHA-256 fingerprint {}",
            loaded.fingerprint
        );
    }
    let behind_tls_proxy = settings
        .public_url
        .as_ref()
        .is_some_and(PublicUrl::is_https);
    if settings.secure_cookies == SecureCookies::Auto
        && !settings.tls
        && !behind_tls_proxy
        && !address.ip().to_canonical().is_loopback()
    {
        tracing::warn!(
            "sign-in cookies are Secure but this server speaks plain HTTP on {address}: \
             browsers will not send them back unless a TLS proxy is in front; use \
             --tls-self-signed, --tls-cert/--tls-key, or --secure-cookies never"
        );
    }

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

    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(
        address = %address,
        store = %crate::store::redact(&url),
        registration = ?settings.registration,
        trust_proxy = settings.trust_proxy,
        public_url = settings.public_url.as_ref().map(PublicUrl::as_str),
        time_zone = %settings.time_zone,
        secure_cookies = settings.cookies_secure(),
        "rehome is listening on {scheme}://{address}/"
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

    let app = rehome_http::app(AppState::new(core, settings))
        .into_make_service_with_connect_info::<SocketAddr>();
    let served = match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
        }
        Some(loaded) => {
            use axum::serve::ListenerExt;
            // The no-op tap gives the TLS listener axum's `ConnectInfo<SocketAddr>` (client
            // addresses for the login throttles), as for the plain TCP listener.
            let listener = crate::tls::TlsListener::new(listener, loaded.config)?.tap_io(|_| {});
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
        }
    };
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
