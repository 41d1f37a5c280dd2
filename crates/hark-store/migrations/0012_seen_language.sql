-- The language a person's browser asked for when they last signed in (a shipped locale tag):
-- what their mail is written in when they chose none.
ALTER TABLE users ADD COLUMN seen_locale TEXT;
