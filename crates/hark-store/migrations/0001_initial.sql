-- Portable DDL: runs unchanged on SQLite and PostgreSQL. Ids are opaque text (UUIDv7),
-- times are UTC epoch milliseconds, JSON documents are text.

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    external_id TEXT UNIQUE,
    team_id TEXT REFERENCES teams (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX agents_team ON agents (team_id);

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    email TEXT,
    name TEXT,
    locale TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    unsubscribed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX contacts_email ON contacts (email);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id TEXT REFERENCES teams (id),
    agent_id TEXT REFERENCES agents (id),
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE surveys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One survey sent to one contact on one channel. Its public link token is the id signed
-- with the server's secret, so no token is stored.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    contact_id TEXT REFERENCES contacts (id),
    channel TEXT NOT NULL,
    agent_id TEXT REFERENCES agents (id),
    team_id TEXT REFERENCES teams (id),
    event TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL,
    status_detail TEXT,
    send_at BIGINT,
    sent_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX invitations_contact ON invitations (contact_id);

CREATE TABLE responses (
    id TEXT PRIMARY KEY,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    invitation_id TEXT REFERENCES invitations (id),
    contact_id TEXT REFERENCES contacts (id),
    score BIGINT NOT NULL,
    segment TEXT NOT NULL,
    comment TEXT,
    answers TEXT NOT NULL DEFAULT '{}',
    agent_score BIGINT,
    language TEXT,
    channel TEXT NOT NULL,
    agent_id TEXT REFERENCES agents (id),
    team_id TEXT REFERENCES teams (id),
    context TEXT NOT NULL DEFAULT '{}',
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (survey_id, idempotency_key)
);
CREATE INDEX responses_time ON responses (created_at, id);
CREATE INDEX responses_survey_time ON responses (survey_id, created_at);
CREATE INDEX responses_contact ON responses (contact_id);
CREATE INDEX responses_agent ON responses (agent_id);
CREATE INDEX responses_team ON responses (team_id);

CREATE TABLE notes (
    id TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    response_id TEXT REFERENCES responses (id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notes_contact ON notes (contact_id);
