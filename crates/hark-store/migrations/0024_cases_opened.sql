-- The loop report and the digests read the cases opened in a period, not every case.
CREATE INDEX cases_opened ON cases (created_at);
