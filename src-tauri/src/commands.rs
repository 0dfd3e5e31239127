//! The commands the console and the kiosk call. Each is thin: read its arguments, call the engine,
//! a lane or the lot's read side, and map the answer or the error. The rules live in core and
//! lanes; a refused command comes back as `{kind, message}` and changed nothing.
//!
//! Commands that read the lot's database are `async` for Tauri: they run off the main thread, so
//! a report or the whole lot's overview never holds up the windows' painting.

use crate::api::*;
use crate::app::App;
use chrono::{Duration, NaiveDate};
use gatehouse_core::command as req;
use gatehouse_core::reports::{period_bounds, report};
use gatehouse_core::shifts::z_report;
use gatehouse_core::{ErrorKind, PaymentMethod, Plate, StayRef, VehicleClass};
use gatehouse_lanes::{Needs, Screen};
use rust_decimal::Decimal;
use std::str::FromStr;
use std::sync::Arc;
use tauri::{State, WebviewWindow};

type St<'a> = State<'a, Arc<App>>;

pub(crate) fn amount(text: &str, what: &str) -> Answer<Decimal> {
    Decimal::from_str(text.trim()).map_err(|_| {
        ApiError::new(
            ErrorKind::InvalidInput,
            format!("'{text}' is not an amount for {what}; type it like 20 or 12.50"),
        )
    })
}

pub(crate) fn reason(text: &str) -> Answer<String> {
    let r = text.trim();
    if r.is_empty() {
        return Err(ApiError::new(
            ErrorKind::InvalidInput,
            "give a reason: it is journaled with the action",
        ));
    }
    Ok(r.to_string())
}

pub async fn login(
    app: St<'_>,
    window: WebviewWindow,
    user: String,
    password: String,
    code: Option<String>,
) -> Answer<SessionView> {
    if window.label().starts_with("kiosk-") {
        return Err(ApiError::new(
            ErrorKind::Forbidden,
            "staff log in at the console, not at a lane's kiosk",
        ));
    }
    let l = app
        .lot
        .engine()
        .call(
            &gatehouse_core::Actor::system("console"),
            app.now(),
            req::Login {
                user,
                password: gatehouse_core::auth::Secret(password),
                totp: code
                    .filter(|c| !c.trim().is_empty())
                    .map(gatehouse_core::auth::Secret),
            },
        )
        .await?;
    let mut actor = gatehouse_core::Actor::new(&l.user, l.role)?;
    actor.session = Some(l.token);
    app.set_actor(window.label(), Some(actor));
    Ok(SessionView {
        user: l.user,
        role: l.role,
    })
}

/// The demo only: logs in one of the demo's people (listed with their passwords on the login
/// screen); for an admin the demo types the second-factor code, which changes every 30 lot
/// seconds (a few real ones on the demo's fast clock).
pub async fn demo_login(app: St<'_>, window: WebviewWindow, user: String) -> Answer<SessionView> {
    let Some(demo) = app.lot.demo() else {
        return Err(ApiError::new(
            ErrorKind::Forbidden,
            "this is not the demo lot: log in with your own password",
        ));
    };
    let Some(person) = app.demo_users.iter().find(|u| u.user == user) else {
        return Err(ApiError::new(
            ErrorKind::NotFound,
            format!("'{user}' is not one of the demo's people"),
        ));
    };
    let code = demo.second_factor_code(&user, app.now());
    login(app.clone(), window, user, person.password.clone(), code).await
}

pub async fn logout(app: St<'_>, window: WebviewWindow) -> Answer<()> {
    if app.actor(window.label()).is_ok() {
        let _ = app.call(window.label(), req::Logout).await;
    }
    app.set_actor(window.label(), None);
    Ok(())
}

