#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Two lots and the shared server, end to end: a real PostgreSQL cluster, the real server on a
//! socket, each lot on its own SQLite file pushing through the sync client. One lot's connection is
//! cut mid-batch and the server restarts mid-stream; both catch up with nothing lost or doubled.
//! An online reservation made on the server is accepted by one lot and refused by the full one.

use chrono::{DateTime, Duration as Span, Utc};
use gatehouse_core::command as req;
use gatehouse_core::config::DEMO_TOML;
use gatehouse_core::journal::Head as LotHead;
use gatehouse_core::{
    Actor, Command, Engine, EngineOptions, Lot, LotConfig, Plate, StayRef, VehicleClass,
};
use gatehouse_server::config::Config;
use gatehouse_server::pgtest::{Cluster, Options};
use gatehouse_sync::client::{SyncClient, SyncErrorKind, SyncSettings};
use gatehouse_sync::proto::{Head, JournalBatch, WireEvent};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

const ADMIN: &str = "admin-token-for-the-test";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-18T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// A lot on its own SQLite file, initialised from `toml`, with its engine running.
struct TestLot {
    _dir: tempfile::TempDir,
    path: PathBuf,
    engine: Engine,
}

impl TestLot {
    fn new(toml: &str) -> TestLot {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lot.db");
        let cfg = LotConfig::from_toml_str("lot.toml", toml).unwrap();
        Engine::init(&path, &cfg, t0(), &Actor::system("init")).unwrap();
        let engine = Engine::open(&path, EngineOptions::default()).unwrap();
        TestLot {
            _dir: dir,
            path,
            engine,
        }
    }

    /// `n` quick stops (in and out inside the free minutes), from `t0` on.
    async fn traffic(&self, n: usize) {
        let lane = Actor::system("lane");
        for i in 0..n {
            let at = t0() + Span::seconds(i as i64 * 20);
            let plate = Plate::parse(&format!("Q{i:05}")).unwrap();
            self.engine
                .submit(
                    &lane,
                    at,
                    Command::entry(Some(plate.clone()), VehicleClass::Standard),
                )
                .await
                .unwrap();
            self.engine
                .submit(
                    &lane,
                    at + Span::minutes(5),
                    Command::Exit(req::Exit {
                        stay: StayRef::Plate(plate),
                        lane: None,
                    }),
                )
                .await
                .unwrap();
        }
    }

    fn head(&self) -> LotHead {
        LotHead::load(Lot::open(&self.path).unwrap().connection()).unwrap()
    }

    fn client(&self, server: &str, lot: &str, token: &str) -> SyncClient {
        SyncClient::new(SyncSettings {
            server: server.into(),
            lot: lot.into(),
            token: token.into(),
            ca_cert: None,
        })
        .unwrap()
    }

    async fn sync(&self, client: &SyncClient) -> gatehouse_sync::client::SyncReport {
        client
            .sync_once(&self.engine, &self.path, || t0() + Span::hours(4))
            .await
            .unwrap()
    }
}

/// The server, running in this process on a fixed address; `kill` drops it and every connection
/// at once (mid-request too), `start` brings it back on the same address and database.
struct Server {
    config: Config,
    task: Option<JoinHandle<()>>,
}

impl Server {
    /// A server on a fresh database of its own throwaway PostgreSQL cluster (kept alive by the
    /// returned `Cluster`).
    async fn on_a_fresh_cluster() -> (Cluster, Server) {
        let cluster = Cluster::start(Options { durable: false }).unwrap();
        let database = cluster.create_database("gatehouse").await.unwrap();
        let server = Server::start(Config {
            listen: free_addr(),
            database,
            admin_token_sha256: Sha256::digest(ADMIN.as_bytes()).into(),
            pool_size: 4,
            tls: None,
        })
        .await;
        (cluster, server)
    }

    fn base(&self) -> String {
        format!("http://{}", self.config.listen)
    }

    async fn start(config: Config) -> Server {
        let mut s = Server { config, task: None };
        s.restart().await;
        s
    }

