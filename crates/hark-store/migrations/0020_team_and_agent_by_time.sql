-- A team lead's and an agent's dashboards read their answers of a stretch of time from the
-- rows: the newest comments of Themes, and in a time zone other than UTC the days its
-- midnights cut. With an index of the team (or agent) alone, SQLite read every answer the
-- team ever had for each such read and sorted them: 1.2 s a read at 10 million answers in
-- 10 teams, and 17–21 s for a team's Overview or Themes in Seoul. By time within the team,
-- it reads just that stretch. Equality on the team alone (a team deleted) still uses it.
DROP INDEX responses_team;
CREATE INDEX responses_team ON responses (team_id, created_at);
DROP INDEX responses_agent;
CREATE INDEX responses_agent ON responses (agent_id, created_at);
