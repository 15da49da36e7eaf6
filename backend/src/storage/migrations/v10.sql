-- Version 10 (back office: find a case by its Prüfcode). The verification code on the
-- citizen's receipt is the first 40 bits of the record hash; an index on the hash lets
-- the back office find the record by the range of hashes with that prefix instead of
-- reading every record.
CREATE INDEX records_by_hash ON records(hash);
