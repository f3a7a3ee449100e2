//go:build !linux

package tar

// noAtime is Linux's O_NOATIME; elsewhere reads may update access times.
const noAtime = 0
