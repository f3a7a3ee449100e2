-- Freezer API schema, version 3 (MySQL/MariaDB).
-- A session's result is NULL until something sets it, and is answered as
-- null then, as upstream answers it. Existing sessions keep their ''.
ALTER TABLE sessions MODIFY result VARCHAR(64) NULL DEFAULT NULL;
