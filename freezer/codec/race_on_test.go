//go:build race

package codec

// raceEnabled shrinks the largest test inputs under the race detector,
// which slows the pure-Go compressors about tenfold; the plain `go test`
// run keeps the full sizes.
const raceEnabled = true
