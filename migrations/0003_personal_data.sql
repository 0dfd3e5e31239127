-- Personal data named in the journal. Journal payloads carry a keyed token (`#` and 16 hex
-- digits) in place of a plate or a holder's name; the clear value lives here, so erasure and
-- retention delete it without touching the hash-chained journal.
CREATE TABLE personal_data (
    token TEXT PRIMARY KEY,
    kind  TEXT NOT NULL CHECK (kind IN ('plate', 'holder')),
    clear TEXT NOT NULL,
    since_seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX personal_data_by_clear ON personal_data (clear);
