// Package observe decorates a backup.Storage with metrics (calls, errors,
// bytes and time per operation, as atomic counters a caller can read or
// export) and an optional per-call log hook. It does not log by itself:
// the agent's top layer decides where log lines go.
package observe