    async fn restart(&mut self) {
        let config = self.config.clone();
        self.task = Some(tokio::spawn(async move {
            gatehouse_server::run(&config, std::future::pending())
                .await
                .unwrap();
        }));
        let url = format!("http://{}/healthz", self.config.listen);
        for _ in 0..200 {
            if reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the server did not come up at {url}");
    }

    async fn kill(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A TCP relay to `to`. Its first connection stops forwarding after `limit` bytes from the client
/// (in the middle of a request), waits for `release`, then is cut; later connections pass
/// everything.
async fn relay(to: SocketAddr, limit: usize, release: Arc<Notify>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let conns = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let first = conns.fetch_add(1, Ordering::SeqCst) == 0;
            let release = release.clone();
            tokio::spawn(async move {
                let Ok(mut server) = TcpStream::connect(to).await else {
                    return;
                };
                if !first {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    return;
                }
                let (mut cr, mut cw) = client.split();
                let (mut sr, mut sw) = server.split();
                let up = async {
                    let mut sent = 0;
                    let mut buf = vec![0u8; 4096];
                    while sent < limit {
                        let want = buf.len().min(limit - sent);
                        let n = match cr.read(&mut buf[..want]).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if sw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                        sent += n;
                    }
                    release.notified().await;
                };
                let down = tokio::io::copy(&mut sr, &mut cw);
                // Whichever ends first (the cut), both sides are dropped.
                tokio::select! {
                    _ = up => {}
                    _ = down => {}
                }
            });
        }
    });
    addr
}

