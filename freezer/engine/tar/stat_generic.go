//go:build !linux

package tar

import "os"

func statMeta(path string, follow bool) (fileMeta, error) {
	stat := os.Lstat
	if follow {
		stat = os.Stat
	}
	fi, err := stat(path)
	if err != nil {
		return fileMeta{}, err
	}
	return metaOf(fi), nil
}
