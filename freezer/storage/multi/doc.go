// Package multi writes to several storages at once, for the [storage:NAME]
// sections of a job INI file.
//
// Put tees the stream to every storage in parallel through pipes, so memory
// stays at one chunk whatever the stream's size; if any storage fails, the
// others are aborted (nothing becomes visible in them), copies that had
// already been committed are deleted again, and the error names the failing
// storage. Upstream swallowed such errors.
//
// List returns only the names present in EVERY storage. The agent computes
// the next level from listings, so an increment is only ever built on a
// backup that every storage holds and every storage can restore what it
// holds (upstream merged the lists, so a storage could receive increments
// of a chain it never had). Get reads from the first storage, in the order
// given, that has the key. Delete deletes from all.
package multi
