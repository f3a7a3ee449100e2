// Package faulty wraps a real backup.Storage and makes chosen calls fail on
// command, for tests of what callers (retry, multi, the agent) do when a
// storage breaks: an error before a call reaches the storage, or a stream
// cut after a number of bytes. It is fault injection around the real thing,
// not a mock of a server.
package faulty
