//! `gatehouse`: the headless command line over the lot engine. Every engine operation is
//! scriptable (`--json`, `--at`); the rules live in gatehouse-core.

mod anpr;
mod bench;
mod bench_ops;
mod cycle;
mod day;
mod demo;
mod devices;
mod load;
mod ops;
mod output;
mod report;
mod sync;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};
use gatehouse_core::auth::Secret;
use gatehouse_core::command as req;
use gatehouse_core::engine::Outcome;
use gatehouse_core::lot::restore;
use gatehouse_core::money::parse_amount;
use gatehouse_core::{
    Actor, Command, Engine, EngineOptions, Error, Lot, LotConfig, PaymentMethod, Plate, Role,
    StayRef, VehicleClass,
};
use output::Out;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "gatehouse", version, about = "Gatehouse: run a car park from the command line", long_about = None)]
struct Cli {
    /// The lot database.
    #[arg(
        long,
        global = true,
        env = "GATEHOUSE_DB",
        default_value = "gatehouse.db"
    )]
    db: PathBuf,
    /// The engine clock for this command (RFC 3339, e.g. 2026-11-21T09:00:00+01:00); default now.
    #[arg(long, global = true)]
    at: Option<String>,
    /// Print one JSON object per result (errors too, as {"error": {"kind", "message"}}).
    #[arg(long, global = true)]
    json: bool,
    /// Who is acting, written into the journal.
    #[arg(long, global = true, env = "GATEHOUSE_ACTOR", default_value = "cli")]
    actor: String,
    /// The acting role: attendant, cashier, supervisor, admin, auditor, system.
    #[arg(
        long,
        global = true,
        env = "GATEHOUSE_ROLE",
        default_value = "attendant"
    )]
    role: String,
    /// Log in as this user (once the lot has users): the password comes from
    /// GATEHOUSE_PASSWORD, an admin's authenticator code from GATEHOUSE_TOTP.
    #[arg(long, global = true, env = "GATEHOUSE_USER")]
    user: Option<String>,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Args, Clone)]
#[group(required = true, multiple = false)]
struct StayArg {
    /// Ticket number (000042-2) or the QR payload scanned from the ticket.
    #[arg(long)]
    ticket: Option<String>,
    /// Plate of a vehicle inside.
    #[arg(long)]
    plate: Option<String>,
}

