-- Each answer writer counts into rollup rows of its own, its `stripe`: on PostgreSQL, the
-- writers of two nodes upserted the same rows (today, this survey, this score), so each
-- waited for the other's commit and a second node took answers in more slowly than one.
-- Reports sum the stripes. Every other change (a score edited, comments read again, a
-- rebuild) counts into stripe 0, as does SQLite's one writer. Each table's rows wait in a
-- plain copy while it is made again, so that its key and indexes keep their names.
CREATE TABLE score_rollup_kept AS SELECT day, survey_id, team_id, channel, score, n FROM score_rollup;
DROP TABLE score_rollup;
CREATE TABLE score_rollup (
    day BIGINT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    team_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    score BIGINT NOT NULL,
    stripe BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, survey_id, team_id, channel, score, stripe)
);
INSERT INTO score_rollup (day, survey_id, team_id, channel, score, stripe, n)
SELECT day, survey_id, team_id, channel, score, 0, n FROM score_rollup_kept;
DROP TABLE score_rollup_kept;
CREATE INDEX score_rollup_survey ON score_rollup (survey_id, day, team_id, channel, score, n);

CREATE TABLE score_hour_rollup_kept AS SELECT hour, survey_id, score, n FROM score_hour_rollup;
DROP TABLE score_hour_rollup;
CREATE TABLE score_hour_rollup (
    hour BIGINT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    score BIGINT NOT NULL,
    stripe BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (hour, survey_id, score, stripe)
);
INSERT INTO score_hour_rollup (hour, survey_id, score, stripe, n)
SELECT hour, survey_id, score, 0, n FROM score_hour_rollup_kept;
DROP TABLE score_hour_rollup_kept;

CREATE TABLE facet_rollup_kept AS SELECT day, survey_id, team_id, facet, value, question, score, n FROM facet_rollup;
DROP TABLE facet_rollup;
CREATE TABLE facet_rollup (
    day BIGINT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    team_id TEXT NOT NULL,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    question TEXT NOT NULL,
    score BIGINT NOT NULL,
    stripe BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (day, survey_id, team_id, facet, value, question, score, stripe)
);
INSERT INTO facet_rollup (day, survey_id, team_id, facet, value, question, score, stripe, n)
SELECT day, survey_id, team_id, facet, value, question, score, 0, n FROM facet_rollup_kept;
DROP TABLE facet_rollup_kept;
CREATE INDEX facet_rollup_reports ON facet_rollup (facet, question, day, survey_id, team_id, value, score, n);

CREATE TABLE facet_block_rollup_kept AS SELECT block, survey_id, team_id, facet, value, question, score, n FROM facet_block_rollup;
DROP TABLE facet_block_rollup;
CREATE TABLE facet_block_rollup (
    block BIGINT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    team_id TEXT NOT NULL,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    question TEXT NOT NULL,
    score BIGINT NOT NULL,
    stripe BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (block, survey_id, team_id, facet, value, question, score, stripe)
);
INSERT INTO facet_block_rollup (block, survey_id, team_id, facet, value, question, score, stripe, n)
SELECT block, survey_id, team_id, facet, value, question, score, 0, n FROM facet_block_rollup_kept;
DROP TABLE facet_block_rollup_kept;
CREATE INDEX facet_block_rollup_reports
    ON facet_block_rollup (facet, question, block, survey_id, team_id, value, score, n);
