-- Several instances on one database (SQLite's migration 6).
-- Leases: one leader per job. A row survives connection pooling and shows who leads; a holder
-- that dies stops renewing and its lease expires.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    acquired_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- The instances' heartbeats.
CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);
CREATE INDEX instances_seen ON instances (last_seen);

-- Claims: which instance works on a delivery or an action, until when. An expired claim is
-- taken back by another instance.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT;
ALTER TABLE deliveries ADD COLUMN claim_until BIGINT;
ALTER TABLE actions ADD COLUMN claimed_by TEXT;
ALTER TABLE actions ADD COLUMN claim_until BIGINT;

-- Tailing the state log (`state_log_since`) reads by position: `seq` is its primary key.
