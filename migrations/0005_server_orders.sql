-- Orders from the shared server (reservations made online and their cancellations), each applied
-- exactly once and in order: its server seq is the key, so a second delivery finds it here.
CREATE TABLE server_orders (
    seq         INTEGER PRIMARY KEY,      -- the server's per-lot order seq, from 1
    id          TEXT NOT NULL UNIQUE,     -- the server's order id
    status      TEXT NOT NULL,            -- accepted | refused
    reason      TEXT,                     -- why it was refused, in the lot's words
    reservation TEXT,                     -- an accepted reservation's code
    permit      INTEGER,                  -- an accepted permit's id
    applied_at  TEXT NOT NULL
);
