-- The language a person reads Hark in (a shipped locale tag such as `ko`); null: their
-- browser's.
ALTER TABLE users ADD COLUMN locale TEXT;
