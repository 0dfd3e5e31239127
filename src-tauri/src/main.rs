//! `gatehouse-app`: the attendant console and the lane kiosks of the demo lot, live. The lot runs
//! its lanes on simulated devices over their real protocols (gatehouse-sim's demo) on a faster clock; the
//! console shows it and works it, and each kiosk window is the touchscreen at one lane.
//!
//!   gatehouse-app                      the console
//!   gatehouse-app --kiosks             the console and one kiosk window per lane
//!   gatehouse-app --kiosk --lane E1    only the kiosk of lane E1: fullscreen, closable by PIN

mod api;
mod app;
mod boundary;
mod commands;
mod office;

use chrono::{NaiveTime, TimeZone, Utc};
use clap::Parser;
use gatehouse_core::{LotConfig, Role};
use gatehouse_lanes::site::Site;
use gatehouse_sim::demo::{DemoLot, DemoOptions, Staff};
use gatehouse_sim::lane::SimulatedLanes;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tauri::{Manager, WebviewUrl, WebviewWindowBuilder, WindowEvent};

/// Set once an admin's PIN unlocked a kiosk: then its window may close.
pub static UNLOCKED: AtomicBool = AtomicBool::new(false);

#[derive(Parser)]
#[command(
    name = "gatehouse-app",
    about = "The Gatehouse console and lane kiosks, live: on the demo lot, or on a lot's own database (--lot)"
)]
struct Args {
    /// Open only a lane's kiosk, fullscreen and always on top (with --lane).
    #[arg(long, env = "GATEHOUSE_KIOSK")]
    kiosk: bool,
    /// The lane the kiosk serves.
    #[arg(long, env = "GATEHOUSE_KIOSK_LANE")]
    lane: Option<String>,
    /// With the console, also a kiosk window for every lane.
    #[arg(long)]
    kiosks: bool,
    /// The PIN an admin types to close a kiosk.
    #[arg(long, env = "GATEHOUSE_KIOSK_PIN", default_value = "2468")]
    kiosk_pin: String,
    /// How fast the demo lot's clock runs: lot seconds per real second.
    #[arg(long, default_value_t = 5.0)]
    speed: f64,
    /// Local time of day the lot's clock starts at (HH:MM).
    #[arg(long, default_value = "08:00")]
    from: String,
    /// Vehicles arriving over the whole day (0: only those sent by hand).
    #[arg(long, default_value_t = 900)]
    vehicles: usize,
    /// Keep the demo lot's database at this path (default: a temporary file).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Run this lot instead of the demo: its database (made by `gatehouse init`) and the lanes
    /// its config wires, on the wall clock. A restart picks the lot up as it was left.
    #[arg(long, env = "GATEHOUSE_LOT", conflicts_with_all = ["db", "vehicles", "speed", "from"])]
    lot: Option<PathBuf>,
    /// Where reports and Z-reports are written.
    #[arg(long, env = "GATEHOUSE_EXPORTS")]
    exports: Option<PathBuf>,
}

/// The demo lot's people: an attendant, a cashier, a supervisor and an admin, with the passwords
/// the login screen shows (the admin's second factor is the demo's to type: `demo_login`).
fn demo_staff() -> Vec<Staff> {
    [
        ("ann", Role::Attendant, "ann at the booth"),
        ("carl", Role::Cashier, "carl counts the cash"),
        ("sue", Role::Supervisor, "sue supervises the lot"),
        ("ada", Role::Admin, "ada administers gatehouse"),
    ]
    .into_iter()
    .map(|(name, role, password)| Staff {
        name: name.into(),
        role,
        password: password.into(),
    })
    .collect()
}

fn fail(what: impl std::fmt::Display) -> ! {
    eprintln!("gatehouse-app: {what}");
    std::process::exit(2)
}

