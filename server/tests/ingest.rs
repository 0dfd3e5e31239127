//! Pushing a lot's journal: idempotent retries, gaps, forged rows, gzip, concurrent pushes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Journal, gzip, spawn_app, verified_rows};
use reqwest::StatusCode;
use serde_json::json;

async fn count(app: &common::App, lot: &str) -> i64 {
    app.sql()
        .await
        .query_one("SELECT count(*) FROM journal WHERE lot_id = $1", &[&lot])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_batch_pushed_twice_changes_nothing_and_an_overlapping_batch_adds_its_new_part() {
    let app = spawn_app().await;
    let token = app.create_lot("north").await;
    assert_eq!(app.head("north", &token).await, (0, "0".repeat(64)));

    let mut j = Journal::default();
    j.traffic(10);
    let (s, v) = app.push("north", &token, &j.rows(1, 6)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["seq"], 6);
    assert_eq!(v["hash"], j.events[5].hash);

    // The same batch again (a retry after a lost answer): same head, no new rows.
    let (s, v) = app.push("north", &token, &j.rows(1, 6)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["seq"], 6);
    assert_eq!(count(&app, "north").await, 6);

    // 4..10 overlaps the head: 4..6 are skipped, 7..10 taken.
    let (s, v) = app.push("north", &token, &j.rows(4, 10)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["seq"], 10);
    assert_eq!(v["hash"], j.events[9].hash);
    assert_eq!(count(&app, "north").await, 10);
    assert_eq!(
        app.head("north", &token).await,
        (10, j.events[9].hash.clone())
    );
    assert_eq!(verified_rows(&app.db, "north").await, j.events);

    // An empty batch answers the head.
    let (s, v) = app.push("north", &token, &[]).await;
    assert_eq!((s, v["seq"].as_i64()), (StatusCode::OK, Some(10)));
}

#[tokio::test]
async fn a_gap_is_refused_with_the_seq_the_server_expects() {
    let app = spawn_app().await;
    let token = app.create_lot("north").await;
    let mut j = Journal::default();
    j.traffic(8);
    app.push("north", &token, &j.rows(1, 3)).await;
    let (s, v) = app.push("north", &token, &j.rows(5, 8)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["kind"], "gap");
    assert_eq!(v["expected_seq"], 4);
    assert!(
        v["message"].as_str().unwrap().contains("send from seq 4"),
        "{v}"
    );
    assert_eq!(count(&app, "north").await, 3);
}

#[tokio::test]
async fn a_forged_row_is_refused_as_a_broken_link_naming_its_seq_and_nothing_is_inserted() {
    let app = spawn_app().await;
    let token = app.create_lot("north").await;
    let mut j = Journal::default();
    j.traffic(10);
    app.push("north", &token, &j.rows(1, 4)).await;

    // Rows 5..10 where row 8's payload was changed after hashing.
    let mut batch = j.rows(5, 10);
    batch[3].payload = batch[3].payload.replace("\"n\":7", "\"n\":70");
    let (s, v) = app.push("north", &token, &batch).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["kind"], "broken_link");
    assert_eq!(v["expected_seq"], 5);
    assert!(v["message"].as_str().unwrap().starts_with("row 8 "), "{v}");
    // Rows 5..7 were fine, yet the refused batch left nothing.
    assert_eq!(count(&app, "north").await, 4);
    assert_eq!(app.head("north", &token).await.0, 4);

    // A row the server holds, sent again changed: refused, naming it.
    let mut again = j.rows(2, 6);
    again[1].payload = again[1].payload.replace("\"n\":2", "\"n\":20");
    let (s, v) = app.push("north", &token, &again).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["kind"], "broken_link");
    assert!(
        v["message"].as_str().unwrap().starts_with("row 3 differs"),
        "{v}"
    );
    assert_eq!(count(&app, "north").await, 4);

    // A row that does not link to the head (another lot's chain, say).
    let mut other = Journal::default();
    for i in 0..6 {
        other.add("lane_reported", json!({"lane": "X9", "n": i}));
    }
    let (s, v) = app.push("north", &token, &other.rows(5, 6)).await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::CONFLICT, Some("broken_link"))
    );
    assert!(v["message"].as_str().unwrap().starts_with("row 5 "), "{v}");
    assert_eq!(count(&app, "north").await, 4);
}

