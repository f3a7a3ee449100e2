// Package tar is the native "tar" engine: it writes GNU tar archives with
// the listed-incremental semantics of
//
//	gnutar --create --listed-incremental=SNAP --no-check-device \
//	       --one-file-system --preserve-permissions --same-owner .
//
// run inside the backed-up directory, and restores them like
//
//	gnutar --extract --incremental --overwrite --directory DIR
//
// without any tar binary, so it behaves the same on every platform Go
// supports. The engine metadata of a backup is a GNU tar snapshot file
// (format 2) that GNU tar itself accepts, so chains may be continued or
// restored by the upstream Python agent and the reverse.
//
// Every directory in an archive carries a GNU dumpdir ('D' member) listing
// its entries: 'Y' for an entry stored in this archive, 'N' for one that is
// unchanged and 'D' for a sub-directory. Restoring a level deletes what the
// dumpdir no longer lists, which is how deletions propagate along a chain.
// A directory renamed since the previous level is recorded as a rename
// ('R'/'T' records in the top dumpdir), as GNU tar does, so its unchanged
// contents are not saved again.
//
// An entry counts as changed when its mtime or ctime is not older than the
// start of the previous backup, as in GNU tar; the start recorded in the
// snapshot is one second early so that coarse file timestamps never hide
// a change.
//
// Restore is confined to the target directory: every file system operation
// goes through an os.Root, and names that are absolute, contain "..", or
// would pass through a symbolic link are rejected with an error.
//
// A restore makes every name (files, directories, links, renames,
// deletions) on one goroutine, in archive order, so the result is what
// applying the members one by one gives. Around it, with more than one
// CPU: a read-ahead goroutine parses the headers and reads small files and
// directory listings ahead (readahead.go), worker goroutines write, chown,
// chmod, stamp and close the small files (finish.go), and directory
// attributes are set at the end by depth, deepest first, on the workers.
//
// The restore side is split by concern as the backup side is (backup.go,
// rename.go, header.go): restore.go applies members in order, members.go
// reads them from the stream and classifies archive errors, paths.go
// confines names and holds the directory handles, dumpdir.go applies the
// listings (renames, then purges), write.go writes files and links, and
// list.go prints a dry run.
package tar
