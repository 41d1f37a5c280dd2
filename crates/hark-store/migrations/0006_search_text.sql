-- 0004 filled search_text with SQL lower(), which on SQLite folds only ASCII ('ÜBER' stayed
-- 'Über'); Hark folds the stored comments again in Rust, as the writer does for new ones.
INSERT INTO pending_rebuilds (name) VALUES ('search_text');
