//! The server process killed mid-stream and started again: a lot that resumes from the server's
//! head ends with every row stored exactly once and the chain intact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Journal, fresh_db, verified_rows};
use gatehouse_server::auth;
use gatehouse_sync::proto::{Head, JournalBatch};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(config: &std::path::Path) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_gatehouse-server"))
        .arg("--config")
        .arg(config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Server { child }
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let t0 = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the server did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lot_resuming_from_the_head_after_the_server_was_killed_stores_every_row_once() {
    let db = fresh_db().await;
    let admin = auth::new_token().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.path().join("server.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:{port}\"\ndatabase = \"{db}\"\nadmin_token_sha256 = \"{}\"\n",
            hex::encode(auth::token_sha256(&admin))
        ),
    )
    .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let server = start(&config);
    wait_healthy(&http, &base).await;
    let (_, created) = {
        let r = http
            .post(format!("{base}/v1/lots"))
            .bearer_auth(&admin)
            .json(&serde_json::json!({"id": "north", "name": "North"}))
            .send()
            .await
            .unwrap();
        (r.status(), r.json::<serde_json::Value>().await.unwrap())
    };
    let token = created["token"].as_str().unwrap().to_string();

    const TOTAL: usize = 20_000;
    let mut j = Journal::default();
    j.traffic(TOTAL);
    let journal = j.clone();

    // The lot: push batches of 250 from the server's head, re-reading it after any failure.
    let lot = {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        tokio::spawn(async move {
            let mut failures = 0;
            loop {
                let head = match http
                    .get(format!("{base}/v1/lots/north/journal/head"))
                    .bearer_auth(&token)
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => r.json::<Head>().await.unwrap(),
                    _ => {
                        failures += 1;
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let from = head.seq as usize;
                if from == TOTAL {
                    return failures;
                }
                let mut next = from;
                // Several batches per head read, like a lot streaming.
                while next < TOTAL {
                    let to = (next + 250).min(TOTAL);
                    let batch = JournalBatch {
                        events: journal.events[next..to].to_vec(),
                    };
                    match http
                        .post(format!("{base}/v1/lots/north/journal"))
                        .bearer_auth(&token)
                        .json(&batch)
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => {
                            let h: Head = r.json().await.unwrap();
                            assert_eq!(h.seq as usize, to);
                            next = to;
                        }
                        Ok(r) => panic!("refused: {}", r.text().await.unwrap()),
                        Err(_) => {
                            failures += 1;
                            break;
                        }
                    }
                }
            }
        })
    };

    // Kill the server (SIGKILL, mid-request most likely) once it has taken some rows, twice.
    let mut server = Some(server);
    for threshold in [3_000, 9_000] {
        let c = common::sql(&db).await;
        loop {
            let seq: i64 = c
                .query_one("SELECT seq FROM heads WHERE lot_id = 'north'", &[])
                .await
                .unwrap()
                .get(0);
            if seq >= threshold {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(server.take());
        tokio::time::sleep(Duration::from_millis(300)).await;
        server = Some(start(&config));
    }
    let failures = tokio::time::timeout(Duration::from_secs(120), lot)
        .await
        .expect("the lot did not catch up")
        .unwrap();
    assert!(
        failures >= 2,
        "the kills were noticed by the lot ({failures})"
    );
    let rows = verified_rows(&db, "north").await;
    assert_eq!(rows.len(), TOTAL);
    assert_eq!(rows, j.events);
    drop(server);
}
