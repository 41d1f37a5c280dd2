-- What each comment is about and how it sounds (hark-text), stored with the answer so that
-- reports filter and count by theme without reading the text again.
-- themes: '|delivery|price|' (so that LIKE '%|delivery|%' finds one), '|' for none; NULL until
-- tagged (answers without a comment stay NULL). sentiment_milli: the score × 1000 (−1000 … 1000).
ALTER TABLE responses ADD COLUMN themes TEXT;
ALTER TABLE responses ADD COLUMN sentiment TEXT;
ALTER TABLE responses ADD COLUMN sentiment_milli BIGINT;
-- The comments still to be read: counted on every Themes page and paged by the background
-- reader. Empty once all are read, so neither scans the table.
CREATE INDEX responses_untagged ON responses (id) WHERE themes IS NULL AND comment IS NOT NULL;
