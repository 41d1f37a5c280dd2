-- An organisation's own themes, in the order pages list them. Empty while the built-in
-- taxonomy is in use (which then follows upgrades); the first change copies it here.
CREATE TABLE themes (
    key TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    -- JSON: {"en": "Delivery", "ko": "배송"} and {"en": ["courier", …], …}.
    names TEXT NOT NULL,
    terms TEXT NOT NULL
);
-- One row: what the stored tags were read with, and the walk that reads every comment again
-- after the themes or the rules change. The walk's place is kept here, so it resumes after a
-- restart, and every process takes its steps in turn under this row's lock.
CREATE TABLE theme_tagging (
    id BIGINT PRIMARY KEY,
    -- Bumped by every change of the themes: each process reloads them when it sees it move.
    generation BIGINT NOT NULL,
    -- Digest of the rules and themes the stored tags were read with; NULL: not known.
    tagged_with TEXT,
    -- The walk under way: the digest it reads to, the table ('responses', then 'feedback')
    -- and the last id it read; how far (rows read of those there were when it began).
    walk_digest TEXT,
    walk_table TEXT,
    walk_cursor TEXT,
    walk_done BIGINT NOT NULL DEFAULT 0,
    walk_total BIGINT NOT NULL DEFAULT 0,
    walk_started_at BIGINT,
    walk_finished_at BIGINT
);
INSERT INTO theme_tagging (id, generation) VALUES (1, 0);
