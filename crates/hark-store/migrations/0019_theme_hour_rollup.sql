-- Answers per (UTC hour, survey, theme, score) of the first question: an answer counts under
-- each theme its comment mentions, and under '*' once its comment was read. A time zone's
-- months begin inside UTC days (Seoul's at 15:00 UTC); the hours of a day so cut were read
-- from the answers, one row at a time, for every theme's trend (1.4 s at 10 million answers).
-- Kept in step with `responses` like `score_hour_rollup`, in the same writer stripes. Filled
-- at the next start (`theme_hours` below), in Rust, which splits the stored tags into themes
-- as the writer does.
CREATE TABLE theme_hour_rollup (
    hour BIGINT NOT NULL,
    survey_id TEXT NOT NULL REFERENCES surveys (id),
    value TEXT NOT NULL,
    score BIGINT NOT NULL,
    stripe BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (hour, survey_id, value, score, stripe)
);

INSERT INTO pending_rebuilds (name) VALUES ('theme_hours');
