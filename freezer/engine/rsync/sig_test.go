package rsync

import (
	"crypto/sha1"
	"hash/adler32"
	"testing"
)

// hashBlocks on several goroutines gives each block the signature one
// goroutine gives it, and that is adler32 + sha1 of the block (zero blocks,
// signed by comparison, included; the last block short).
func TestHashBlocksParallelMatchesSerial(t *testing.T) {
	data := randBytes(5, 3<<20+1234)
	clear(data[4096*10 : 4096*40]) // zero blocks
	for _, bs := range []int{512, 4096, 65536} {
		serial := hashBlocks(data, bs, 1, nil)
		for _, workers := range []int{2, 3, 8} {
			par := hashBlocks(data, bs, workers, nil)
			if len(par) != len(serial) {
				t.Fatalf("bs %d workers %d: %d sums, want %d", bs, workers, len(par), len(serial))
			}
			for i := range par {
				b := data[i*bs : min((i+1)*bs, len(data))]
				want := blockSum{weak: adler32.Checksum(b), strong: sha1.Sum(b)}
				if par[i] != want || serial[i] != want {
					t.Fatalf("bs %d workers %d: block %d signed wrongly", bs, workers, i)
				}
			}
		}
	}
}
