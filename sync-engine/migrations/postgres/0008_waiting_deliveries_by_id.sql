-- The waiting deliveries in the order received (the intake's claim and its first waiting
-- delivery, read at every pass) are the first entries of this index instead of a sort of every
-- due waiting delivery (the same index as SQLite's migration 11). Needs nothing beyond
-- migration 0007.
CREATE INDEX deliveries_waiting ON deliveries (id, not_before)
    WHERE processed_at IS NULL;
