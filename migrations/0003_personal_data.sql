-- Personal data named in the journal. Journal payloads carry a keyed token (`#` and 16 hex
-- digits) in place of a plate or a holder's name; the clear value lives here, so erasure and
-- retention delete it without touching the hash-chained journal.
-- since_seq: the first journal row the clear value may be shown for. A plate that comes back
-- after erasure or retention is shown again in its new rows, never in its old ones.
CREATE TABLE personal_data (
    token TEXT PRIMARY KEY,
    kind  TEXT NOT NULL CHECK (kind IN ('plate', 'holder')),
    clear TEXT NOT NULL,
    since_seq INTEGER NOT NULL
) WITHOUT ROWID;
