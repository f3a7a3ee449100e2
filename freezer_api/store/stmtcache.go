package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps server-side prepared statements for the hot read
// queries (job list and get, the scheduler's poll). With MariaDB a text
// query is parsed and optimised on every call; a prepared one is not, and
// that is a large share of the server's work for a list of ten jobs.
// database/sql prepares a statement again on each pooled connection that
// needs it. The number of query shapes is bounded (the shape depends on
// the number of search terms, not their values), and the cache is capped
// anyway: past the cap a query runs unprepared.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

const maxCachedStmts = 16

// query runs q with args, prepared when possible.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = s.db.Rebind(q)
	if st := s.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, q, args...)
}

func (s *Store) stmt(ctx context.Context, q string) *sql.Stmt {
	c := &s.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[q]; ok {
		return st
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		// Not fatal: the unprepared query reports any real error.
		return nil
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[q] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	c.stmts = nil
}
