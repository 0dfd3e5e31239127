//! The engine: typed commands in, journal events out.
//!
//! One writer thread owns the write connection. Callers send commands over a channel and wait for
//! the result; the writer drains what is queued and applies it as one group: one SQLite
//! transaction, a savepoint per command (a refused command changes nothing), one durable commit
//! for the whole group, its WAL synced by the durability thread. A command is acknowledged only
//! after that sync; then its journal records are broadcast. The writer knows no feature: each
//! command's handler lives with its feature and works in a `Tx` (tx.rs).

use crate::allocation::Allocator;
use crate::command as req;
use crate::config::{LaneKind, LotConfig};
use crate::domain::Actor;
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::journal::{Head, JournalRecord};
use crate::personal;
use crate::stays::LotContext;
use crate::store::{self, ts};
use crate::tx::{Applied, Effect, Tx};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use tokio::sync::{broadcast, oneshot};

pub use crate::command::{Command, LaneReport, Outcome};

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

pub(crate) struct Writer {
    conn: Connection,
    ctx: Arc<LotContext>,
    alloc: Allocator,
    head: Head,
    events: broadcast::Sender<Arc<JournalRecord>>,
    /// Capacity that booked reservations hold.
    book: crate::reservations::ReservationBook,
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
            let times = self.times.clone();
            match self.apply_one(job.at, &actor, |tx| apply(tx, &job, &times)) {
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
        let (result, records) = self.apply_one(at, &engine, |tx| tx.no_shows(at))?;
        result.map(|_| records)
    }

    /// Applies one change in a savepoint. `Err`: refused, nothing written. `Ok((result, records))`:
    /// records to commit; `result` is what the caller hears after the commit (a refusal can
    /// still journal an alert).
    fn apply_one(
        &mut self,
        at: DateTime<Utc>,
        actor: &Actor,
        f: impl FnOnce(&mut Tx<'_>) -> Result<Applied>,
    ) -> Result<(Result<Outcome>, Vec<JournalRecord>)> {
        let saving = std::time::Instant::now();
        self.conn.execute_batch("SAVEPOINT cmd")?;
        add_since(&self.times.apply_ns, saving);
        let head_before = self.head;
        let mut tx = Tx {
            conn: &self.conn,
            ctx: &self.ctx,
            alloc: &self.alloc,
            book: &mut self.book,
            users_exist: self.users_exist,
        };
        let handled = guarded(|| f(&mut tx));
        let result = handled.and_then(|applied| {
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
}

/// Runs a handler; a panic in it (a bug) becomes a refusal of that one command, which is rolled
/// back like any refusal, so that the writer, and the lot's other commands, carry on.
fn guarded(handler: impl FnOnce() -> Result<Applied>) -> Result<Applied> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(handler)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".into());
        Err(Error::storage(format!(
            "gatehouse hit an internal error applying this command ({what}); nothing changed and the lot carries on; please report it"
        )))
    })
}

/// Checks a job's permission and session, then hands it to its feature's handler.
fn apply(tx: &mut Tx<'_>, job: &Job, times: &TimeCounters) -> Result<Applied> {
    let validating = std::time::Instant::now();
    let checked = tx.validate(job);
    add_since(&times.validate_ns, validating);
    checked?;
    let applying = std::time::Instant::now();
    let applied = job.command.handle(tx, job);
    add_since(&times.apply_ns, applying);
    applied
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A handler that panics (a bug) is refused with a clear message instead of stopping the
    /// writer thread.
    #[test]
    fn a_panicking_handler_is_one_refused_command_not_a_stopped_writer() {
        let e = match guarded(|| panic!("attempt to add with overflow")) {
            Err(e) => e,
            Ok(_) => panic!("a panicking handler was applied"),
        };
        assert_eq!(e.kind, ErrorKind::Storage);
        assert!(
            e.message.contains("attempt to add with overflow"),
            "{}",
            e.message
        );
        assert!(e.message.contains("nothing changed"), "{}", e.message);
    }
}
