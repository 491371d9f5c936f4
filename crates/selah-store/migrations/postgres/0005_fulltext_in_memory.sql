-- Full-text ranking moved into memory (selah_search::TextIndex, built from `passages` at start),
-- the same on both back ends: the generated tsvector and its GIN index go.
DROP INDEX IF EXISTS passages_tsv;
ALTER TABLE passages DROP COLUMN IF EXISTS tsv;
