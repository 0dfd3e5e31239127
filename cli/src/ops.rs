//! Day-to-day operations from the command line: reservations, permits, accounts, vouchers, the
//! watchlist, alerts, shifts, users and privacy. Each is one engine command (or a read).

use crate::output::Out;
use crate::{StayArg, parse_at};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use gatehouse_core::auth::Secret;
use gatehouse_core::command as req;
use gatehouse_core::money::parse_amount;
use gatehouse_core::permits::{Hours, PermitKind, PermitRequest};
use gatehouse_core::reservations::ReservationRequest;
use gatehouse_core::tariffs::TariffRequest;
use gatehouse_core::vouchers::VoucherRequest;
use gatehouse_core::watchlist::WatchAction;
use gatehouse_core::{Command, Error, Lot, PaymentMethod, Plate, Role, VehicleClass};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ReservationCmd {
    /// Book capacity for a vehicle class in a window (up to 30 days ahead by default).
    Book {
        /// The plate, so the entry recognises it (else the driver quotes the code).
        #[arg(long)]
        plate: Option<String>,
        #[arg(long, default_value = "standard")]
        class: String,
        #[arg(long)]
        ev: bool,
        #[arg(long)]
        accessible: bool,
        /// A chosen spot, when the lot allows it.
        #[arg(long)]
        spot: Option<String>,
        /// Start, RFC 3339 (e.g. 2026-11-22T09:00:00+01:00).
        #[arg(long)]
        start: String,
        /// End, RFC 3339.
        #[arg(long)]
        end: String,
        /// Who booked, for the attendants.
        #[arg(long)]
        holder: Option<String>,
    },
    /// What can still be booked for a class in a window.
    Availability {
        #[arg(long, default_value = "standard")]
        class: String,
        #[arg(long)]
        ev: bool,
        #[arg(long)]
        accessible: bool,
        #[arg(long)]
        start: String,
        #[arg(long)]
        end: String,
    },
    /// Move a reservation to another window (before its hold starts).
    Change {
        code: String,
        #[arg(long)]
        start: String,
        #[arg(long)]
        end: String,
    },
    /// Cancel: free until the lot's free-cancellation time before the start, else a fee.
    Cancel { code: String },
    /// One reservation by its code.
    Show { code: String },
    /// Reservations starting in a window (default: the next 7 days from --at).
    List {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum PermitCmd {
    /// Issue a permit by plate(s) and/or RFID card.
    Issue {
        /// monthly, yearly, staff or vip.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        holder: String,
        /// A plate the permit admits (repeat for several).
        #[arg(long = "plate")]
        plates: Vec<String>,
        #[arg(long)]
        card: Option<String>,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Allowed level (repeat); none: every level.
        #[arg(long = "level")]
        levels: Vec<String>,
        /// Daily entry hours in local time, e.g. 07:00-19:00.
        #[arg(long)]
        hours: Option<String>,
        /// How many of its vehicles may be inside at once.
        #[arg(long, default_value_t = 1)]
        max_inside: u32,
        /// Admit a vehicle over max-inside as a paying ticket instead of refusing the card.
        #[arg(long)]
        no_passback: bool,
    },
    Revoke {
        permit: i64,
        #[arg(long)]
        reason: String,
    },
    List,
}

#[derive(Subcommand)]
pub enum AccountCmd {
    Open {
        #[arg(long)]
        holder: String,
        #[arg(long)]
        expires: Option<String>,
    },
    TopUp {
        account: i64,
        #[arg(long)]
        method: String,
        #[arg(long)]
        amount: String,
    },
    /// Pay what a stay owes from the account.
    Pay {
        account: i64,
        #[command(flatten)]
        stay: StayArg,
    },
}

#[derive(Subcommand)]
pub enum VoucherCmd {
    /// Issue a single-use voucher: free minutes or a percentage off.
    Issue {
        #[arg(long)]
        merchant: String,
        #[arg(long)]
        minutes: Option<u32>,
        #[arg(long)]
        percent: Option<u32>,
        #[arg(long)]
        expires: Option<String>,
    },
    /// Take a scanned voucher against a stay.
    Apply {
        /// The voucher's QR payload.
        voucher: String,
        #[command(flatten)]
        stay: StayArg,
    },
}

#[derive(Subcommand)]
pub enum WatchCmd {
    /// Refuse this plate at entry (and alert).
    Refuse {
        plate: String,
        #[arg(long)]
        note: String,
    },
    /// Admit this plate but alert the attendant.
    Alert {
        plate: String,
        #[arg(long)]
        note: String,
    },
    /// Take a plate off the watchlist.
    Remove { plate: String },
}

#[derive(Subcommand)]
pub enum ValetCmd {
    /// The driver hands over the keys, which hang on TAG: a valet stay starts (its ticket is the
    /// driver's receipt).
    DropOff {
        #[arg(long)]
        tag: String,
        #[arg(long)]
        plate: Option<String>,
        #[arg(long, default_value = "standard")]
        class: String,
    },
    /// Staff parked the car on TAG in SPOT.
    Park {
        #[arg(long)]
        tag: String,
        #[arg(long)]
        spot: String,
    },
    /// The driver asks for the car on TAG back: its fee is fixed; take the payment with `pay`.
    Request {
        #[arg(long)]
        tag: String,
    },
    /// The car and keys on TAG are handed back (refused while anything is owed).
    Return {
        #[arg(long)]
        tag: String,
    },
}

#[derive(Subcommand)]
pub enum AlertCmd {
    /// Open alerts (all with --all).
    List {
        #[arg(long)]
        all: bool,
    },
    /// Acknowledge an alert.
    Ack {
        alert: i64,
        #[arg(long, default_value = "")]
        note: String,
    },
}

#[derive(Subcommand)]
pub enum ShiftCmd {
    /// Open your shift with the float in the drawer.
    Open {
        #[arg(long)]
        float: String,
    },
    /// Close your shift with the counted cash: prints the Z-report.
    Close {
        #[arg(long)]
        counted: String,
        /// Also write the Z-report as PDF.
        #[arg(long)]
        pdf: Option<std::path::PathBuf>,
    },
    /// Print a shift's Z-report (text for a receipt printer, or --pdf FILE).
    Report {
        shift: i64,
        #[arg(long)]
        pdf: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum UserCmd {
    /// Add a user; the password comes from GATEHOUSE_NEW_PASSWORD. Admins get a TOTP secret.
    Add {
        name: String,
        /// attendant, cashier, supervisor, admin or auditor.
        #[arg(value_name = "ROLE")]
        grant: String,
    },
    /// Set a password (yours, or anyone's as admin) from GATEHOUSE_NEW_PASSWORD.
    Passwd {
        name: String,
    },
    Disable {
        name: String,
    },
    /// Enable a user again; also lifts a lockout.
    Enable {
        name: String,
    },
    List,
}

#[derive(Subcommand)]
pub enum PrivacyCmd {
    /// Replace plates of stays finished more than the retention period ago by keyed hashes.
    Retain,
    /// Erase every record of a plate (a person's request).
    Erase {
        #[arg(long)]
        plate: String,
    },
}

#[derive(Subcommand)]
pub enum TariffCmd {
    /// Admin: publish a tariff (a `[tariff]` table as in the lot config) from a time on; stays
    /// that entered before keep the tariff they entered under.
    Publish {
        /// The TOML file with the `[tariff]` table.
        file: PathBuf,
        /// When it takes effect (default: now).
        #[arg(long, value_parser = time)]
        from: Option<DateTime<Utc>>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// The published versions, newest first.
    List,
}

fn class(s: &str) -> Result<VehicleClass, Error> {
    VehicleClass::parse(s)
}

fn time(s: &str) -> Result<DateTime<Utc>, Error> {
    parse_at(Some(s))
}

fn new_password() -> Result<Secret, Error> {
    std::env::var("GATEHOUSE_NEW_PASSWORD")
        .map(Secret)
        .map_err(|_| Error::invalid("put the new password in GATEHOUSE_NEW_PASSWORD"))
}

pub fn reservation(
    cmd: &ReservationCmd,
    db: &Path,
    at: DateTime<Utc>,
    out: &Out,
    exec: &dyn Fn(Command) -> Result<(), Error>,
) -> Result<(), Error> {
    match cmd {
        ReservationCmd::Book {
            plate,
            class: c,
            ev,
            accessible,
            spot,
            start,
            end,
            holder,
        } => exec(Command::Reserve(ReservationRequest {
            plate: plate.as_deref().map(Plate::parse).transpose()?,
            class: class(c)?,
            ev: *ev,
            accessible: *accessible,
            spot: spot.clone(),
            start: time(start)?,
            end: time(end)?,
            holder: holder.clone(),
        })),
        ReservationCmd::Availability {
            class: c,
            ev,
            accessible,
            start,
            end,
        } => {
            let lot = Lot::open(db)?;
            let a = gatehouse_core::reservations::availability(
                lot.connection(),
                &lot.context().config.policies.reservations,
                class(c)?,
                *ev,
                *accessible,
                time(start)?,
                time(end)?,
            )?;
            out.value(&a, || {
                format!(
                    "{} {} vehicle(s) can still book {} to {} ({} spots fit, {} occupied now, {} booked at the busiest moment)",
                    a.available,
                    a.class,
                    lot.context().local(a.start),
                    lot.context().local(a.end),
                    a.spots,
                    a.occupied,
                    a.booked_peak
                )
            });
            Ok(())
        }
        ReservationCmd::Change { code, start, end } => {
            exec(Command::ChangeReservation(req::ChangeReservation {
                code: code.clone(),
                start: time(start)?,
                end: time(end)?,
            }))
        }
        ReservationCmd::Cancel { code } => {
            exec(Command::CancelReservation(req::CancelReservation {
                code: code.clone(),
            }))
        }
        ReservationCmd::Show { code } => {
            let lot = Lot::open(db)?;
            let r = gatehouse_core::reservations::find(lot.connection(), lot.context(), code)?;
            out.reservation(&r);
            Ok(())
        }
        ReservationCmd::List { from, to } => {
            let lot = Lot::open(db)?;
            let from = from.as_deref().map(time).transpose()?.unwrap_or(at);
            let to = to
                .as_deref()
                .map(time)
                .transpose()?
                .unwrap_or(from + chrono::Duration::days(7));
            let list =
                gatehouse_core::reservations::list(lot.connection(), lot.context(), from, to)?;
            if out.json {
                out.print_json(&list);
            } else {
                for r in &list {
                    out.reservation(r);
                }
                println!("{} reservations", list.len());
            }
            Ok(())
        }
    }
}

pub fn permit(
    cmd: &PermitCmd,
    db: &Path,
    out: &Out,
    exec: &dyn Fn(Command) -> Result<(), Error>,
) -> Result<(), Error> {
    match cmd {
        PermitCmd::Issue {
            kind,
            holder,
            plates,
            card,
            from,
            to,
            levels,
            hours,
            max_inside,
            no_passback,
        } => exec(Command::IssuePermit(PermitRequest {
            kind: PermitKind::parse(kind)?,
            holder: holder.clone(),
            plates: plates
                .iter()
                .map(|p| Plate::parse(p))
                .collect::<Result<_, _>>()?,
            card: card.clone(),
            valid_from: time(from)?,
            valid_to: time(to)?,
            levels: levels.clone(),
            hours: hours.as_deref().map(Hours::parse).transpose()?,
            max_inside: *max_inside,
            passback: !no_passback,
        })),
        PermitCmd::Revoke { permit, reason } => exec(Command::RevokePermit(req::RevokePermit {
            permit: *permit,
            reason: reason.clone(),
        })),
        PermitCmd::List => {
            let lot = Lot::open(db)?;
            out.rows(&gatehouse_core::permits::list_permits(lot.connection())?);
            Ok(())
        }
    }
}

pub fn account(cmd: &AccountCmd, exec: &dyn Fn(Command) -> Result<(), Error>) -> Result<(), Error> {
    match cmd {
        AccountCmd::Open { holder, expires } => exec(Command::OpenAccount(req::OpenAccount {
            holder: holder.clone(),
            expires_at: expires.as_deref().map(time).transpose()?,
        })),
        AccountCmd::TopUp {
            account,
            method,
            amount,
        } => exec(Command::TopUpAccount(req::TopUpAccount {
            account: *account,
            method: PaymentMethod::parse(method)?,
            amount: parse_amount(amount)?,
        })),
        AccountCmd::Pay { account, stay } => exec(Command::PayFromAccount(req::PayFromAccount {
            stay: stay.resolve()?,
            account: *account,
        })),
    }
}

pub fn voucher(cmd: &VoucherCmd, exec: &dyn Fn(Command) -> Result<(), Error>) -> Result<(), Error> {
    match cmd {
        VoucherCmd::Issue {
            merchant,
            minutes,
            percent,
            expires,
        } => exec(Command::IssueVoucher(VoucherRequest {
            merchant: merchant.clone(),
            free_minutes: *minutes,
            percent_off: *percent,
            valid_to: expires.as_deref().map(time).transpose()?,
        })),
        VoucherCmd::Apply { voucher, stay } => exec(Command::ApplyVoucher(req::ApplyVoucher {
            stay: stay.resolve()?,
            voucher: voucher.clone(),
        })),
    }
}

pub fn watch(cmd: &WatchCmd, exec: &dyn Fn(Command) -> Result<(), Error>) -> Result<(), Error> {
    let (plate, action, note) = match cmd {
        WatchCmd::Refuse { plate, note } => (plate, Some(WatchAction::Refuse), note.clone()),
        WatchCmd::Alert { plate, note } => (plate, Some(WatchAction::Alert), note.clone()),
        WatchCmd::Remove { plate } => (plate, None, String::new()),
    };
    exec(Command::Watch(req::Watch {
        plate: Plate::parse(plate)?,
        action,
        note,
    }))
}

pub fn valet(cmd: &ValetCmd, exec: &dyn Fn(Command) -> Result<(), Error>) -> Result<(), Error> {
    use gatehouse_core::valet::{ValetDropOff, ValetPark, ValetRequest, ValetReturn};
    exec(match cmd {
        ValetCmd::DropOff { tag, plate, class } => ValetDropOff {
            plate: plate.as_deref().map(Plate::parse).transpose()?,
            class: VehicleClass::parse(class)?,
            tag: tag.clone(),
        }
        .into(),
        ValetCmd::Park { tag, spot } => ValetPark {
            tag: tag.clone(),
            spot: spot.clone(),
        }
        .into(),
        ValetCmd::Request { tag } => ValetRequest { tag: tag.clone() }.into(),
        ValetCmd::Return { tag } => ValetReturn { tag: tag.clone() }.into(),
    })
}

pub fn alerts(
    cmd: &AlertCmd,
    db: &Path,
    out: &Out,
    exec: &dyn Fn(Command) -> Result<(), Error>,
) -> Result<(), Error> {
    match cmd {
        AlertCmd::List { all } => {
            let lot = Lot::open(db)?;
            out.rows(&gatehouse_core::alerts::list_alerts(
                lot.connection(),
                *all,
            )?);
            Ok(())
        }
        AlertCmd::Ack { alert, note } => exec(Command::AckAlert(req::AckAlert {
            alert: *alert,
            note: note.clone(),
        })),
    }
}

pub fn user(
    cmd: &UserCmd,
    db: &Path,
    out: &Out,
    exec: &dyn Fn(Command) -> Result<(), Error>,
) -> Result<(), Error> {
    match cmd {
        UserCmd::Add { name, grant } => exec(Command::AddUser(req::AddUser {
            name: name.clone(),
            role: Role::parse(grant)?,
            password: new_password()?,
        })),
        UserCmd::Passwd { name } => exec(Command::SetPassword(req::SetPassword {
            name: name.clone(),
            password: new_password()?,
        })),
        UserCmd::Disable { name } => exec(Command::SetUserEnabled(req::SetUserEnabled {
            name: name.clone(),
            enabled: false,
        })),
        UserCmd::Enable { name } => exec(Command::SetUserEnabled(req::SetUserEnabled {
            name: name.clone(),
            enabled: true,
        })),
        UserCmd::List => {
            let lot = Lot::open(db)?;
            out.rows(&gatehouse_core::users::list_users(lot.connection())?);
            Ok(())
        }
    }
}

pub fn privacy(
    cmd: &PrivacyCmd,
    db: &Path,
    at: DateTime<Utc>,
    exec: &dyn Fn(Command) -> Result<(), Error>,
) -> Result<(), Error> {
    match cmd {
        PrivacyCmd::Retain => {
            let days = Lot::open(db)?
                .context()
                .config
                .policies
                .plate_retention_days;
            exec(Command::PseudonymisePlates(req::PseudonymisePlates {
                before: at - chrono::Duration::days(i64::from(days)),
            }))
        }
        PrivacyCmd::Erase { plate } => exec(Command::ErasePlate(req::ErasePlate {
            plate: Plate::parse(plate)?,
        })),
    }
}

pub fn tariff(
    cmd: &TariffCmd,
    db: &Path,
    out: &Out,
    exec: &dyn Fn(Command) -> Result<(), Error>,
) -> Result<(), Error> {
    match cmd {
        TariffCmd::Publish { file, from, note } => {
            let toml = std::fs::read_to_string(file).map_err(|e| {
                Error::invalid(format!(
                    "cannot read the tariff file {}: {e}",
                    file.display()
                ))
            })?;
            // Checked here too, so an error names the operator's file rather than "the tariff".
            Lot::open(db)?
                .context()
                .config
                .parse_tariff(&file.display().to_string(), &toml)?;
            exec(Command::PublishTariff(TariffRequest {
                toml,
                effective_from: *from,
                note: note.clone(),
            }))
        }
        TariffCmd::List => {
            let versions = gatehouse_core::tariffs::list(Lot::open(db)?.connection())?;
            let rows: Vec<serde_json::Value> = versions
                .iter()
                .map(|v| {
                    serde_json::json!({
                        "version": v.version,
                        "effective_from": v.effective_from,
                        "sha256": v.sha256,
                        "note": v.note,
                        "published_by": v.published_by,
                        "published_at": v.published_at,
                    })
                })
                .collect();
            out.rows(&rows);
            Ok(())
        }
    }
}
