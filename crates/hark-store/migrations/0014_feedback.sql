-- Unsolicited feedback: what customers say elsewhere (reviews, social media, interviews,
-- tickets). Read for themes and sentiment like survey comments; never counted in NPS.
CREATE TABLE feedback (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    -- The customer's own rating, with its scale (a 4 of 1–5 stars).
    rating BIGINT,
    rating_min BIGINT,
    rating_max BIGINT,
    contact_id TEXT REFERENCES contacts (id),
    url TEXT,
    language TEXT,
    themes TEXT,
    sentiment TEXT,
    sentiment_milli BIGINT,
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX feedback_time ON feedback (created_at, id);
CREATE INDEX feedback_contact ON feedback (contact_id);
