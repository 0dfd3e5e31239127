//! Sync between a lot and the shared server (docs/design.md, Sync): the wire protocol both sides
//! speak, and the lot's client.

pub mod client;
pub mod proto;
