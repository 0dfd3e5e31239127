//! What the CLI test files share.

use std::path::Path;
use std::process::Command;

/// The `gatehouse` binary under test.
pub fn gatehouse() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
}

/// The `gatehouse` binary on one lot database.
pub fn gatehouse_on(db: &Path) -> Command {
    let mut c = gatehouse();
    c.arg("--db").arg(db);
    c
}
