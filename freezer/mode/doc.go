// Package mode prepares what a backup reads, as upstream's --mode and
// --snapshot do (spec agent.md §7.1–7.3): a mode's Hooks make the data
// quiescent (mysql: FLUSH TABLES WITH READ LOCK; mongo: check this node is
// the primary; sqlserver: stop the service), a snapshot is taken, the hooks
// are released at once so the lock lasts only while the snapshot is made,
// and the backup reads the snapshot. The mode sub-packages (mode/mysql,
// mode/postgresql, mode/mongo, mode/sqlserver) hold the hooks and, for the
// hot-backup modes, the commands whose output is stored (engine/stream).
package mode
