//! `gatehouse sync status|now|run`: the lot's link to the shared server. The lot never needs it
//! to run; these push the journal up and apply the server's orders (online reservations).

use crate::output::Out;
use clap::{Args, Subcommand};
use gatehouse_core::{Engine, EngineOptions, Error, ErrorKind};
use gatehouse_sync::client::{SyncClient, SyncError, SyncErrorKind, SyncSettings};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args, Clone)]
pub struct Link {
    /// The shared server, https://host:port.
    #[arg(long, env = "GATEHOUSE_SYNC_SERVER")]
    server: String,
    /// This lot's id on the server (default: the lot's own id).
    #[arg(long, env = "GATEHOUSE_SYNC_LOT")]
    lot: Option<String>,
    /// A file holding the lot's token (else GATEHOUSE_SYNC_TOKEN).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// A PEM certificate to trust (a private CA or a self-signed server).
    #[arg(long, env = "GATEHOUSE_SYNC_CA")]
    ca_cert: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum SyncCmd {
    /// Connected or not, the journal's backlog, the last acknowledged seq and order applied.
    Status(Link),
    /// One round now: push the journal, apply new orders, push their decisions.
    Now(Link),
    /// Keep syncing every --every seconds until Ctrl-C (backing off while the server is away).
    Run {
        #[command(flatten)]
        link: Link,
        #[arg(long, default_value_t = 5.0)]
        every: f64,
    },
}

fn client(link: &Link, db: &Path) -> Result<SyncClient, Error> {
    let token = match &link.token_file {
        Some(f) => std::fs::read_to_string(f)
            .map_err(|e| {
                Error::invalid(format!("cannot read the token file {}: {e}", f.display()))
            })?
            .trim()
            .to_string(),
        None => std::env::var("GATEHOUSE_SYNC_TOKEN").unwrap_or_default(),
    };
    let lot = match &link.lot {
        Some(l) => l.clone(),
        None => gatehouse_core::Lot::open(db)?
            .context()
            .config
            .lot
            .id
            .clone(),
    };
    SyncClient::new(SyncSettings {
        server: link.server.clone(),
        lot,
        token,
        ca_cert: link.ca_cert.clone(),
    })
    .map_err(lot_error)
}

fn lot_error(e: SyncError) -> Error {
    let kind = match e.kind {
        SyncErrorKind::Config => ErrorKind::InvalidInput,
        SyncErrorKind::Unreachable => ErrorKind::Unavailable,
        SyncErrorKind::Refused => ErrorKind::Conflict,
        SyncErrorKind::Lot => ErrorKind::Storage,
    };
    Error::new(kind, e.message)
}

pub fn run(cmd: &SyncCmd, db: &Path, out: &Out) -> Result<(), Error> {
    let rt = crate::devices::runtime()?;
    match cmd {
        SyncCmd::Status(link) => {
            let c = client(link, db)?;
            let s = rt.block_on(c.status(db)).map_err(lot_error)?;
            if out.json {
                out.print_json(&s);
            } else {
                println!(
                    "Sync with {}: {}",
                    s.server,
                    if s.connected {
                        "connected".to_string()
                    } else {
                        format!("not connected ({})", s.error.as_deref().unwrap_or("?"))
                    }
                );
                println!(
                    "  journal  {} rows here, {} acknowledged, backlog {}",
                    s.local_seq,
                    s.acked_seq.map_or("?".into(), |a| a.to_string()),
                    s.backlog.map_or("?".into(), |b| b.to_string())
                );
                println!("  orders   last applied: {}", s.last_order_applied);
            }
            Ok(())
        }
        SyncCmd::Now(link) => {
            let c = client(link, db)?;
            let engine = Engine::open(db, EngineOptions::default())?;
            let r = rt
                .block_on(c.sync_once(&engine, db, chrono::Utc::now))
                .map_err(lot_error)?;
            if out.json {
                out.print_json(&r);
            } else {
                println!(
                    "Pushed {} journal rows in {} batches (acknowledged {} → {}); orders: {} accepted, {} refused",
                    r.events_pushed,
                    r.batches,
                    r.acked_before,
                    r.acked,
                    r.orders_accepted,
                    r.orders_refused
                );
            }
            Ok(())
        }
        SyncCmd::Run { link, every } => {
            if !(*every >= 0.1 && *every <= 3600.0) {
                return Err(Error::invalid(format!(
                    "--every {every} is out of range; give 0.1 to 3600 seconds"
                )));
            }
            let c = client(link, db)?;
            let engine = Engine::open(db, EngineOptions::default())?;
            let json = out.json;
            rt.block_on(c.run(
                &engine,
                db,
                chrono::Utc::now,
                Duration::from_secs_f64(*every),
                |round| match round {
                    Ok(r) if json => println!("{}", serde_json::to_string(r).unwrap_or_default()),
                    Ok(r) if r.events_pushed > 0 || r.orders_accepted + r.orders_refused > 0 => {
                        println!(
                            "pushed {} rows (acknowledged {}); orders {} accepted, {} refused",
                            r.events_pushed, r.acked, r.orders_accepted, r.orders_refused
                        )
                    }
                    Ok(_) => {}
                    Err(e) => eprintln!("sync: {e}"),
                },
                async {
                    let _ = tokio::signal::ctrl_c().await;
                },
            ));
            Ok(())
        }
    }
}
