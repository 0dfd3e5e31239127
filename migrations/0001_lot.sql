-- Gatehouse lot database, schema 1. Migrations are only ever appended, never edited.
-- Times are UTC RFC 3339 text with milliseconds ("2026-11-21T09:00:00.000Z"), so they sort.
-- Money is decimal text in the lot's currency.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE lanes (
    id    TEXT PRIMARY KEY,
    kind  TEXT NOT NULL CHECK (kind IN ('entry', 'exit')),
    level TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE spots (
    id           TEXT PRIMARY KEY,
    ord          INTEGER NOT NULL UNIQUE,
    level        TEXT NOT NULL,
    zone         TEXT NOT NULL,
    size         TEXT NOT NULL,
    ev           INTEGER NOT NULL,
    accessible   INTEGER NOT NULL,
    in_service   INTEGER NOT NULL DEFAULT 1,
    service_note TEXT
) WITHOUT ROWID;

-- A stay is one vehicle's visit. Its id is the ticket's serial: AUTOINCREMENT, so a serial is
-- never handed out twice (restore moves the sequence past tickets printed after the backup).
CREATE TABLE stays (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    plate            TEXT,
    class            TEXT NOT NULL,
    ev               INTEGER NOT NULL,
    accessible       INTEGER NOT NULL,
    entry_lane       TEXT,
    entry_at         TEXT NOT NULL,
    spot_id          TEXT,
    occupancy_factor TEXT NOT NULL DEFAULT '1',
    flat_fee         TEXT,            -- lost ticket without a known stay: the flat fee
    lost             INTEGER NOT NULL DEFAULT 0,
    paid             TEXT NOT NULL DEFAULT '0',
    settled_at       TEXT,            -- when payments last covered the fee; exit grace runs from here
    exit_at          TEXT,
    exit_lane        TEXT
);
CREATE INDEX stays_inside_by_plate ON stays (plate) WHERE exit_at IS NULL;
-- A spot never holds two vehicles, whatever the in-memory indexes believe.
CREATE UNIQUE INDEX stays_one_vehicle_per_spot ON stays (spot_id) WHERE exit_at IS NULL AND spot_id IS NOT NULL;
CREATE INDEX stays_by_entry ON stays (entry_at);

-- Which spot a stay held when: occupancy at any moment.
CREATE TABLE stay_spots (
    stay_id INTEGER NOT NULL REFERENCES stays (id),
    spot_id TEXT NOT NULL,
    from_at TEXT NOT NULL,
    to_at   TEXT
);
CREATE INDEX stay_spots_by_stay ON stay_spots (stay_id);
CREATE INDEX stay_spots_by_time ON stay_spots (from_at, to_at);

CREATE TABLE payments (
    id       INTEGER PRIMARY KEY,
    stay_id  INTEGER NOT NULL REFERENCES stays (id),
    idem_key TEXT NOT NULL UNIQUE,
    kind     TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
    method   TEXT NOT NULL,
    amount   TEXT NOT NULL,
    tendered TEXT,
    change   TEXT,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    note     TEXT
);
CREATE INDEX payments_by_stay ON payments (stay_id);

-- Money is only ever added: a refund is a new row.
CREATE TRIGGER payments_are_append_only_update BEFORE UPDATE ON payments
BEGIN
    SELECT RAISE(ABORT, 'payments are append-only; record a refund instead');
END;
CREATE TRIGGER payments_are_append_only_delete BEFORE DELETE ON payments
BEGIN
    SELECT RAISE(ABORT, 'payments are append-only; record a refund instead');
END;

-- The journal: append-only, monotonic seq, hash chain
-- hash = sha256(previous hash || seq \n at \n actor \n role \n kind \n payload).
CREATE TABLE journal (
    seq     INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    role    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    payload TEXT NOT NULL,
    hash    BLOB NOT NULL
);

CREATE TRIGGER journal_is_append_only_update BEFORE UPDATE ON journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is append-only');
END;
CREATE TRIGGER journal_is_append_only_delete BEFORE DELETE ON journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is append-only');
END;
