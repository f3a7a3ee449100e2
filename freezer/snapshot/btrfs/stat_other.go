//go:build !unix

package btrfs

import "errors"

// fsMagic reports no btrfs on platforms without statfs: Plan then says the
// snapshot kind does not apply.
func fsMagic(string) (uint32, error) { return 0, nil }

func inode(string, bool) (uint64, error) {
	return 0, errors.New("inode numbers are not available on this platform")
}