pub fn overview(app: St<'_>) -> Answer<Overview> {
    let lot = app.lot_db()?;
    let config = app.lot.config();
    let now = app.now();
    let occupancy = lot.occupancy(now)?;
    let count = |key: &String, c: &gatehouse_core::lot::Count| Count {
        key: key.clone(),
        capacity: c.capacity as u32,
        occupied: c.occupied as u32,
        free: c.free as u32,
    };
    let lanes = app
        .lot
        .lanes()
        .filter_map(|l| {
            // Every running lane is one of the lot's configured lanes.
            let def = config.lanes.iter().find(|d| d.id == l.id())?;
            Some(LaneView {
                id: l.id().to_string(),
                kind: def.kind,
                level: def.level.clone(),
                screen: l.screen(),
                devices: vec![],
            })
        })
        .collect();
    Ok(Overview {
        lot: config.lot.name.clone(),
        currency: config.lot.currency.to_string(),
        timezone: config.lot.timezone.to_string(),
        now_local: app.local_text(now),
        speed: app.lot.speed(),
        levels: config.levels.iter().map(|l| l.id.clone()).collect(),
        spots: lot.spots()?.into_iter().map(Spot::from).collect(),
        lanes,
        zones: occupancy.by_zone.iter().map(|(k, c)| count(k, c)).collect(),
        classes: occupancy
            .vehicles_by_class
            .iter()
            .map(|(k, n)| Count {
                key: k.clone(),
                capacity: 0,
                occupied: *n as u32,
                free: 0,
            })
            .collect(),
        demo_users: app.demo_users.clone(),
    })
}

pub fn feed(app: St<'_>, limit: u32) -> Answer<Vec<FeedItem>> {
    let lot = app.lot_db()?;
    let head = lot.audit()?.rows;
    let limit = limit.clamp(1, 500) as i64;
    let rows = lot.journal((head - limit + 1).max(1), limit as usize)?;
    Ok(rows.iter().rev().map(|r| app.feed_item(&lot, r)).collect())
}

pub fn alerts(app: St<'_>) -> Answer<Vec<AlertView>> {
    let lot = app.lot_db()?;
    let rows = gatehouse_core::alerts::list_alerts(lot.connection(), false)?;
    Ok(rows
        .into_iter()
        .map(|a| AlertView {
            id: a.id,
            kind: a.kind,
            message: a.message,
            lane: a.lane,
            plate: a.plate,
            raised_at: a.raised_at,
        })
        .collect())
}

pub async fn ack_alert(app: St<'_>, window: WebviewWindow, id: i64, note: String) -> Answer<()> {
    app.call(window.label(), req::AckAlert { alert: id, note })
        .await?;
    Ok(())
}

fn quote_of(app: &App, r: &StayRef) -> Answer<QuoteView> {
    let lot = app.lot_db()?;
    let q = lot.quote(r, app.now())?;
    let spot = lot
        .spots()?
        .into_iter()
        .find(|s| s.ticket.as_deref() == Some(q.ticket.as_str()))
        .map(|s| s.id);
    Ok(QuoteView::of(q, spot))
}

pub fn find_stay(app: St<'_>, text: String) -> Answer<QuoteView> {
    quote_of(&app, &StayRef::typed(&text)?)
}

pub async fn lost_ticket(
    app: St<'_>,
    window: WebviewWindow,
    plate: String,
    vehicle_class: VehicleClass,
) -> Answer<QuoteView> {
    let plate = match plate.trim() {
        "" => None,
        p => Some(Plate::parse(p)?),
    };
    let l = app
        .call(
            window.label(),
            req::LostTicket {
                plate,
                class: vehicle_class,
            },
        )
        .await?;
    let mut view = quote_of(&app, &StayRef::Ticket(l.ticket.clone()))?;
    view.replacement_qr = Some(l.qr);
    Ok(view)
}

pub async fn pay(
    app: St<'_>,
    window: WebviewWindow,
    ticket: String,
    method: BoothMethod,
    handed: String,
) -> Answer<PaidView> {
    let stay = StayRef::Ticket(ticket.trim().to_string());
    let amount = match method {
        BoothMethod::Cash => amount(&handed, "the cash handed over")?,
        // The card terminal is charged what is owed now.
        BoothMethod::Card => amount(&quote_of(&app, &stay)?.total, "the amount owed")?,
    };
    let p = app
        .call(
            window.label(),
            req::Pay {
                stay,
                method: method.into(),
                amount,
                key: None,
            },
        )
        .await?;
    let config = app.lot.config();
    let receipt =
        gatehouse_reports::payment_receipt(&config.lot.name, &app.local_text(app.now()), &p);
    Ok(PaidView {
        ticket: p.ticket,
        paid: p.amount,
        change: p.change,
        owed: p.due,
        currency: p.currency,
        receipt,
    })
}

