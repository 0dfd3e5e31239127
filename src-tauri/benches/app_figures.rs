//! The app's figures as an operator meets them, in the release build under Xvfb on this machine:
//! cold start to an interactive console, resident memory with the demo lot running, and engine
//! event to painted on the console (p50 / p99). Printed, not asserted.
//!
//! `./dev bench` (or `cargo bench -p gatehouse-app --bench app_figures`); needs what `./dev setup`
//! installs (Xvfb, WebKitWebDriver, tauri-driver). `GATEHOUSE_BENCH_STARTS` sets how many cold
//! starts (3), `GATEHOUSE_BENCH_SECONDS` how long the demo runs (120) and `GATEHOUSE_BENCH_SPEED`
//! its clock (5, the demo's own; 30 is six times the traffic).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../tests/support/mod.rs"]
mod support;

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use support::Driver;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn figures(d: &Driver) -> Value {
    d.invoke("figures", json!({}))["ok"].clone()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len().saturating_sub(1)) as f64 * p).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

fn main() {
    let starts = env_number("GATEHOUSE_BENCH_STARTS", 3).max(1);
    let seconds = env_number("GATEHOUSE_BENCH_SECONDS", 120).max(10);
    let speed = env_number("GATEHOUSE_BENCH_SPEED", 5)
        .clamp(1, 3600)
        .to_string();
    println!("gatehouse-app figures (release build, Xvfb 1366x768, demo lot)");

    // Cold starts: a new process each time, a new demo lot database, the plate model loaded, the
    // four simulated lanes started, until the console's login form is painted and usable.
    let mut cold = Vec::new();
    for i in 1..=starts {
        let d = Driver::start(&["--vehicles", "0"]);
        d.find("#login-user");
        let ms = d.wait("the console's cold-start figure", 30, || {
            figures(&d)["cold_start_ms"].as_f64()
        });
        let rss = figures(&d)["rss_mb"].as_f64().unwrap_or(f64::NAN);
        println!("  cold start {i}: {ms:.0} ms to an interactive console (RSS {rss:.0} MB)");
        cold.push(ms);
    }
    cold.sort_by(f64::total_cmp);

    // The demo lot running (its day's traffic on a `speed`x clock), a cashier logged in at the
    // console so every journal record is painted on the event feed.
    let d = Driver::start(&["--speed", speed.as_str()]);
    d.type_into("#login-user", "carl");
    d.type_into("#login-password", "carl counts the cash");
    d.click("#login-submit");
    d.wait_text("#whoami", "carl", 30);
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut rss = Vec::new();
    while Instant::now() < until {
        std::thread::sleep(Duration::from_secs(5));
        rss.push(figures(&d)["rss_mb"].as_f64().unwrap_or(f64::NAN));
    }
    let f = figures(&d);
    let feed = d.invoke("feed", json!({"limit": 1}));
    rss.sort_by(f64::total_cmp);
    println!();
    println!("| figure | value | target |");
    println!("|---|---|---|");
    println!(
        "| cold start to interactive console, median of {starts} (min / max) | {:.0} ms ({:.0} / {:.0}) | 1,500 ms |",
        percentile(&cold, 0.5),
        cold.first().copied().unwrap_or(f64::NAN),
        cold.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "| resident memory, demo running {seconds} s at {speed}x, median (max) of {} samples | {:.0} MB ({:.0} MB) | 200 MB |",
        rss.len(),
        percentile(&rss, 0.5),
        rss.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "| engine event to painted on the console at {speed}x, p50 / p99 ({} events) | {:.1} / {:.1} ms | 100 ms p99 |",
        f["paint_samples"],
        f["paint_p50_ms"].as_f64().unwrap_or(f64::NAN),
        f["paint_p99_ms"].as_f64().unwrap_or(f64::NAN)
    );
    println!(
        "  (journal head after the run: seq {})",
        feed["ok"][0]["seq"]
    );
}
