-- Version 3, SQLite part: the triggers that keep `case_counts`.
CREATE TRIGGER case_counts_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO case_counts (authority_id, kit_id, clerk_id, status, n)
        VALUES (NEW.authority_id, NEW.kit_id, NEW.clerk_id, NEW.status, 1)
        ON CONFLICT (authority_id, kit_id, clerk_id, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER case_counts_status AFTER UPDATE OF status ON cases
WHEN OLD.status <> NEW.status
BEGIN
    UPDATE case_counts SET n = n - 1
        WHERE authority_id = OLD.authority_id AND kit_id = OLD.kit_id
              AND clerk_id = OLD.clerk_id AND status = OLD.status;
    INSERT INTO case_counts (authority_id, kit_id, clerk_id, status, n)
        VALUES (NEW.authority_id, NEW.kit_id, NEW.clerk_id, NEW.status, 1)
        ON CONFLICT (authority_id, kit_id, clerk_id, status) DO UPDATE SET n = n + 1;
END;
