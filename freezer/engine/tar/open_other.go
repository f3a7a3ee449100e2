//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package tar

import "os"

func openForRead(path string) (*os.File, error) { return os.Open(path) }
