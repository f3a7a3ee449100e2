package storage

// Op names a backup.Storage method, for the decorators that count, log or
// fail calls by method (observe, faulty).
type Op string

// The four Storage methods.
const (
	OpPut    Op = "put"
	OpGet    Op = "get"
	OpList   Op = "list"
	OpDelete Op = "delete"
)
