// Package snapshot takes point-in-time snapshots of the file system holding
// the path to back up (--snapshot), so a backup reads one consistent state
// while the live files keep changing.
//
// A Provider knows one kind of snapshot (snapshot/btrfs, snapshot/lvm). The
// Manager journals each snapshot before creating it and removes it after
// the backup whatever happened — success, failure, SIGTERM — and, through
// Recover at the start of the next run, after a crash or SIGKILL too: a
// journal entry no live process holds a lock on names a leftover snapshot.
package snapshot
