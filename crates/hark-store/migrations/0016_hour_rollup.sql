-- Answers per (UTC hour, survey, score) of the first question. A time zone's days and months
-- begin inside UTC days (Seoul's at 15:00 UTC): the hours of a day so cut are read from here,
-- not from the answers. Kept in step with `responses` like `score_rollup`.
CREATE TABLE score_hour_rollup (
    hour BIGINT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    score BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (hour, survey_id, score)
);

INSERT INTO score_hour_rollup (hour, survey_id, score, n)
SELECT created_at / 3600000, survey_id, score, COUNT(*)
FROM responses GROUP BY created_at / 3600000, survey_id, score;