async fn admin(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut r = reqwest::Client::new()
        .request(method, url)
        .bearer_auth(ADMIN);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn create_lot(base: &str, id: &str) -> String {
    let (status, v) = admin(
        reqwest::Method::POST,
        format!("{base}/v1/lots"),
        Some(json!({"id": id, "name": format!("Car park {id}")})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    v["token"].as_str().unwrap().to_string()
}

async fn server_head(base: &str, lot: &str) -> Head {
    let (status, v) = admin(
        reqwest::Method::GET,
        format!("{base}/v1/lots/{lot}/journal/head"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    serde_json::from_value(v).unwrap()
}

/// The server holds exactly the lot's journal: the same last seq and the same last hash (which
/// covers every row before it, as the server checked each link on the way in).
async fn assert_server_holds(base: &str, lot: &str, local: &TestLot) {
    let head = server_head(base, lot).await;
    let mine = local.head();
    assert_eq!(head.seq, mine.seq, "{lot}: rows acknowledged");
    assert_eq!(head.hash, hex::encode(mine.hash), "{lot}: the last hash");
}

fn one_spot_lot() -> String {
    let (cut, end) = (
        DEMO_TOML.find("# ---- P0, ground floor").unwrap(),
        DEMO_TOML.find("# ---- Day-to-day rules").unwrap(),
    );
    let one_spot = "[[spots]]\nlevel = \"P0\"\nzone = \"A\"\ncount = 1\nsize = \"standard\"\nx = 10\ny = 2\n\n";
    format!("{}{one_spot}{}", &DEMO_TOML[..cut], &DEMO_TOML[end..])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_lots_catch_up_through_a_cut_connection_and_a_server_restart_and_each_decides_an_online_booking()
 {
    let (_cluster, mut server) = Server::on_a_fresh_cluster().await;
    let (listen, base) = (server.config.listen, server.base());
    let north_token = create_lot(&base, "north").await;
    let south_token = create_lot(&base, "south").await;

    // North: the demo lot after a busy morning (several batches of journal).
    let north = TestLot::new(DEMO_TOML);
    north.traffic(900).await;
    // South: one spot, taken.
    let south = TestLot::new(&one_spot_lot());
    south.traffic(700).await;
    south
        .engine
        .submit(
            &Actor::system("lane"),
            t0() + Span::hours(3),
            Command::entry(
                Some(Plate::parse("FULL001").unwrap()),
                VehicleClass::Standard,
            ),
        )
        .await
        .unwrap();
    assert!(north.head().seq > 1500 && south.head().seq > 500);

    // South's connection is cut in the middle of its second batch: its first batch is
    // acknowledged whole, nothing of the second is kept.
    let cut_now = Arc::new(Notify::new());
    cut_now.notify_one();
    let to_south = relay(listen, 40_000, cut_now).await;
    let cut = south.client(&format!("http://{to_south}"), "south", &south_token);
    let e = cut
        .sync_once(&south.engine, &south.path, || t0() + Span::hours(4))
        .await
        .unwrap_err();
    assert_eq!(e.kind, SyncErrorKind::Unreachable, "{e}");
    let after_cut = server_head(&base, "south").await.seq;
    eprintln!(
        "south: {after_cut} of {} rows acknowledged when the connection was cut",
        south.head().seq
    );
    assert!(
        after_cut % 500 == 0 && after_cut < south.head().seq,
        "acknowledged {after_cut}: whole batches only"
    );

    // North's push stalls in the middle of a batch, the server is killed and comes back, and
    // then the stalled connection drops.
    let stalled = Arc::new(Notify::new());
    let to_north = relay(listen, 40_000, stalled.clone()).await;
    let pushing = {
        let path = north.path.clone();
        let client = north.client(&format!("http://{to_north}"), "north", &north_token);
        tokio::spawn(async move {
            let mut report = Default::default();
            client.push(&path, &mut report).await
        })
    };
    let mut at_kill = 0;
    for _ in 0..500 {
        at_kill = server_head(&base, "north").await.seq;
        if at_kill > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    server.kill().await;
    server.restart().await;
    stalled.notify_one();
    let e = pushing.await.unwrap().unwrap_err();
    assert_eq!(e.kind, SyncErrorKind::Unreachable, "{e}");
    let after_restart = server_head(&base, "north").await.seq;
    eprintln!(
        "north: {after_restart} of {} rows held after the restart; the push said: {e}",
        north.head().seq
    );
    assert!(at_kill > 0 && after_restart % 500 == 0 && after_restart < north.head().seq);

    // Both lots resume from the server's head, at once.
    let north_client = north.client(&base, "north", &north_token);
    let south_client = south.client(&base, "south", &south_token);
    let (n, s) = tokio::join!(north.sync(&north_client), south.sync(&south_client));
    assert!(n.acked == north.head().seq && s.acked == south.head().seq);
    assert_server_holds(&base, "north", &north).await;
    assert_server_holds(&base, "south", &south).await;

    // A retried batch (the first 500 rows again) changes nothing.
    let rows: Vec<WireEvent> = Lot::open(&north.path)
        .unwrap()
        .journal(1, 500)
        .unwrap()
        .iter()
        .map(WireEvent::from_record)
        .collect();
    let r = reqwest::Client::new()
        .post(format!("{base}/v1/lots/north/journal"))
        .bearer_auth(&north_token)
        .json(&JournalBatch { events: rows })
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_server_holds(&base, "north", &north).await;

    // The same online booking for both lots: north has room, south is full.
    let window = json!({
        "kind": "reserve", "plate": "WEB1234", "class": "standard",
        "start": (t0() + Span::hours(6)).to_rfc3339(), "end": (t0() + Span::hours(8)).to_rfc3339(),
        "holder": "online"
    });
    let mut ids = Vec::new();
    for lot in ["north", "south"] {
        let (status, v) = admin(
            reqwest::Method::POST,
            format!("{base}/v1/lots/{lot}/orders"),
            Some(window.clone()),
        )
        .await;
        assert_eq!(status, 201, "{v}");
        assert_eq!(v["status"], "pending");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let (n, s) = tokio::join!(north.sync(&north_client), south.sync(&south_client));
    assert_eq!((n.orders_accepted, n.orders_refused), (1, 0));
    assert_eq!((s.orders_accepted, s.orders_refused), (0, 1));
    let (_, accepted) = admin(
        reqwest::Method::GET,
        format!("{base}/v1/orders/{}", ids[0]),
        None,
    )
    .await;
    assert_eq!(accepted["status"], "accepted", "{accepted}");
    assert!(
        accepted["reservation"]
            .as_str()
            .is_some_and(|c| c.starts_with('R')),
        "{accepted}"
    );
    let (_, refused) = admin(
        reqwest::Method::GET,
        format!("{base}/v1/orders/{}", ids[1]),
        None,
    )
    .await;
    assert_eq!(refused["status"], "refused", "{refused}");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap_or("")
            .contains("capacity"),
        "{refused}"
    );
    // Applied once: a lot restarted (a new client, the engine reopened) applies nothing again.
    drop(north_client);
    let again = north
        .sync(&north.client(&base, "north", &north_token))
        .await;
    assert_eq!((again.orders_accepted, again.orders_refused), (0, 0));
    assert_server_holds(&base, "north", &north).await;
    assert_server_holds(&base, "south", &south).await;
    server.kill().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permit_issued_and_revoked_and_a_tariff_published_on_the_server_reach_the_lots() {
    let (_cluster, mut server) = Server::on_a_fresh_cluster().await;
    let base = server.base();
    let mut lots = Vec::new();
    for id in ["north", "south"] {
        let token = create_lot(&base, id).await;
        let lot = TestLot::new(DEMO_TOML);
        let client = lot.client(&base, id, &token);
        lots.push((id, lot, client));
    }

    // A season ticket sold online for north; a new tariff for every lot; a stolen plate for south.
    let (status, issued) = admin(
        reqwest::Method::POST,
        format!("{base}/v1/lots/north/orders"),
        Some(json!({
            "kind": "issue_permit", "permit": "monthly", "holder": "Online customer",
            "plates": ["GH4821"], "valid_from": "2026-11-18T00:00:00Z",
            "valid_to": "2026-12-18T00:00:00Z"
        })),
    )
    .await;
    assert_eq!(status, 201, "{issued}");
    let tariff = DEMO_TOML[DEMO_TOML.find("[tariff]").unwrap()..].replace("\"3.00\"", "\"3.50\"");
    let (status, published) = admin(
        reqwest::Method::POST,
        format!("{base}/v1/tariffs"),
        Some(json!({"toml": tariff, "effective_from": "2026-11-19T00:00:00Z", "note": "winter"})),
    )
    .await;
    assert_eq!(status, 201, "{published}");
    assert_eq!(published.as_array().unwrap().len(), 2, "{published}");
    let (status, _) = admin(
        reqwest::Method::POST,
        format!("{base}/v1/lots/south/orders"),
        Some(json!({"kind": "watch", "plate": "XJ2905", "action": "refuse", "note": "stolen"})),
    )
    .await;
    assert_eq!(status, 201);
    // A permit for a lot that does not exist, and a malformed one, are refused by the server.
    let (status, v) = admin(
        reqwest::Method::POST,
        format!("{base}/v1/lots/north/orders"),
        Some(json!({
            "kind": "issue_permit", "permit": "weekly", "holder": "x", "plates": ["GH4821"],
            "valid_from": "2026-11-18T00:00:00Z", "valid_to": "2026-12-18T00:00:00Z"
        })),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert!(v["message"].as_str().unwrap().contains("weekly"), "{v}");

    for (_, lot, client) in &lots {
        lot.sync(client).await;
    }
    let (_, permits) = admin(reqwest::Method::GET, format!("{base}/v1/permits"), None).await;
    let permits = permits.as_array().unwrap();
    assert_eq!(permits.len(), 1);
    assert_eq!(permits[0]["lot"], "north");
    assert_eq!(permits[0]["status"], "accepted", "{permits:?}");
    for p in published.as_array().unwrap() {
        let (_, o) = admin(
            reqwest::Method::GET,
            format!("{base}/v1/orders/{}", p["id"].as_str().unwrap()),
            None,
        )
        .await;
        assert_eq!(o["status"], "accepted", "{o}");
    }
    // Each lot holds what the server ordered: north the permit, both the tariff, south the
    // watched plate.
    let kinds = |lot: &TestLot| -> Vec<String> {
        Lot::open(&lot.path)
            .unwrap()
            .journal(1, 1000)
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect()
    };
    let (north, south) = (&lots[0].1, &lots[1].1);
    assert!(kinds(north).contains(&"permit_issued".to_string()));
    assert!(kinds(north).contains(&"tariff_published".to_string()));
    assert!(kinds(south).contains(&"tariff_published".to_string()));
    let refused = south
        .engine
        .submit(
            &Actor::system("lane"),
            t0(),
            Command::entry(
                Some(Plate::parse("XJ2905").unwrap()),
                VehicleClass::Standard,
            ),
        )
        .await;
    assert!(refused.is_err(), "a watched plate is refused at south");

    // Revoked on the server: north's permit is revoked at the lot.
    let (status, v) = admin(
        reqwest::Method::POST,
        format!("{base}/v1/lots/north/orders"),
        Some(json!({"kind": "revoke_permit", "order": issued["id"], "reason": "refunded"})),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let r = north.sync(&lots[0].2).await;
    assert_eq!((r.orders_accepted, r.orders_refused), (1, 0));
    assert!(kinds(north).contains(&"permit_revoked".to_string()));
    // South's refusal raised an alert: it goes up too.
    south.sync(&lots[1].2).await;
    assert_server_holds(&base, "north", north).await;
    assert_server_holds(&base, "south", south).await;
    server.kill().await;
}
