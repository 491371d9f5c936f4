-- Full-text ranking moved into memory (selah_search::TextIndex, built from `passages` at start):
-- FTS5 scored every passage holding any query word, hundreds of milliseconds at 100,000
-- passages. The virtual table and the triggers that fed it go.
DROP TRIGGER IF EXISTS passages_fts_insert;
DROP TRIGGER IF EXISTS passages_fts_delete;
DROP TRIGGER IF EXISTS passages_fts_rename;
DROP TABLE IF EXISTS passages_fts;
