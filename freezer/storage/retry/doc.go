// Package retry retries transient storage failures with exponential backoff
// and jitter. Do is used inside backends (per Swift segment or S3 part,
// whose bytes are in memory and can be sent again); Wrap decorates a whole
// backup.Storage, retrying Get, List and Delete, and Put only when the
// stream can be replayed (an io.Seeker), because a consumed stream cannot be
// sent twice.
package retry
