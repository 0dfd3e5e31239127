//! The server's TOML config file. Errors name the file, the field and the reason.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// `server.toml`:
/// ```toml
/// listen = "127.0.0.1:8443"
/// database = "postgres://gatehouse@localhost/gatehouse"
/// admin_token_sha256 = "<64 hex digits: sha256 of the admin's token>"
/// # pool_size = 16
/// [tls]
/// cert = "cert.pem"
/// key = "key.pem"
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database: String,
    pub admin_token_sha256: [u8; 32],
    pub pool_size: usize,
    pub tls: Option<TlsFiles>,
}

/// PEM files; relative paths are taken from the config file's folder.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {field}: {reason}")]
pub struct ConfigError {
    pub file: String,
    pub field: String,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    listen: String,
    database: String,
    admin_token_sha256: String,
    #[serde(default)]
    pool_size: Option<usize>,
    #[serde(default)]
    tls: Option<RawTls>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    cert: String,
    key: String,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            field: "(file)".into(),
            reason: format!("cannot read it: {e}"),
        })?;
        Config::parse(&text, path)
    }

    /// Parses `text` as the file at `path` (named in errors; relative TLS paths are resolved
    /// against its folder).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let err = |field: &str, reason: String| ConfigError {
            file: file.clone(),
            field: field.to_string(),
            reason,
        };
        let de = toml::Deserializer::new(text);
        let raw: Raw = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let field = if field == "." { "(file)".into() } else { field };
            err(&field, e.into_inner().message().trim().to_string())
        })?;
        let listen = raw.listen.parse().map_err(|_| {
            err(
                "listen",
                format!(
                    "'{}' is not an address and port; write it like \"127.0.0.1:8443\"",
                    raw.listen
                ),
            )
        })?;
        if !(raw.database.starts_with("postgres://") || raw.database.starts_with("postgresql://")) {
            return Err(err(
                "database",
                "must be a PostgreSQL URL like \"postgres://user:password@host:5432/dbname\""
                    .into(),
            ));
        }
        let database = raw.database;
        if let Err(e) = database.parse::<tokio_postgres::Config>() {
            return Err(err("database", format!("not a valid PostgreSQL URL: {e}")));
        }
        let admin_token_sha256 = hex::decode(raw.admin_token_sha256.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                err(
                    "admin_token_sha256",
                    "must be 64 hex digits, the sha256 of the admin token \
                     (`gatehouse-server token` makes a token and prints this line)"
                        .into(),
                )
            })?;
        let pool_size = raw.pool_size.unwrap_or(16);
        if pool_size == 0 {
            return Err(err("pool_size", "must be at least 1".into()));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let tls = raw.tls.map(|t| TlsFiles {
            cert: base.join(t.cert),
            key: base.join(t.key),
        });
        Ok(Config {
            listen,
            database,
            admin_token_sha256,
            pool_size,
            tls,
        })
    }
}
