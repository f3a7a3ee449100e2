package main

import (
	"fmt"
	"math/rand/v2"
	"os"
)

// imageBlock is the block a VM's file system writes, and the rsync
// engine's default block size.
const imageBlock = 4096

// image writes a file laid out like a raw VM disk: extents of 1 to 32 MiB
// (proportionally smaller in a file under 4 GiB, so a small test file
// still mixes both kinds), about 60 % incompressible data (installed
// files, already compressed media), the rest never written, left as holes
// as a sparse image file has them. Every byte depends on the seed and the
// size only.
func image(out string, seed uint64, mib float64) error {
	size := int64(mib*(1<<20)) / imageBlock * imageBlock
	if size <= 0 {
		return fmt.Errorf("--mib %v: want a positive size", mib)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, 2))
	for off := int64(0); off < size; {
		n := int64(1+r.IntN(32)) << 20
		if size < 4<<30 {
			n = max(n/(4<<30/size), imageBlock*16) / imageBlock * imageBlock
		}
		n = min(n, size-off)
		if r.IntN(10) < 6 {
			if _, err := f.Seek(off, 0); err != nil {
				f.Close()
				return err
			}
			if err := randomFill(f, r, n); err != nil {
				f.Close()
				return fmt.Errorf("writing %s: %w", out, err)
			}
		}
		off += n
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// rewrite overwrites percent % of the file's 4 KiB blocks, chosen at
// random (distinct), with random bytes: a guest's writes between two
// backups.
func rewrite(out string, seed uint64, percent float64) error {
	f, err := os.OpenFile(out, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	blocks := fi.Size() / imageBlock
	n := int64(float64(blocks) * percent / 100)
	r := rand.New(rand.NewPCG(seed, 3))
	// A sparse bit set of the chosen blocks: one bit per block.
	chosen := make([]uint64, blocks/64+1)
	buf := make([]byte, imageBlock)
	for k := int64(0); k < n; {
		i := r.Int64N(blocks)
		if chosen[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		chosen[i/64] |= 1 << (i % 64)
		for j := 0; j < len(buf); j += 8 {
			v := r.Uint64()
			for b := range 8 {
				buf[j+b] = byte(v >> (8 * b))
			}
		}
		if _, err := f.WriteAt(buf, i*imageBlock); err != nil {
			f.Close()
			return err
		}
		k++
	}
	return f.Close()
}

// appendRandom appends mib MiB of random bytes.
func appendRandom(out string, seed uint64, mib float64) error {
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if err := randomFill(f, rand.New(rand.NewPCG(seed, 4)), int64(mib*(1<<20))); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
