//! The real app under Xvfb, driven through WebDriver like a person would: a driver at the entry
//! and exit kiosks, an attendant refused a supervisor's action, a cashier's lost ticket and booth
//! payment, and a supervisor's spot override. Screenshots of each screen are saved (see
//! `support::artefacts`); the app's own figures (cold start, memory, event to paint) are printed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use gatehouse_core::command as req;
use serde_json::json;
use support::Driver;

/// The demo lot with no traffic of its own, on a fast clock (a lot minute each half second).
const QUIET: [&str; 4] = ["--vehicles", "0", "--speed", "120"];

fn args(extra: &[&'static str]) -> Vec<&'static str> {
    QUIET.iter().chain(extra).copied().collect()
}

fn kind(d: &Driver) -> String {
    d.attribute("#screen", "data-kind").unwrap_or_default()
}

fn wait_kind(d: &Driver, want: &[&str], secs: u64) -> String {
    d.wait(&format!("the kiosk to show one of {want:?}"), secs, || {
        let k = kind(d);
        want.contains(&k.as_str()).then_some(k)
    })
}

#[test]
fn a_driver_takes_a_ticket_at_the_entry_kiosk_and_pays_by_card_at_the_exit_kiosk() {
    let d = Driver::start(&args(&["--kiosk", "--lane", "E1"]));
    let mut violations = Vec::new();
    wait_kind(&d, &["idle"], 60);
    d.screenshot("kiosk-entry-idle");
    violations.extend(d.axe().into_iter().map(|v| format!("idle: {v}")));

    // A car with a plate the camera cannot read drives onto the loop.
    let sent = d.invoke("send_vehicle", json!({"laneId": "E1", "plate": ""}));
    assert!(sent.get("ok").is_some(), "send_vehicle: {sent}");
    wait_kind(&d, &["press_for_ticket"], 30);
    d.screenshot("kiosk-entry-press-for-ticket");
    violations.extend(
        d.axe()
            .into_iter()
            .map(|v| format!("press for ticket: {v}")),
    );

    // The driver switches to German, then presses for a ticket with a charger.
    d.click("[data-lang=de]");
    assert_eq!(
        d.script("return document.documentElement.lang", json!([])),
        "de"
    );
    d.click("#ticket-charger");
    wait_kind(&d, &["take_ticket"], 30);
    let spot = d.text("#spot");
    assert!(!spot.is_empty(), "the kiosk shows the spot to go to");
    d.screenshot("kiosk-entry-take-ticket-de");
    violations.extend(d.axe().into_iter().map(|v| format!("take ticket: {v}")));
    // The spot given has a charger, as the driver asked.
    let o = d.invoke("overview", json!({}));
    let given = o["ok"]["spots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == spot.trim())
        .unwrap_or_else(|| panic!("the kiosk's spot {spot} is a spot of the lot"));
    assert_eq!(given["ev"], true, "the driver asked for a charger: {given}");
    // The car drives through; the kiosk goes back to its attract screen.
    wait_kind(&d, &["idle"], 30);

    // Twenty lot minutes later (ten real seconds) it leaves by X1: the kiosk there is the
    // same app's kiosk page for lane X1.
    std::thread::sleep(std::time::Duration::from_secs(12));
    d.script("location.search = '?lane=X1'", json!([]));
    wait_kind(&d, &["idle"], 30);
    d.click("[data-lang=en]");
    // Record every screen the exit kiosk shows from now on.
    record_kinds(&d);
    let sent = d.invoke("send_vehicle", json!({"laneId": "X1", "plate": ""}));
    assert!(sent.get("ok").is_some(), "send_vehicle: {sent}");
    // No plate read: the exit asks for the ticket, the car's ticket is scanned, the amount is
    // shown and charged at the card terminal, and the barrier opens.
    let k = wait_kind(&d, &["pay_here", "goodbye"], 60);
    if k == "pay_here" {
        d.screenshot("kiosk-exit-pay-here");
    }
    wait_kind(&d, &["goodbye"], 60);
    d.screenshot("kiosk-exit-goodbye");
    violations.extend(d.axe().into_iter().map(|v| format!("goodbye: {v}")));
    let kinds = recorded_kinds(&d);
    assert!(
        kinds.iter().any(|k| k == "scan_ticket") && kinds.iter().any(|k| k == "pay_here"),
        "the exit asked for the ticket and showed the amount: {kinds:?}"
    );
    // The payment is in the lot's journal.
    let feed = d.invoke("feed", json!({"limit": 50}));
    let feed = feed["ok"].as_array().unwrap();
    assert!(
        feed.iter().any(|e| e["kind"] == "payment_recorded")
            && feed.iter().any(|e| e["kind"] == "vehicle_exited"),
        "the payment and the exit were journaled: {feed:?}"
    );
    assert!(
        violations.is_empty(),
        "axe found serious accessibility violations on the kiosk:\n{}",
        violations.join("\n")
    );

    // A driver cannot close the kiosk; a wrong PIN is refused.
    d.click("#admin");
    d.type_into("#pin", "0000");
    d.click("#pin-submit");
    d.wait("the wrong PIN refused", 10, || {
        (!d.text("#pin-error").trim().is_empty()).then_some(())
    });
    assert!(
        ["goodbye", "idle"].contains(&kind(&d).as_str()),
        "the kiosk is still open and showing its lane"
    );
}

fn log_in(d: &Driver, user: &str, password: &str) {
    d.type_into("#login-user", user);
    d.type_into("#login-password", password);
    d.click("#login-submit");
    d.wait_text("#whoami", user, 30);
}

/// At the lot map: move the car on spot `from` to spot `to`, with a reason.
fn ask_to_move(d: &Driver, from: &str, to: &str) {
    d.click("#tab-lot");
    d.click(&format!("[data-spot='{from}']"));
    d.type_into("#override-target", to);
    d.type_into("#override-reason", "the driver parked in the next bay");
    d.click("#override-submit");
}

fn log_out(d: &Driver) {
    d.click("#logout");
    d.find("#login-user");
}

#[test]
fn the_console_takes_a_lost_ticket_at_the_booth_refuses_an_attendant_and_lets_a_supervisor_override()
 {
    let d = Driver::start(&args(&[]));
    d.find("#login-user");
    d.screenshot("console-login");

    // A car drives in at the ticketless lane E2 (sent from the console's demo control).
    log_in(&d, "carl", "carl counts the cash");
    d.click("#tab-lanes");
    d.find("#lane-cards [data-lane='E2']");
    d.screenshot("console-lanes");
    let inside = drive_in(&d, "E2", "KLM4821");

    // Half an hour later (fifteen real seconds) the driver has lost the ticket: the cashier opens
    // a shift, finds the stay by plate and takes cash.
    std::thread::sleep(std::time::Duration::from_secs(15));
    d.click("#tab-shift");
    d.type_into("#shift-float", "100");
    d.click("#shift-open");
    d.wait_text("#toast", "open", 10);
    d.click("#tab-booth");
    d.type_into("#lost-plate", "KLM4821");
    d.click("#lost-submit");
    let total = d.wait("the lost ticket's quote", 30, || {
        let t = d.text("#quote-total");
        t.parse::<f64>().ok()
    });
    assert!(total > 0.0, "a lost ticket costs something");
    d.screenshot("console-booth-lost-ticket");
    d.type_into("#pay-handed", "50");
    d.click("#pay-cash");
    let change = d.wait("the change", 30, || {
        d.text("#paid-change").parse::<f64>().ok()
    });
    assert!(
        (change - (50.0 - total)).abs() < 0.005,
        "change {change} for 50 handed over against {total}"
    );
    assert!(d.text("#receipt").contains("RECEIPT"));
    d.screenshot("console-booth-paid");
    log_out(&d);

    // An attendant may not move a car to another spot: refused, and nothing changes.
    let free = {
        let o = d.invoke("overview", json!({}));
        o["ok"]["spots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["state"] == "free"
                    && s["size"] == "standard"
                    && s["ev"] == false
                    && s["accessible"] == false
            })
            .map(|s| s["id"].as_str().unwrap().to_string())
            .unwrap()
    };
    log_in(&d, "ann", "ann at the booth");
    ask_to_move(&d, &inside, &free);
    d.wait("the refusal", 20, || {
        d.attribute("#toast", "class")
            .filter(|c| c.contains("error"))
    });
    let refusal = d.text("#toast");
    assert!(
        refusal.to_lowercase().contains("attendant"),
        "the refusal says why: {refusal}"
    );
    d.screenshot("console-attendant-refused");
    let o = d.invoke("overview", json!({}));
    let state_of = |o: &serde_json::Value, id: &str| {
        o["ok"]["spots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .map(|s| s["state"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(
        state_of(&o, &free),
        "free",
        "the refused override changed nothing"
    );
    log_out(&d);

    // A supervisor moves the car.
    log_in(&d, "sue", "sue supervises the lot");
    ask_to_move(&d, &inside, &free);
    d.wait("the override", 20, || {
        let o = d.invoke("overview", json!({}));
        (state_of(&o, &free) == "occupied" && state_of(&o, &inside) == "free").then_some(())
    });
    d.wait(&format!("spot {free} painted occupied"), 20, || {
        (d.attribute(&format!("[data-spot='{free}']"), "data-state")? == "occupied").then_some(())
    });
    d.screenshot("console-supervisor-override");

    // The report of the day, with an export.
    d.click("#tab-reports");
    d.click("#report-show");
    d.find("#chart-occupancy");
    d.click("#export-csv");
    d.wait_text("#export-result", ".csv", 30);
    d.screenshot("console-report");
    d.click("#tab-events");
    d.find("#feed li");
    d.screenshot("console-events");

    let figures = d.invoke("figures", json!({}));
    println!(
        "app figures (debug build, demo lot, this machine): {}",
        serde_json::to_string(&figures["ok"]).unwrap()
    );
    std::fs::write(
        support::artefacts().join("app-figures.json"),
        serde_json::to_string_pretty(&figures["ok"]).unwrap(),
    )
    .unwrap();
}

/// A car sent in at an entry lane (the console's demo control; `plate` empty for one the camera
/// cannot read). When the plate is not read, the driver presses for a ticket at the lane's
/// screen. Returns the spot it took.
fn drive_in(d: &Driver, lane: &str, plate: &str) -> String {
    let before = occupied(d);
    let sent = d.invoke("send_vehicle", json!({"laneId": lane, "plate": plate}));
    assert!(sent.get("ok").is_some(), "send_vehicle: {sent}");
    d.wait("the car to be inside", 60, || {
        let screen = d.invoke("lane_screen", json!({"laneId": lane}));
        if screen["ok"]["kind"] == "press_for_ticket" {
            d.invoke(
                "press_ticket",
                json!({"laneId": lane, "choice": "standard"}),
            );
        }
        occupied(d).into_iter().find(|s| !before.contains(s))
    })
}

/// The spots occupied now.
fn occupied(d: &Driver) -> Vec<String> {
    let o = d.invoke("overview", json!({}));
    o["ok"]["spots"].as_array().map_or(vec![], |s| {
        s.iter()
            .filter(|s| s["state"] == "occupied")
            .filter_map(|s| s["id"].as_str().map(str::to_string))
            .collect()
    })
}

/// At the exit kiosk X1: a car drives up and its driver scans `code` instead of presenting a
/// card; the kiosk shows the amount, then goodbye. Returns the screens it showed.
fn leave_at_x1_paying_with(d: &Driver, code: &str) -> Vec<String> {
    record_kinds(d);
    let sent = d.invoke(
        "send_vehicle",
        json!({"laneId": "X1", "plate": "", "paysWith": code}),
    );
    assert!(sent.get("ok").is_some(), "send_vehicle: {sent}");
    if wait_kind(d, &["pay_here", "goodbye"], 90) == "pay_here" {
        d.screenshot("kiosk-exit-pay-here-or-scan");
    }
    wait_kind(d, &["goodbye"], 90);
    recorded_kinds(d)
}

/// From now on, the page keeps every screen kind the kiosk shows, in order.
fn record_kinds(d: &Driver) {
    d.script(
        "window.__kinds = []; new MutationObserver(() => { const k = document.querySelector('#screen')?.dataset.kind; if (k && window.__kinds[window.__kinds.length - 1] !== k) window.__kinds.push(k); }).observe(document.body, {subtree: true, attributes: true, childList: true});",
        json!([]),
    );
}

/// The screen kinds the kiosk showed since `record_kinds`.
fn recorded_kinds(d: &Driver) -> Vec<String> {
    let kinds = d.script("return window.__kinds", json!([]));
    kinds
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect()
}

fn journal_kinds(d: &Driver) -> Vec<String> {
    let feed = d.invoke("feed", json!({"limit": 100}));
    feed["ok"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn the_office_issues_a_voucher_and_a_prepaid_card_and_drivers_pay_with_them_at_the_exit_kiosk() {
    let d = Driver::start(&args(&[]));
    d.find("#login-user");
    log_in(&d, "sue", "sue supervises the lot");
    d.click("#tab-office");

    // A merchant's voucher for the whole stay.
    d.type_into("#voucher-merchant", "Café Rosa");
    d.type_into("#voucher-value", "100");
    d.script(
        "const s = document.querySelector('#voucher-kind'); s.value = 'percent'; s.dispatchEvent(new Event('change'));",
        json!([]),
    );
    d.click("#voucher-submit");
    let voucher = d.wait("the voucher's code", 30, || {
        Some(d.text("#voucher-code").trim().to_string()).filter(|c| c.len() > 20)
    });
    d.find("#voucher-figure svg");
    d.screenshot("console-office-voucher");

    // A prepaid account with 20 in it (paid by card at the office), and its card.
    d.type_into("#account-holder", "Acme Ltd");
    d.click("#account-open");
    let id = d.wait("the account in the list", 30, || {
        let a = d.invoke("accounts", json!({}));
        a["ok"]
            .as_array()?
            .iter()
            .find(|a| a["holder"] == "Acme Ltd")?["id"]
            .as_i64()
    });
    d.type_into(&format!("[data-topup-amount='{id}']"), "20");
    d.click(&format!("[data-topup-card='{id}']"));
    d.wait("the top-up", 30, || {
        let a = d.invoke("accounts", json!({}));
        let a = a["ok"].as_array()?.iter().find(|a| a["id"] == id)?.clone();
        (a["balance"].as_str()?.parse::<f64>().ok()? == 20.0).then_some(())
    });
    d.click(&format!("[data-show-card='{id}']"));
    let card = d.wait("the card's code", 30, || {
        Some(d.text("#card-code").trim().to_string()).filter(|c| c.len() > 20)
    });
    assert_ne!(card, voucher, "a prepaid card is not a voucher");

    // A permit, listed with its plate.
    d.type_into("#permit-holder", "Dr. Okafor");
    d.type_into("#permit-plates", "PRM 4411");
    d.click("#permit-submit");
    d.wait_text("#permit-table", "PRM4411", 30);
    d.screenshot("console-office");

    // The demo's admin (the demo types the second factor) manages the staff.
    log_out(&d);
    d.click("[data-user=ada]");
    d.wait_text("#whoami", "ada", 30);
    d.click("#tab-office");
    d.wait_text("#user-table", "carl", 30);
    d.screenshot("console-office-staff");

    // Two cars come in; twenty lot minutes later they leave by X1, whose kiosk this window now
    // shows.
    drive_in(&d, "E1", "");
    drive_in(&d, "E1", "");
    // E1's card shows the camera's last frame and what was read in it.
    d.click("#tab-lanes");
    d.wait("E1's camera frame on its card", 30, || {
        d.attribute("[data-lane='E1'] .lane-frame", "src")
            .filter(|src| src.starts_with("data:image/jpeg;base64,"))
    });
    d.screenshot("console-lanes-camera");
    std::thread::sleep(std::time::Duration::from_secs(10));
    d.script(
        "location.href = location.href.replace('console/index.html', 'kiosk/index.html?lane=X1')",
        json!([]),
    );
    wait_kind(&d, &["idle"], 30);

    // The first driver scans the voucher: nothing is left to pay and the barrier opens.
    let kinds = leave_at_x1_paying_with(&d, &voucher);
    assert!(
        kinds.iter().any(|k| k == "pay_here"),
        "the kiosk showed the amount before the voucher: {kinds:?}"
    );
    d.screenshot("kiosk-exit-voucher-goodbye");
    let journal = journal_kinds(&d);
    assert!(
        journal.iter().any(|k| k == "voucher_applied"),
        "the voucher was taken: {journal:?}"
    );

    // The second scans the prepaid card: the stay is paid from the account.
    wait_kind(&d, &["idle"], 60);
    let kinds = leave_at_x1_paying_with(&d, &card);
    assert!(kinds.iter().any(|k| k == "pay_here"), "{kinds:?}");
    let journal = journal_kinds(&d);
    assert!(
        journal.iter().any(|k| k == "account_debited"),
        "the account paid: {journal:?}"
    );
    let a = d.invoke("accounts", json!({}));
    let balance: f64 = a["ok"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .and_then(|a| a["balance"].as_str()?.parse().ok())
        .unwrap();
    assert!(
        (0.0..20.0).contains(&balance),
        "the stay's fee came off the prepaid balance: {balance}"
    );
    assert_eq!(
        journal.iter().filter(|k| *k == "vehicle_exited").count(),
        2,
        "both cars left: {journal:?}"
    );
}

#[test]
fn a_lot_of_its_own_opens_with_its_lanes_and_after_a_crash_is_as_it_was_left() {
    use gatehouse_core::engine::EngineOptions;
    use gatehouse_core::{Actor, Command, Engine, LotConfig, Role};
    // The lot as `gatehouse init` makes it, with one supervisor.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("lot.db");
    let now = chrono::Utc::now();
    Engine::init(
        &db,
        &LotConfig::demo().unwrap(),
        now,
        &Actor::system("setup"),
    )
    .unwrap();
    let engine = Engine::open(&db, EngineOptions::default()).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(engine.submit(
        &Actor::new("setup", Role::Admin).unwrap(),
        now,
        Command::AddUser(req::AddUser {
            name: "olga".into(),
            role: Role::Supervisor,
            password: gatehouse_core::auth::Secret("olga keeps the lot".into()),
        }),
    ))
    .unwrap();
    drop(engine);
    let lot = db.to_str().unwrap().to_string();
    let args = ["--lot", lot.as_str()];

    {
        let d = Driver::start(&args);
        d.find("#login-user");
        let o = d.invoke("overview", json!({}));
        assert_eq!(o["ok"]["demo_users"], json!([]), "no demo people: {o}");
        assert_eq!(o["ok"]["lanes"].as_array().unwrap().len(), 4);
        assert_eq!(o["ok"]["speed"], 1.0, "the wall clock");
        let sent = d.invoke("send_vehicle", json!({"laneId": "E1", "plate": ""}));
        let refused = sent["err"]["message"].as_str().unwrap_or_default();
        assert!(refused.contains("demo"), "{sent}");
        log_in(&d, "olga", "olga keeps the lot");
        d.click("#tab-office");
        d.type_into("#permit-holder", "Dr. Okafor");
        d.type_into("#permit-plates", "PRM 4411");
        d.click("#permit-submit");
        d.wait_text("#permit-table", "PRM4411", 30);
        // Dropping the driver kills the app (SIGKILL): a crash.
    }

    let d = Driver::start(&args);
    log_in(&d, "olga", "olga keeps the lot");
    d.click("#tab-office");
    d.wait_text("#permit-table", "PRM4411", 30);
    d.screenshot("console-own-lot-after-a-crash");
}
