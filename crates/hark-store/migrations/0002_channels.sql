-- Collection channels: server settings (the link-signing secret), admin sessions, the
-- durable job queue, incoming events, and what invitations and responses need to track.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Work to do later or elsewhere. A worker claims a job by setting locked_by/locked_until
-- in one conditional UPDATE, so two processes never run the same job; a crashed worker's
-- lease runs out and the job is claimed again.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedupe_key TEXT UNIQUE,
    status TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    locked_by TEXT,
    locked_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    contact_id TEXT REFERENCES contacts (id),
    properties TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);

ALTER TABLE invitations ADD COLUMN event_id TEXT REFERENCES events (id);
ALTER TABLE invitations ADD COLUMN reminded_at BIGINT;
-- One event makes at most one invitation per survey, however often it is posted.
CREATE UNIQUE INDEX invitations_event_survey ON invitations (event_id, survey_id);
CREATE INDEX invitations_survey ON invitations (survey_id, created_at);

ALTER TABLE responses ADD COLUMN updated_at BIGINT;
CREATE INDEX responses_invitation ON responses (invitation_id);
