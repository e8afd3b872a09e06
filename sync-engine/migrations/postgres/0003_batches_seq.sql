-- The order batches were formed in, which SQLite keeps in the rowid: batches formed at the same
-- millisecond (one batcher pass forms several) are listed in that order (`BatchStore::batches`,
-- `BatchStore::open_batches`).
ALTER TABLE batches ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
CREATE INDEX batches_created ON batches (created_at, seq);
