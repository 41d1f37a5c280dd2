-- A customer asking to see or erase their data writes their address as they like: contacts
-- are found by email in any case, so the index is on the folded address.
DROP INDEX contacts_email;
CREATE INDEX contacts_email_folded ON contacts (lower(email));
