-- Tariffs published after set-up. A stay pays the tariff in force when it entered: the version
-- with the latest effective_from at or before its entry, else the lot config's tariff.
CREATE TABLE tariff_versions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    effective_from TEXT NOT NULL,
    toml           TEXT NOT NULL,         -- a [tariff] table, as in the lot config
    sha256         TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    published_by   TEXT NOT NULL,
    published_at   TEXT NOT NULL
);
CREATE INDEX tariff_versions_by_start ON tariff_versions (effective_from, id);
