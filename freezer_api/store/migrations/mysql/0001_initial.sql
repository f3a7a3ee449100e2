-- Freezer API schema, version 1 (MySQL/MariaDB).
-- Every resource table has an integer seq (insertion order: stable
-- pagination and the key of its search terms), the public id (unique per
-- project), the owning project and user, an update counter returned as
-- "version", and epoch-second timestamps. Documents that clients may extend
-- are kept as JSON text; fields that lists filter on are columns.
-- *_terms hold, for every key found anywhere in a document, the canonical
-- form of its value: exact-match search is then an indexed lookup.

CREATE TABLE clients (
    seq         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id          VARCHAR(64)  NOT NULL,
    project_id  VARCHAR(64)  NOT NULL,
    user_id     VARCHAR(64)  NOT NULL,
    client_id   VARCHAR(255) NOT NULL,
    hostname    VARCHAR(255) NOT NULL DEFAULT '',
    is_central  TINYINT(1)      NOT NULL DEFAULT 0,
    doc         MEDIUMTEXT         NOT NULL,
    version     INTEGER      NOT NULL DEFAULT 1,
    created_at  BIGINT       NOT NULL,
    updated_at  BIGINT       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX ux_clients_project_client ON clients (project_id, client_id);
-- (project_id) alone: the index also holds seq, so a project's list is read in order.
CREATE INDEX ix_clients_project ON clients (project_id);
CREATE INDEX ix_clients_central ON clients (is_central, client_id);

CREATE TABLE actions (
    seq                  BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id                   VARCHAR(64)  NOT NULL,
    project_id           VARCHAR(64)  NOT NULL,
    user_id              VARCHAR(64)  NOT NULL,
    action               VARCHAR(255) NOT NULL DEFAULT '',
    max_retries          INTEGER,
    max_retries_interval INTEGER,
    mandatory            TINYINT(1)      NOT NULL DEFAULT 0,
    freezer_action       MEDIUMTEXT         NOT NULL,
    version              INTEGER      NOT NULL DEFAULT 1,
    created_at           BIGINT       NOT NULL,
    updated_at           BIGINT       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX ux_actions_project_id ON actions (project_id, id);
-- (project_id) alone: the index also holds seq, so a project's list is read in order.
CREATE INDEX ix_actions_project ON actions (project_id);

CREATE TABLE jobs (
    seq              BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id               VARCHAR(64)  NOT NULL,
    project_id       VARCHAR(64)  NOT NULL,
    user_id          VARCHAR(64)  NOT NULL,
    client_id        VARCHAR(255) NOT NULL,
    description      MEDIUMTEXT         NOT NULL,
    session_id       VARCHAR(64)  NOT NULL DEFAULT '',
    session_tag      INTEGER      NOT NULL DEFAULT 0,
    schedule         MEDIUMTEXT         NOT NULL,
    status           VARCHAR(32)  NOT NULL DEFAULT '',
    event            VARCHAR(32)  NOT NULL DEFAULT '',
    user_credentials MEDIUMTEXT,
    version          INTEGER      NOT NULL DEFAULT 1,
    created_at       BIGINT       NOT NULL,
    updated_at       BIGINT       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX ux_jobs_project_id ON jobs (project_id, id);
-- (project_id) alone: the index also holds seq, so a project's list is read in order.
CREATE INDEX ix_jobs_project ON jobs (project_id);
CREATE INDEX ix_jobs_project_client ON jobs (project_id, client_id, status);
CREATE INDEX ix_jobs_client ON jobs (client_id, status);

CREATE TABLE job_actions (
    job_seq    BIGINT  NOT NULL,
    position   INTEGER NOT NULL,
    action_seq BIGINT  NOT NULL,
    PRIMARY KEY (job_seq, position)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX ix_job_actions_action ON job_actions (action_seq);

CREATE TABLE sessions (
    seq          BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id           VARCHAR(64)  NOT NULL,
    project_id   VARCHAR(64)  NOT NULL,
    user_id      VARCHAR(64)  NOT NULL,
    description  MEDIUMTEXT         NOT NULL,
    session_tag  INTEGER      NOT NULL DEFAULT 0,
    hold_off     INTEGER      NOT NULL DEFAULT 30,
    status       VARCHAR(64)  NOT NULL DEFAULT '',
    result       VARCHAR(64)  NOT NULL DEFAULT '',
    time_start   BIGINT       NOT NULL DEFAULT -1,
    time_end     BIGINT       NOT NULL DEFAULT -1,
    time_started BIGINT       NOT NULL DEFAULT -1,
    time_ended   BIGINT       NOT NULL DEFAULT -1,
    schedule     MEDIUMTEXT         NOT NULL,
    jobs         MEDIUMTEXT         NOT NULL,
    version      INTEGER      NOT NULL DEFAULT 1,
    created_at   BIGINT       NOT NULL,
    updated_at   BIGINT       NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX ux_sessions_project_id ON sessions (project_id, id);
-- (project_id) alone: the index also holds seq, so a project's list is read in order.
CREATE INDEX ix_sessions_project ON sessions (project_id);

CREATE TABLE backups (
    seq        BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    id         VARCHAR(64) NOT NULL,
    project_id VARCHAR(64) NOT NULL,
    user_id    VARCHAR(64) NOT NULL,
    status     VARCHAR(64) NOT NULL DEFAULT 'available',
    job_id     VARCHAR(64) NOT NULL DEFAULT '',
    metadata   MEDIUMTEXT        NOT NULL,
    version    INTEGER     NOT NULL DEFAULT 1,
    created_at BIGINT      NOT NULL,
    updated_at BIGINT      NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX ux_backups_project_id ON backups (project_id, id);
-- (project_id) alone: the index also holds seq, so a project's list is read in order.
CREATE INDEX ix_backups_project ON backups (project_id);
CREATE INDEX ix_backups_project_job ON backups (project_id, job_id);

CREATE TABLE client_terms  (doc_seq BIGINT NOT NULL, k VARCHAR(191) NOT NULL, v VARCHAR(200) NOT NULL, sv VARCHAR(255), PRIMARY KEY (doc_seq, k)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX ix_client_terms_kv ON client_terms (k, v, doc_seq);
CREATE TABLE action_terms  (doc_seq BIGINT NOT NULL, k VARCHAR(191) NOT NULL, v VARCHAR(200) NOT NULL, sv VARCHAR(255), PRIMARY KEY (doc_seq, k)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX ix_action_terms_kv ON action_terms (k, v, doc_seq);
CREATE TABLE job_terms     (doc_seq BIGINT NOT NULL, k VARCHAR(191) NOT NULL, v VARCHAR(200) NOT NULL, sv VARCHAR(255), PRIMARY KEY (doc_seq, k)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX ix_job_terms_kv ON job_terms (k, v, doc_seq);
CREATE TABLE session_terms (doc_seq BIGINT NOT NULL, k VARCHAR(191) NOT NULL, v VARCHAR(200) NOT NULL, sv VARCHAR(255), PRIMARY KEY (doc_seq, k)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX ix_session_terms_kv ON session_terms (k, v, doc_seq);
CREATE TABLE backup_terms  (doc_seq BIGINT NOT NULL, k VARCHAR(191) NOT NULL, v VARCHAR(200) NOT NULL, sv VARCHAR(255), PRIMARY KEY (doc_seq, k)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX ix_backup_terms_kv ON backup_terms (k, v, doc_seq);
