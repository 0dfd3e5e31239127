//! The lot database: opening, pragmas and migrations.

use crate::error::{Error, ErrorKind, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::Path;
use std::time::Duration;

/// The migrations, in order. Only ever append.
pub const MIGRATIONS: &[(&str, &str)] = &[
    (
        "0001_lot.sql",
        include_str!("../../migrations/0001_lot.sql"),
    ),
    (
        "0002_operations.sql",
        include_str!("../../migrations/0002_operations.sql"),
    ),
    (
        "0003_personal_data.sql",
        include_str!("../../migrations/0003_personal_data.sql"),
    ),
    (
        "0004_tariff_versions.sql",
        include_str!("../../migrations/0004_tariff_versions.sql"),
    ),
    (
        "0005_server_orders.sql",
        include_str!("../../migrations/0005_server_orders.sql"),
    ),
    (
        "0006_valet.sql",
        include_str!("../../migrations/0006_valet.sql"),
    ),
];

/// Time as stored: UTC RFC 3339 with milliseconds, so text order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A column's text as a domain value (a role, a permit kind), inside a row mapping: a value
/// that does not parse is a failed conversion of column `col`, with the domain's message.
pub(crate) fn column_as<T>(col: usize, parsed: Result<T>) -> rusqlite::Result<T> {
    parsed.map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e))
    })
}

pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::storage(format!("the database holds a malformed time '{s}'")))
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// Creates a new lot database file; refuses an existing one.
pub fn create(path: &Path) -> Result<Connection> {
    if path.exists() {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "{} already exists; choose another --db path, or remove the file if you really mean to start over",
                path.display()
            ),
        ));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::storage(format!(
            "{} cannot use write-ahead logging (got journal_mode {mode}); put the database on a local disk",
            path.display()
        )));
    }
    configure(&conn)?;
    migrate(&conn)?;
    Ok(conn)
}

/// Opens an existing lot database for writing (migrating it forward) or reading.
pub fn open(path: &Path, write: bool) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::not_found(format!(
            "{} does not exist; create the lot first with `gatehouse --db {} init --config FILE`",
            path.display(),
            path.display()
        )));
    }
    let flags = if write {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    configure(&conn)?;
    let is_lot: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journal'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|_| Error::storage(format!("{} is not a SQLite database", path.display())))?;
    if is_lot.is_none() {
        return Err(Error::storage(format!(
            "{} is not a Gatehouse lot database (no journal); check the --db path",
            path.display()
        )));
    }
    if write {
        migrate(&conn)?;
    }
    Ok(conn)
}

/// Applies the migrations the database has not seen, each in its own transaction.
pub fn migrate(conn: &Connection) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(Error::storage(format!(
            "the database is at schema {current}, newer than this gatehouse ({known}); use a newer gatehouse"
        )));
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {version};\nCOMMIT;"
        ))
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            Error::storage(format!("migration {name} failed: {e}"))
        })?;
    }
    Ok(())
}

pub fn meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")?
        .execute([key, value])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_from_empty() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn).unwrap();
        let v: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        // Running again is a no-op.
        migrate(&conn).unwrap();
        for table in [
            "meta",
            "lanes",
            "spots",
            "stays",
            "stay_spots",
            "payments",
            "journal",
        ] {
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = ?1",
                    [table],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 1, "{table}");
        }
    }

    #[test]
    fn migration_files_are_all_listed_in_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(files, listed);
    }

    #[test]
    fn journal_refuses_updates_and_deletes() {
        let conn = Connection::open_in_memory().unwrap();
        migrate(&conn).unwrap();
        conn.execute(
            "INSERT INTO journal (seq, at, actor, role, kind, payload, hash) VALUES (1, 'x', 'a', 'system', 'k', '{}', x'00')",
            [],
        )
        .unwrap();
        assert!(
            conn.execute("UPDATE journal SET payload = '{\"x\":1}'", [])
                .is_err()
        );
        assert!(conn.execute("DELETE FROM journal", []).is_err());
    }

    #[test]
    fn time_text_sorts_like_time() {
        let a: DateTime<Utc> = "2026-11-21T09:00:00Z".parse().unwrap();
        let b = a + chrono::Duration::milliseconds(1);
        assert!(ts(a) < ts(b));
        assert_eq!(parse_ts(&ts(b)).unwrap(), b);
    }
}
