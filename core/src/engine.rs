//! The engine: typed commands in, journal events out.
//!
//! One writer thread owns the write connection. Callers send commands over a channel and wait for
//! the result; the writer drains what is queued and applies it as one group: one SQLite
//! transaction, a savepoint per command (a refused command changes nothing), one durable commit
//! (WAL, synchronous=FULL) for the whole group. A command is acknowledged only after its group's
//! commit; then its journal records are broadcast.

use crate::allocation::{Allocator, SpotState};
use crate::auth::permitted;
use crate::command as req;
use crate::config::{LaneKind, LotConfig};
use crate::domain::{Actor, AntiPassback, PaymentMethod, Plate, Role, VehicleClass};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::journal::{Head, JournalRecord};
use crate::personal;
use crate::stays::{
    LotContext, StayQuote, StayRef, StayRow, ensure_inside, find_inside, quote_stay, stay_of_ticket,
};
use crate::store::{self, ts};
use crate::ticket::ticket_number;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::sync::{broadcast, oneshot};

/// How long after its entry a lane may still cancel a stay whose vehicle backed off.
pub const CANCEL_ENTRY_MINUTES: i64 = 10;

pub use crate::command::{Command, LaneReport, Outcome};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recorded {
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entered {
    pub stay: i64,
    pub ticket: String,
    pub qr: String,
    pub plate: Option<String>,
    pub class: VehicleClass,
    pub lane: String,
    pub spot: String,
    pub level: String,
    pub zone: String,
    pub reason: String,
    pub entry_at: DateTime<Utc>,
    /// The permit that covers this stay, if any.
    pub permit: Option<i64>,
    /// The reservation this entry fulfilled, if any.
    pub reservation: Option<String>,
    pub alerts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exited {
    pub stay: i64,
    pub ticket: String,
    pub plate: Option<String>,
    pub spot: Option<String>,
    pub lane: String,
    pub exit_at: DateTime<Utc>,
    pub minutes: i64,
    pub fee: String,
    pub paid: String,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paid {
    pub payment: i64,
    pub stay: i64,
    pub ticket: String,
    pub method: PaymentMethod,
    /// What was applied to the stay.
    pub amount: String,
    pub tendered: String,
    pub change: String,
    /// Still owed after this payment.
    pub due: String,
    pub currency: String,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_until: Option<DateTime<Utc>>,
    /// True when this was a retry of an already recorded payment: nothing was charged again.
    pub replayed: bool,
    /// Prepaid account warnings (low balance, expiry).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Refunded {
    pub payment: i64,
    pub stay: i64,
    pub ticket: String,
    pub method: PaymentMethod,
    pub amount: String,
    pub paid: String,
    pub currency: String,
    pub replayed: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LostTicketOutcome {
    /// Whether the stay was found by plate (else the flat fee applies).
    pub found: bool,
    pub stay: i64,
    pub ticket: String,
    pub qr: String,
    pub quote: StayQuote,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpotOverridden {
    pub stay: i64,
    pub ticket: String,
    pub from: Option<String>,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpotService {
    pub spot: String,
    pub in_service: bool,
    pub occupied: bool,
}

/// Where the writer's time went since the engine opened, summed over every command: for the
/// benchmark, so that a slower command path shows in which step it slowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct WriterTimes {
    /// Commands applied (refused ones included).
    pub commands: u64,
    /// Groups committed (one durable commit each).
    pub groups: u64,
    /// Time-driven changes due before a command (reservation no-shows).
    pub due_ns: u64,
    /// Permission and session checks.
    pub validate_ns: u64,
    /// The command's own reads and writes (its handler).
    pub apply_ns: u64,
    /// Sealing personal data and appending the events to the hash-chained journal.
    pub journal_ns: u64,
    /// The group's head update and commit (writing its WAL frames).
    pub commit_ns: u64,
    /// WAL syncs (fsync) by the durability thread, each covering every group committed meanwhile.
    pub syncs: u64,
    /// Time in those syncs: off the writer's path, but every caller waits for one.
    pub sync_ns: u64,
}

#[derive(Default)]
struct TimeCounters {
    commands: std::sync::atomic::AtomicU64,
    groups: std::sync::atomic::AtomicU64,
    due_ns: std::sync::atomic::AtomicU64,
    validate_ns: std::sync::atomic::AtomicU64,
    apply_ns: std::sync::atomic::AtomicU64,
    journal_ns: std::sync::atomic::AtomicU64,
    commit_ns: std::sync::atomic::AtomicU64,
    syncs: std::sync::atomic::AtomicU64,
    sync_ns: std::sync::atomic::AtomicU64,
}

fn add_since(counter: &std::sync::atomic::AtomicU64, since: std::time::Instant) {
    let ns = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
    counter.fetch_add(ns, std::sync::atomic::Ordering::Relaxed);
}

impl TimeCounters {
    fn snapshot(&self) -> WriterTimes {
        let get = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        WriterTimes {
            commands: get(&self.commands),
            groups: get(&self.groups),
            due_ns: get(&self.due_ns),
            validate_ns: get(&self.validate_ns),
            apply_ns: get(&self.apply_ns),
            journal_ns: get(&self.journal_ns),
            commit_ns: get(&self.commit_ns),
            syncs: get(&self.syncs),
            sync_ns: get(&self.sync_ns),
        }
    }
}

/// How many prepared statements the writer keeps (the distinct SQL of every feature's handlers,
/// with room to spare).
const WRITER_STATEMENTS: usize = 512;

/// How the writer commits.
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    /// The most commands committed together; 1 means one commit per command.
    pub max_group: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions { max_group: 1024 }
    }
}

pub(crate) struct Job {
    pub(crate) actor: Actor,
    pub(crate) at: DateTime<Utc>,
    pub(crate) command: Command,
    reply: oneshot::Sender<Result<Outcome>>,
}

impl Job {
    /// A job applied inside another (a server order's command): nobody waits for its reply.
    pub(crate) fn detached(actor: Actor, at: DateTime<Utc>, command: Command) -> Job {
        Job {
            actor,
            at,
            command,
            reply: oneshot::channel().0,
        }
    }
}

/// A handle to a running engine. Dropping it stops the writer after the queued commands.
pub struct Engine {
    times: Arc<TimeCounters>,
    tx: Option<mpsc::Sender<Job>>,
    events: broadcast::Sender<Arc<JournalRecord>>,
    ctx: Arc<LotContext>,
    thread: Option<JoinHandle<()>>,
}

/// N bytes from the system's randomness source, or a storage error saying it has none.
pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| Error::storage(format!("the system has no randomness source: {e}")))?;
    Ok(b)
}

impl Engine {
    /// Creates a lot database from a validated config. Refuses an existing file; on failure
    /// nothing is left behind.
    pub fn init(path: &Path, config: &LotConfig, at: DateTime<Utc>, actor: &Actor) -> Result<()> {
        let conn = store::create(path)?;
        let result = Self::init_tables(&conn, config, at, actor);
        drop(conn);
        if result.is_err() {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.as_os_str().to_owned();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
        }
        result
    }

    fn init_tables(
        conn: &Connection,
        config: &LotConfig,
        at: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<()> {
        let secret: [u8; 32] = random_bytes()?;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let r = (|| -> Result<()> {
            store::set_meta(conn, "lot_id", &config.lot.id)?;
            store::set_meta(conn, "config", &config.source)?;
            store::set_meta(conn, "ticket_secret", &hex::encode(secret))?;
            store::set_meta(conn, "created_at", &ts(at))?;
            for l in &config.lanes {
                conn.execute(
                    "INSERT INTO lanes (id, kind, level) VALUES (?1, ?2, ?3)",
                    params![
                        l.id,
                        if l.kind == LaneKind::Entry {
                            "entry"
                        } else {
                            "exit"
                        },
                        l.level
                    ],
                )?;
            }
            let mut ins = conn.prepare(
                "INSERT INTO spots (id, ord, level, zone, size, ev, accessible) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for (i, s) in config.spots.iter().enumerate() {
                ins.execute(params![
                    s.id,
                    i as i64,
                    s.level,
                    s.zone,
                    s.size.as_str(),
                    s.ev,
                    s.accessible
                ])?;
            }
            let mut head = Head::load(conn)?;
            head.append(
                conn,
                at,
                actor,
                &Event::LotInitialized {
                    lot: config.lot.id.clone(),
                    name: config.lot.name.clone(),
                    spots: config.spots.len(),
                    lanes: config.lanes.len(),
                    config_sha256: hex::encode(Sha256::digest(config.source.as_bytes())),
                },
            )?;
            head.store(conn)?;
            Ok(())
        })();
        match r {
            Ok(()) => conn.execute_batch("COMMIT").map_err(Error::from),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Opens a lot database and starts its writer.
    pub fn open(path: &Path, options: EngineOptions) -> Result<Engine> {
        let conn = store::open(path, true)?;
        // The writer's statements, all kept prepared: each command runs a dozen or more, and
        // rusqlite's default cache of 16 evicted and re-parsed them on every command.
        conn.set_prepared_statement_cache_capacity(WRITER_STATEMENTS);
        // Each command runs in a savepoint, whose undo copies (the statement journal) SQLite
        // spills to a temporary file past 64 KiB and then never truncates: every later page
        // change of the group became a write() to that file. Kept in memory, they are memcpy.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // A group's COMMIT writes its WAL frames; the durability thread then makes them durable
        // with one fsync of the WAL (synchronous=FULL's sync, taken off the writer), so the writer
        // applies the next group while the disk syncs the last. Callers hear only after the sync.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Checkpoints (copying the WAL back into the database file, with an fsync of it) run on
        // the checkpoint thread, not inside the writer's COMMIT; the writer checkpoints itself
        // only as a backstop when the WAL has grown past CHECKPOINT_BACKSTOP pages without a
        // pause for the checkpoint thread to finish one. Once restarted, the WAL is cut back.
        conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_BACKSTOP)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        let checkpointer = Checkpointer::start(path)?;
        let wal = wal_path(path);
        let ctx = Arc::new(LotContext::load(&conn, &path.display().to_string())?);
        let mut writer = Writer {
            conn,
            ctx: ctx.clone(),
            alloc: Allocator::new(&ctx.config, |_| true),
            head: Head {
                seq: 0,
                hash: [0; 32],
            },
            events: broadcast::channel(4096).0,
            book: Default::default(),
            users_exist: false,
            times: Arc::default(),
            durable: None,
            disk_failed: Arc::default(),
            data_version: 0,
        };
        writer.reload()?;
        let events = writer.events.clone();
        let times = writer.times.clone();
        let (durable_tx, durable_rx) = mpsc::channel::<Committed>();
        writer.durable = Some(durable_tx);
        let durability = Durability {
            wal,
            file: None,
            events: events.clone(),
            times: times.clone(),
            disk_failed: writer.disk_failed.clone(),
            checkpointer,
        };
        let syncer = std::thread::Builder::new()
            .name("gatehouse-durability".into())
            .spawn(move || durability.run(durable_rx))
            .map_err(|e| Error::storage(format!("cannot start the durability thread: {e}")))?;
        let (tx, rx) = mpsc::channel::<Job>();
        let max_group = options.max_group.max(1);
        let thread = std::thread::Builder::new()
            .name("gatehouse-writer".into())
            .spawn(move || {
                // The writer ends when the engine is dropped; its end closes the durability
                // channel, and the syncer answers what is queued and ends too.
                writer.run(rx, max_group);
                let _ = syncer.join();
            })
            .map_err(|e| Error::storage(format!("cannot start the writer thread: {e}")))?;
        Ok(Engine {
            times,
            tx: Some(tx),
            events,
            ctx,
            thread: Some(thread),
        })
    }

    pub fn context(&self) -> &Arc<LotContext> {
        &self.ctx
    }

    /// Where the writer's time went so far, summed over every command.
    pub fn times(&self) -> WriterTimes {
        self.times.snapshot()
    }

    /// Journal records, live, after each durable commit.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<JournalRecord>> {
        self.events.subscribe()
    }

    fn send(
        &self,
        actor: Actor,
        at: DateTime<Utc>,
        command: Command,
    ) -> Result<oneshot::Receiver<Result<Outcome>>> {
        let (reply, rx) = oneshot::channel();
        let gone = || {
            Error::new(
                ErrorKind::Unavailable,
                "the lot engine has stopped; restart gatehouse",
            )
        };
        self.tx
            .as_ref()
            .ok_or_else(gone)?
            .send(Job {
                actor,
                at,
                command,
                reply,
            })
            .map_err(|_| gone())?;
        Ok(rx)
    }

    /// Applies a command and waits until it is durable (blocking; not from inside an async task).
    pub fn execute(&self, actor: &Actor, at: DateTime<Utc>, command: Command) -> Result<Outcome> {
        self.send(actor.clone(), at, command)?
            .blocking_recv()
            .map_err(|_| {
                Error::new(
                    ErrorKind::Unavailable,
                    "the lot engine stopped before answering; restart gatehouse",
                )
            })?
    }

    /// Applies a request and waits until it is durable (blocking; not from inside an async
    /// task); the reply is the one the request gives.
    pub fn run<R: req::Request>(
        &self,
        actor: &Actor,
        at: DateTime<Utc>,
        request: R,
    ) -> Result<R::Reply> {
        crate::command::reply_of::<R>(self.execute(actor, at, request.into())?)
    }

    /// Applies a request and waits until it is durable; the reply is the one the request gives.
    pub async fn call<R: req::Request>(
        &self,
        actor: &Actor,
        at: DateTime<Utc>,
        request: R,
    ) -> Result<R::Reply> {
        crate::command::reply_of::<R>(self.submit(actor, at, request.into()).await?)
    }

    /// Applies a command and waits until it is durable.
    pub async fn submit(
        &self,
        actor: &Actor,
        at: DateTime<Utc>,
        command: Command,
    ) -> Result<Outcome> {
        self.send(actor.clone(), at, command)?.await.map_err(|_| {
            Error::new(
                ErrorKind::Unavailable,
                "the lot engine stopped before answering; restart gatehouse",
            )
        })?
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What a command does to the in-memory indexes once its savepoint is released.
pub(crate) enum Effect {
    Take(usize),
    /// The vehicle left this spot; `in_service` says whether it becomes free.
    Vacate(usize, bool),
    OutOfService(usize),
    Release(usize),
    /// A reservation joins or leaves the book of capacity held for the future.
    Book(crate::reservations::Booking),
    Unbook(i64),
    UsersExist,
    /// A published tariff comes into force from its start.
    Tariff(DateTime<Utc>, i64, Box<crate::tariff::Tariff>),
}

pub(crate) struct Applied {
    pub(crate) outcome: Outcome,
    pub(crate) events: Vec<Event>,
    pub(crate) effects: Vec<Effect>,
    /// Refused, but what the refusal journals (an alert, a failed login) is committed.
    pub(crate) refused: Option<Error>,
}

impl Applied {
    pub(crate) fn new(outcome: Outcome, events: Vec<Event>, effects: Vec<Effect>) -> Applied {
        Applied {
            outcome,
            events,
            effects,
            refused: None,
        }
    }
    /// A refusal that still journals `events` (alerts, failed logins).
    pub(crate) fn refusal(error: Error, events: Vec<Event>) -> Applied {
        Applied {
            outcome: Outcome::Recorded(Recorded {
                what: "refused".into(),
                id: None,
                message: error.message.clone(),
                warnings: vec![],
            }),
            events,
            effects: vec![],
            refused: Some(error),
        }
    }
}

/// A change recorded with a message.
pub(crate) fn recorded(what: &str, id: Option<i64>, message: String) -> Outcome {
    Outcome::Recorded(Recorded {
        what: what.into(),
        id,
        message,
        warnings: vec![],
    })
}

pub(crate) struct Writer {
    pub(crate) conn: Connection,
    pub(crate) ctx: Arc<LotContext>,
    pub(crate) alloc: Allocator,
    head: Head,
    events: broadcast::Sender<Arc<JournalRecord>>,
    /// Capacity that booked reservations hold.
    pub(crate) book: crate::reservations::ReservationBook,
    /// Whether the lot has users: then every person's command needs a login session.
    users_exist: bool,
    times: Arc<TimeCounters>,
    /// Committed groups on their way to the disk (None only while the engine opens).
    durable: Option<mpsc::Sender<Committed>>,
    /// Set when the disk refused to sync: the lot stops taking commands.
    disk_failed: Arc<std::sync::atomic::AtomicBool>,
    /// SQLite's data_version when the state was last loaded: it changes when another
    /// connection (another process) commits, and then the writer rebuilds its state.
    data_version: i64,
}

/// The WAL file of a database: `lot.db` → `lot.db-wal`.
fn wal_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

type Reply = (oneshot::Sender<Result<Outcome>>, Result<Outcome>);

/// A committed group on its way to the disk: its callers hear once its WAL frames are synced.
struct Committed {
    records: Vec<JournalRecord>,
    replies: Vec<Reply>,
}

/// The durability thread: syncs the WAL once for every committed group queued meanwhile, then
/// broadcasts their records and answers their callers, in commit order.
struct Durability {
    wal: PathBuf,
    file: Option<std::fs::File>,
    events: broadcast::Sender<Arc<JournalRecord>>,
    times: Arc<TimeCounters>,
    disk_failed: Arc<std::sync::atomic::AtomicBool>,
    checkpointer: Checkpointer,
}

/// WAL pages after which the writer checkpoints in its own COMMIT (the checkpoint thread
/// normally keeps the WAL well below this).
const CHECKPOINT_BACKSTOP: i64 = 16_384;
/// The WAL file is cut back to this size (bytes) when it restarts.
const WAL_SIZE_LIMIT: i64 = 64 << 20;
/// The checkpoint thread's pause between checkpoints, so that each copies many commits' pages
/// (a page changed by several commits is copied once).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// The checkpoint thread: after synced commits, copies the WAL into the database file
/// (a passive checkpoint on its own connection, which never blocks the writer).
struct Checkpointer {
    tx: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path) -> Result<Checkpointer> {
        let conn = store::open(path, true)?;
        let (tx, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("gatehouse-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    // Gather the commits of the next moment, then copy them all at once; when
                    // the engine closes, stop at once (closing the last connection checkpoints).
                    let until = std::time::Instant::now() + CHECKPOINT_EVERY;
                    loop {
                        let left = until.saturating_duration_since(std::time::Instant::now());
                        match rx.recv_timeout(left) {
                            Ok(()) => continue,
                            Err(mpsc::RecvTimeoutError::Timeout) => break,
                            Err(mpsc::RecvTimeoutError::Disconnected) => return,
                        }
                    }
                    // A failed passive checkpoint loses nothing (the WAL holds the commits);
                    // the next one, or the writer's backstop, copies them.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .map_err(|e| Error::storage(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Says that more commits are in the WAL.
    fn nudge(&self) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(());
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Durability {
    fn run(mut self, rx: mpsc::Receiver<Committed>) {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while let Ok(more) = rx.try_recv() {
                batch.push(more);
            }
            let syncing = std::time::Instant::now();
            let synced = self.sync();
            add_since(&self.times.sync_ns, syncing);
            self.times
                .syncs
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            match synced {
                Ok(()) => {
                    self.checkpointer.nudge();
                    for group in batch {
                        for r in group.records {
                            let _ = self.events.send(Arc::new(r));
                        }
                        for (reply, result) in group.replies {
                            let _ = reply.send(result);
                        }
                    }
                }
                Err(e) => {
                    // What was committed may not be on the disk: nobody is told it is saved, and
                    // the writer takes no more commands (as PostgreSQL does on a failed fsync).
                    self.disk_failed
                        .store(true, std::sync::atomic::Ordering::SeqCst);
                    for group in batch {
                        for (reply, _) in group.replies {
                            let _ = reply.send(Err(e.clone()));
                        }
                    }
                }
            }
        }
    }

    fn sync(&mut self) -> Result<()> {
        let failed = |e: std::io::Error, wal: &Path| {
            Error::storage(format!(
                "the lot's changes could not be made durable ({}: {e}); nothing more is accepted: check the disk and restart gatehouse",
                wal.display()
            ))
        };
        if self.file.is_none() {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&self.wal)
                .map_err(|e| failed(e, &self.wal))?;
            self.file = Some(f);
        }
        match &self.file {
            Some(f) => f.sync_data().map_err(|e| failed(e, &self.wal)),
            None => Ok(()),
        }
    }
}

impl Writer {
    /// Rebuilds the in-memory state from the database (at start, after another process wrote,
    /// or after a failed commit).
    fn reload(&mut self) -> Result<()> {
        let mut out = std::collections::HashSet::new();
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM spots WHERE in_service = 0")?;
        for id in stmt.query_map([], |r| r.get::<_, String>(0))? {
            out.insert(id?);
        }
        drop(stmt);
        let mut alloc = Allocator::new(&self.ctx.config, |id| !out.contains(id));
        let mut stmt = self
            .conn
            .prepare("SELECT spot_id FROM stays WHERE exit_at IS NULL AND spot_id IS NOT NULL")?;
        for id in stmt.query_map([], |r| r.get::<_, String>(0))? {
            let id = id?;
            // An occupied spot out of service stays out of service, as in a running engine.
            if let Some(i) = alloc.spot_index(&id).filter(|_| !out.contains(&id)) {
                alloc.take(i);
            }
        }
        drop(stmt);
        self.alloc = alloc;
        self.book = crate::reservations::ReservationBook::load(
            &self.conn,
            &self.ctx.config.policies.reservations,
        )?;
        self.users_exist = self
            .conn
            .query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |r| r.get(0))?;
        self.head = Head::load(&self.conn)?;
        self.data_version = self.data_version()?;
        Ok(())
    }

    fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "data_version", |r| r.get(0))?)
    }

    fn run(mut self, rx: mpsc::Receiver<Job>, max_group: usize) {
        while let Ok(first) = rx.recv() {
            let mut group = vec![first];
            while group.len() < max_group {
                match rx.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            self.commit_group(group);
        }
    }

    fn begin(&mut self) -> Result<()> {
        if self.disk_failed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::new(
                ErrorKind::Unavailable,
                "the disk failed to save the lot's last changes; check the disk and restart gatehouse",
            ));
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        // Another process may have written since our last group: then rebuild. (Our own
        // commits leave our connection's data_version as it was; the checkpoint thread's
        // checkpoints change no data.)
        let changed = match self.data_version() {
            Ok(v) => v != self.data_version,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        if changed && let Err(e) = self.reload() {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e);
        }
        Ok(())
    }

    fn commit_group(&mut self, group: Vec<Job>) {
        let begun = std::time::Instant::now();
        let begin = self.begin();
        add_since(&self.times.commit_ns, begun);
        if let Err(e) = begin {
            for job in group {
                let _ = job.reply.send(Err(e.clone()));
            }
            return;
        }
        // Replies wait for the commit; `records` are broadcast after it.
        let mut done = Vec::with_capacity(group.len());
        let mut records = Vec::new();
        self.times
            .commands
            .fetch_add(group.len() as u64, std::sync::atomic::Ordering::Relaxed);
        for job in group {
            // Time-driven changes first (reservation no-shows), as the engine, at this job's time.
            let due = std::time::Instant::now();
            let r = self.run_due(job.at);
            add_since(&self.times.due_ns, due);
            match r {
                Ok(r) => records.extend(r),
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                    continue;
                }
            }
            let actor = job.actor.clone();
            match self.apply_one(job.at, &actor, |w| w.apply(&job)) {
                Ok((result, r)) => {
                    records.extend(r);
                    done.push((job.reply, result));
                }
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
        if records.is_empty() {
            // Nothing was written: nothing to commit. The answers still wait for the groups
            // before, so that nobody hears of a state the disk may not hold yet.
            let _ = self.conn.execute_batch("ROLLBACK");
            self.make_durable(records, done);
            return;
        }
        let committing = std::time::Instant::now();
        let committed = self
            .head
            .store(&self.conn)
            .and_then(|()| self.conn.execute_batch("COMMIT").map_err(Error::from));
        add_since(&self.times.commit_ns, committing);
        self.times
            .groups
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match committed {
            Ok(()) => self.make_durable(records, done),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                let e = match self.reload() {
                    Ok(()) => e,
                    Err(e2) => Error::storage(format!(
                        "{}; and reloading failed: {}",
                        e.message, e2.message
                    )),
                };
                for (reply, _) in done {
                    let _ = reply.send(Err(Error::storage(format!(
                        "the command was not saved: {}; nothing changed, try again",
                        e.message
                    ))));
                }
            }
        }
    }

    /// Hands a committed group to the durability thread, which answers once it is on the disk.
    fn make_durable(&mut self, records: Vec<JournalRecord>, replies: Vec<Reply>) {
        let group = Committed { records, replies };
        let Some(tx) = &self.durable else {
            return;
        };
        if let Err(mpsc::SendError(group)) = tx.send(group) {
            for (reply, _) in group.replies {
                let _ = reply.send(Err(Error::new(
                    ErrorKind::Unavailable,
                    "the lot engine's durability thread has stopped; restart gatehouse",
                )));
            }
        }
    }

    /// Applies time-driven changes that are due at `at` (no-shows), as the engine.
    fn run_due(&mut self, at: DateTime<Utc>) -> Result<Vec<JournalRecord>> {
        if !self.book.due(at) {
            return Ok(vec![]);
        }
        let engine = Actor::system("engine");
        let (result, records) = self.apply_one(at, &engine, |w| w.no_shows(at))?;
        result.map(|_| records)
    }

    /// Applies one change in a savepoint. `Err`: refused, nothing written. `Ok((result, records))`:
    /// records to commit; `result` is what the caller hears after the commit (a refusal can
    /// still journal an alert).
    fn apply_one(
        &mut self,
        at: DateTime<Utc>,
        actor: &Actor,
        f: impl FnOnce(&mut Self) -> Result<Applied>,
    ) -> Result<(Result<Outcome>, Vec<JournalRecord>)> {
        let saving = std::time::Instant::now();
        self.conn.execute_batch("SAVEPOINT cmd")?;
        add_since(&self.times.apply_ns, saving);
        let head_before = self.head;
        let result = f(self).and_then(|applied| {
            let journaling = std::time::Instant::now();
            let mut records = Vec::with_capacity(applied.events.len());
            for ev in &applied.events {
                let payload = personal::seal(&self.conn, &self.ctx, self.head.seq + 1, ev)?;
                records.push(self.head.append_payload(
                    &self.conn,
                    at,
                    actor,
                    ev.kind(),
                    payload,
                )?);
            }
            add_since(&self.times.journal_ns, journaling);
            Ok((applied, records))
        });
        match result {
            Ok((applied, records)) => {
                let releasing = std::time::Instant::now();
                let released = self.conn.execute_batch("RELEASE cmd");
                add_since(&self.times.apply_ns, releasing);
                if let Err(e) = released {
                    self.head = head_before;
                    self.conn.execute_batch("ROLLBACK TO cmd; RELEASE cmd")?;
                    return Err(e.into());
                }
                for effect in applied.effects {
                    match effect {
                        Effect::Take(s) => self.alloc.take(s),
                        Effect::Vacate(s, true) | Effect::Release(s) => self.alloc.release(s),
                        Effect::Vacate(s, false) | Effect::OutOfService(s) => {
                            self.alloc.out_of_service(s)
                        }
                        Effect::Book(b) => self.book.insert(b),
                        Effect::Unbook(id) => self.book.remove(id),
                        Effect::UsersExist => self.users_exist = true,
                        Effect::Tariff(from, id, t) => self.ctx.tariffs.add(from, id, *t),
                    }
                }
                let result = match applied.refused {
                    Some(e) => Err(e),
                    None => Ok(applied.outcome),
                };
                Ok((result, records))
            }
            Err(e) => {
                self.head = head_before;
                self.conn.execute_batch("ROLLBACK TO cmd; RELEASE cmd")?;
                Err(e)
            }
        }
    }

    fn apply(&mut self, job: &Job) -> Result<Applied> {
        let validating = std::time::Instant::now();
        let checked = self.validate(job);
        add_since(&self.times.validate_ns, validating);
        checked?;
        let applying = std::time::Instant::now();
        let applied = self.dispatch(job);
        add_since(&self.times.apply_ns, applying);
        applied
    }

    /// The permission and session checks of a job, before it is dispatched.
    fn validate(&mut self, job: &Job) -> Result<()> {
        let role = job.actor.role;
        if let Some(p) = job.command.permission()
            && !permitted(role, p)
        {
            return Err(Error::new(
                ErrorKind::Forbidden,
                if role == Role::Auditor {
                    format!(
                        "an auditor may read but not change the lot ({} refused)",
                        job.command.name()
                    )
                } else {
                    format!(
                        "{} {} may not {} ({} refused); ask a colleague whose role may",
                        if role == Role::Attendant || role == Role::Admin {
                            "an"
                        } else {
                            "a"
                        },
                        role.as_str(),
                        p.describe(),
                        job.command.name()
                    )
                },
            ));
        }
        if role != Role::System
            && self.users_exist
            && !matches!(job.command, Command::Login(req::Login { .. }))
        {
            self.check_session(job)?;
        }
        let typed = match &job.command {
            Command::Entry(req::Entry {
                presented_ticket: Some(t),
                ..
            }) => crate::stays::is_typed_number(t),
            Command::Exit(req::Exit {
                stay: StayRef::Ticket(t),
                ..
            })
            | Command::Pay(req::Pay {
                stay: StayRef::Ticket(t),
                ..
            })
            | Command::PayFromAccount(req::PayFromAccount {
                stay: StayRef::Ticket(t),
                ..
            })
            | Command::ApplyVoucher(req::ApplyVoucher {
                stay: StayRef::Ticket(t),
                ..
            }) => crate::stays::is_typed_number(t),
            _ => false,
        };
        if typed && role == Role::System {
            return Err(Error::new(
                ErrorKind::Forbidden,
                "a lane or terminal must scan the ticket's signed QR code; typed ticket numbers are for staff at the booth",
            ));
        }
        Ok(())
    }

    /// Applies a command already authorised (by `apply`, or as a server order).
    pub(crate) fn dispatch(&mut self, job: &Job) -> Result<Applied> {
        let at = job.at;
        match &job.command {
            Command::Entry(req::Entry { .. }) => self.entry(job),
            Command::Exit(req::Exit { stay, lane }) => self.exit(at, stay, lane.as_deref(), None),
            Command::Pay(req::Pay {
                stay,
                method,
                amount,
                key,
            }) => self.pay(job, stay, *method, *amount, key.as_deref(), None),
            Command::Refund(req::Refund {
                stay,
                method,
                amount,
                reason,
                key,
            }) => self.refund(job, stay, *method, *amount, reason, key.as_deref()),
            Command::LostTicket(req::LostTicket { plate, class }) => {
                self.lost_ticket(at, plate.as_ref(), *class)
            }
            Command::OverrideSpot(req::OverrideSpot { stay, spot, reason }) => {
                self.override_spot(at, stay, spot, reason)
            }
            Command::SetSpotService(req::SetSpotService {
                spot,
                in_service,
                reason,
            }) => self.set_service(spot, *in_service, reason),
            Command::VoidStay(req::VoidStay { stay, reason }) => self.void_stay(at, stay, reason),
            Command::OpenGate(req::OpenGate { lane, reason }) => self.open_gate(lane, reason),
            Command::CancelEntry(req::CancelEntry { stay, lane, reason }) => {
                self.cancel_entry(at, stay, lane, reason)
            }
            Command::ExitOwing(req::ExitOwing { stay, lane, reason }) => {
                self.exit_owing(at, stay, lane.as_deref(), reason)
            }
            Command::LaneReport(report) => self.lane_report(at, report),
            Command::PayFromAccount(req::PayFromAccount { stay, account }) => {
                self.pay_from_account(job, stay, *account)
            }
            Command::ApplyVoucher(req::ApplyVoucher { stay, voucher }) => {
                self.apply_voucher(at, stay, voucher)
            }
            Command::Reserve(req) => self.reserve(job, req),
            Command::ChangeReservation(req::ChangeReservation { code, start, end }) => {
                self.change_reservation(at, code, *start, *end)
            }
            Command::CancelReservation(req::CancelReservation { code }) => {
                self.cancel_reservation(at, code)
            }
            Command::IssuePermit(req) => self.issue_permit(at, req),
            Command::RevokePermit(req::RevokePermit { permit, reason }) => {
                self.revoke_permit(at, *permit, reason)
            }
            Command::OpenAccount(req::OpenAccount { holder, expires_at }) => {
                self.open_account(at, holder, *expires_at)
            }
            Command::TopUpAccount(req::TopUpAccount {
                account,
                method,
                amount,
            }) => self.top_up(job, *account, *method, *amount),
            Command::IssueVoucher(req) => self.issue_voucher(at, req),
            Command::Watch(req::Watch {
                plate,
                action,
                note,
            }) => self.watch(job, plate, *action, note),
            Command::AckAlert(req::AckAlert { alert, note }) => self.ack_alert(job, *alert, note),
            Command::OpenShift(req::OpenShift { float }) => self.open_shift(job, *float),
            Command::CloseShift(req::CloseShift { counted }) => self.close_shift(job, *counted),
            Command::Login(req::Login {
                user,
                password,
                totp,
            }) => self.login(at, user, password, totp.as_ref()),
            Command::Logout(req::Logout) => self.logout(job),
            Command::AddUser(req::AddUser {
                name,
                role,
                password,
            }) => self.add_user(at, name, *role, password),
            Command::SetPassword(req::SetPassword { name, password }) => {
                self.set_password(job, name, password)
            }
            Command::SetUserEnabled(req::SetUserEnabled { name, enabled }) => {
                self.set_user_enabled(name, *enabled)
            }
            Command::PseudonymisePlates(req::PseudonymisePlates { before }) => {
                self.pseudonymise_plates(at, *before)
            }
            Command::ErasePlate(req::ErasePlate { plate }) => self.erase_plate(plate),
            Command::PublishTariff(req) => self.publish_tariff(job, req),
            Command::ApplyOrder(req::ApplyOrder { seq, id, order }) => {
                self.apply_order(job, *seq, id, order)
            }
            Command::ValetDropOff(r) => self.valet_drop_off(at, r),
            Command::ValetPark(r) => self.valet_park(at, &job.actor.name, r),
            Command::ValetRequest(r) => self.valet_request(at, r),
            Command::ValetReturn(r) => self.valet_return(at, &job.actor.name, r),
        }
    }

    pub(crate) fn lane(&self, lane: Option<&str>, kind: LaneKind) -> Result<(usize, String)> {
        let cfg = &self.ctx.config;
        let name = if kind == LaneKind::Entry {
            "entry"
        } else {
            "exit"
        };
        match lane {
            None => cfg
                .lanes
                .iter()
                .position(|l| l.kind == kind)
                .map(|i| (i, cfg.lanes[i].id.clone()))
                .ok_or_else(|| Error::invalid(format!("the lot has no {name} lane"))),
            Some(id) => {
                let i = cfg.lane_index(id).ok_or_else(|| {
                    let known: Vec<&str> = cfg
                        .lanes
                        .iter()
                        .filter(|l| l.kind == kind)
                        .map(|l| l.id.as_str())
                        .collect();
                    Error::not_found(format!(
                        "there is no lane '{id}'; the {name} lanes are {}",
                        known.join(", ")
                    ))
                })?;
                if cfg.lanes[i].kind != kind {
                    return Err(Error::invalid(format!("lane '{id}' is not an {name} lane")));
                }
                Ok((i, id.to_string()))
            }
        }
    }

    pub(crate) fn spot_named(&self, id: &str) -> Result<usize> {
        self.alloc.spot_index(id).ok_or_else(|| {
            Error::not_found(format!(
                "there is no spot '{id}'; `gatehouse spots` lists them"
            ))
        })
    }

    pub(crate) fn check_target_spot(
        &self,
        spot: usize,
        class: VehicleClass,
        accessible: bool,
    ) -> Result<()> {
        let id = self.alloc.spot_id(spot);
        match self.alloc.state(spot) {
            SpotState::Free => {}
            SpotState::Occupied => {
                return Err(Error::conflict(format!(
                    "spot {id} is occupied; choose a free spot"
                )));
            }
            SpotState::OutOfService => {
                return Err(Error::conflict(format!(
                    "spot {id} is out of service; put it back in service first"
                )));
            }
        }
        if !self.alloc.fits(spot, class, accessible) {
            return Err(Error::conflict(format!(
                "spot {id} does not fit a {class} vehicle{}",
                if accessible {
                    ""
                } else {
                    " (or is accessible and needs a credential)"
                }
            )));
        }
        Ok(())
    }

    fn entry(&mut self, job: &Job) -> Result<Applied> {
        let Command::Entry(req::Entry {
            plate,
            class,
            lane,
            ev,
            accessible,
            presented_ticket,
            spot: spot_override,
            card,
            reservation,
        }) = &job.command
        else {
            return Err(Error::storage("entry called for another command"));
        };
        let (plate, class, ev, accessible) = (plate.as_ref(), *class, *ev, *accessible);
        let at = job.at;
        let (lane_idx, lane_id) = self.lane(lane.as_deref(), LaneKind::Entry)?;
        let passback = self.ctx.config.lot.anti_passback;
        let mut events = Vec::new();
        let mut alerts = Vec::new();
        // The watchlist first: a refused plate changes nothing but the alert.
        if let Some(p) = plate
            && let Some((action, note)) = self.watchlist_hit(p)?
        {
            let msg = format!("watchlist: plate {p} at lane {lane_id}: {note}");
            let alert = self.raise_alert(
                "watchlist",
                &msg,
                None,
                Some(p.as_str()),
                Some(&lane_id),
                at,
            )?;
            if action == crate::permits::WatchAction::Refuse {
                return Ok(Applied::refusal(
                    Error::new(
                        ErrorKind::Forbidden,
                        format!(
                            "plate {p} is on the watchlist to be refused ({note}); the gate stays closed and an attendant was alerted"
                        ),
                    ),
                    vec![alert],
                ));
            }
            alerts.push(msg);
            events.push(alert);
        }
        let permit = self.permit_at_entry(at, plate, card.as_deref(), &lane_id, &mut alerts)?;
        let mut inside: Option<(StayRow, String)> = None;
        if let Some(text) = presented_ticket {
            let stay = stay_of_ticket(&self.conn, &self.ctx.signer, text)?;
            if let Some(exit) = stay.exit_at {
                return Err(Error::new(
                    ErrorKind::TicketUsed,
                    format!(
                        "ticket {} was already used (its stay exited at {}); it cannot enter again",
                        stay.ticket(),
                        self.ctx.local(exit)
                    ),
                ));
            }
            if passback != AntiPassback::Off {
                let what = format!("ticket {}", stay.ticket());
                inside = Some((stay, what));
            }
        }
        if inside.is_none()
            && let Some(p) = plate
            && passback != AntiPassback::Off
            && let Some(stay) = crate::stays::stay_inside_by_plate(&self.conn, p)?
        {
            inside = Some((stay, format!("plate {p}")));
        }
        if let Some((stay, what)) = inside {
            let entered = format!(
                "{what} is already inside (entered {} at lane {}, ticket {})",
                self.ctx.local(stay.entry_at),
                stay.entry_lane.as_deref().unwrap_or("?"),
                stay.ticket()
            );
            let plate_s = plate.map(Plate::as_str);
            if passback == AntiPassback::Hard {
                let alert = self.raise_alert(
                    "passback",
                    &format!("anti-passback: {entered}; entry refused at lane {lane_id}"),
                    Some(stay.id),
                    plate_s,
                    Some(&lane_id),
                    at,
                )?;
                return Ok(Applied::refusal(
                    Error::new(
                        ErrorKind::Passback,
                        format!(
                            "{entered}; anti-passback refuses a second entry. An attendant can check the vehicle and exit the earlier stay"
                        ),
                    ),
                    vec![alert],
                ));
            }
            let msg = format!("anti-passback: {entered}; admitted (soft anti-passback)");
            events.push(self.raise_alert(
                "passback",
                &msg,
                Some(stay.id),
                plate_s,
                Some(&lane_id),
                at,
            )?);
            alerts.push(msg);
        }
        let booked = if permit.is_none() {
            self.reservation_at_entry(at, plate, reservation.as_deref())?
        } else {
            None
        };
        let levels = permit
            .as_ref()
            .map(|p| p.levels.clone())
            .unwrap_or_default();
        let (spot, reason) = match spot_override.as_deref() {
            Some(id) => {
                require_supervisor(job.actor.role, "choose the spot at entry")?;
                let s = self.spot_named(id)?;
                self.check_target_spot(s, class, accessible)?;
                (
                    s,
                    format!("supervisor override to {id} by {}", job.actor.name),
                )
            }
            None => match &booked {
                Some(r) => self.allocate_reserved(r, lane_idx)?,
                None => {
                    let allowed = self.walk_in_rule(at);
                    let level_ok = |spot: usize| {
                        levels.is_empty() || levels.contains(&self.ctx.config.spots[spot].level)
                    };
                    match self.alloc.allocate_where(
                        class,
                        ev,
                        accessible,
                        lane_idx,
                        |pool, size| allowed.allows(pool, size),
                        level_ok,
                    ) {
                        Some(a) => (a.spot, a.reason),
                        None => {
                            return Err(self.full_error(class, ev, accessible, !levels.is_empty()));
                        }
                    }
                }
            },
        };
        let (occupied, in_service) = self.alloc.occupied_and_in_service();
        let percent = (occupied * 100).checked_div(in_service).unwrap_or(100) as u32;
        let factor = self.ctx.tariffs.at(at).occupancy_factor(percent);
        let spot_id = self.alloc.spot_id(spot).to_string();
        let at_s = ts(at);
        self.conn
            .prepare_cached(
                "INSERT INTO stays (plate, class, ev, accessible, entry_lane, entry_at, spot_id, occupancy_factor, permit_id, permit_until, reservation_id, reserved_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                plate.map(Plate::as_str),
                class.as_str(),
                ev,
                accessible,
                lane_id,
                at_s,
                spot_id,
                factor.to_string(),
                permit.as_ref().map(|p| p.id),
                permit.as_ref().map(|p| ts(p.valid_to)),
                booked.as_ref().map(|r| r.id),
                booked.as_ref().map(|r| ts(r.end)),
            ])?;
        let stay = self.conn.last_insert_rowid();
        if stay > i64::from(u32::MAX) {
            return Err(Error::storage(
                "the lot has issued 4 billion tickets; ticket numbers are exhausted",
            ));
        }
        self.conn
            .prepare_cached(
                "INSERT INTO stay_spots (stay_id, spot_id, from_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![stay, spot_id, at_s])?;
        let ticket = ticket_number(stay as u32);
        let def = &self.ctx.config.spots[spot];
        let reason = match &permit {
            Some(p) => format!("permit {} ({}); {reason}", p.id, p.kind),
            None => reason,
        };
        events.insert(
            0,
            Event::VehicleEntered {
                stay,
                ticket: ticket.clone(),
                plate: plate.map(|p| p.to_string()),
                class,
                ev,
                accessible,
                lane: lane_id.clone(),
                spot: spot_id.clone(),
                reason: reason.clone(),
                occupancy_factor: factor.to_string(),
            },
        );
        let mut effects = vec![Effect::Take(spot)];
        if let Some(r) = &booked {
            self.conn
                .prepare_cached(
                    "UPDATE reservations SET status = 'arrived', stay_id = ?2 WHERE id = ?1",
                )?
                .execute(params![r.id, stay])?;
            events.push(Event::ReservationArrived {
                reservation: r.id,
                code: r.code.clone(),
                stay,
            });
            effects.push(Effect::Unbook(r.id));
        }
        Ok(Applied::new(
            Outcome::Entered(Entered {
                stay,
                qr: self.ctx.signer.payload(stay as u32),
                ticket,
                plate: plate.map(|p| p.to_string()),
                class,
                lane: lane_id,
                spot: spot_id,
                level: def.level.clone(),
                zone: def.zone.clone(),
                reason,
                entry_at: at,
                permit: permit.map(|p| p.id),
                reservation: booked.map(|r| r.code),
                alerts,
            }),
            events,
            effects,
        ))
    }

    fn full_error(
        &self,
        class: VehicleClass,
        ev: bool,
        accessible: bool,
        level_limited: bool,
    ) -> Error {
        let (usable, total) = self.alloc.free_counts(class, ev, accessible);
        let msg = if total == 0 {
            format!(
                "the car park is full: none of its {} spots is free; no ticket was issued",
                self.alloc.len()
            )
        } else if usable > 0 && level_limited {
            format!(
                "no spot on the permit's levels is free for a {class} vehicle ({usable} free elsewhere); no ticket was issued"
            )
        } else if usable > 0 {
            format!(
                "full for a {class} vehicle: the {usable} free spots that fit are held for reservations; no ticket was issued"
            )
        } else {
            let rule = if !accessible && !ev && !self.ctx.config.lot.ev_spots_for_others {
                " (EV and accessible spots are kept for vehicles that need them)"
            } else if !accessible {
                " (accessible spots need a credential)"
            } else {
                ""
            };
            format!(
                "full for a {class} vehicle: {total} spots are free but none fits it{rule}; no ticket was issued"
            )
        };
        Error::new(ErrorKind::Full, msg)
    }

    /// The vehicle leaves. With `owing` (the lane's reason), what is still owed is logged as
    /// unable to collect instead of refusing the exit.
    fn exit(
        &mut self,
        at: DateTime<Utc>,
        r: &StayRef,
        lane: Option<&str>,
        owing: Option<&str>,
    ) -> Result<Applied> {
        let (_, lane_id) = self.lane(lane, LaneKind::Exit)?;
        let stay = find_inside(&self.conn, &self.ctx, r)?;
        if stay.valet_fee.is_some() {
            return Err(Error::conflict(format!(
                "ticket {} is a valet car: the booth hands it back with its keys (valet return), which ends the stay",
                stay.ticket()
            )));
        }
        if at < stay.entry_at {
            return Err(Error::invalid(format!(
                "the exit time {} is before the entry at {}; check the clock or --at",
                self.ctx.local(at),
                self.ctx.local(stay.entry_at)
            )));
        }
        let q = quote_stay(&self.ctx, &stay, at);
        let mut events = Vec::new();
        if let Some(reason) = owing
            && !q.total.is_zero()
        {
            let owed = q.total.amount.to_string();
            events.push(Event::ExitUncollected {
                stay: stay.id,
                ticket: stay.ticket(),
                plate: stay.plate.clone(),
                lane: lane_id.clone(),
                owed: owed.clone(),
                reason: reason.trim().to_string(),
            });
            events.push(self.raise_alert(
                "uncollected",
                &format!(
                    "ticket {} left at lane {lane_id} owing {owed} {}: {}",
                    stay.ticket(),
                    q.currency,
                    reason.trim()
                ),
                Some(stay.id),
                stay.plate.as_deref(),
                Some(&lane_id),
                at,
            )?);
        } else if !q.total.is_zero() {
            let msg = format!(
                "ticket {} owes {} (stay of {} min, fee {}, paid {}); pay at a pay station or the booth, then exit",
                stay.ticket(),
                q.total,
                q.minutes,
                q.fee.amount,
                q.paid.amount
            );
            let alert = self.raise_alert(
                "unpaid_exit",
                &format!("unpaid exit attempt at lane {lane_id}: {msg}"),
                Some(stay.id),
                stay.plate.as_deref(),
                Some(&lane_id),
                at,
            )?;
            return Ok(Applied::refusal(
                Error::new(ErrorKind::Unpaid, msg),
                vec![alert],
            ));
        }
        for l in &q.lines {
            if matches!(
                l.kind,
                crate::tariff::LineKind::Paid | crate::tariff::LineKind::ExitGrace
            ) {
                continue;
            }
            self.conn
                .prepare_cached(
                    "INSERT INTO stay_lines (stay_id, kind, amount) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![
                    stay.id,
                    l.kind.as_str(),
                    l.amount.amount.to_string()
                ])?;
        }
        // Staying past a reservation's or a permit's end is an overstay for the attendant.
        for (until, what) in [
            (stay.reserved_until, "its reservation ended"),
            (stay.permit_until, "its permit ended"),
        ] {
            if let Some(until) = until
                && at > until
            {
                let msg = format!(
                    "overstay: ticket {} left {} min after {what} ({})",
                    stay.ticket(),
                    (at - until).num_minutes(),
                    self.ctx.local(until)
                );
                events.push(self.raise_alert(
                    "overstay",
                    &msg,
                    Some(stay.id),
                    stay.plate.as_deref(),
                    Some(&lane_id),
                    at,
                )?);
            }
        }
        let at_s = ts(at);
        self.conn
            .prepare_cached("UPDATE stays SET exit_at = ?2, exit_lane = ?3 WHERE id = ?1")?
            .execute(params![stay.id, at_s, lane_id])?;
        let effects: Vec<Effect> = self.leave_spot(&stay, &at_s)?.into_iter().collect();
        // What the stay was charged: its fee less what the exit grace waived.
        let waived: Decimal = q
            .lines
            .iter()
            .filter(|l| l.kind == crate::tariff::LineKind::ExitGrace)
            .map(|l| -l.amount.amount)
            .sum();
        let fee = self.ctx.money(q.fee.amount - waived).amount.to_string();
        let paid = q.paid.amount.to_string();
        events.insert(
            0,
            Event::VehicleExited {
                stay: stay.id,
                ticket: stay.ticket(),
                plate: stay.plate.clone(),
                spot: stay.spot.clone(),
                lane: lane_id.clone(),
                minutes: q.minutes,
                fee: fee.clone(),
                paid: paid.clone(),
            },
        );
        Ok(Applied {
            refused: None,
            outcome: Outcome::Exited(Exited {
                stay: stay.id,
                ticket: stay.ticket(),
                plate: stay.plate.clone(),
                spot: stay.spot.clone(),
                lane: lane_id.clone(),
                exit_at: at,
                minutes: q.minutes,
                fee: fee.clone(),
                paid: paid.clone(),
                currency: q.currency.clone(),
            }),
            events,
            effects,
        })
    }

    /// The stay leaves its spot at `at_s` (exit, void, override): closes its spot history row
    /// and says how the spot's index changes (free again, or still out of service).
    pub(crate) fn leave_spot(&self, stay: &StayRow, at_s: &str) -> Result<Option<Effect>> {
        self.conn
            .prepare_cached(
                "UPDATE stay_spots SET to_at = ?2 WHERE stay_id = ?1 AND to_at IS NULL",
            )?
            .execute(params![stay.id, at_s])?;
        let Some(spot) = stay.spot.as_deref().and_then(|s| self.alloc.spot_index(s)) else {
            return Ok(None);
        };
        // The allocator knows: an occupied spot taken out of service is marked so at once.
        let in_service = self.alloc.state(spot) != SpotState::OutOfService;
        Ok(Some(Effect::Vacate(spot, in_service)))
    }

    pub(crate) fn check_amount(&self, amount: Decimal) -> Result<Decimal> {
        let cur = self.ctx.config.lot.currency;
        if amount <= Decimal::ZERO {
            return Err(Error::invalid(format!(
                "the amount must be above zero (got {amount})"
            )));
        }
        if amount.normalize().scale() > cur.minor_units() {
            return Err(Error::invalid(format!(
                "{amount} has more decimals than {cur} allows"
            )));
        }
        Ok(cur.round(amount))
    }

    /// An earlier payment or refund with this key: the same request again, or a conflict.
    fn replay(
        &self,
        key: &str,
        kind: &str,
        stay: i64,
        method: PaymentMethod,
        amount: Decimal,
    ) -> Result<Option<(i64, String, String, String)>> {
        type PaymentRow = (
            i64,
            i64,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
        );
        let row: Option<PaymentRow> = self
            .conn
            .prepare_cached("SELECT id, stay_id, kind, method, amount, tendered, change FROM payments WHERE idem_key = ?1")?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
            .optional()?;
        let Some((id, s, k, m, amt, tendered, change)) = row else {
            return Ok(None);
        };
        let given = tendered.clone().unwrap_or_else(|| amt.clone());
        let same = s == stay
            && k == kind
            && m == method.as_str()
            && Decimal::from_str_exact(&given).ok() == Some(amount);
        if !same {
            return Err(Error::conflict(format!(
                "key '{key}' was already used for another {k} ({m} {given} on ticket {}); use a new key for a new {kind}",
                ticket_number(s as u32)
            )));
        }
        Ok(Some((
            id,
            amt,
            tendered.unwrap_or_default(),
            change.unwrap_or_default(),
        )))
    }

    pub(crate) fn new_key(&self, key: Option<&str>) -> Result<String> {
        match key {
            Some(k) if !k.trim().is_empty() && k.len() <= 128 => Ok(k.trim().to_string()),
            Some(_) => Err(Error::invalid("an idempotency key is 1 to 128 characters")),
            None => Ok(format!("auto-{}", hex::encode(random_bytes::<16>()?))),
        }
    }

    pub(crate) fn pay(
        &mut self,
        job: &Job,
        r: &StayRef,
        method: PaymentMethod,
        amount: Decimal,
        key: Option<&str>,
        account: Option<i64>,
    ) -> Result<Applied> {
        let at = job.at;
        let amount = self.check_amount(amount)?;
        let key = self.new_key(key)?;
        // A retry of a recorded payment answers as before and changes nothing, even after exit.
        let stay = match r {
            StayRef::Ticket(t) => stay_of_ticket(&self.conn, &self.ctx.signer, t)?,
            StayRef::Plate(_) | StayRef::Card(_) => find_inside(&self.conn, &self.ctx, r)?,
        };
        if let Some((id, applied, tendered, change)) =
            self.replay(&key, "payment", stay.id, method, amount)?
        {
            let q = quote_stay(&self.ctx, &stay, at);
            return Ok(Applied {
                refused: None,
                outcome: Outcome::Paid(Paid {
                    payment: id,
                    stay: stay.id,
                    ticket: stay.ticket(),
                    method,
                    amount: applied,
                    tendered,
                    change,
                    due: q.total.amount.to_string(),
                    currency: q.currency,
                    key,
                    grace_until: q.grace_until,
                    replayed: true,
                    warnings: vec![],
                }),
                events: vec![],
                effects: vec![],
            });
        }
        ensure_inside(&self.ctx, &stay)?;
        let q = quote_stay(&self.ctx, &stay, at);
        let due = q.total.amount;
        if due.is_zero() {
            return Err(Error::conflict(format!(
                "ticket {} owes nothing now{}; no payment taken",
                stay.ticket(),
                q.grace_until
                    .map(|g| format!(" (exit grace until {})", self.ctx.local(g)))
                    .unwrap_or_default()
            )));
        }
        let (applied, change) = if method == PaymentMethod::Cash {
            let applied = amount.min(due);
            (applied, amount - applied)
        } else {
            if amount > due {
                return Err(Error::conflict(format!(
                    "{} {amount} is more than the {} owed; charge {due} (only cash gives change)",
                    method.as_str(),
                    q.total
                )));
            }
            (amount, Decimal::ZERO)
        };
        let shift = self.cash_shift(job, method)?;
        let paid_total = stay.paid + applied;
        let settled = paid_total >= q.fee.amount;
        let at_s = ts(at);
        self.conn
            .prepare_cached("UPDATE stays SET paid = ?2, settled_at = CASE WHEN ?3 THEN ?4 ELSE settled_at END WHERE id = ?1")?
            .execute(params![stay.id, paid_total.to_string(), settled, at_s])?;
        self.conn
            .prepare_cached(
                "INSERT INTO payments (stay_id, idem_key, kind, method, amount, tendered, change, at, actor, shift_id, account_id) VALUES (?1, ?2, 'payment', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![stay.id, key, method.as_str(), applied.to_string(), amount.to_string(), change.to_string(), at_s, job.actor.name, shift, account])?;
        let payment = self.conn.last_insert_rowid();
        let after = StayRow {
            paid: paid_total,
            settled_at: if settled { Some(at) } else { stay.settled_at },
            ..stay.clone()
        };
        let q2 = quote_stay(&self.ctx, &after, at);
        let due_after = q2.total.amount.to_string();
        Ok(Applied {
            refused: None,
            outcome: Outcome::Paid(Paid {
                payment,
                stay: stay.id,
                ticket: stay.ticket(),
                method,
                amount: applied.to_string(),
                tendered: amount.to_string(),
                change: change.to_string(),
                due: due_after.clone(),
                currency: q2.currency,
                key: key.clone(),
                grace_until: q2.grace_until,
                replayed: false,
                warnings: vec![],
            }),
            events: vec![Event::PaymentRecorded {
                stay: stay.id,
                ticket: stay.ticket(),
                payment,
                method,
                amount: applied.to_string(),
                tendered: amount.to_string(),
                change: change.to_string(),
                key,
                paid_total: paid_total.to_string(),
                due_after,
            }],
            effects: vec![],
        })
    }

    fn refund(
        &mut self,
        job: &Job,
        r: &StayRef,
        method: PaymentMethod,
        amount: Decimal,
        reason: &str,
        key: Option<&str>,
    ) -> Result<Applied> {
        let amount = self.check_amount(amount)?;
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "a refund needs a reason (--reason), for the audit trail",
            ));
        }
        let key = self.new_key(key)?;
        let stay = match r {
            StayRef::Ticket(t) => stay_of_ticket(&self.conn, &self.ctx.signer, t)?,
            StayRef::Plate(_) | StayRef::Card(_) => find_inside(&self.conn, &self.ctx, r)?,
        };
        if let Some((id, applied, _, _)) = self.replay(&key, "refund", stay.id, method, amount)? {
            return Ok(Applied {
                refused: None,
                outcome: Outcome::Refunded(Refunded {
                    payment: id,
                    stay: stay.id,
                    ticket: stay.ticket(),
                    method,
                    amount: applied,
                    paid: stay.paid.to_string(),
                    currency: self.ctx.config.lot.currency.to_string(),
                    replayed: true,
                }),
                events: vec![],
                effects: vec![],
            });
        }
        if amount > stay.paid {
            return Err(Error::conflict(format!(
                "cannot refund {amount}: ticket {} has {} paid in all",
                stay.ticket(),
                stay.paid
            )));
        }
        let shift = self.cash_shift(job, method)?;
        let paid_total = stay.paid - amount;
        let at_s = ts(job.at);
        // An exited stay keeps its record; one inside stays settled only if still covered.
        let keep_settled = !stay.inside()
            || paid_total
                >= crate::stays::stay_fee(&self.ctx, &stay, job.at)
                    .total
                    .amount;
        self.conn
            .prepare_cached("UPDATE stays SET paid = ?2, settled_at = CASE WHEN ?3 THEN settled_at ELSE NULL END WHERE id = ?1")?
            .execute(params![stay.id, paid_total.to_string(), keep_settled])?;
        self.conn
            .prepare_cached(
                "INSERT INTO payments (stay_id, idem_key, kind, method, amount, tendered, at, actor, note, shift_id) VALUES (?1, ?2, 'refund', ?3, ?4, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![stay.id, key, method.as_str(), amount.to_string(), at_s, job.actor.name, reason, shift])?;
        let payment = self.conn.last_insert_rowid();
        Ok(Applied {
            refused: None,
            outcome: Outcome::Refunded(Refunded {
                payment,
                stay: stay.id,
                ticket: stay.ticket(),
                method,
                amount: amount.to_string(),
                paid: paid_total.to_string(),
                currency: self.ctx.config.lot.currency.to_string(),
                replayed: false,
            }),
            events: vec![Event::PaymentRefunded {
                stay: stay.id,
                ticket: stay.ticket(),
                payment,
                method,
                amount: amount.to_string(),
                reason: reason.to_string(),
                key,
                paid_total: paid_total.to_string(),
            }],
            effects: vec![],
        })
    }

    fn lost_ticket(
        &mut self,
        at: DateTime<Utc>,
        plate: Option<&Plate>,
        class: VehicleClass,
    ) -> Result<Applied> {
        if let Some(p) = plate
            && let Some(stay) = crate::stays::stay_inside_by_plate(&self.conn, p)?
        {
            self.conn
                .prepare_cached("UPDATE stays SET lost = 1 WHERE id = ?1")?
                .execute([stay.id])?;
            let q = quote_stay(&self.ctx, &stay, at);
            return Ok(Applied {
                refused: None,
                outcome: Outcome::LostTicket(LostTicketOutcome {
                    found: true,
                    stay: stay.id,
                    ticket: stay.ticket(),
                    qr: self.ctx.signer.payload(stay.id as u32),
                    quote: q,
                }),
                events: vec![Event::LostTicketStayFound {
                    stay: stay.id,
                    ticket: stay.ticket(),
                    plate: p.to_string(),
                }],
                effects: vec![],
            });
        }
        let fee = self.ctx.tariffs.at(at).lost_ticket_fee;
        let at_s = ts(at);
        self.conn
            .prepare_cached(
                "INSERT INTO stays (plate, class, ev, accessible, entry_lane, entry_at, flat_fee, lost) VALUES (?1, ?2, 0, 0, NULL, ?3, ?4, 1)",
            )?
            .execute(params![plate.map(Plate::as_str), class.as_str(), at_s, fee.to_string()])?;
        let id = self.conn.last_insert_rowid();
        let stay = crate::stays::stay_by_id(&self.conn, id)?
            .ok_or_else(|| Error::storage("the lost-ticket stay vanished while it was written"))?;
        let q = quote_stay(&self.ctx, &stay, at);
        Ok(Applied {
            refused: None,
            outcome: Outcome::LostTicket(LostTicketOutcome {
                found: false,
                stay: id,
                ticket: stay.ticket(),
                qr: self.ctx.signer.payload(id as u32),
                quote: q,
            }),
            events: vec![Event::LostTicketFlatFee {
                stay: id,
                ticket: stay.ticket(),
                plate: plate.map(|p| p.to_string()),
                class,
                fee: fee.to_string(),
            }],
            effects: vec![],
        })
    }

    fn override_spot(
        &mut self,
        at: DateTime<Utc>,
        r: &StayRef,
        spot: &str,
        reason: &str,
    ) -> Result<Applied> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "an override needs a reason (--reason), for the audit trail",
            ));
        }
        let stay = find_inside(&self.conn, &self.ctx, r)?;
        let target = self.spot_named(spot)?;
        self.check_target_spot(target, stay.class, stay.accessible)?;
        let at_s = ts(at);
        self.conn
            .prepare_cached("UPDATE stays SET spot_id = ?2 WHERE id = ?1")?
            .execute(params![stay.id, spot])?;
        let mut effects: Vec<Effect> = self.leave_spot(&stay, &at_s)?.into_iter().collect();
        self.conn
            .prepare_cached(
                "INSERT INTO stay_spots (stay_id, spot_id, from_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![stay.id, spot, at_s])?;
        effects.push(Effect::Take(target));
        Ok(Applied {
            refused: None,
            outcome: Outcome::SpotOverridden(SpotOverridden {
                stay: stay.id,
                ticket: stay.ticket(),
                from: stay.spot.clone(),
                to: spot.to_string(),
            }),
            events: vec![Event::SpotOverridden {
                stay: stay.id,
                ticket: stay.ticket(),
                from: stay.spot,
                to: spot.to_string(),
                reason: reason.to_string(),
            }],
            effects,
        })
    }

    fn set_service(&mut self, spot: &str, in_service: bool, reason: &str) -> Result<Applied> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "give a reason (--reason), for the audit trail and the attendants",
            ));
        }
        let idx = self.spot_named(spot)?;
        let (was, occupied): (bool, bool) = self.conn.prepare_cached(
            "SELECT in_service, EXISTS (SELECT 1 FROM stays WHERE spot_id = ?1 AND exit_at IS NULL) FROM spots WHERE id = ?1",
        )?
        .query_row([spot], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if was == in_service {
            return Err(Error::conflict(format!(
                "spot {spot} is already {}",
                if in_service {
                    "in service"
                } else {
                    "out of service"
                }
            )));
        }
        self.conn
            .prepare_cached("UPDATE spots SET in_service = ?2, service_note = ?3 WHERE id = ?1")?
            .execute(params![spot, in_service, reason])?;
        let effect = match (in_service, occupied) {
            (true, true) => Effect::Take(idx),
            (true, false) => Effect::Release(idx),
            (false, _) => Effect::OutOfService(idx),
        };
        let event = if in_service {
            Event::SpotInService {
                spot: spot.to_string(),
                note: reason.to_string(),
            }
        } else {
            Event::SpotOutOfService {
                spot: spot.to_string(),
                reason: reason.to_string(),
            }
        };
        Ok(Applied {
            refused: None,
            outcome: Outcome::SpotService(SpotService {
                spot: spot.to_string(),
                in_service,
                occupied,
            }),
            events: vec![event],
            effects: vec![effect],
        })
    }
}

