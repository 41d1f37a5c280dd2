-- Links that show figures to people who do not sign in: a dashboard view or a call-centre
-- wallboard, read-only, as the person who made the link may see them, until it expires or an
-- admin revokes it. The link itself is signed; this row is what can be revoked.
CREATE TABLE shared_links (
    id TEXT PRIMARY KEY,
    -- `view` (a dashboard page) or `wallboard`.
    kind TEXT NOT NULL,
    -- The dashboard page (`overview`, `segments` …) and its filters, as an address's query.
    page TEXT NOT NULL,
    query TEXT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    -- 1: customers' names and comments may be shown.
    personal_data BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX shared_links_created ON shared_links (created_at);
