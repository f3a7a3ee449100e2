package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/go-sql-driver/mysql"
)

func TestUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{fmt.Errorf("reading job: %w", &mysql.MySQLError{Number: 1040, Message: "Too many connections"}), true},
		{&mysql.MySQLError{Number: 1203}, true},
		{&mysql.MySQLError{Number: 1062, Message: "Duplicate entry"}, false},
		{&mysql.MySQLError{Number: 1064, Message: "syntax"}, false},
		{fmt.Errorf("listing jobs: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), true},
		{fmt.Errorf("x: %w", mysql.ErrInvalidConn), true},
		{driver.ErrBadConn, true},
		{errf(KindNotFound, "Job not found"), false},
	} {
		if got := Unavailable(tc.err); got != tc.want {
			t.Errorf("Unavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