pub async fn refund(
    app: St<'_>,
    window: WebviewWindow,
    ticket: String,
    amount_text: String,
    why: String,
) -> Answer<String> {
    let r = app
        .call(
            window.label(),
            req::Refund {
                stay: StayRef::Ticket(ticket.trim().to_string()),
                method: PaymentMethod::Cash,
                amount: amount(&amount_text, "the refund")?,
                reason: reason(&why)?,
                key: None,
            },
        )
        .await?;
    Ok(format!(
        "{} {} refunded on ticket {}",
        r.amount, r.currency, r.ticket
    ))
}

pub async fn override_spot(
    app: St<'_>,
    window: WebviewWindow,
    ticket: String,
    spot: String,
    why: String,
) -> Answer<String> {
    let o = app
        .call(
            window.label(),
            req::OverrideSpot {
                stay: StayRef::Ticket(ticket.trim().to_string()),
                spot: spot.trim().to_string(),
                reason: reason(&why)?,
            },
        )
        .await?;
    Ok(format!("ticket {} moved to spot {}", o.ticket, o.to))
}

pub async fn set_spot_service(
    app: St<'_>,
    window: WebviewWindow,
    spot: String,
    in_service: bool,
    why: String,
) -> Answer<String> {
    app.call(
        window.label(),
        req::SetSpotService {
            spot: spot.trim().to_string(),
            in_service,
            reason: reason(&why)?,
        },
    )
    .await?;
    Ok(format!(
        "spot {} is {}",
        spot.trim(),
        if in_service {
            "back in service"
        } else {
            "out of service"
        }
    ))
}

fn lane<'a>(app: &'a App, id: &str) -> Answer<&'a gatehouse_lanes::runtime::LaneHandle> {
    app.lot.lane(id).ok_or_else(|| {
        ApiError::new(
            ErrorKind::NotFound,
            format!("there is no running lane '{id}'"),
        )
    })
}

pub async fn open_gate(
    app: St<'_>,
    window: WebviewWindow,
    lane_id: String,
    why: String,
) -> Answer<()> {
    let actor = app.actor(window.label())?;
    lane(&app, &lane_id)?
        .open_gate(&actor, &reason(&why)?)
        .await?;
    Ok(())
}

pub async fn set_lane_open(
    app: St<'_>,
    window: WebviewWindow,
    lane_id: String,
    open: bool,
    why: String,
) -> Answer<()> {
    let actor = app.actor(window.label())?;
    lane(&app, &lane_id)?
        .set_open(&actor, open, &reason(&why)?)
        .await?;
    Ok(())
}

pub async fn set_free_exit(
    app: St<'_>,
    window: WebviewWindow,
    lane_id: String,
    on: bool,
    why: String,
) -> Answer<()> {
    let actor = app.actor(window.label())?;
    lane(&app, &lane_id)?
        .set_free_exit(&actor, on, &reason(&why)?)
        .await?;
    Ok(())
}

/// The demo: a vehicle drives up to a lane (the camera shows its plate, or an unreadable one
/// when `plate` is empty). It waits for the driver's choices on the lane's kiosk. At an exit,
/// a non-empty `pays_with` is a voucher's or prepaid card's code the driver scans to pay.
pub fn send_vehicle(
    app: St<'_>,
    lane_id: String,
    plate: String,
    pays_with: Option<String>,
) -> Answer<String> {
    lane(&app, &lane_id)?;
    let Some(lot) = app.lot.demo().cloned() else {
        return Err(ApiError::new(
            ErrorKind::InvalidInput,
            "sending a vehicle is the demo's: this lot's vehicles are real",
        ));
    };
    let plate = match plate.trim() {
        "" => None,
        p => Some(Plate::parse(p)?.as_str().to_string()),
    };
    let said = format!(
        "a vehicle{} is driving up to {lane_id}",
        plate
            .as_ref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default()
    );
    tauri::async_runtime::spawn(async move {
        let pays_with = pays_with.filter(|c| !c.trim().is_empty());
        if let Err(e) = lot
            .drive_up(&lane_id, plate.as_deref(), pays_with.as_deref())
            .await
        {
            eprintln!("gatehouse-app: {e}");
        }
    });
    Ok(said)
}

