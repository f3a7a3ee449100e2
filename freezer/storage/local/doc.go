// Package local is the backup.Storage on a local directory: the root
// directory is the --container value and each key is a file below it, the
// layout upstream's local storage uses, so either agent reads the other's
// backups.
//
// Unlike upstream, writes are atomic and durable: an object is written to a
// temporary file in its target directory, synced, renamed into place and the
// directory synced, so a crash leaves either the old state or the complete
// new object, never a partial one. Listings are sorted.
package local
