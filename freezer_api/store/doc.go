// Package store keeps the Freezer API's resources in SQL: SQLite (the
// embedded default, pure Go driver) or MySQL/MariaDB. It is the only
// package of freezer-api that contains SQL.
//
// Every write runs in one transaction, so a rejected request never leaves
// half its rows behind. Lists are filtered, ordered and paginated in SQL:
// each document's keys and values are also written to a *_terms table, so
// the upstream search language (exact, type-sensitive match of a key found
// anywhere in the document) is an indexed lookup instead of a scan of the
// project in memory. Migrations are numbered SQL files per dialect,
// embedded in the binary and applied by Migrate (freezer-manage db sync).
package store
