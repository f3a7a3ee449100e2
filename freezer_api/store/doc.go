// Package store keeps the Freezer API's resources in SQL: SQLite (the
// embedded default, pure Go driver) or MySQL/MariaDB. It is a plain
// repository, one file per resource (actions, backups, clients, jobs,
// sessions), and the only package of freezer-api that contains SQL. It
// keeps no data in memory between calls and renders no answers: reads
// return apiv2 documents, or for the job reads of the hot path
// (ReadJobs, ReadJobsByID) the stored JSON texts, which package jobcache
// renders and caches.
//
// Every write runs in one transaction, so a rejected request never leaves
// half its rows behind; one that writes a project's jobs, actions or
// sessions also bumps the project's job generation (JobGeneration), the
// rule the job cache relies on. Lists are filtered, ordered and paginated
// in SQL: each document's keys and values are also written to a *_terms
// table, so the upstream search language (exact, type-sensitive match of
// a key found anywhere in the document) is an indexed lookup instead of a
// scan of the project in memory. The few query shapes of job reads run as
// prepared statements (stmtCache), which are handles of the database's,
// not copies of its data. Migrations are numbered SQL files per dialect,
// embedded in the binary and applied by Migrate (freezer-manage db sync).
package store
