-- Freezer API schema, version 2 (SQLite).
-- One row per project: bumped first by every transaction that writes the
-- project's jobs, actions or sessions. A cached job read is reused only
-- while its project's generation is unchanged (store/jobcache.go).
CREATE TABLE job_generations (
    project_id VARCHAR(64) NOT NULL PRIMARY KEY,
    gen        BIGINT      NOT NULL
);
