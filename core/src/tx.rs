//! The transaction a feature's handler works in, and the trait every request's handler
//! implements.
//!
//! The writer (engine.rs) knows no feature: for each command it opens a savepoint, hands the
//! handler a [`Tx`] and journals the events the handler returns. A handler sees the open
//! transaction, the lot (config, keys, tariffs) and read-only views of the writer's in-memory
//! indexes (spots, reservation capacity); it changes those indexes only by returning
//! [`Effect`]s, which the writer applies once the command's savepoint is released. It never sees
//! the journal's head, the commit, the broadcast or the other commands of its group.
//!
//! A new feature: its request and reply types in command.rs (one registration line in
//! `commands!`, one in `replies!`), its module with `impl Handle for` each request, its
//! migration and events.

use crate::allocation::Allocator;
use crate::auth::permitted;
use crate::command as req;
use crate::command::Recorded;
use crate::domain::Role;
use crate::engine::{Command, Job, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::reservations::ReservationBook;
use crate::stays::LotContext;
use chrono::{DateTime, Utc};
use rusqlite::Connection;

/// What one command's handler may touch.
pub(crate) struct Tx<'w> {
    /// The group's transaction, inside this command's savepoint.
    pub(crate) conn: &'w Connection,
    pub(crate) ctx: &'w LotContext,
    /// The spots' states as of this command (earlier commands' effects applied).
    pub(crate) alloc: &'w Allocator,
    /// Capacity that booked reservations hold (its cache of peaks may be filled; bookings
    /// change only through effects).
    pub(crate) book: &'w mut ReservationBook,
    /// Whether the lot has users: then every person's command needs a login session.
    pub(crate) users_exist: bool,
}

/// How the writer applies a request: each feature implements it for its own requests, and
/// `Command::handle` (generated from the `commands!` table) calls it.
pub(crate) trait Handle {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied>;
}

/// What a command does to the in-memory indexes once its savepoint is released.
pub(crate) enum Effect {
    Take(usize),
    /// The vehicle left this spot; `in_service` says whether it becomes free.
    Vacate(usize, bool),
    OutOfService(usize),
    Release(usize),
    /// A reservation joins or leaves the book of capacity held for the future.
    Book(crate::reservations::Booking),
    Unbook(i64),
    UsersExist,
    /// A published tariff comes into force from its start.
    Tariff(DateTime<Utc>, i64, Box<crate::tariff::Tariff>),
}

pub(crate) struct Applied {
    pub(crate) outcome: Outcome,
    pub(crate) events: Vec<Event>,
    pub(crate) effects: Vec<Effect>,
    /// Refused, but what the refusal journals (an alert, a failed login) is committed.
    pub(crate) refused: Option<Error>,
}

impl Applied {
    pub(crate) fn new(outcome: Outcome, events: Vec<Event>, effects: Vec<Effect>) -> Applied {
        Applied {
            outcome,
            events,
            effects,
            refused: None,
        }
    }
    /// A refusal that still journals `events` (alerts, failed logins).
    pub(crate) fn refusal(error: Error, events: Vec<Event>) -> Applied {
        Applied {
            outcome: Outcome::Recorded(Recorded {
                what: "refused".into(),
                id: None,
                message: error.message.clone(),
                warnings: vec![],
            }),
            events,
            effects: vec![],
            refused: Some(error),
        }
    }
}

/// A change recorded with a message.
pub(crate) fn recorded(what: &str, id: Option<i64>, message: String) -> Outcome {
    Outcome::Recorded(Recorded {
        what: what.into(),
        id,
        message,
        warnings: vec![],
    })
}

impl Tx<'_> {
    /// The permission and session checks of a job, before it is dispatched.
    pub(crate) fn validate(&mut self, job: &Job) -> Result<()> {
        let role = job.actor.role;
        if let Some(p) = job.command.permission()
            && !permitted(role, p)
        {
            return Err(Error::new(
                ErrorKind::Forbidden,
                if role == Role::Auditor {
                    format!(
                        "an auditor may read but not change the lot ({} refused)",
                        job.command.name()
                    )
                } else {
                    format!(
                        "{} {} may not {} ({} refused); ask a colleague whose role may",
                        if role == Role::Attendant || role == Role::Admin {
                            "an"
                        } else {
                            "a"
                        },
                        role.as_str(),
                        p.describe(),
                        job.command.name()
                    )
                },
            ));
        }
        if role != Role::System
            && self.users_exist
            && !matches!(job.command, Command::Login(req::Login { .. }))
        {
            self.check_session(job)?;
        }
        let typed = job
            .command
            .presented_ticket()
            .is_some_and(crate::stays::is_typed_number);
        if typed && role == Role::System {
            return Err(Error::new(
                ErrorKind::Forbidden,
                "a lane or terminal must scan the ticket's signed QR code; typed ticket numbers are for staff at the booth",
            ));
        }
        Ok(())
    }
}
