-- Adapter state per external record (SQLite's migration 7), with a version for compare-and-set
-- and the time of the last write (milliseconds since the epoch) for pruning. The per-record
-- entries the adapters kept as watermarks (`clarus.<resource>.<id>.<what>`) move here.
-- Needs: sync 0.1 with migrations 0001-0004 applied.
CREATE TABLE adapter_state (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    value TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX adapter_state_age ON adapter_state (kind, updated_at);

INSERT INTO adapter_state (kind, id, value, version, updated_at)
SELECT 'clarus.' || split_part(name, '.', 2) || '.' || split_part(name, '.', 4),
       split_part(name, '.', 3), value, 1,
       (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT
FROM watermarks
WHERE name ~ '^clarus\.(goods_out|goods_in|stock|stock_movement|product)\.[0-9]+\.[a-z_]+$';

DELETE FROM watermarks
WHERE name ~ '^clarus\.(goods_out|goods_in|stock|stock_movement|product)\.[0-9]+\.[a-z_]+$';
