-- Digests by mail: who asked for none, and each digest queued (one per person and period,
-- whatever restarts or other processes do: the key refuses a second).
ALTER TABLE users ADD COLUMN digest_opt_out BIGINT NOT NULL DEFAULT 0;

CREATE TABLE digests (
    user_id TEXT NOT NULL REFERENCES users (id),
    -- The period the digest covers, [period_start, period_end), ms since 1970.
    period_end BIGINT NOT NULL,
    period_start BIGINT NOT NULL,
    queued_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, period_end)
);
