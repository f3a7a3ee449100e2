package store

import (
	"database/sql/driver"
	"errors"
	"net"

	"github.com/go-sql-driver/mysql"
)

// Unavailable reports whether err means that the database could not be
// reached or would not take another connection (rather than that a query
// failed): the same request may succeed a moment later, so the API
// answers 503, which tells clients and proxies to retry, where upstream
// answers 500.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, // ER_CON_COUNT_ERROR: max_connections reached
			1203, // ER_TOO_MANY_USER_CONNECTIONS: the user's max_user_connections
			1226, // ER_USER_LIMIT_REACHED: a per-hour limit of the user
			1053: // ER_SERVER_SHUTDOWN
			return true
		}
		return false
	}
	var ne *net.OpError
	return errors.As(err, &ne) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, driver.ErrBadConn)
}
