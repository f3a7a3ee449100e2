//go:build integration

package server_test

import (
	"testing"

	"freezer.dev/freezer/internal/testutil/testenv"
)

// testDatabaseURL gives each test a scratch MariaDB database: the same API transcripts then run on MariaDB.
func testDatabaseURL(t testing.TB) string {
	return testenv.Load(t).ScratchMySQLURL(t)
}
