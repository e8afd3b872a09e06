-- The order events were recorded in, which SQLite keeps in the rowid: events planned at the
-- same millisecond are listed in that order (`LedgerStore::recorded_events`).
ALTER TABLE events ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
CREATE INDEX events_planned ON events (planned_at, seq);
