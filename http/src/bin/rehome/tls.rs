//! TLS for `rehome serve`: the certificate and key from PEM files or a self-signed pair made on
//! first use and kept beside the store, and a listener that hands axum finished TLS streams
//! (ADR 0016).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// The self-signed certificate's file name in its directory.
pub const SELF_SIGNED_CERT: &str = "rehome-tls-cert.pem";
/// The self-signed key's file name in its directory (mode 0600).
pub const SELF_SIGNED_KEY: &str = "rehome-tls-key.pem";

/// How long a self-signed certificate is valid. Apple's platforms refuse TLS server
/// certificates valid for more than 825 days, even ones the user trusts by hand.
const SELF_SIGNED_DAYS: u64 = 800;
/// A self-signed certificate older than this (by its file's modification time) is made anew
/// at the next start, before it expires.
const SELF_SIGNED_RENEW_DAYS: u64 = 770;

/// How long a client may take for its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A loaded certificate chain and key.
pub struct Loaded {
    /// The server configuration (HTTP/1.1 only, no client certificates).
    pub config: Arc<ServerConfig>,
    /// SHA-256 of the leaf certificate, as browsers show it (`AB:CD:...`).
    pub fingerprint: String,
}

/// Loads the PEM certificate chain `cert` (leaf first) and the PEM private key `key`; every
/// error names the file.
pub fn load(cert: &Path, key: &Path) -> Result<Loaded> {
    let cert_pem = read(cert, "certificate")?;
    let key_pem = read(key, "key")?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            anyhow!(
                "the TLS certificate file {} is not valid PEM: {e}",
                cert.display()
            )
        })?;
    let Some(leaf) = chain.first() else {
        bail!(
            "the TLS certificate file {} holds no certificate (expected PEM \"BEGIN CERTIFICATE\")",
            cert.display()
        );
    };
    let fingerprint = fingerprint(leaf);
    let private = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        anyhow!(
            "the TLS key file {} holds no usable private key (expected PEM \"BEGIN PRIVATE KEY\", \
             \"BEGIN EC PRIVATE KEY\" or \"BEGIN RSA PRIVATE KEY\"): {e}",
            key.display()
        )
    })?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .map_err(|e| {
                anyhow!(
                    "the TLS certificate {} and key {} cannot be used together: {e}",
                    cert.display(),
                    key.display()
                )
            })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Loaded {
        config: Arc::new(config),
        fingerprint,
    })
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| anyhow!("cannot read the TLS {what} file {}: {e}", path.display()))
}

/// SHA-256 of a DER certificate as upper-case hex pairs joined by `:`.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The directory a self-signed certificate is kept in for the store `url`: the directory
/// holding an `sqlite://` file or a `sled://` directory; `None` for other stores.
pub fn dir_beside_store(url: &str) -> Option<PathBuf> {
    let url = url.trim();
    let path = if let Some(rest) = url.strip_prefix("sqlite://") {
        rest.split('?').next().unwrap_or_default()
    } else {
        url.strip_prefix("sled://")?
    };
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    let path = Path::new(path);
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Some(PathBuf::from(".")),
        Some(p) => Some(p.to_path_buf()),
        None => None,
    }
}

/// The names a self-signed certificate is made for: the bound address (unless it is the
/// unspecified address, then the loopback ones), `localhost`, the machine's name and the
/// public URL's host, each once.
pub fn self_signed_names(bound: SocketAddr, public_host: Option<&str>) -> Vec<String> {
    let mut names = Vec::new();
    let mut add = |n: String| {
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    };
    let ip = bound.ip().to_canonical();
    if ip.is_unspecified() {
        add("127.0.0.1".to_owned());
        add("::1".to_owned());
    } else {
        add(ip.to_string());
    }
    add("localhost".to_owned());
    if let Some(host) = gethostname::gethostname().to_str() {
        add(host.to_ascii_lowercase());
    }
    if let Some(host) = public_host {
        add(host.to_ascii_lowercase());
    }
    names
}

