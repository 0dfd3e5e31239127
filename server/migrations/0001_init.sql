-- Gatehouse shared server: the first schema. Migrations are only ever added, never edited: the
-- server records each applied file with its sha256 in schema_migrations and refuses to start
-- when an applied file has changed.
--
-- Distributed PostgreSQL (Citus): every per-lot table has lot_id first in its primary key, and
-- every query a lot's sync makes (push, head, orders) filters on its one lot_id, so they map onto
-- a cluster as below (the admin's overview and order lookup by id fan out to every shard):
--   SELECT create_reference_table('lots');             -- small, read by every request's auth
--   SELECT create_distributed_table('heads',    'lot_id');
--   SELECT create_distributed_table('journal',  'lot_id', colocate_with => 'heads');
--   SELECT create_distributed_table('orders',   'lot_id', colocate_with => 'heads');
--   SELECT create_distributed_table('order_counters', 'lot_id', colocate_with => 'heads');
--   SELECT create_distributed_table('lot_days', 'lot_id', colocate_with => 'heads');
-- Co-located, one lot's ingest (lock its head, insert its rows, update its orders and days) is a
-- single-shard transaction. Citus only enforces unique constraints that include the distribution
-- column, so before distributing `orders` drop orders_id_key: order ids are 128-bit random and
-- unique without it (orders_lot_id_id_key, on (lot_id, id), stays).

CREATE TABLE lots (
    lot_id       text PRIMARY KEY,
    name         text NOT NULL,
    -- sha256 of the lot's bearer token; the token itself is never stored.
    token_sha256 bytea NOT NULL UNIQUE,
    -- IANA timezone: the lot's local days (revenue per day in the overview).
    timezone     text NOT NULL DEFAULT 'UTC',
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- The acknowledged end of each lot's journal: the row ingest locks (SELECT ... FOR UPDATE) so a
-- lot's pushes serialise. seq 0 and 32 zero bytes before the first row.
CREATE TABLE heads (
    lot_id           text NOT NULL,
    seq              bigint NOT NULL DEFAULT 0,
    hash             bytea NOT NULL DEFAULT '\x0000000000000000000000000000000000000000000000000000000000000000',
    -- `at` of the row at seq (the lot's clock), and when the server last took new rows.
    last_at          timestamptz,
    last_received_at timestamptz,
    -- Running counts over the journal's kinds, kept by ingest in the same transaction:
    -- vehicles inside (vehicle_entered - vehicle_exited - entry_cancelled - stay_voided) and
    -- open alerts (alert_raised - alert_acknowledged).
    inside           bigint NOT NULL DEFAULT 0,
    open_alerts      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (lot_id)
);

-- Each lot's journal rows exactly as the lot holds them (the hash covers seq, at, actor, role,
-- kind and payload; payload is the exact canonical JSON text).
CREATE TABLE journal (
    lot_id      text NOT NULL,
    seq         bigint NOT NULL,
    at          text NOT NULL,
    -- `at` parsed, for queries.
    at_utc      timestamptz NOT NULL,
    actor       text NOT NULL,
    role        text NOT NULL,
    kind        text NOT NULL,
    payload     text NOT NULL,
    hash        bytea NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (lot_id, seq)
);
CREATE INDEX journal_lot_kind ON journal (lot_id, kind, seq);

-- Revenue per lot and local day (payment_recorded amounts, summed exactly), kept by ingest.
CREATE TABLE lot_days (
    lot_id   text NOT NULL,
    day      date NOT NULL,
    revenue  numeric NOT NULL DEFAULT 0,
    payments bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (lot_id, day)
);

-- Orders for a lot, numbered per lot from 1 without gaps (order_counters hands out the numbers
-- under a row lock held until commit, so orders commit in seq order).
CREATE TABLE order_counters (
    lot_id   text PRIMARY KEY,
    last_seq bigint NOT NULL
);

CREATE TABLE orders (
    lot_id      text NOT NULL,
    seq         bigint NOT NULL,
    id          text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    body        jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'refused')),
    reason      text,
    reservation text,
    -- The lot's journal seq of the order_applied row that decided it.
    decided_seq bigint,
    PRIMARY KEY (lot_id, seq),
    UNIQUE (lot_id, id)
);
