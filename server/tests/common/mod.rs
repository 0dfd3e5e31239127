//! The test harness: one throwaway PostgreSQL cluster per test binary, a fresh database per test,
//! the server on a free port, and a client that speaks to it like a lot or an admin would.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use gatehouse_server::app::{self, AppState};
use gatehouse_server::auth;
use gatehouse_server::config::Config;
use gatehouse_server::pgtest::{Cluster, Options};
use gatehouse_sync::proto::{JournalBatch, WireEvent};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static DB: AtomicU32 = AtomicU32::new(0);

pub fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        Cluster::start(Options { durable: false }).unwrap_or_else(|e| panic!("{e}"))
    })
}

/// A fresh, empty database on the binary's cluster.
pub async fn fresh_db() -> String {
    let name = format!("t_{}", DB.fetch_add(1, Ordering::Relaxed));
    cluster().create_database(&name).await.unwrap()
}

pub struct App {
    pub base: String,
    pub admin: String,
    pub db: String,
    pub http: reqwest::Client,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

pub fn config(db: &str, admin: &str) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database: db.to_string(),
        admin_token_sha256: auth::token_sha256(admin),
        pool_size: 8,
        tls: None,
    }
}

/// The server on a fresh database, in this test's runtime.
pub async fn spawn_app() -> App {
    let db = fresh_db().await;
    spawn_app_on(&db).await
}

pub async fn spawn_app_on(db: &str) -> App {
    let admin = auth::new_token().unwrap();
    let state = gatehouse_server::connect(&config(db, &admin))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let router = app::router(state.clone());
    tokio::spawn(async move {
        app::serve(listener, router, None, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    App {
        base: format!("http://{addr}"),
        admin,
        db: db.to_string(),
        http: reqwest::Client::new(),
        state,
        stop: Some(tx),
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

impl App {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
        };
        (status, v)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    /// Creates a lot; returns its token.
    pub async fn create_lot(&self, id: &str) -> String {
        let (s, v) = self
            .post(
                "/v1/lots",
                &self.admin,
                &json!({"id": id, "name": format!("Lot {id}"), "timezone": "Europe/Berlin"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    pub async fn push(&self, lot: &str, token: &str, events: &[WireEvent]) -> (StatusCode, Value) {
        let body = serde_json::to_value(JournalBatch {
            events: events.to_vec(),
        })
        .unwrap();
        self.post(&format!("/v1/lots/{lot}/journal"), token, &body)
            .await
    }

    pub async fn head(&self, lot: &str, token: &str) -> (i64, String) {
        let (s, v) = self
            .get(&format!("/v1/lots/{lot}/journal/head"), token)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        (
            v["seq"].as_i64().unwrap(),
            v["hash"].as_str().unwrap().into(),
        )
    }

    /// A direct connection to the server's database, to check what is stored.
    pub async fn sql(&self) -> tokio_postgres::Client {
        sql(&self.db).await
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn sql(db: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(db, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// Every stored row of a lot, in seq order, with the chain checked from genesis. Panics when a
/// seq is missing or repeated or a link is broken.
pub async fn verified_rows(db: &str, lot: &str) -> Vec<WireEvent> {
    let c = sql(db).await;
    let rows = c
        .query(
            "SELECT seq, at, actor, role, kind, payload, hash FROM journal WHERE lot_id = $1 ORDER BY seq",
            &[&lot],
        )
        .await
        .unwrap();
    let mut prev = [0u8; 32];
    let mut out = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let ev = gatehouse_server::journal::wire_event(r);
        assert_eq!(ev.seq, i as i64 + 1, "rows must be 1, 2, 3… exactly once");
        assert!(ev.links_to(&prev), "row {} does not link", ev.seq);
        prev = ev.hash_bytes().unwrap();
        out.push(ev);
    }
    out
}

/// A lot's journal as the lot would write it: rows chained from genesis.
#[derive(Default, Clone)]
pub struct Journal {
    pub events: Vec<WireEvent>,
}

impl Journal {
    pub fn add(&mut self, kind: &str, payload: Value) -> WireEvent {
        let seq = self.events.len() as i64 + 1;
        // Minutes past 2026-11-18 08:00 UTC.
        let at = (chrono::DateTime::parse_from_rfc3339("2026-11-18T08:00:00Z").unwrap()
            + chrono::Duration::seconds(seq * 7))
        .with_timezone(&chrono::Utc)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.add_at(kind, payload, &at)
    }

    pub fn add_at(&mut self, kind: &str, payload: Value, at: &str) -> WireEvent {
        let seq = self.events.len() as i64 + 1;
        let prev = self
            .events
            .last()
            .map_or([0u8; 32], |e| e.hash_bytes().unwrap());
        let mut p = payload;
        p["kind"] = json!(kind);
        let payload = serde_json::to_string(&p).unwrap();
        let h =
            gatehouse_core::journal::link_hash(&prev, seq, at, "lane-E1", "system", kind, &payload);
        let ev = WireEvent {
            seq,
            at: at.to_string(),
            actor: "lane-E1".into(),
            role: "system".into(),
            kind: kind.into(),
            payload,
            hash: hex::encode(h),
        };
        self.events.push(ev.clone());
        ev
    }

    /// `n` rows of ordinary traffic.
    pub fn traffic(&mut self, n: usize) {
        for i in 0..n {
            self.add(
                "lane_reported",
                json!({"lane": "E1", "what": "pass", "n": i}),
            );
        }
    }

    /// Rows seq `from..=to`.
    pub fn rows(&self, from: i64, to: i64) -> Vec<WireEvent> {
        self.events[(from - 1) as usize..to as usize].to_vec()
    }
}
