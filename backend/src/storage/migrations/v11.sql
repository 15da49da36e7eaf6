-- Version 11 (back office: a case shows its corrections, withdrawals and the answers to
-- its Rückfragen). They reference the original record; the index finds them without
-- reading every record when a case is opened.
CREATE INDEX records_by_reference ON records(ref_record_id) WHERE ref_record_id IS NOT NULL;
