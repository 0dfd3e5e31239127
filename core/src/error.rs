//! One error type for the lot's boundary: a kind the UI and CLI can act on, and a message that
//! says what was wrong and what to do.

use serde::Serialize;

/// What kind of failure this is. Serialized in snake_case (`"unpaid"`, `"ticket_forged"`, ...):
/// scripts and screens switch on it, so variants are only ever added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A value given by a person or a script is malformed (plate, amount, time, class...).
    InvalidInput,
    /// The lot configuration is invalid; the message names the file, field and reason.
    Config,
    /// No such stay, ticket, spot, lane or payment.
    NotFound,
    /// No free spot for this vehicle: the whole lot or its class is full.
    Full,
    /// Anti-passback: the plate or ticket is already inside.
    Passback,
    /// The stay owes money and cannot exit yet.
    Unpaid,
    /// The ticket's signature does not verify: forged or altered.
    TicketForged,
    /// The ticket was issued by another lot.
    TicketForeign,
    /// The ticket's stay has already exited.
    TicketUsed,
    /// The command contradicts the current state (spot occupied, idempotency key reused with
    /// other details, refund larger than paid...).
    Conflict,
    /// The actor's role may not do this.
    Forbidden,
    /// The database could not be read or written.
    Storage,
    /// The journal's hash chain is broken.
    Journal,
    /// The engine has stopped.
    Unavailable,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Config => "config",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Full => "full",
            ErrorKind::Passback => "passback",
            ErrorKind::Unpaid => "unpaid",
            ErrorKind::TicketForged => "ticket_forged",
            ErrorKind::TicketForeign => "ticket_foreign",
            ErrorKind::TicketUsed => "ticket_used",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Storage => "storage",
            ErrorKind::Journal => "journal",
            ErrorKind::Unavailable => "unavailable",
        }
    }
}

/// A refused or failed operation. A refused command changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Conflict, message)
    }
    pub fn storage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Storage, message)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::ConstraintViolation) => Error::conflict(format!(
                "the database refused a conflicting change ({e}); nothing changed, try again"
            )),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Error::new(
                ErrorKind::Unavailable,
                format!("the lot database is busy ({e}): another gatehouse holds it; try again"),
            ),
            Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => {
                Error::storage(format!(
                    "cannot write the lot database ({e}); check the --db path and its permissions"
                ))
            }
            _ => Error::storage(format!(
                "database error: {e}; check that the database file is a Gatehouse lot database and is writable"
            )),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
