//! The console's office: reservations, permits, prepaid accounts, merchant vouchers and staff.
//! Thin like the booth's commands: parse what was typed, ask the engine (which checks the role
//! and the rules), show its answer.

use crate::api::*;
use crate::app::App;
use crate::commands::{amount, reason};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use gatehouse_core::command as req;
use gatehouse_core::permits::{Hours, PermitRequest};
use gatehouse_core::reservations::ReservationRequest;
use gatehouse_core::vouchers::{VoucherListed, VoucherRequest};
use gatehouse_core::{ErrorKind, Plate, Role, VehicleClass};
use std::sync::Arc;
use tauri::{State, WebviewWindow};

type St<'a> = State<'a, Arc<App>>;

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorKind::InvalidInput, message)
}

/// A day and a time typed in the lot's local time, as UTC.
fn local_instant(app: &App, day: NaiveDate, time: &str) -> Answer<DateTime<Utc>> {
    let t = NaiveTime::parse_from_str(time.trim(), "%H:%M")
        .map_err(|_| invalid(format!("'{time}' is not a time; write HH:MM, like 09:30")))?;
    app.lot
        .config()
        .lot
        .timezone
        .from_local_datetime(&NaiveDateTime::new(day, t))
        .earliest()
        .map(|l| l.with_timezone(&Utc))
        .ok_or_else(|| {
            invalid(format!(
                "{day} {time} does not exist in the lot's time zone (the clocks go forward); choose another time"
            ))
        })
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split([' ', ',', ';'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
}

/// Plates typed in one field: a plate may have spaces of its own ("PRM 4411"), so they are
/// separated by commas, semicolons or new lines.
fn plates(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
}

// ---- reservations ------------------------------------------------------------------------------

fn reservation_row(r: gatehouse_core::reservations::ReservationView) -> ReservationRow {
    ReservationRow {
        code: r.code,
        status: r.status,
        plate: r.plate,
        class: r.class.as_str().to_string(),
        ev: r.ev,
        accessible: r.accessible,
        spot: r.spot,
        window: r.window,
        estimate: r.estimate,
        fee: r.fee,
        currency: r.currency,
    }
}

/// The reservations starting from the beginning of today (lot time) for `days` days.
pub fn reservations(app: St<'_>, days: u32) -> Answer<Vec<ReservationRow>> {
    let lot = app.lot_db()?;
    let today = app
        .now()
        .with_timezone(&app.lot.config().lot.timezone)
        .date_naive();
    let from = local_instant(&app, today, "00:00")?;
    let to = from + Duration::days(i64::from(days.clamp(1, 60)));
    Ok(
        gatehouse_core::reservations::list(lot.connection(), lot.context(), from, to)?
            .into_iter()
            .map(reservation_row)
            .collect(),
    )
}

pub async fn reserve(
    app: St<'_>,
    window: WebviewWindow,
    form: ReservationForm,
) -> Answer<ReservationRow> {
    let day = NaiveDate::parse_from_str(form.day.trim(), "%Y-%m-%d")
        .map_err(|_| invalid(format!("'{}' is not a day; write YYYY-MM-DD", form.day)))?;
    let start = local_instant(&app, day, &form.from)?;
    let mut end = local_instant(&app, day, &form.to)?;
    if end <= start {
        end = local_instant(&app, day + Duration::days(1), &form.to)?;
    }
    let plate = match form.plate.trim() {
        "" => None,
        p => Some(Plate::parse(p)?),
    };
    let holder = Some(form.holder.trim().to_string()).filter(|h| !h.is_empty());
    let r = app
        .call(
            window.label(),
            ReservationRequest {
                plate,
                class: VehicleClass::parse(&form.class)?,
                ev: form.ev,
                accessible: form.accessible,
                spot: None,
                start,
                end,
                holder,
            },
        )
        .await?;
    Ok(reservation_row(r))
}

pub async fn cancel_reservation(
    app: St<'_>,
    window: WebviewWindow,
    code: String,
) -> Answer<String> {
    let r = app
        .call(
            window.label(),
            req::CancelReservation {
                code: code.trim().to_string(),
            },
        )
        .await?;
    Ok(if r.fee != "0" {
        format!(
            "reservation {} is cancelled; a fee of {} {} is owed",
            r.code, r.fee, r.currency
        )
    } else {
        format!("reservation {} is cancelled", r.code)
    })
}

// ---- permits -----------------------------------------------------------------------------------

pub fn permits(app: St<'_>) -> Answer<Vec<PermitRow>> {
    let lot = app.lot_db()?;
    let rows = gatehouse_core::permits::list_permits(lot.connection())?;
    let local = |stored: &str| {
        gatehouse_core::store::parse_ts(stored)
            .map(|t| app.local_text(t))
            .unwrap_or_else(|_| stored.to_string())
    };
    Ok(rows
        .into_iter()
        .map(|p| PermitRow {
            id: p.id,
            kind: p.kind,
            holder: p.holder,
            plates: p.plates,
            card: p.card,
            valid: format!("{} to {}", local(&p.valid_from), local(&p.valid_to)),
            levels: p.levels.replace(',', " "),
            hours: p.hours,
            max_inside: u32::try_from(p.max_inside).unwrap_or(0),
            inside: u32::try_from(p.inside).unwrap_or(0),
            revoked: p.revoked_at.is_some(),
        })
        .collect())
}

pub async fn issue_permit(app: St<'_>, window: WebviewWindow, form: PermitForm) -> Answer<String> {
    let plates = plates(&form.plates)
        .map(Plate::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let card = Some(form.card.trim().to_string()).filter(|c| !c.is_empty());
    if form.days == 0 || form.days > 3660 {
        return Err(invalid(
            "a permit is valid for 1 to 3660 days from today".into(),
        ));
    }
    let now = app.now();
    let hours = match form.hours.trim() {
        "" => None,
        h => Some(Hours::parse(h)?),
    };
    let p = app
        .call(
            window.label(),
            PermitRequest {
                kind: form.kind,
                holder: form.holder.trim().to_string(),
                plates,
                card,
                valid_from: now,
                valid_to: now + Duration::days(i64::from(form.days)),
                levels: words(&form.levels).map(str::to_string).collect(),
                hours,
                max_inside: form.max_inside.max(1),
                passback: true,
            },
        )
        .await?;
    Ok(format!(
        "permit {} issued to {} until {}",
        p.id,
        p.holder,
        app.local_text(p.valid_to)
    ))
}

pub async fn revoke_permit(
    app: St<'_>,
    window: WebviewWindow,
    id: i64,
    why: String,
) -> Answer<String> {
    let r = app
        .call(
            window.label(),
            req::RevokePermit {
                permit: id,
                reason: reason(&why)?,
            },
        )
        .await?;
    Ok(r.message)
}

// ---- prepaid accounts --------------------------------------------------------------------------

fn account_row(app: &App, a: gatehouse_core::accounts::AccountView) -> Answer<AccountRow> {
    Ok(AccountRow {
        id: a.id,
        holder: a.holder,
        balance: a.balance,
        currency: a.currency,
        expires_local: a.expires_at.map(|t| app.local_text(t)),
        warnings: a.warnings,
        card_svg: gatehouse_core::ticket::qr_svg(&a.card)?,
        card: a.card,
    })
}

pub fn accounts(app: St<'_>) -> Answer<Vec<AccountRow>> {
    let lot = app.lot_db()?;
    gatehouse_core::accounts::list_accounts(lot.connection(), lot.context(), app.now())?
        .into_iter()
        .map(|a| account_row(&app, a))
        .collect()
}

pub async fn open_account(
    app: St<'_>,
    window: WebviewWindow,
    holder: String,
    days: u32,
) -> Answer<AccountRow> {
    let expires_at = (days > 0).then(|| app.now() + Duration::days(i64::from(days)));
    let a = app
        .call(window.label(), req::OpenAccount { holder, expires_at })
        .await?;
    account_row(&app, a)
}

pub async fn top_up(
    app: St<'_>,
    window: WebviewWindow,
    id: i64,
    method: BoothMethod,
    amount_text: String,
) -> Answer<AccountRow> {
    let a = app
        .call(
            window.label(),
            req::TopUpAccount {
                account: id,
                method: method.into(),
                amount: amount(&amount_text, "the top-up")?,
            },
        )
        .await?;
    account_row(&app, a)
}

// ---- merchant vouchers -------------------------------------------------------------------------

fn gives(free_minutes: Option<u32>, percent_off: Option<u32>) -> String {
    match (free_minutes, percent_off) {
        (Some(m), _) => format!("{m} free minutes"),
        (None, Some(p)) => format!("{p}% off"),
        (None, None) => String::new(),
    }
}

fn voucher_row(app: &App, v: VoucherListed) -> Answer<VoucherRow> {
    Ok(VoucherRow {
        id: v.id,
        merchant: v.merchant,
        gives: gives(v.free_minutes, v.percent_off),
        valid_to_local: v.valid_to.map(|t| app.local_text(t)),
        used_on: v.used_on,
        qr_svg: gatehouse_core::ticket::qr_svg(&v.qr)?,
        qr: v.qr,
    })
}

pub fn vouchers(app: St<'_>) -> Answer<Vec<VoucherRow>> {
    let lot = app.lot_db()?;
    gatehouse_core::vouchers::list_vouchers(lot.connection(), lot.context(), 200)?
        .into_iter()
        .map(|v| voucher_row(&app, v))
        .collect()
}

/// A voucher for a merchant's customer: free minutes, or a percentage off (`percent` true).
pub async fn issue_voucher(
    app: St<'_>,
    window: WebviewWindow,
    merchant: String,
    value: u32,
    percent: bool,
    days: u32,
) -> Answer<VoucherRow> {
    let valid_to = (days > 0).then(|| app.now() + Duration::days(i64::from(days)));
    let v = app
        .call(
            window.label(),
            VoucherRequest {
                merchant,
                free_minutes: (!percent).then_some(value),
                percent_off: percent.then_some(value),
                valid_to,
            },
        )
        .await?;
    voucher_row(
        &app,
        VoucherListed {
            id: v.id,
            merchant: v.merchant,
            free_minutes: v.free_minutes,
            percent_off: v.percent_off,
            valid_to: v.valid_to,
            used_on: None,
            qr: v.qr,
        },
    )
}

// ---- staff -------------------------------------------------------------------------------------

pub fn users(app: St<'_>, window: WebviewWindow) -> Answer<Vec<UserRow>> {
    // The list of staff is for whoever may change it.
    let actor = app.actor(window.label())?;
    let admin = gatehouse_core::auth::Permission::UserAdmin;
    if !gatehouse_core::auth::permitted(actor.role, admin) {
        return Err(ApiError::new(
            ErrorKind::Forbidden,
            format!(
                "{} may not see the staff list: only those who may {} do",
                actor.name,
                admin.describe()
            ),
        ));
    }
    let lot = app.lot_db()?;
    let rows = gatehouse_core::users::list_users(lot.connection())?;
    Ok(rows
        .into_iter()
        .map(|u| UserRow {
            name: u.name,
            role: u.role,
            second_factor: u.second_factor,
            disabled: u.disabled,
            locked_until: u.locked_until,
        })
        .collect())
}

pub async fn add_user(
    app: St<'_>,
    window: WebviewWindow,
    name: String,
    role: Role,
    password: String,
) -> Answer<UserAddedView> {
    let u = app
        .call(
            window.label(),
            req::AddUser {
                name: name.trim().to_string(),
                role,
                password: gatehouse_core::auth::Secret(password),
            },
        )
        .await?;
    Ok(UserAddedView {
        name: u.user,
        role: u.role,
        totp_secret: u.totp_secret,
    })
}

pub async fn set_user_enabled(
    app: St<'_>,
    window: WebviewWindow,
    name: String,
    enabled: bool,
) -> Answer<String> {
    app.call(
        window.label(),
        req::SetUserEnabled {
            name: name.trim().to_string(),
            enabled,
        },
    )
    .await?;
    Ok(format!(
        "{} is {}",
        name.trim(),
        if enabled { "enabled" } else { "disabled" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plate_with_a_space_stays_one_plate_and_levels_split_on_spaces_too() {
        assert_eq!(
            plates(" PRM 4411, CD2;EF 3  ").collect::<Vec<_>>(),
            ["PRM 4411", "CD2", "EF 3"]
        );
        assert_eq!(words("P1 P2,P3").collect::<Vec<_>>(), ["P1", "P2", "P3"]);
        assert_eq!(gives(Some(60), None), "60 free minutes");
        assert_eq!(gives(None, Some(20)), "20% off");
    }
}
