-- Freezer API schema, version 3 (SQLite).
-- A session's result is NULL until something sets it, and is answered as
-- null then, as upstream answers it. Existing sessions keep their ''.
-- SQLite cannot drop a NOT NULL constraint: the table is copied into one
-- without it (same columns in the same order), keeping the AUTOINCREMENT
-- counter so that no seq is handed out twice.
CREATE TABLE sessions_v3 (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           VARCHAR(64)  NOT NULL,
    project_id   VARCHAR(64)  NOT NULL,
    user_id      VARCHAR(64)  NOT NULL,
    description  TEXT         NOT NULL,
    session_tag  INTEGER      NOT NULL DEFAULT 0,
    hold_off     INTEGER      NOT NULL DEFAULT 30,
    status       VARCHAR(64)  NOT NULL DEFAULT '',
    result       VARCHAR(64)  NULL DEFAULT NULL,
    time_start   BIGINT       NOT NULL DEFAULT -1,
    time_end     BIGINT       NOT NULL DEFAULT -1,
    time_started BIGINT       NOT NULL DEFAULT -1,
    time_ended   BIGINT       NOT NULL DEFAULT -1,
    schedule     TEXT         NOT NULL,
    jobs         TEXT         NOT NULL,
    version      INTEGER      NOT NULL DEFAULT 1,
    created_at   BIGINT       NOT NULL,
    updated_at   BIGINT       NOT NULL
);
INSERT INTO sessions_v3 SELECT seq, id, project_id, user_id, description, session_tag, hold_off, status, result,
    time_start, time_end, time_started, time_ended, schedule, jobs, version, created_at, updated_at FROM sessions;
DELETE FROM sqlite_sequence WHERE name = 'sessions_v3';
INSERT INTO sqlite_sequence (name, seq) SELECT 'sessions_v3', seq FROM sqlite_sequence WHERE name = 'sessions';
DROP TABLE sessions;
ALTER TABLE sessions_v3 RENAME TO sessions;
CREATE UNIQUE INDEX ux_sessions_project_id ON sessions (project_id, id);
CREATE INDEX ix_sessions_project ON sessions (project_id);
