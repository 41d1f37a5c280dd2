-- `score_hour_rollup` keeps its counts per team too. A team lead's pages in another time
-- zone (Seoul's months start at 15:00 UTC) read the days a midnight cuts from the answers
-- themselves, since the hourly counts were per survey only: at 10 million answers in 10
-- teams, a team's Overview in Seoul read about 70,000 answers one by one. The counts are
-- made afresh from the answers, in the shared stripe; floor division, as the writer's.
DROP TABLE score_hour_rollup;
CREATE TABLE score_hour_rollup (
    hour BIGINT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    team_id TEXT NOT NULL,
    score BIGINT NOT NULL,
    stripe BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (hour, survey_id, team_id, score, stripe)
);
INSERT INTO score_hour_rollup (hour, survey_id, team_id, score, stripe, n)
SELECT CASE WHEN created_at >= 0 THEN created_at / 3600000 ELSE (created_at - 3599999) / 3600000 END,
    survey_id, COALESCE(team_id, ''), score, 0, COUNT(*)
FROM responses
GROUP BY 1, 2, 3, 4;
