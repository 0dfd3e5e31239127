//! gatehouse-core: the lot. Domain types, the tariff engine, allocation, tickets, the SQLite
//! store and its journal, and the engine that applies commands. No device I/O, no UI, no network.

pub mod accounts;
pub mod alerts;
pub mod allocation;
pub mod auth;
pub mod command;
pub mod config;
pub mod domain;
pub mod engine;
pub mod entry;
pub mod error;
pub mod events;
pub mod exit;
pub mod gates;
pub mod journal;
mod lane_config;
pub mod lot;
pub mod money;
pub mod orders;
pub mod payments;
pub mod permits;
pub mod personal;
pub mod reports;
pub mod reservations;
pub mod shifts;
pub mod spots;
pub mod stays;
pub mod store;
pub mod tariff;
pub mod tariffs;
pub mod ticket;
mod tx;
pub mod users;
pub mod valet;
pub mod vouchers;
pub mod watchlist;

pub use command::Request;
pub use config::LotConfig;
pub use domain::{Actor, AntiPassback, PaymentMethod, Plate, Role, VehicleClass};
pub use engine::{Command, Engine, EngineOptions, LaneReport, Outcome, WriterTimes, random_bytes};
pub use error::{Error, ErrorKind, Result};
pub use lot::Lot;
pub use money::{Currency, Money};
pub use stays::{StayQuote, StayRef};
