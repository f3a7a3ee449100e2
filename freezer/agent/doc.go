// Package agent runs freezer-agent's actions — backup, restore, info, admin
// and exec — over the boundary interfaces of package backup: an Engine turns
// a tree into an archive stream, Codecs compress and encrypt it, a Storage
// keeps it. It knows the on-storage layout and the chain rules, but nothing
// about any particular storage, engine or codec implementation; the command
// line (package cli) wires those in. The one exception is the tar engine's
// error kinds and exclude matching, shared so that a damaged archive is an
// integrity failure and --consistency-check walks the tree as the engine
// does.
//
// The data path is a pipeline of goroutines joined by bounded queues:
// engine → compress → encrypt → Storage.Put on backup, and the mirror on
// restore. Memory is O(chunk size × queue depth) whatever the backup size,
// and cancelling the context stops every stage; a backup is committed only
// by its metadata object, written last, so a cancelled or failed run leaves
// nothing that listing, restore or retention would ever see.
package agent
