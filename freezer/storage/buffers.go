package storage

import "freezer.dev/freezer/freezer/backup"

// Bufferer is a storage that holds upload data in memory: a Swift or S3
// backend keeps each segment until its upload succeeds, so that it can be
// retried without replaying the stream.
type Bufferer interface {
	// BufferBytes is the most upload data held at once, in bytes.
	BufferBytes() int64
}

// BufferBytes reports the most upload data st holds in memory at once:
// its own buffers, those of what it wraps (Unwrap) and of the storages it
// combines (Storages), summed. The agent sizes its memory limit from it.
func BufferBytes(st any) int64 {
	var n int64
	if b, ok := st.(Bufferer); ok {
		n += b.BufferBytes()
	}
	if u, ok := st.(interface{ Unwrap() backup.Storage }); ok {
		n += BufferBytes(u.Unwrap())
	}
	if m, ok := st.(interface{ Storages() []backup.Storage }); ok {
		for _, s := range m.Storages() {
			n += BufferBytes(s)
		}
	}
	return n
}
