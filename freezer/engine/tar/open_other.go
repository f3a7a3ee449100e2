//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package tar

import "os"

// createFlags are added to the flags of a file a restore creates.
const createFlags = 0

func openForRead(path string) (*os.File, error) { return os.Open(path) }

func openDir(path string) (*os.File, error) { return os.Open(path) }
