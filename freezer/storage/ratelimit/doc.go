// Package ratelimit caps a storage's upload and download bandwidth in
// process with a token bucket, replacing upstream's re-execution of the
// whole agent under trickle (which also read the numbers as KB/s). Limits
// are bytes per second; storage.ParseSize reads them with K/M/G suffixes.
package ratelimit
