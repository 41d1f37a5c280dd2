-- Answers per (UTC day, survey, team, facet value, question, score), for what `score_rollup`
-- cannot answer quickly: per agent (facet 'agent', the agent's id or '' for none, both
-- questions: 'score' and 'agent_score'), and per bin of the call-centre figures (facet
-- 'bin.handle_time_s' …, the bin's lower edge, first question). Kept in step with `responses`
-- in the same transaction as every insert and score change.
CREATE TABLE facet_rollup (
    day BIGINT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    team_id TEXT NOT NULL,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    question TEXT NOT NULL,
    score BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, survey_id, team_id, facet, value, question, score)
);
-- Reports name one facet and one question over a range of days (their surveys are often
-- named by kind only): this covers them without touching the table.
CREATE INDEX facet_rollup_reports ON facet_rollup (facet, question, day, survey_id, team_id, value, score, n);

-- Rollups Hark fills from the existing answers after the migrations run (the bins are worked
-- out in Rust, the same code that keeps them up to date); each row goes in the same
-- transaction as its rebuild.
CREATE TABLE pending_rebuilds (name TEXT PRIMARY KEY);
INSERT INTO pending_rebuilds (name) VALUES ('rollups');
