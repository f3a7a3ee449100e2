package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"freezer.dev/freezer/freezer/backup"
)

// ResourceEngine is an engine whose payload is a cloud resource (a Glance
// image) rather than files under --path-to-backup.
type ResourceEngine interface {
	backup.Engine
	// Resource names what the backup reads, for messages.
	Resource() string
	// Image is the resource's record, stored in the backup's metadata.
	Image() json.RawMessage
}

// backupSource is what a backup reads: the absolute --path-to-backup,
// which must exist, or the resource a ResourceEngine names.
func (a *Agent) backupSource(o Options) (string, error) {
	if r, ok := a.Engine.(ResourceEngine); ok && o.resourceMode() {
		return r.Resource(), nil
	}
	src, err := filepath.Abs(o.PathToBackup)
	if err != nil {
		return "", usagef("--path-to-backup %q: %v", o.PathToBackup, err)
	}
	if _, err := os.Lstat(src); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", withKind(ErrNotFound, fmt.Errorf("--path-to-backup %s does not exist", src))
		}
		return "", fmt.Errorf("checking --path-to-backup: %w", err)
	}
	return src, nil
}

// backupMedia is upstream's backup_media of the result.
func backupMedia(o Options) string {
	if o.resourceMode() {
		return o.Mode
	}
	return "fs"
}
