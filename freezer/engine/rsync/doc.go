// Package rsync is the "rsync" engine: upstream's rsyncv2 format, which
// upstream stores under the engine name "rsync" (its older rsync v1 shared
// the name and never worked in Python 3; --engine rsync means rsyncv2
// here). Only format version 2 (rsync_struct_ver 2) is written and read.
//
// A level's payload is one msgpack array of header maps followed by the
// bytes of the regular files it lists, compressed as one stream (for
// "gzip" a zlib stream, as upstream's zlib.compressobj writes):
//
//	[{"path": "d/f", "inode": {"mode", "dev", "uname", "gname", "atime",
//	  "mtime", "size", ...}, "lname"?, "new_level"?, "deltas"?:
//	  [length, [block index, ...]], "deleted"?}, ...] file bytes...
//
// An entry is listed when it is new, or its mode, mtime or ctime changed
// since the previous level; an unchanged one is omitted. A changed regular
// file with a signature in the previous state is compared block by block,
// block i against old signature i (no rolling search, as upstream: an
// insertion near the start of a file marks every later block changed), and
// only the changed blocks are stored. The engine_metadata is upstream's map
// {"files": {path: {"mode", "ctime", "mtime", "signature": [[adler32...],
// [sha1 hex...]]}}, "rsync_block_size", "rsync_struct_ver", "platform",
// "abs_backup_path"}, compressed in one shot with the payload's algorithm.
// A chain keeps the block size of its level 0.
//
// Keys we add, which upstream's reader ignores: "atime_ns", "mtime_ns",
// "uid", "gid", "rdev" and "nlink" in a header's inode (exact times, owners
// by number when the name is unknown on the restoring host, device numbers:
// upstream recorded only st_dev and could not restore devices);
// "ctime_ns"/"mtime_ns" in the state; and "hardlink": the path of an
// earlier name of the same file, for which no bytes follow. Upstream stored
// every name of a hard-linked file as a separate copy; its reader (which
// never worked in Python 3) would misread a level holding a "hardlink"
// entry.
//
// Fixed relative to upstream: the last compressed segment is never dropped
// (the agent's pipeline writes every byte); signatures are computed from
// the bytes stored, not by reading the file again afterwards; symbolic
// links are re-created when retargeted, devices and FIFOs restored, type
// changes (file, directory, link) replace what the target holds; a file
// whose only change is its times stores its last block, not its whole
// content; ownership is restored by name with a numeric fallback, mode and
// times exactly, times of symbolic links included.
//
// Encryption is the agent's codec chain over the payload (our
// authenticated format by default, or OpenSSL's enc format, which the
// Python agent's tar engine reads). Upstream's own rsync encryption never
// worked (it reused one key stream per chunk and crashed in Python 3), so
// nothing is written in it. As with tar's snapshot file, the
// engine_metadata is not encrypted: it holds paths and per-block hashes.
//
// Memory is bounded by the largest directory's name list and one chunk of
// data per goroutine. The header list, the new state's records and the
// signatures (fixed 24-byte slots, reserved in the first pass and filled
// in the second) live in scratch files; the previous state is read in
// step with the walk, which is why the state is written in walk order
// (depth first, names in byte order).
package rsync