fn main() {
    let started = Instant::now();
    let args = Args::parse();
    if args.kiosk && args.lane.is_none() {
        fail("--kiosk needs --lane ID (or GATEHOUSE_KIOSK_LANE): the lane this kiosk serves");
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => fail(format!("cannot start the async runtime: {e}")),
    };
    tauri::async_runtime::set(rt.handle().clone());
    let tz = match LotConfig::demo() {
        Ok(c) => c.lot.timezone,
        Err(e) => fail(e),
    };
    let Ok(time) = NaiveTime::parse_from_str(args.from.trim(), "%H:%M") else {
        fail(format!(
            "--from '{}' is not a time of day; write HH:MM",
            args.from
        ))
    };
    let today = Utc::now().with_timezone(&tz).date_naive();
    let Some(start) = tz
        .from_local_datetime(&today.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
    else {
        fail(format!("--from {} does not exist today in {tz}", args.from))
    };
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => fail(format!("cannot make a temporary directory: {e}")),
    };
    let db = args.db.clone().unwrap_or_else(|| dir.path().join("lot.db"));
    let staff = demo_staff();
    let demo_users = staff
        .iter()
        .map(|s| api::DemoUser {
            user: s.name.clone(),
            role: s.role,
            password: s.password.clone(),
        })
        .collect();
    let opts = DemoOptions {
        db,
        start,
        speed: args.speed,
        // The traffic of a whole lot day.
        minutes: (24.0 * 60.0 / args.speed).min(24.0 * 60.0),
        vehicles_per_day: args.vehicles,
        seed: 7,
        lanes: None,
        full_tilt: false,
    };
    let (lot, demo_users) = match &args.lot {
        Some(path) => match rt.block_on(Site::open(path, &SimulatedLanes::new())) {
            Ok(s) => (app::Running::Site(Arc::new(s)), vec![]),
            Err(e) => fail(e),
        },
        None => match rt.block_on(DemoLot::start(opts, staff, |line| eprintln!("  {line}"))) {
            Ok(l) => (app::Running::Demo(Arc::new(l)), demo_users),
            Err(e) => fail(e),
        },
    };
    if let Some(lane) = &args.lane
        && lot.lane(lane).is_none()
    {
        fail(format!(
            "--lane {lane}: the lot has no such running lane; its lanes are {}",
            lot.lanes().map(|l| l.id()).collect::<Vec<_>>().join(", ")
        ));
    }
    // The demo's go with its temporary database; a real lot's beside its database.
    let exports =
        args.exports
            .clone()
            .unwrap_or_else(|| match args.lot.as_ref().and_then(|p| p.parent()) {
                Some(parent) => parent.join("exports"),
                None => dir.path().join("exports"),
            });
    let app = Arc::new(app::App::new(
        lot,
        demo_users,
        args.kiosk_pin.clone(),
        exports,
        started,
    ));
    let kiosk_only = args.kiosk;
    let result = tauri::Builder::default()
        .manage(app.clone())
        .invoke_handler(boundary::invoke_handler())
        .setup(move |tauri_app| {
            let handle = tauri_app.handle().clone();
            app::forward(app.clone(), handle.clone());
            if !kiosk_only {
                WebviewWindowBuilder::new(
                    &handle,
                    "console",
                    WebviewUrl::App("console/index.html".into()),
                )
                .title("Gatehouse — console")
                .inner_size(1366.0, 768.0)
                .min_inner_size(1024.0, 700.0)
                .build()?;
            }
            let kiosk_lanes: Vec<String> = match (&args.lane, args.kiosks || kiosk_only) {
                (Some(l), _) if kiosk_only => vec![l.clone()],
                (_, true) => app.lot.lanes().map(|l| l.id().to_string()).collect(),
                _ => vec![],
            };
            for lane in kiosk_lanes {
                WebviewWindowBuilder::new(
                    &handle,
                    format!("kiosk-{lane}"),
                    WebviewUrl::App(format!("kiosk/index.html?lane={lane}").into()),
                )
                .title(format!("Gatehouse — lane {lane}"))
                .inner_size(1024.0, 768.0)
                .fullscreen(kiosk_only)
                .decorations(!kiosk_only)
                .always_on_top(kiosk_only)
                .closable(!kiosk_only)
                .build()?;
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            // A kiosk is not closed by a driver: only an admin's PIN closes it.
            if let WindowEvent::CloseRequested { api, .. } = event
                && window.label().starts_with("kiosk-")
                && window.app_handle().get_webview_window("console").is_none()
                && !UNLOCKED.load(Ordering::SeqCst)
            {
                api.prevent_close();
            }
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        fail(format!("the app stopped: {e}"));
    }
    drop(dir);
}
