// Package agent runs freezer-agent's actions — backup, restore, info, admin
// and exec — over the boundary interfaces of package backup: an Engine turns
// a tree into an archive stream, Codecs compress and encrypt it (and read
// the passphrase file), a Storage keeps it. It knows the on-storage layout
// and the chain rules, but nothing about any particular storage, engine or
// codec implementation, and imports none: the command line (package cli)
// wires those in. What it must share with engines is in package backup too:
// the error kinds of a damaged or hostile archive (ErrCorrupt,
// ErrUnsafePath), so that either is an integrity failure, and exclude
// matching (ExcludeMatcher), so that --consistency-check walks the tree as
// the engine does. A test under tools/layout keeps it so.
//
// The data path is a pipeline of goroutines joined by bounded queues:
// engine → compress → encrypt → Storage.Put on backup, and the mirror on
// restore. Memory is O(chunk size × queue depth) whatever the backup size,
// and cancelling the context stops every stage; a backup is committed only
// by its metadata object, written last, so a cancelled or failed run leaves
// nothing that listing, restore or retention would ever see.
package agent
