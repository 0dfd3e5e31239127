-- Gatehouse lot database, schema 2: running a car park day to day.
-- Users and sessions, reservations, permits, prepaid accounts, vouchers, the watchlist, alerts,
-- cashier shifts, and the tariff lines each finished stay was charged.

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,          -- argon2id, PHC string
    totp_secret   TEXT,                   -- base32; required for admins
    failed        INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
) WITHOUT ROWID;

-- A login: the token's sha256, never the token.
CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    user         TEXT NOT NULL REFERENCES users (name),
    role         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE reservations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,     -- confirmation code the driver quotes
    plate       TEXT,
    class       TEXT NOT NULL,
    ev          INTEGER NOT NULL,
    accessible  INTEGER NOT NULL,
    spot_id     TEXT,                     -- a chosen spot, when the lot allows it
    start_at    TEXT NOT NULL,
    end_at      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('booked', 'arrived', 'cancelled', 'no_show')),
    fee         TEXT NOT NULL DEFAULT '0', -- no-show or late-cancellation fee owed
    stay_id     INTEGER REFERENCES stays (id),
    holder      TEXT,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL
);
-- Covering: availability reads booked windows from the index alone.
CREATE INDEX reservations_booked ON reservations (start_at, end_at, class, ev, accessible, id) WHERE status = 'booked';
CREATE INDEX reservations_by_plate ON reservations (plate) WHERE status = 'booked';

CREATE TABLE permits (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind IN ('monthly', 'yearly', 'staff', 'vip')),
    holder      TEXT NOT NULL,
    card        TEXT UNIQUE,              -- RFID card number
    valid_from  TEXT NOT NULL,
    valid_to    TEXT NOT NULL,
    levels      TEXT NOT NULL DEFAULT '', -- comma-separated level ids; empty: every level
    hours       TEXT,                     -- "07:00-19:00" local time; NULL: any time
    max_inside  INTEGER NOT NULL DEFAULT 1,
    passback    INTEGER NOT NULL DEFAULT 1,
    revoked_at  TEXT,
    created_at  TEXT NOT NULL
);
CREATE TABLE permit_plates (
    permit_id INTEGER NOT NULL REFERENCES permits (id),
    plate     TEXT NOT NULL,
    PRIMARY KEY (permit_id, plate)
) WITHOUT ROWID;
CREATE INDEX permit_plates_by_plate ON permit_plates (plate);

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    holder      TEXT NOT NULL,
    balance     TEXT NOT NULL DEFAULT '0',
    expires_at  TEXT,
    created_at  TEXT NOT NULL
);
CREATE TABLE account_moves (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    kind        TEXT NOT NULL CHECK (kind IN ('top_up', 'debit')),
    amount      TEXT NOT NULL,
    balance     TEXT NOT NULL,
    stay_id     INTEGER,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    method      TEXT,
    shift_id    INTEGER REFERENCES shifts (id)
);

CREATE TABLE vouchers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant    TEXT NOT NULL,
    free_minutes INTEGER,
    percent_off INTEGER,
    valid_to    TEXT,
    used_stay   INTEGER REFERENCES stays (id),
    used_at     TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE watchlist (
    plate      TEXT PRIMARY KEY,
    action     TEXT NOT NULL CHECK (action IN ('refuse', 'alert')),
    note       TEXT NOT NULL,
    added_at   TEXT NOT NULL,
    added_by   TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,
    stay_id    INTEGER,
    plate      TEXT,
    lane       TEXT,
    raised_at  TEXT NOT NULL,
    acked_by   TEXT,
    acked_at   TEXT,
    ack_note   TEXT
);
CREATE INDEX alerts_open ON alerts (raised_at) WHERE acked_at IS NULL;

CREATE TABLE shifts (
    id         INTEGER PRIMARY KEY,
    cashier    TEXT NOT NULL,
    opened_at  TEXT NOT NULL,
    float      TEXT NOT NULL,
    closed_at  TEXT,
    counted    TEXT,
    expected   TEXT
);
CREATE UNIQUE INDEX shifts_one_open_per_cashier ON shifts (cashier) WHERE closed_at IS NULL;

ALTER TABLE payments ADD COLUMN shift_id INTEGER REFERENCES shifts (id);
ALTER TABLE payments ADD COLUMN account_id INTEGER REFERENCES accounts (id);
ALTER TABLE stays ADD COLUMN reservation_id INTEGER REFERENCES reservations (id);
ALTER TABLE stays ADD COLUMN permit_id INTEGER REFERENCES permits (id);
ALTER TABLE stays ADD COLUMN voucher_id INTEGER REFERENCES vouchers (id);
-- Copied onto the stay so a quote needs no join: the reservation's end (overstay penalty),
-- the permit's end (the permit covers the stay until then), the voucher's discount.
ALTER TABLE stays ADD COLUMN reserved_until TEXT;
ALTER TABLE stays ADD COLUMN permit_until TEXT;
ALTER TABLE stays ADD COLUMN voucher_minutes INTEGER;
ALTER TABLE stays ADD COLUMN voucher_percent INTEGER;
ALTER TABLE stays ADD COLUMN voided INTEGER NOT NULL DEFAULT 0;
CREATE INDEX stays_by_permit ON stays (permit_id) WHERE exit_at IS NULL AND permit_id IS NOT NULL;
CREATE INDEX stays_by_exit ON stays (exit_at);

-- What a finished stay was charged, line by line (the tariff's lines at exit).
CREATE TABLE stay_lines (
    stay_id INTEGER NOT NULL REFERENCES stays (id),
    kind    TEXT NOT NULL,
    amount  TEXT NOT NULL
);
CREATE INDEX stay_lines_by_stay ON stay_lines (stay_id);
