-- `facet_rollup` summed over fixed blocks of 32 UTC days (block = day div 32, counting from
-- 1970-01-01). A year's report reads its whole blocks here and only the days at its two ends
-- from `facet_rollup`: about 5x fewer rows for the per-agent reads, the rollups' largest. Kept
-- in step with `facet_rollup` in the same transaction.
CREATE TABLE facet_block_rollup (
    block BIGINT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    team_id TEXT NOT NULL,
    facet TEXT NOT NULL,
    value TEXT NOT NULL,
    question TEXT NOT NULL,
    score BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (block, survey_id, team_id, facet, value, question, score)
);
CREATE INDEX facet_block_rollup_reports
    ON facet_block_rollup (facet, question, block, survey_id, team_id, value, score, n);

-- Filled from the daily rows (floor division: days before 1970 are negative).
INSERT INTO facet_block_rollup (block, survey_id, team_id, facet, value, question, score, n)
SELECT (CASE WHEN day >= 0 THEN day ELSE day - 31 END) / 32, survey_id, team_id, facet, value, question, score,
       SUM(n)
FROM facet_rollup
GROUP BY 1, 2, 3, 4, 5, 6, 7
HAVING SUM(n) <> 0;