/// A valet step at the booth; the engine checks who may (attendants, supervisors, admins).
pub async fn valet(
    app: St<'_>,
    window: WebviewWindow,
    step: ValetStep,
    tag: String,
    plate: String,
    vehicle_class: String,
    spot: String,
) -> Answer<ValetInfo> {
    use gatehouse_core::valet as v;
    let label = window.label();
    let view = match step {
        ValetStep::DropOff => {
            let plate = match plate.trim() {
                "" => None,
                p => Some(Plate::parse(p)?),
            };
            let class = VehicleClass::parse(&vehicle_class)?;
            app.call(label, v::ValetDropOff { plate, class, tag })
                .await?
        }
        ValetStep::Park => app.call(label, v::ValetPark { tag, spot }).await?,
        ValetStep::Request => app.call(label, v::ValetRequest { tag }).await?,
        ValetStep::Return => app.call(label, v::ValetReturn { tag }).await?,
    };
    Ok(ValetInfo {
        message: view.message,
        ticket: view.ticket,
        tag: view.tag,
        spot: view.spot,
        due: view.due,
        currency: view.currency,
    })
}

pub async fn open_shift(app: St<'_>, window: WebviewWindow, float: String) -> Answer<ShiftInfo> {
    let s = app
        .call(
            window.label(),
            req::OpenShift {
                float: amount(&float, "the float")?,
            },
        )
        .await?;
    Ok(ShiftInfo {
        open: true,
        text: format!(
            "shift {} open for {} with a float of {} {}",
            s.id, s.cashier, s.float, s.currency
        ),
    })
}

pub async fn close_shift(app: St<'_>, window: WebviewWindow, counted: String) -> Answer<ShiftInfo> {
    let s = app
        .call(
            window.label(),
            req::CloseShift {
                counted: amount(&counted, "the cash counted")?,
            },
        )
        .await?;
    let lot = app.lot_db()?;
    let z = z_report(lot.connection(), lot.context(), s.id)?;
    Ok(ShiftInfo {
        open: false,
        text: z.receipt_text(),
    })
}

fn day_report(app: &App, day: &str) -> Answer<gatehouse_core::reports::Report> {
    let lot = app.lot_db()?;
    let ctx = lot.context();
    let tz = app.lot.config().lot.timezone;
    let day = match day.trim() {
        "" => app.now().with_timezone(&tz).date_naive(),
        d => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            ApiError::new(
                ErrorKind::InvalidInput,
                format!("'{d}' is not a day; write YYYY-MM-DD"),
            )
        })?,
    };
    let (from, to) = period_bounds(ctx, "day", day)?;
    // Today's report runs to now.
    let to = to
        .min(app.now() + Duration::seconds(1))
        .max(from + Duration::seconds(1));
    Ok(report(lot.connection(), ctx, "day", from, to)?)
}

pub fn day_report_view(app: St<'_>, day: String) -> Answer<ReportView> {
    let r = day_report(&app, &day)?;
    let mut by_hour = vec![0.0; 24];
    for row in &r.by_hour {
        if let Some(h) = row.key.get(11..13).and_then(|h| h.parse::<usize>().ok())
            && h < 24
        {
            by_hour[h] = row.average;
        }
    }
    let money = |rows: &[gatehouse_core::reports::MoneyRow]| {
        rows.iter()
            .map(|m| MoneyLine {
                key: m.key.clone(),
                count: m.count,
                amount: m.amount.clone(),
            })
            .collect()
    };
    Ok(ReportView {
        day: r.from_local.get(..10).unwrap_or_default().to_string(),
        currency: r.currency.clone(),
        revenue_total: r.revenue_total.clone(),
        occupancy_peak: r.occupancy_peak,
        spots: r.spots as u32,
        by_hour,
        revenue_by_method: money(&r.revenue_by_method),
        revenue_by_class: money(&r.revenue_by_class),
        peak_hours: r.peak_hours.clone(),
    })
}

pub fn export_report(app: St<'_>, day: String, format: ReportFormat) -> Answer<Written> {
    let r = day_report(&app, &day)?;
    let (bytes, ext) = match format {
        ReportFormat::Csv => (gatehouse_reports::csv(&r).into_bytes(), "csv"),
        ReportFormat::Pdf => (
            gatehouse_paper::render_pdf(&gatehouse_reports::document(&r)).map_err(|e| {
                ApiError::new(ErrorKind::Storage, format!("cannot render the PDF: {e}"))
            })?,
            "pdf",
        ),
    };
    std::fs::create_dir_all(&app.exports).map_err(|e| {
        ApiError::new(
            ErrorKind::Storage,
            format!("cannot make {}: {e}", app.exports.display()),
        )
    })?;
    let path = app.exports.join(format!(
        "report-{}.{ext}",
        r.from_local.get(..10).unwrap_or("day")
    ));
    std::fs::write(&path, &bytes).map_err(|e| {
        ApiError::new(
            ErrorKind::Storage,
            format!("cannot write {}: {e}", path.display()),
        )
    })?;
    Ok(Written {
        path: path.display().to_string(),
        bytes: bytes.len() as u32,
    })
}