/// The self-signed certificate and key in `dir`: reused when both are there (and not due for
/// renewal), otherwise made for `names` and written (the key with mode 0600, the certificate
/// last, so a half-written pair is made anew). Returns the two paths.
pub fn self_signed(dir: &Path, names: &[String]) -> Result<(PathBuf, PathBuf)> {
    let cert = dir.join(SELF_SIGNED_CERT);
    let key = dir.join(SELF_SIGNED_KEY);
    if !dir.is_dir() {
        bail!(
            "cannot keep the self-signed TLS certificate in {}: it is not a directory",
            dir.display()
        );
    }
    if cert.exists() {
        if !key.exists() {
            bail!(
                "the self-signed TLS certificate {} is there but its key {} is not: restore the \
                 key, or delete the certificate to make a new pair",
                cert.display(),
                key.display()
            );
        }
        let age = std::fs::metadata(&cert)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .unwrap_or_default();
        if age < DAY * SELF_SIGNED_RENEW_DAYS as u32 {
            tracing::info!(cert = %cert.display(), "reusing the self-signed TLS certificate");
            return Ok((cert, key));
        }
        tracing::info!(cert = %cert.display(), "the self-signed TLS certificate is due for renewal: making a new one");
    }

    let mut params = rcgen::CertificateParams::default();
    let mut distinguished = rcgen::DistinguishedName::new();
    distinguished.push(rcgen::DnType::CommonName, "rehome (self-signed)");
    params.distinguished_name = distinguished;
    for name in names {
        match name.parse::<IpAddr>() {
            Ok(ip) => params.subject_alt_names.push(rcgen::SanType::IpAddress(ip)),
            Err(_) => match rcgen::string::Ia5String::try_from(name.as_str()) {
                Ok(dns) => params.subject_alt_names.push(rcgen::SanType::DnsName(dns)),
                Err(_) => {
                    tracing::warn!(name = %name, "left out of the self-signed TLS certificate: not a DNS name")
                }
            },
        }
    }
    let now = SystemTime::now();
    params.not_before = (now - DAY).into();
    params.not_after = (now + DAY * SELF_SIGNED_DAYS as u32).into();
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let signing_key = rcgen::KeyPair::generate().context("making the TLS key")?;
    let certificate = params
        .self_signed(&signing_key)
        .context("making the self-signed TLS certificate")?;

    write_file(&key, signing_key.serialize_pem().as_bytes(), true)?;
    write_file(&cert, certificate.pem().as_bytes(), false)?;
    tracing::info!(
        cert = %cert.display(),
        key = %key.display(),
        names = %names.join(", "),
        "made a self-signed TLS certificate"
    );
    Ok((cert, key))
}

/// Writes `bytes` to `path` through a temporary file beside it and a rename, so a crash
/// leaves the old file or the new one; `private`: mode 0600 from the start.
fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let written = options
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        anyhow!("cannot write {}: {e}", path.display())
    })
}

/// A listener whose connections have finished their TLS handshake. Handshakes run in tasks
/// of their own (with a time limit), so a slow client holds up nobody else.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    accepting: JoinHandle<()>,
}

impl TlsListener {
    /// TLS with `config` over `tcp`.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (send, ready) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let accepting = tokio::spawn(async move {
            loop {
                let (stream, peer) = match tcp.accept().await {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // As axum does: connection errors are the peer's; others (too many
                        // open files) get a pause.
                        if !is_connection_error(&e) {
                            tracing::error!(error = %e, "accepting a connection failed");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let send = send.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = send.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => {
                            tracing::debug!(peer = %peer, error = %e, "TLS handshake failed");
                        }
                        Err(_) => tracing::debug!(peer = %peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener {
            local,
            ready,
            accepting,
        })
    }
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // axum drops the listener when shutdown starts: stop accepting at once.
        self.accepting.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accepting task holds a sender until it is aborted in `drop`.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::dir_beside_store;

    #[test]
    fn the_directory_beside_each_store() {
        let cases: [(&str, Option<&str>); 9] = [
            ("sqlite://./rehome.db", Some(".")),
            ("sqlite://rehome.db", Some(".")),
            (
                "sqlite:///var/lib/rehome/rehome.db",
                Some("/var/lib/rehome"),
            ),
            (
                "sqlite:///var/lib/rehome/rehome.db?mode=rwc",
                Some("/var/lib/rehome"),
            ),
            ("sled:///srv/rehome.sled", Some("/srv")),
            ("sled://data/rehome.sled", Some("data")),
            ("sqlite::memory:", None),
            ("postgres://app@db/rehome", None),
            ("memory:", None),
        ];
        for (url, want) in cases {
            assert_eq!(dir_beside_store(url), want.map(PathBuf::from), "{url}");
        }
    }
}
