-- The oldest waiting delivery of a source (the intake's horizon, read at every sweep and
-- reconciliation) is the first entry of this index instead of a read of every waiting delivery
-- (the same index as SQLite's migration 10). Needs nothing beyond migration 0006.
CREATE INDEX deliveries_waiting_source ON deliveries (source, received_at)
    WHERE processed_at IS NULL;