/// The console: a lane's last camera frame with its plate read, if the camera gave one yet.
pub fn lane_frame(app: St<'_>, lane_id: String) -> Answer<Option<LaneFrameView>> {
    lane(&app, &lane_id)?;
    Ok(crate::app::frame_view(&app, &lane_id))
}

/// The kiosk: what the lane's screen shows now.
pub fn lane_screen(app: St<'_>, lane_id: String) -> Answer<Screen> {
    Ok(lane(&app, &lane_id)?.screen())
}

/// The kiosk: the driver pressed the ticket button, or one of its choices.
pub fn press_ticket(app: St<'_>, lane_id: String, choice: TicketChoice) -> Answer<()> {
    let l = lane(&app, &lane_id)?;
    let needs = |class| Needs::class(class);
    match choice {
        TicketChoice::Standard => l.press_ticket_button(),
        TicketChoice::Charger => l.press_ticket_button_for(Needs {
            ev: true,
            ..needs(VehicleClass::Standard)
        }),
        TicketChoice::Accessible => l.press_ticket_button_for(Needs {
            accessible: true,
            ..needs(VehicleClass::Standard)
        }),
        TicketChoice::Motorcycle => l.press_ticket_button_for(needs(VehicleClass::Motorcycle)),
    }
    Ok(())
}

pub fn pay_again(app: St<'_>, lane_id: String) -> Answer<()> {
    lane(&app, &lane_id)?.pay_again();
    Ok(())
}

/// The kiosk: an admin's PIN closes the kiosk window; a wrong PIN changes nothing.
pub fn unlock_kiosk(app: St<'_>, window: WebviewWindow, pin: String) -> Answer<()> {
    if pin.trim() != app.kiosk_pin {
        return Err(ApiError::new(
            ErrorKind::Forbidden,
            "that PIN is not the kiosk's admin PIN",
        ));
    }
    crate::UNLOCKED.store(true, std::sync::atomic::Ordering::SeqCst);
    window.destroy().map_err(|e| {
        ApiError::new(
            ErrorKind::Unavailable,
            format!("cannot close the kiosk: {e}"),
        )
    })
}

/// The console painted its first interactive screen.
pub fn console_ready(app: St<'_>) -> Answer<()> {
    if let Ok(mut f) = app.figures.lock()
        && f.cold_start_ms.is_none()
    {
        f.cold_start_ms = Some(app.started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(())
}

/// A window painted the engine events up to `seq`.
pub fn painted(app: St<'_>, seq: i64) -> Answer<()> {
    if let Ok(mut f) = app.figures.lock() {
        let now = std::time::Instant::now();
        let done: Vec<i64> = f.broadcast.keys().copied().filter(|s| *s <= seq).collect();
        for s in done {
            if let Some(at) = f.broadcast.remove(&s) {
                f.paint_ms
                    .push(now.duration_since(at).as_secs_f64() * 1000.0);
            }
        }
    }
    Ok(())
}

pub fn figures(app: St<'_>) -> Answer<AppFigures> {
    let rss_mb = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0);
    let Ok(f) = app.figures.lock() else {
        return Ok(AppFigures {
            cold_start_ms: None,
            rss_mb,
            paint_samples: 0,
            paint_p50_ms: 0.0,
            paint_p99_ms: 0.0,
        });
    };
    let mut v = f.paint_ms.clone();
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        v.get(((v.len().saturating_sub(1)) as f64 * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(AppFigures {
        cold_start_ms: f.cold_start_ms,
        rss_mb,
        paint_samples: v.len() as u32,
        paint_p50_ms: q(0.5),
        paint_p99_ms: q(0.99),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comma_amount_and_an_empty_reason_are_refused_with_what_to_type() {
        assert!(matches!(amount("12,5", "x"), Err(e) if e.message.contains("12.50")));
        assert!(matches!(reason("  "), Err(e) if e.message.contains("reason")));
    }
}
