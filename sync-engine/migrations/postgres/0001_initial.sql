-- The store's schema on PostgreSQL: the same tables and meaning as the SQLite backend's
-- migrations 1 to 5, written once. Times are Unix milliseconds (BIGINT), payloads are the JSON
-- text the engine serialised (the store does not look inside them), bodies are raw bytes.

-- Raw deliveries (webhook bodies, polled records) kept before they are answered.
CREATE TABLE deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    headers TEXT NOT NULL,
    body BYTEA NOT NULL,
    not_before BIGINT NOT NULL DEFAULT 0,
    processed_at BIGINT,
    note TEXT
);
CREATE INDEX deliveries_unprocessed ON deliveries (processed_at, not_before, id);

-- The ledger: every event whose plan was committed, and the state changes in commit order.
CREATE TABLE events (
    event_key TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    event TEXT NOT NULL,
    planned_at BIGINT NOT NULL
);
CREATE INDEX events_document ON events (document);
CREATE TABLE state_log (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_key TEXT NOT NULL,
    change TEXT NOT NULL
);

-- The outbox. An action waiting for a batch is `pending` with `not_before` at the far future;
-- `batch_key` records the batch it was put in, written before the batch is posted.
CREATE TABLE actions (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    document TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    event_key TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    not_before BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    result_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    batch_key TEXT
);
CREATE INDEX actions_open ON actions (status, document, seq);
CREATE INDEX actions_batch ON actions (batch_key, seq);
CREATE INDEX actions_waiting ON actions (kind, not_before, seq) WHERE batch_key IS NULL;

-- Batches of actions posted together as one record.
CREATE TABLE batches (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    grouping TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    result_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX batches_open ON batches (status, created_at);

-- The exception queue, its audit trail and the requests people make about exceptions.
CREATE TABLE exceptions (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    owner TEXT NOT NULL,
    severity TEXT NOT NULL,
    document TEXT NOT NULL,
    message TEXT NOT NULL,
    runbook TEXT NOT NULL,
    payload TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    resolved_at BIGINT,
    resolution_note TEXT
);
CREATE INDEX exceptions_open ON exceptions (raised_at, key) WHERE resolved_at IS NULL;
CREATE TABLE exception_audit (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL,
    at BIGINT NOT NULL,
    change TEXT NOT NULL,
    note TEXT
);
CREATE INDEX exception_audit_key ON exception_audit (key, seq);
CREATE TABLE exception_requests (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL,
    request TEXT NOT NULL,
    note TEXT,
    requested_at BIGINT NOT NULL,
    handled_at BIGINT,
    outcome TEXT
);
CREATE INDEX exception_requests_open ON exception_requests (handled_at, seq);

-- Named watermarks (pollers' positions and the adapters' small records).
CREATE TABLE watermarks (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Drift history: one row per reconciliation run and one per position not in step.
CREATE TABLE drift_runs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX drift_runs_at ON drift_runs (at);
CREATE TABLE drift_rows (
    run_id BIGINT NOT NULL REFERENCES drift_runs (id) ON DELETE CASCADE,
    position TEXT NOT NULL,
    class TEXT NOT NULL,
    row TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX drift_rows_position ON drift_rows (position, run_id);
