//! Tokens and who may do what; orders from the admin to a lot and back; the overview; search.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Journal, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn reserve() -> Value {
    json!({"kind": "reserve", "plate": "GH4821", "class": "standard", "ev": true,
           "start": "2026-11-18T10:00:00Z", "end": "2026-11-18T12:00:00Z", "holder": "web"})
}

#[tokio::test]
async fn a_lots_token_cannot_touch_another_lot_nor_admin_routes_and_no_token_is_unauthorized() {
    let app = spawn_app().await;
    let north = app.create_lot("north").await;
    let _south = app.create_lot("south").await;
    let (_, order) = app
        .post("/v1/lots/south/orders", &app.admin, &reserve())
        .await;
    let order_id = order["id"].as_str().unwrap();
    let mut j = Journal::default();
    j.traffic(2);
    let batch = json!({ "events": j.events });

    // Every lot route, on the other lot.
    let lot_routes = [
        (Method::POST, "/v1/lots/south/journal", Some(batch.clone())),
        (Method::GET, "/v1/lots/south/journal/head", None),
        (Method::GET, "/v1/lots/south/orders?after=0", None),
    ];
    for (m, path, body) in &lot_routes {
        let (s, v) = app.send(m.clone(), path, Some(&north), body.as_ref()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {path}: {v}");
        assert_eq!(v["kind"], "forbidden");
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("may not act on lot 'south'"),
            "{v}"
        );
    }
    // The caller is checked before the body is read.
    let (s, v) = app
        .post("/v1/lots/south/journal", &north, &json!({"not": "a batch"}))
        .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    // Every admin route, even on its own lot.
    let admin_routes = [
        (
            Method::POST,
            "/v1/lots".to_string(),
            Some(json!({"id": "x", "name": "X"})),
        ),
        (Method::GET, "/v1/overview".to_string(), None),
        (
            Method::POST,
            "/v1/lots/north/orders".to_string(),
            Some(reserve()),
        ),
        (Method::GET, format!("/v1/orders/{order_id}"), None),
        (Method::GET, "/v1/permits".to_string(), None),
        (
            Method::POST,
            "/v1/tariffs".to_string(),
            Some(json!({"toml": "[tariff]\nfree_minutes = 10\n"})),
        ),
        (
            Method::GET,
            "/v1/lots/north/journal?limit=5".to_string(),
            None,
        ),
    ];
    for (m, path, body) in &admin_routes {
        let (s, v) = app.send(m.clone(), path, Some(&north), body.as_ref()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{m} {path}: {v}");
        assert_eq!(v["kind"], "forbidden");
        assert!(
            v["message"].as_str().unwrap().contains("admin token"),
            "{v}"
        );
    }
    // No token, an unknown token, a malformed header: 401 everywhere.
    for (m, path, body) in lot_routes.iter().chain(
        admin_routes
            .iter()
            .map(|(m, p, b)| (m.clone(), p.as_str(), b.clone()))
            .collect::<Vec<_>>()
            .iter(),
    ) {
        let (s, v) = app.send(m.clone(), path, None, body.as_ref()).await;
        assert_eq!(
            (s, v["kind"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized")),
            "{path}"
        );
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("Authorization: Bearer"),
            "{v}"
        );
        let (s, v) = app
            .send(m.clone(), path, Some(&"ab".repeat(32)), body.as_ref())
            .await;
        assert_eq!(
            (s, v["kind"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized")),
            "{path}"
        );
    }
    // Nothing reached lot south.
    assert_eq!(app.head("south", &app.admin).await.0, 0);
    // Its own lot, and the admin on any lot, are fine.
    let (s, _) = app.push("north", &north, &j.events).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.push("south", &app.admin, &j.events).await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = app.get("/v1/lots/north/orders?after=0", &north).await;
    assert_eq!((s, v), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn lots_are_created_once_with_a_token_shown_once() {
    let app = spawn_app().await;
    let token = app.create_lot("north").await;
    assert_eq!(token.len(), 64);
    let stored: Vec<u8> = app
        .sql()
        .await
        .query_one("SELECT token_sha256 FROM lots WHERE lot_id = 'north'", &[])
        .await
        .unwrap()
        .get(0);
    assert_ne!(hex::encode(&stored), token, "only the hash is stored");
    let (s, v) = app
        .post(
            "/v1/lots",
            &app.admin,
            &json!({"id": "north", "name": "Again"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        v["message"].as_str().unwrap().contains("already exists"),
        "{v}"
    );
    let (s, v) = app
        .post(
            "/v1/lots",
            &app.admin,
            &json!({"id": "Bad Id", "name": "X"}),
        )
        .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid"))
    );
    let (s, v) = app
        .post(
            "/v1/lots",
            &app.admin,
            &json!({"id": "east", "name": "X", "timezone": "Europe/Atlantis"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("not an IANA timezone"),
        "{v}"
    );
    let (s, v) = app.get("/v1/nothing", &app.admin).await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = app
        .send(Method::DELETE, "/v1/lots", Some(&app.admin), None)
        .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("invalid"))
    );
    let (s, v) = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!((s, v), (StatusCode::OK, json!({"status": "ok"})));
}

#[tokio::test]
async fn order_applied_rows_decide_the_lots_orders() {
    let app = spawn_app().await;
    let north = app.create_lot("north").await;
    let south = app.create_lot("south").await;

    let (s, a) = app
        .post("/v1/lots/north/orders", &app.admin, &reserve())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(
        (a["seq"].as_i64(), a["status"].as_str()),
        (Some(1), Some("pending"))
    );
    let (_, b) = app
        .post("/v1/lots/north/orders", &app.admin, &reserve())
        .await;
    assert_eq!(b["seq"], 2);
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    // South's numbering is its own.
    let (_, c) = app
        .post("/v1/lots/south/orders", &app.admin, &reserve())
        .await;
    assert_eq!(c["seq"], 1);
    let c_id = c["id"].as_str().unwrap();

    // The lot takes them down.
    let (s, listed) = app.get("/v1/lots/north/orders?after=0", &north).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["id"], a_id);
    assert_eq!(listed[0]["body"]["plate"], "GH4821");
    let (_, after1) = app.get("/v1/lots/north/orders?after=1", &north).await;
    assert_eq!(after1.as_array().unwrap().len(), 1);
    assert_eq!(after1[0]["id"], b_id);

    // ... and journals its decisions; an order of another lot named in north's journal is not
    // north's to decide.
    let mut j = Journal::default();
    j.traffic(2);
    j.add(
        "order_applied",
        json!({"order_seq": 1, "order_id": a_id, "status": "accepted", "reservation": "R-7QX2"}),
    );
    j.add("order_applied", json!({"order_seq": 2, "order_id": b_id, "status": "refused", "reason": "no EV spot free then"}));
    j.add(
        "order_applied",
        json!({"order_seq": 1, "order_id": c_id, "status": "refused", "reason": "forged"}),
    );
    let (s, v) = app.push("north", &north, &j.events).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let (s, oa) = app.get(&format!("/v1/orders/{a_id}"), &app.admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(oa["status"], "accepted");
    assert_eq!(oa["reservation"], "R-7QX2");
    assert_eq!(oa["decided_seq"], 3);
    assert_eq!(oa["lot"], "north");
    assert_eq!(oa["body"]["kind"], "reserve");
    let (_, ob) = app.get(&format!("/v1/orders/{b_id}"), &app.admin).await;
    assert_eq!(ob["status"], "refused");
    assert_eq!(ob["reason"], "no EV spot free then");
    assert_eq!(ob["reservation"], Value::Null);
    let (_, oc) = app.get(&format!("/v1/orders/{c_id}"), &app.admin).await;
    assert_eq!(oc["status"], "pending", "north cannot decide south's order");
    assert_eq!(oc["decided_seq"], Value::Null);
    let _ = south;

    // Cancelling: only a reservation order of that lot.
    let (s, v) = app
        .post(
            "/v1/lots/north/orders",
            &app.admin,
            &json!({"kind": "cancel_reservation", "order": a_id}),
        )
        .await;
    assert_eq!((s, v["seq"].as_i64()), (StatusCode::CREATED, Some(3)));
    let (s, v) = app
        .post(
            "/v1/lots/north/orders",
            &app.admin,
            &json!({"kind": "cancel_reservation", "order": c_id}),
        )
        .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = app
        .post("/v1/lots/north/orders", &app.admin, &json!({"kind": "reserve", "class": "standard", "start": "2026-11-18T12:00:00Z", "end": "2026-11-18T10:00:00Z"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("must be after start"),
        "{v}"
    );
    let (s, v) = app
        .post("/v1/lots/north/orders", &app.admin, &json!({"kind": "reserve", "class": "spaceship", "start": "2026-11-18T10:00:00Z", "end": "2026-11-18T12:00:00Z"}))
        .await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid"))
    );
    let (s, _) = app.get("/v1/orders/ord_nothing", &app.admin).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A malformed decision is refused, naming the row.
    let mut bad = j.clone();
    bad.add(
        "order_applied",
        json!({"order_seq": 1, "order_id": a_id, "status": "maybe"}),
    );
    let (s, v) = app.push("north", &north, &bad.rows(6, 6)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("row 6 (order_applied)"),
        "{v}"
    );
}

#[tokio::test]
async fn the_overview_counts_vehicles_inside_revenue_per_local_day_and_open_alerts() {
    let app = spawn_app().await;
    let north = app.create_lot("north").await; // Europe/Berlin: UTC+1 in November
    app.create_lot("south").await;
    let mut j = Journal::default();
    let ev = |n: i64| json!({"stay": n, "ticket": format!("T{n}")});
    j.add_at("vehicle_entered", ev(1), "2026-11-17T20:00:00Z");
    j.add_at("vehicle_entered", ev(2), "2026-11-17T21:00:00Z");
    j.add_at(
        "payment_recorded",
        json!({"stay": 1, "amount": "4.10"}),
        "2026-11-17T22:30:00Z",
    );
    j.add_at("vehicle_exited", ev(1), "2026-11-17T22:31:00Z");
    // 23:30 UTC is already the 18th in Berlin.
    j.add_at(
        "payment_recorded",
        json!({"stay": 2, "amount": "0.20"}),
        "2026-11-17T23:30:00Z",
    );
    j.add_at("vehicle_entered", ev(3), "2026-11-18T07:00:00Z");
    j.add_at("vehicle_entered", ev(4), "2026-11-18T07:05:00Z");
    j.add_at("entry_cancelled", ev(4), "2026-11-18T07:06:00Z");
    j.add_at("alert_raised", json!({"alert": 1}), "2026-11-18T07:10:00Z");
    j.add_at("alert_raised", json!({"alert": 2}), "2026-11-18T07:11:00Z");
    j.add_at(
        "alert_acknowledged",
        json!({"alert": 1}),
        "2026-11-18T07:12:00Z",
    );
    j.add_at(
        "payment_recorded",
        json!({"stay": 3, "amount": "0.10"}),
        "2026-11-18T08:00:00Z",
    );
    // Pushed in two overlapping batches: the retried part counts once.
    app.push("north", &north, &j.rows(1, 8)).await;
    let (s, v) = app.push("north", &north, &j.rows(3, 12)).await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let (s, o) = app.get("/v1/overview", &app.admin).await;
    assert_eq!(s, StatusCode::OK, "{o}");
    let lots = o["lots"].as_array().unwrap();
    assert_eq!(lots.len(), 2);
    let n = &lots[0];
    assert_eq!(n["id"], "north");
    assert_eq!(n["acked_seq"], 12);
    assert_eq!(n["last_event_at"], "2026-11-18T08:00:00Z");
    assert!(n["last_received_at"].is_string());
    assert_eq!(n["inside"], 2, "entered 1, 2, 3, 4; 1 left, 4 backed off");
    assert_eq!(n["open_alerts"], 1);
    assert_eq!(
        n["revenue"],
        json!([
            {"day": "2026-11-17", "amount": "4.10", "payments": 1},
            {"day": "2026-11-18", "amount": "0.30", "payments": 2}
        ]),
        "0.20 + 0.10 is exactly 0.30"
    );
    assert_eq!(lots[1]["acked_seq"], 0);
    assert_eq!(lots[1]["revenue"], json!([]));
    // One day only: the day of the last event.
    let (_, o1) = app.get("/v1/overview?days=1", &app.admin).await;
    assert_eq!(o1["lots"][0]["revenue"].as_array().unwrap().len(), 1);
    let (s, _) = app.get("/v1/overview?days=0", &app.admin).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // A payment whose amount is not a decimal is refused, naming the row.
    let mut bad = j.clone();
    bad.add("payment_recorded", json!({"stay": 3, "amount": "lots"}));
    let (s, v) = app.push("north", &north, &bad.rows(13, 13)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("row 13 (payment_recorded): amount 'lots' is not a decimal"),
        "{v}"
    );
}

#[tokio::test]
async fn the_admin_searches_a_lots_journal_by_kind_and_seq() {
    let app = spawn_app().await;
    let north = app.create_lot("north").await;
    let mut j = Journal::default();
    for i in 0..30 {
        if i % 3 == 0 {
            j.add("vehicle_entered", json!({"stay": i}));
        } else {
            j.add("lane_reported", json!({"n": i}));
        }
    }
    app.push("north", &north, &j.events).await;
    let (s, v) = app
        .get(
            "/v1/lots/north/journal?kind=vehicle_entered&from=5&limit=3",
            &app.admin,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let seqs: Vec<i64> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![7, 10, 13]);
    assert_eq!(v["next_from"], 16);
    assert_eq!(v["events"][0]["hash"], j.events[6].hash);
    let (_, all) = app.get("/v1/lots/north/journal?from=29", &app.admin).await;
    assert_eq!(all["events"].as_array().unwrap().len(), 2);
    assert_eq!(all["next_from"], Value::Null);
    let (s, _) = app.get("/v1/lots/nowhere/journal", &app.admin).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = app
        .get("/v1/lots/north/journal?limit=5000", &app.admin)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("between 1 and 1000"),
        "{v}"
    );
    let (s, v) = app.get("/v1/lots/north/journal?from=abc", &app.admin).await;
    assert_eq!(
        (s, v["kind"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid"))
    );
}
