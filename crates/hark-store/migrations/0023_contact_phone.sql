-- Staff find a contact by phone number too (a customer who asks by phone to see or erase
-- their data), as by external id and email.
CREATE INDEX contacts_phone ON contacts (phone);
