-- How a person reads Hark: the language (a shipped locale tag such as `ko`) and the time
-- zone (an IANA name such as `Asia/Seoul`) they chose; null: their browser's language and the
-- organisation's zone.
ALTER TABLE users ADD COLUMN locale TEXT;
ALTER TABLE users ADD COLUMN time_zone TEXT;
