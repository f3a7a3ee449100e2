-- Freezer API schema, version 2 (MySQL/MariaDB).
-- One row per project: bumped first by every transaction that writes the
-- project's jobs, actions or sessions. A cached job read is reused only
-- while its project's generation is unchanged (store/jobcache.go).
CREATE TABLE job_generations (
    project_id VARCHAR(64) NOT NULL PRIMARY KEY,
    gen        BIGINT      NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
