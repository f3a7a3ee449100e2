//go:build !integration

package jobcache

import (
	"path/filepath"
	"testing"
)

// testDatabaseURL gives each test its own SQLite file.
func testDatabaseURL(t testing.TB) string {
	return "sqlite:///" + filepath.Join(t.TempDir(), "freezer.db")
}
