-- Snapshots of the planner's state, retention of the state log and of recorded events, and the
-- lifecycle documents stuck detection reads (the same schema as SQLite's migration 8). Needs a
-- sync-engine with LedgerStore snapshots (this version or later).

-- The planner's state as of a position in the state log (JSON of sync-core's MemoryState):
-- start-up loads the newest and applies only the log after it.
CREATE TABLE state_snapshots (
    head BIGINT PRIMARY KEY,
    format INTEGER NOT NULL,
    taken_at BIGINT NOT NULL,
    state TEXT NOT NULL
);

-- The last position pruned from the state log (one row once anything was pruned): a view
-- behind it cannot catch up from the log and loads the newest snapshot instead.
CREATE TABLE state_log_horizon (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    through BIGINT NOT NULL
);

-- When each state change was recorded, for retention; existing entries take their event's
-- planning time, or now for a blocked event's.
ALTER TABLE state_log ADD COLUMN recorded_at BIGINT;
UPDATE state_log s SET recorded_at = COALESCE(
    (SELECT e.planned_at FROM events e WHERE e.event_key = s.event_key),
    (extract(epoch FROM now()) * 1000)::BIGINT);

-- The lifecycle document (an order, a stock movement) an event belongs to: '' for none (items,
-- products), NULL for events recorded before this migration until stuck detection fills it.
ALTER TABLE events ADD COLUMN owner TEXT;
CREATE INDEX events_owner ON events (owner, planned_at, seq);
CREATE INDEX events_without_owner ON events (planned_at, seq) WHERE owner IS NULL;
CREATE INDEX actions_event ON actions (event_key);

-- Lifecycle documents: first seen when, a version bumped by every commit that touches one, and
-- when stuck detection found it finished (nothing left to do; cleared by the next commit).
CREATE TABLE documents (
    key TEXT PRIMARY KEY,
    first_seen BIGINT NOT NULL,
    version BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX documents_unfinished ON documents (key COLLATE "C") WHERE finished_at IS NULL;
