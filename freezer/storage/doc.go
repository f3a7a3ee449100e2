// Package storage holds what every backup.Storage backend shares: key
// validation, a context-aware reader, the parsing of byte sizes and rates
// given with K/M/G suffixes, and the root ("container") splitting rules of
// the on-storage layout; and what the decorators share: the Op names of
// the Storage methods and a context-aware Sleep.
//
// The backends live in sub-packages (local, swift, s3, ssh, ftp, multi), the
// cross-cutting decorators in retry, ratelimit and observe, the fault
// injection wrapper for tests in faulty, and the name → constructor table in
// registry. Every backend passes storagetest.Run.
package storage