impl Writer {
    fn void_stay(&mut self, at: DateTime<Utc>, r: &StayRef, reason: &str) -> Result<Applied> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "a void needs a reason (--reason), for the audit trail",
            ));
        }
        let stay = find_inside(&self.conn, &self.ctx, r)?;
        if stay.paid > Decimal::ZERO {
            return Err(Error::conflict(format!(
                "ticket {} has {} paid; refund it first, then void",
                stay.ticket(),
                stay.paid
            )));
        }
        let effects = self.end_without_charge(at, &stay)?;
        Ok(Applied::new(
            recorded(
                "voided",
                Some(stay.id),
                format!("ticket {} voided: {}", stay.ticket(), reason.trim()),
            ),
            vec![Event::StayVoided {
                stay: stay.id,
                ticket: stay.ticket(),
                reason: reason.trim().to_string(),
            }],
            effects,
        ))
    }

    /// Ends a stay with nothing charged (void, cancelled entry): it leaves its spot.
    fn end_without_charge(&mut self, at: DateTime<Utc>, stay: &StayRow) -> Result<Vec<Effect>> {
        let at_s = ts(at.max(stay.entry_at));
        self.conn
            .prepare_cached("UPDATE stays SET exit_at = ?2, voided = 1 WHERE id = ?1")?
            .execute(params![stay.id, at_s])?;
        Ok(self.leave_spot(stay, &at_s)?.into_iter().collect())
    }

    fn cancel_entry(
        &mut self,
        at: DateTime<Utc>,
        r: &StayRef,
        lane: &str,
        reason: &str,
    ) -> Result<Applied> {
        let (_, lane_id) = self.lane(Some(lane), LaneKind::Entry)?;
        let stay = find_inside(&self.conn, &self.ctx, r)?;
        let minutes = (at - stay.entry_at).num_minutes();
        if stay.entry_lane.as_deref() != Some(lane_id.as_str())
            || minutes > CANCEL_ENTRY_MINUTES
            || stay.paid > Decimal::ZERO
        {
            return Err(Error::conflict(format!(
                "ticket {} cannot be cancelled by lane {lane_id}: only a stay that entered there in the last {CANCEL_ENTRY_MINUTES} minutes with nothing paid can be; a supervisor can void it",
                stay.ticket()
            )));
        }
        let effects = self.end_without_charge(at, &stay)?;
        Ok(Applied::new(
            recorded(
                "entry cancelled",
                Some(stay.id),
                format!(
                    "entry of ticket {} cancelled at lane {lane_id}: {}",
                    stay.ticket(),
                    reason.trim()
                ),
            ),
            vec![Event::EntryCancelled {
                stay: stay.id,
                ticket: stay.ticket(),
                plate: stay.plate.clone(),
                lane: lane_id,
                reason: reason.trim().to_string(),
            }],
            effects,
        ))
    }

    fn exit_owing(
        &mut self,
        at: DateTime<Utc>,
        r: &StayRef,
        lane: Option<&str>,
        reason: &str,
    ) -> Result<Applied> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "an exit owing needs the reason the money could not be collected",
            ));
        }
        self.exit(at, r, lane, Some(reason))
    }

    fn lane_report(&mut self, at: DateTime<Utc>, report: &LaneReport) -> Result<Applied> {
        let lane = &report.lane;
        if self.ctx.config.lane_index(lane).is_none() {
            return Err(Error::not_found(format!("there is no lane '{lane}'")));
        }
        let what = report.what.trim();
        if what.is_empty()
            || what.len() > 64
            || !what.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            return Err(Error::invalid(format!(
                "a lane report's kind is 1 to 64 lower-case letters and underscores, not '{what}'"
            )));
        }
        let mut events = vec![Event::LaneReported {
            lane: lane.clone(),
            what: what.to_string(),
            reason: report.reason.trim().to_string(),
            stay: report.stay,
            plate: report.plate.clone(),
            timing: report.timing.clone(),
        }];
        if report.alert {
            events.push(self.raise_alert(
                &format!("lane_{what}"),
                &format!("lane {lane}: {}", report.reason.trim()),
                report.stay,
                report.plate.as_deref(),
                Some(lane),
                at,
            )?);
        }
        Ok(Applied::new(
            recorded("lane report", None, format!("lane {lane}: {what}")),
            events,
            vec![],
        ))
    }

    fn open_gate(&mut self, lane: &str, reason: &str) -> Result<Applied> {
        if reason.trim().is_empty() {
            return Err(Error::invalid(
                "opening a gate by hand needs a reason (--reason), for the audit trail",
            ));
        }
        if self.ctx.config.lane_index(lane).is_none() {
            return Err(Error::not_found(format!("there is no lane '{lane}'")));
        }
        Ok(Applied::new(
            recorded(
                "gate opened",
                None,
                format!("gate of lane {lane} opened by hand: {}", reason.trim()),
            ),
            vec![Event::GateOpenedByHand {
                lane: lane.to_string(),
                reason: reason.trim().to_string(),
            }],
            vec![],
        ))
    }
}

fn require_supervisor(role: Role, what: &str) -> Result<()> {
    if role.is_supervisor() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Forbidden,
            format!(
                "only a supervisor or admin may {what} (acting role: {})",
                role.as_str()
            ),
        ))
    }
}
