//go:build integration

package jobcache

import (
	"testing"

	"freezer.dev/freezer/internal/testutil/testenv"
)

// testDatabaseURL gives each test a scratch MariaDB database: the job cache tests then run on MariaDB.
func testDatabaseURL(t testing.TB) string {
	return testenv.Load(t).ScratchMySQLURL(t)
}
