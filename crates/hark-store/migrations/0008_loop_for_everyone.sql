-- Closing the loop for every role: deactivated users keep their history but cannot sign
-- in; a customer may leave a phone number and consent to be contacted about an answer.

ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
ALTER TABLE contacts ADD COLUMN phone TEXT;
-- When the customer ticked "May we contact you about this?" (null: never asked or declined).
ALTER TABLE contacts ADD COLUMN contact_consent_at BIGINT;
CREATE INDEX case_events_kind ON case_events (kind, case_id);
