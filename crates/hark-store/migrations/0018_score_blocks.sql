-- `score_rollup` summed over the same 32-day blocks as `facet_block_rollup`: a year's
-- segments, company figures and previous period read about a dozen blocks per survey, team
-- and channel instead of 365 days of them. Kept in step with `score_rollup` in the same
-- transaction, in the same writer stripes.
CREATE TABLE score_block_rollup (
    block BIGINT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    team_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    score BIGINT NOT NULL,
    stripe BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (block, survey_id, team_id, channel, score, stripe)
);
CREATE INDEX score_block_rollup_survey ON score_block_rollup (survey_id, block, team_id, channel, score, n);

-- Filled from the daily rows (floor division: days before 1970 are negative).
INSERT INTO score_block_rollup (block, survey_id, team_id, channel, score, stripe, n)
SELECT (CASE WHEN day >= 0 THEN day ELSE day - 31 END) / 32, survey_id, team_id, channel, score, stripe, SUM(n)
FROM score_rollup
GROUP BY 1, 2, 3, 4, 5, 6
HAVING SUM(n) <> 0;
