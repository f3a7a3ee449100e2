package btrfs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"freezer.dev/freezer/freezer/snapshot"
)

func writeEntry(t *testing.T, dir string, rec snapshot.Record) {
	t.Helper()
	b, _ := json.Marshal(rec)
	if err := os.WriteFile(filepath.Join(dir, rec.Name+".json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}
