-- Closing the loop: cases with their history, reward codes, referral clicks, outgoing
-- webhooks with their delivery log, and interactions imported from other systems.

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    -- One case per answer, however often the playbook runs.
    response_id TEXT NOT NULL UNIQUE REFERENCES responses (id),
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    contact_id TEXT REFERENCES contacts (id),
    team_id TEXT REFERENCES teams (id),
    owner_id TEXT REFERENCES users (id),
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    first_contact_at BIGINT,
    closed_at BIGINT,
    outcome TEXT,
    root_cause TEXT,
    steps TEXT NOT NULL DEFAULT '[]',
    escalated_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX cases_status_due ON cases (status, due_at);
CREATE INDEX cases_owner ON cases (owner_id);
CREATE INDEX cases_contact ON cases (contact_id);

-- Every change to a case: who, when, what.
CREATE TABLE case_events (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, created_at);

CREATE TABLE reward_codes (
    id TEXT PRIMARY KEY,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    segment TEXT NOT NULL,
    code TEXT NOT NULL,
    response_id TEXT UNIQUE REFERENCES responses (id),
    assigned_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (survey_id, code)
);

CREATE TABLE referral_clicks (
    id TEXT PRIMARY KEY,
    response_id TEXT NOT NULL REFERENCES responses (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX referral_clicks_response ON referral_clicks (response_id);

CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    template TEXT,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_status_code BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, created_at);

CREATE TABLE interactions (
    id TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    agent_id TEXT REFERENCES agents (id),
    summary TEXT,
    figures TEXT NOT NULL DEFAULT '{}',
    idempotency_key TEXT UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX interactions_contact ON interactions (contact_id, occurred_at);