impl StayArg {
    fn resolve(&self) -> Result<StayRef, Error> {
        match (&self.ticket, &self.plate) {
            (Some(t), _) => Ok(StayRef::Ticket(t.clone())),
            (None, Some(p)) => Ok(StayRef::Plate(Plate::parse(p)?)),
            (None, None) => Err(Error::invalid("name the stay with --ticket or --plate")),
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a lot database from a config file (or the embedded demo lot with --demo).
    Init {
        #[arg(long, required_unless_present = "demo")]
        config: Option<PathBuf>,
        /// Use the embedded demo lot (examples/lots/demo.toml).
        #[arg(long, conflicts_with = "config")]
        demo: bool,
    },
    /// Check a config file without writing anything.
    Check {
        #[arg(long)]
        config: PathBuf,
    },
    /// A vehicle enters: allocate a spot and issue a ticket.
    Entry {
        /// The plate as read or typed (spaces and dashes are ignored); absent when unread.
        #[arg(long)]
        plate: Option<String>,
        /// motorcycle, compact, standard, large or bus.
        #[arg(long, default_value = "standard")]
        class: String,
        /// Entry lane id (default: the first entry lane of the config).
        #[arg(long)]
        lane: Option<String>,
        /// The vehicle is electric: prefer EV charging spots.
        #[arg(long)]
        ev: bool,
        /// The driver holds an accessible-parking credential.
        #[arg(long)]
        accessible: bool,
        /// A ticket presented at entry (QR payload or number); checked for anti-passback.
        #[arg(long)]
        ticket: Option<String>,
        /// Supervisor override: put the vehicle on this spot.
        #[arg(long)]
        spot: Option<String>,
        /// An RFID permit card read at the lane.
        #[arg(long)]
        card: Option<String>,
        /// A reservation's confirmation code (else a reservation is matched by plate).
        #[arg(long)]
        reservation: Option<String>,
    },
    /// What a stay owes now (or at --at), with its lines.
    Quote {
        #[command(flatten)]
        stay: StayArg,
    },
    /// Record a payment. For cash, --amount is what was handed over; change is returned.
    Pay {
        #[command(flatten)]
        stay: StayArg,
        /// cash, card, mobile_wallet, upi or prepaid.
        #[arg(long)]
        method: String,
        /// Decimal amount in the lot's currency, e.g. 4.50.
        #[arg(long)]
        amount: String,
        /// Idempotency key: a retry with the same key never charges twice.
        #[arg(long)]
        key: Option<String>,
    },
    /// Refund money to a driver (supervisor or admin).
    Refund {
        #[command(flatten)]
        stay: StayArg,
        /// How the money goes back: cash, card, mobile_wallet, upi or prepaid.
        #[arg(long)]
        method: String,
        /// Decimal amount, at most what the stay has paid.
        #[arg(long)]
        amount: String,
        /// Why, for the journal.
        #[arg(long)]
        reason: String,
        #[arg(long)]
        key: Option<String>,
    },
    /// The vehicle leaves: refused while anything is owed.
    Exit {
        #[command(flatten)]
        stay: StayArg,
        /// Exit lane id (default: the first exit lane of the config).
        #[arg(long)]
        lane: Option<String>,
    },
    /// A lost ticket: find the stay by plate, else charge the flat lost-ticket fee.
    LostTicket {
        /// The plate of the vehicle whose ticket is lost.
        #[arg(long)]
        plate: String,
        /// Vehicle class, for a new stay when none is found.
        #[arg(long, default_value = "standard")]
        class: String,
    },
    /// Occupancy now (or at --at) by level, zone and size.
    Occupancy,
    /// List spots, or take one out of service and back (supervisor).
    Spots {
        #[command(subcommand)]
        action: Option<SpotsCmd>,
        /// Only spots on this level.
        #[arg(long)]
        level: Option<String>,
        /// Only free spots.
        #[arg(long)]
        free: bool,
    },
    /// Supervisor: move a vehicle inside to a named spot.
    Override {
        #[command(flatten)]
        stay: StayArg,
        #[arg(long)]
        spot: String,
        #[arg(long)]
        reason: String,
    },
    /// Tickets: verify a scanned code, or draw a ticket's QR code.
    Ticket {
        #[command(subcommand)]
        action: TicketCmd,
    },
    /// The journal's hash chain.
    Audit {
        #[command(subcommand)]
        action: AuditCmd,
    },
    /// Journal rows, oldest first.
    Journal {
        #[arg(long, default_value_t = 1)]
        from: i64,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Revenue between two times (default: the --at day so far).
    Revenue {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
    },
    /// Online backup to a new file (the lot keeps running).
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore --db from a backup whose journal verifies.
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// Overwrite an existing --db.
        #[arg(long)]
        replace: bool,
    },
    /// Reservations: book, availability, change, cancel, show, list.
    Reservation {
        #[command(subcommand)]
        action: ops::ReservationCmd,
    },
    /// Permits by plate or RFID card (supervisor).
    Permit {
        #[command(subcommand)]
        action: ops::PermitCmd,
    },
    /// Prepaid accounts: open, top up, pay a stay.
    Account {
        #[command(subcommand)]
        action: ops::AccountCmd,
    },
    /// Merchant vouchers: issue (supervisor) and apply.
    Voucher {
        #[command(subcommand)]
        action: ops::VoucherCmd,
    },
    /// The watchlist: plates to refuse or alert on at entry (supervisor).
    Watch {
        #[command(subcommand)]
        action: ops::WatchCmd,
    },
    /// Valet parking: take the keys on a tag, park the car, hand it back when asked and paid.
    Valet {
        #[command(subcommand)]
        action: ops::ValetCmd,
    },
    /// Alerts for the attendant: list and acknowledge.
    Alerts {
        #[command(subcommand)]
        action: ops::AlertCmd,
    },
    /// Cashier shifts: open with a float, close with the counted cash, Z-report.
    Shift {
        #[command(subcommand)]
        action: ops::ShiftCmd,
    },
    /// Users (admin): add, passwd, disable, enable, list.
    User {
        #[command(subcommand)]
        action: ops::UserCmd,
    },
    /// Check a user's password (and code): logs in and prints the session.
    Login,
    /// Open a lane's barrier by hand, with a reason.
    OpenGate {
        lane: String,
        #[arg(long)]
        reason: String,
    },
    /// Supervisor: end a stay without charge.
    Void {
        #[command(flatten)]
        stay: StayArg,
        #[arg(long)]
        reason: String,
    },
    /// Tariff versions: publish one from a time on (admin), list them.
    Tariff {
        #[command(subcommand)]
        action: ops::TariffCmd,
    },
    /// Personal data: retention and erasure (admin).
    Privacy {
        #[command(subcommand)]
        action: ops::PrivacyCmd,
    },
    /// Reports: occupancy, revenue, stays, reservations, permits, as text, CSV or PDF.
    Report(report::ReportArgs),
    /// Benchmark the engine: durable events/s and latency percentiles (prints JSON with --json).
    Bench(bench::BenchArgs),
    /// Benchmark operations: availability with 10,000 reservations, a monthly report.
    BenchOps(bench_ops::BenchOpsArgs),
    /// Run the demo lot live: every lane on simulated devices, vehicles from a day's traffic
    /// profile on a fast clock; prints what happens and a summary.
    Demo(demo::DemoArgs),
    /// A scripted day through the engine alone (no lanes), as fast as it goes: 900 vehicles and
    /// the exceptions an attendant meets; prints its summary.
    Day(day::DayArgs),
    /// Drive entry → pay → exit cycles against --db, printing one line per acknowledged command
    /// (for crash tests and soak runs).
    Load(load::LoadArgs),
    /// Commission lane hardware: open a gate, print a test ticket, take a test payment...
    Device {
        #[command(subcommand)]
        action: devices::DeviceCmd,
    },
    /// Run a device simulator until Ctrl-C (or --seconds), printing what it receives.
    Simulate {
        #[command(subcommand)]
        action: devices::SimCmd,
    },
    /// Licence-plate recognition: read pictures, measure against ground truth, benchmark.
    Anpr {
        #[command(subcommand)]
        action: anpr::AnprCmd,
    },
    /// The link to the shared server: status, one round now, or keep syncing.
    Sync {
        #[command(subcommand)]
        action: sync::SyncCmd,
    },
}

#[derive(Subcommand)]
enum SpotsCmd {
    /// Take a spot out of service.
    OutOfService {
        spot: String,
        #[arg(long)]
        reason: String,
    },
    /// Put a spot back in service.
    InService {
        spot: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum TicketCmd {
    /// Verify a scanned QR payload: forged, altered, other-lot and used tickets are refused.
    Verify {
        #[arg(long)]
        qr: String,
    },
    /// Draw the QR code of a ticket inside: in the terminal, or as an SVG file.
    Qr {
        #[arg(long)]
        ticket: String,
        #[arg(long)]
        svg: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Walk the hash chain and name the first broken link.
    Verify,
}

fn parse_at(at: Option<&str>) -> Result<DateTime<Utc>, Error> {
    match at {
        None => Ok(Utc::now()),
        Some(s) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                Error::invalid(format!(
                    "--at '{s}' is not an RFC 3339 time; write it like 2026-11-21T09:00:00+01:00 or 2026-11-21T08:00:00Z"
                ))
            }),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Out { json: cli.json };
    match run(&cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            out.error(&e);
            ExitCode::from(1)
        }
    }
}

/// The engine, opened once per run.
struct Session<'a> {
    cli: &'a Cli,
    at: DateTime<Utc>,
    engine: std::cell::OnceCell<Engine>,
    actor: std::cell::OnceCell<Actor>,
}

impl Session<'_> {
    fn engine(&self) -> Result<&Engine, Error> {
        if let Some(e) = self.engine.get() {
            return Ok(e);
        }
        let e = Engine::open(&self.cli.db, EngineOptions::default())?;
        Ok(self.engine.get_or_init(|| e))
    }

    fn login(&self, user: &str) -> Result<gatehouse_core::users::LoggedIn, Error> {
        let password = std::env::var("GATEHOUSE_PASSWORD").map_err(|_| {
            Error::invalid(format!(
                "to act as {user}, put the password in GATEHOUSE_PASSWORD (and an admin's code in GATEHOUSE_TOTP)"
            ))
        })?;
        let totp = std::env::var("GATEHOUSE_TOTP").ok().map(Secret);
        self.engine()?.run(
            &Actor::system("login"),
            self.at,
            req::Login {
                user: user.to_string(),
                password: Secret(password),
                totp,
            },
        )
    }

    /// Who acts: a logged-in user (--user), else --actor with --role (a lot without users).
    fn actor(&self) -> Result<&Actor, Error> {
        if let Some(a) = self.actor.get() {
            return Ok(a);
        }
        let a = match &self.cli.user {
            Some(user) => {
                let l = self.login(user)?;
                let mut a = Actor::new(&l.user, l.role)?;
                a.session = Some(l.token);
                a
            }
            None => Actor::new(&self.cli.actor, Role::parse(&self.cli.role)?)?,
        };
        Ok(self.actor.get_or_init(|| a))
    }

    fn execute(&self, cmd: Command) -> Result<Outcome, Error> {
        self.engine()?.execute(self.actor()?, self.at, cmd)
    }

    fn run<R: gatehouse_core::Request>(&self, request: R) -> Result<R::Reply, Error> {
        self.engine()?.run(self.actor()?, self.at, request)
    }
}

fn run(cli: &Cli, out: &Out) -> Result<(), Error> {
    let at = parse_at(cli.at.as_deref())?;
    let session = Session {
        cli,
        at,
        engine: Default::default(),
        actor: Default::default(),
    };
    let exec = |cmd: Command| -> Result<(), Error> {
        out.outcome(&session.execute(cmd)?);
        Ok(())
    };
    match &cli.command {
        Cmd::Init { config, demo } => {
            let cfg = match (config, demo) {
                (Some(path), _) => LotConfig::load(path)?,
                (None, _) => LotConfig::demo()?,
            };
            Engine::init(&cli.db, &cfg, at, session.actor()?)?;
            out.init(&cli.db, &cfg);
            Ok(())
        }
        Cmd::Check { config } => {
            let cfg = LotConfig::load(config)?;
            out.check(config, &cfg);
            Ok(())
        }
        Cmd::Entry {
            plate,
            class,
            lane,
            ev,
            accessible,
            ticket,
            spot,
            card,
            reservation,
        } => exec(Command::Entry(req::Entry {
            plate: plate.as_deref().map(Plate::parse).transpose()?,
            class: VehicleClass::parse(class)?,
            lane: lane.clone(),
            ev: *ev,
            accessible: *accessible,
            presented_ticket: ticket.clone(),
            spot: spot.clone(),
            card: card.clone(),
            reservation: reservation.clone(),
        })),
        Cmd::Quote { stay } => {
            let q = Lot::open(&cli.db)?.quote(&stay.resolve()?, at)?;
            out.quote(&q);
            Ok(())
        }
        Cmd::Pay {
            stay,
            method,
            amount: a,
            key,
        } => exec(Command::Pay(req::Pay {
            stay: stay.resolve()?,
            method: PaymentMethod::parse(method)?,
            amount: parse_amount(a)?,
            key: key.clone(),
        })),
        Cmd::Refund {
            stay,
            method,
            amount: a,
            reason,
            key,
        } => exec(Command::Refund(req::Refund {
            stay: stay.resolve()?,
            method: PaymentMethod::parse(method)?,
            amount: parse_amount(a)?,
            reason: reason.clone(),
            key: key.clone(),
        })),
        Cmd::Exit { stay, lane } => exec(Command::Exit(req::Exit {
            stay: stay.resolve()?,
            lane: lane.clone(),
        })),
        Cmd::LostTicket { plate, class } => exec(Command::LostTicket(req::LostTicket {
            plate: Some(Plate::parse(plate)?),
            class: VehicleClass::parse(class)?,
        })),
        Cmd::Occupancy => {
            out.occupancy(&Lot::open(&cli.db)?.occupancy(at)?);
            Ok(())
        }
        Cmd::Spots {
            action: None,
            level,
            free,
        } => {
            let spots: Vec<_> = Lot::open(&cli.db)?
                .spots()?
                .into_iter()
                .filter(|s| level.as_ref().is_none_or(|l| &s.level == l))
                .filter(|s| !free || (s.in_service && s.ticket.is_none()))
                .collect();
            out.spots(&spots);
            Ok(())
        }
        Cmd::Spots {
            action: Some(SpotsCmd::OutOfService { spot, reason }),
            ..
        } => exec(Command::SetSpotService(req::SetSpotService {
            spot: spot.clone(),
            in_service: false,
            reason: reason.clone(),
        })),
        Cmd::Spots {
            action: Some(SpotsCmd::InService { spot, reason }),
            ..
        } => exec(Command::SetSpotService(req::SetSpotService {
            spot: spot.clone(),
            in_service: true,
            reason: reason.clone(),
        })),
        Cmd::Override { stay, spot, reason } => exec(Command::OverrideSpot(req::OverrideSpot {
            stay: stay.resolve()?,
            spot: spot.clone(),
            reason: reason.clone(),
        })),
        Cmd::Ticket {
            action: TicketCmd::Verify { qr },
        } => {
            out.ticket_check(&Lot::open(&cli.db)?.verify_ticket(qr)?);
            Ok(())
        }
        Cmd::Ticket {
            action: TicketCmd::Qr { ticket, svg },
        } => {
            let lot = Lot::open(&cli.db)?;
            let q = lot.quote(&StayRef::Ticket(ticket.clone()), at)?;
            let payload = lot.context().signer.payload(q.stay as u32);
            if let Some(path) = svg {
                let image = gatehouse_core::ticket::qr_svg(&payload)?;
                std::fs::write(path, image)
                    .map_err(|e| Error::invalid(format!("cannot write {}: {e}", path.display())))?;
            }
            out.qr(&q.ticket, &payload, svg.as_deref())?;
            Ok(())
        }
        Cmd::Audit {
            action: AuditCmd::Verify,
        } => {
            let report = Lot::open(&cli.db)?.audit()?;
            out.audit(&report)
        }
        Cmd::Journal { from, limit } => {
            let lot = Lot::open(&cli.db)?;
            let rows = lot.journal(*from, *limit)?;
            let shown = rows
                .iter()
                .map(|r| lot.reveal(r))
                .collect::<Result<Vec<_>, _>>()?;
            out.journal(&rows, &shown);
            Ok(())
        }
        Cmd::Revenue { from, to } => {
            let lot = Lot::open(&cli.db)?;
            let tz = lot.context().config.lot.timezone;
            let day_start = at
                .with_timezone(&tz)
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .and_then(|n| n.and_local_timezone(tz).earliest())
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(at);
            let from = match from {
                Some(s) => parse_at(Some(s))?,
                None => day_start,
            };
            let to = match to {
                Some(s) => parse_at(Some(s))?,
                // "So far" includes a payment made at exactly --at.
                None => at + chrono::Duration::milliseconds(1),
            };
            out.revenue(&lot.revenue(from, to)?);
            Ok(())
        }
        Cmd::Backup { to } => {
            out.backup("backup", &Lot::open(&cli.db)?.backup(to)?);
            Ok(())
        }
        Cmd::Restore { from, replace } => {
            out.backup("restored", &restore(from, &cli.db, *replace)?);
            Ok(())
        }
        Cmd::Bench(args) => bench::run(args, out),
        Cmd::BenchOps(args) => bench_ops::run(args, out),
        Cmd::Demo(args) => demo::run(args, cli.at.as_deref(), out),
        Cmd::Day(args) => day::run(args, cli.at.as_deref(), out),
        // The load drives the lot as lanes and pay stations do.
        Cmd::Load(args) => load::run(args, &cli.db, &Actor::system("load")),
        Cmd::Device { action } => devices::device(action, out),
        Cmd::Simulate { action } => devices::simulate(action, out),
        Cmd::Anpr { action } => anpr::run(action, out),
        Cmd::Sync { action } => sync::run(action, &cli.db, out),
        Cmd::Reservation { action } => ops::reservation(action, &cli.db, at, out, &exec),
        Cmd::Permit { action } => ops::permit(action, &cli.db, out, &exec),
        Cmd::Account { action } => ops::account(action, &exec),
        Cmd::Voucher { action } => ops::voucher(action, &exec),
        Cmd::Watch { action } => ops::watch(action, &exec),
        Cmd::Valet { action } => ops::valet(action, &exec),
        Cmd::Alerts { action } => ops::alerts(action, &cli.db, out, &exec),
        Cmd::User { action } => ops::user(action, &cli.db, out, &exec),
        Cmd::Privacy { action } => ops::privacy(action, &cli.db, at, &exec),
        Cmd::Tariff { action } => ops::tariff(action, &cli.db, out, &exec),
        Cmd::Login => match &cli.user {
            Some(u) => {
                out.outcome(&Outcome::LoggedIn(session.login(u)?));
                Ok(())
            }
            None => Err(Error::invalid("say who logs in with --user NAME")),
        },
        Cmd::OpenGate { lane, reason } => exec(Command::OpenGate(req::OpenGate {
            lane: lane.clone(),
            reason: reason.clone(),
        })),
        Cmd::Void { stay, reason } => exec(Command::VoidStay(req::VoidStay {
            stay: stay.resolve()?,
            reason: reason.clone(),
        })),
        Cmd::Shift { action } => {
            report::shift(action, &cli.db, out, &|c| session.execute(c), &|c| {
                session.run(c)
            })
        }
        Cmd::Report(args) => report::run(args, &cli.db, at, out),
    }
}
