-- Valet parking: a valet stay is a stay (its ticket, spot, payments and end are the stay's) whose
-- fee is the valet tariff's, with the keys' tag and when its car was parked, asked for and
-- handed back.
ALTER TABLE stays ADD COLUMN valet_fee TEXT;

CREATE TABLE valet (
    stay_id      INTEGER PRIMARY KEY REFERENCES stays (id),
    tag          TEXT NOT NULL,
    keys_at      TEXT NOT NULL,
    parked_at    TEXT,
    parked_by    TEXT,
    requested_at TEXT,
    returned_at  TEXT,
    returned_by  TEXT
);
-- A tag is on one set of keys at a time.
CREATE UNIQUE INDEX valet_tag_in_use ON valet (tag) WHERE returned_at IS NULL;