#[tokio::test]
async fn malformed_batches_are_refused_as_invalid_saying_what_is_wrong() {
    let app = spawn_app().await;
    let token = app.create_lot("north").await;
    let mut j = Journal::default();
    j.traffic(5);
    let batch = vec![j.events[0].clone(), j.events[2].clone()];
    let (s, v) = app.push("north", &token, &batch).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["kind"], "invalid");
    assert!(
        v["message"].as_str().unwrap().contains("consecutive"),
        "{v}"
    );

    let mut bad = j.rows(1, 1);
    bad[0].hash = "xyz".into();
    let (s, v) = app.push("north", &token, &bad).await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid"))
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("hash must be 64 hex"),
        "{v}"
    );

    let (s, v) = app
        .post("/v1/lots/north/journal", &token, &json!({"rows": []}))
        .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid"))
    );
    assert!(v["message"].as_str().unwrap().contains("events"), "{v}");

    let (s, v) = app.push("nowhere", &app.admin, &j.rows(1, 1)).await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    assert_eq!(count(&app, "north").await, 0);
}

#[tokio::test]
async fn a_gzip_request_body_is_accepted_and_responses_are_compressed() {
    let app = spawn_app().await;
    let token = app.create_lot("north").await;
    let mut j = Journal::default();
    j.traffic(300);
    let body = serde_json::to_vec(&json!({ "events": j.events })).unwrap();
    let zipped = gzip(&body);
    assert!(zipped.len() * 5 < body.len());
    let resp = app
        .http
        .post(format!("{}/v1/lots/north/journal", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(zipped)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let head: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(head["seq"], 300);
    assert_eq!(verified_rows(&app.db, "north").await.len(), 300);

    // A client that accepts gzip gets a compressed answer.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let resp = raw
        .get(format!("{}/v1/lots/north/journal?limit=200", app.base))
        .bearer_auth(&app.admin)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn concurrent_pushes_of_one_lot_serialise_and_store_each_row_once() {
    let app = spawn_app().await;
    let token = app.create_lot("north").await;
    let mut j = Journal::default();
    j.traffic(400);
    let (r1, r2, r3, r4) = (
        j.rows(1, 100),
        j.rows(1, 200),
        j.rows(1, 300),
        j.rows(1, 400),
    );
    let (a, b, c, d) = tokio::join!(
        app.push("north", &token, &r1),
        app.push("north", &token, &r2),
        app.push("north", &token, &r3),
        app.push("north", &token, &r4),
    );
    for (s, v) in [a, b, c, d] {
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    assert_eq!(verified_rows(&app.db, "north").await.len(), 400);
    assert_eq!(app.head("north", &token).await.0, 400);
}

#[tokio::test]
async fn migrations_apply_once_and_an_edited_one_is_refused() {
    let app = spawn_app().await;
    // Connecting again applies nothing.
    let pool = gatehouse_server::db::pool(&app.db, 2).unwrap();
    assert!(
        gatehouse_server::db::migrate(&pool)
            .await
            .unwrap()
            .is_empty()
    );
    app.sql()
        .await
        .execute(
            "UPDATE schema_migrations SET sha256 = 'x' WHERE name = '0001_init'",
            &[],
        )
        .await
        .unwrap();
    let e = gatehouse_server::db::migrate(&pool).await.unwrap_err();
    assert!(
        e.to_string()
            .starts_with("migration 0001_init was changed after it was applied"),
        "{e}"
    );
}
