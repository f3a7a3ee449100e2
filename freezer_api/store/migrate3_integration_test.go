//go:build integration

package store

import (
	"testing"

	"freezer.dev/freezer/internal/testutil/testenv"
)

func TestSessionResultMigrationMariaDB(t *testing.T) {
	testSessionResultMigration(t, testenv.Load(t).ScratchMySQLURL(t))
}
