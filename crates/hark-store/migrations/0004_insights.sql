-- Seeing what the scores say: a daily rollup the reports read instead of scanning every
-- answer, annotations drawn on trends, alert rules with the alerts they raised, and a
-- case-folded copy of each comment for search in any language.

-- Answers per (UTC day, survey, team, channel, score). Kept in step with `responses` in the
-- same transaction as every insert and score change; '' stands for "no team" so that the
-- key is unique on both engines.
CREATE TABLE score_rollup (
    day BIGINT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    team_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    score BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, survey_id, team_id, channel, score)
);
-- Reports always name their surveys (one, or all of a kind): this covers them without
-- touching the table.
CREATE INDEX score_rollup_survey ON score_rollup (survey_id, day, team_id, channel, score, n);

INSERT INTO score_rollup (day, survey_id, team_id, channel, score, n)
SELECT created_at / 86400000, survey_id, COALESCE(team_id, ''), channel, score, COUNT(*)
FROM responses GROUP BY created_at / 86400000, survey_id, COALESCE(team_id, ''), channel, score;

ALTER TABLE responses ADD COLUMN search_text TEXT;
UPDATE responses SET search_text = lower(comment) WHERE comment IS NOT NULL;

CREATE TABLE annotations (
    id TEXT PRIMARY KEY,
    day BIGINT NOT NULL,
    label TEXT NOT NULL,
    -- NULL: drawn on every survey's trend.
    survey_id TEXT REFERENCES surveys (id),
    created_by TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX annotations_day ON annotations (day);

-- "NPS over the last `window_days` dropped significantly against the window before it".
CREATE TABLE alert_rules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    survey_id TEXT REFERENCES surveys (id),
    team_id TEXT REFERENCES teams (id),
    window_days BIGINT NOT NULL,
    min_n BIGINT NOT NULL,
    notify_email TEXT,
    last_checked_at BIGINT,
    created_at BIGINT NOT NULL
);

-- One alert per rule and window end day, however often the check runs.
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    window_end_day BIGINT NOT NULL,
    before_nps DOUBLE PRECISION NOT NULL,
    after_nps DOUBLE PRECISION NOT NULL,
    sentence TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (rule_id, window_end_day)
);
CREATE INDEX alerts_created ON alerts (created_at);
