package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// jobCache keeps the job views of recent job reads (list, get, the
// scheduler's poll) of one project, each stored with the project's job
// generation read just before the read. The generation is a row in
// job_generations that every transaction writing the project's jobs,
// actions or sessions bumps first (jobsTx), in the same transaction. A
// read asks the database for that one row and answers from the cache only
// if it is unchanged, so an answer is never older than the database, even
// with several API instances on one database: a cached list costs one
// primary-key lookup instead of the join of jobs and actions, which was
// most of the database's and the server's work per read.
//
// Bounded by the views' size; entries also expire after jobCacheMaxAge,
// which bounds what a write made outside this code (an operator's SQL)
// can leave stale.
type jobCache struct {
	mu    sync.Mutex
	m     map[string]*cachedJobs
	bytes int
	max   int  // bytes; 0 disables the cache
	check bool // Options.CheckJobCache

	hits, misses atomic.Uint64
}

// JobCacheStats are the job cache's counters, for /metrics.
type JobCacheStats struct {
	Hits, Misses    uint64 // cached job reads answered from the cache, and read from the database
	GenerationReads uint64 // reads of a project's job generation (shared by concurrent requests)
	GetReads        uint64 // reads of the jobs of job gets (shared by concurrent gets, cache or not)
	Entries, Bytes  int    // what the cache holds now (Bytes as accounted against job_cache_size)
}

// JobCacheStats returns the job cache's counters.
func (s *Store) JobCacheStats() JobCacheStats {
	st := JobCacheStats{Hits: s.jobs.hits.Load(), Misses: s.jobs.misses.Load()}
	s.jobs.mu.Lock()
	st.Entries, st.Bytes = len(s.jobs.m), s.jobs.bytes
	s.jobs.mu.Unlock()
	genReads, _ := s.gens.stats()
	getReads, _ := s.gets.stats()
	st.GenerationReads, st.GetReads = uint64(genReads), uint64(getReads)
	return st
}

type cachedJobs struct {
	gen   int64
	at    time.Time
	views []JobView
	size  int
}

const jobCacheMaxAge = time.Minute

// errJobCacheStale is what a checked cache hit (Options.CheckJobCache)
// returns when the cached views differ from the database's.
var errJobCacheStale = errors.New("job cache: cached views differ from the database (a write did not bump job_generations)")

// jobsTx is inTx for a transaction that writes jobs, actions or sessions
// of projectID: it first bumps the project's job generation, so that
// cached job reads of the project are recomputed once it commits. First,
// so that every such transaction takes the generation row's lock before
// any other: the lock order is the same in all of them (no deadlock), and
// the project's job writes are serialised, which they are rare enough to
// afford.
func (s *Store) jobsTx(ctx context.Context, projectID string, fn func(tx *sqlx.Tx) error) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.bumpJobGeneration(ctx, tx, projectID); err != nil {
			return err
		}
		return fn(tx)
	})
}

func (s *Store) bumpJobGeneration(ctx context.Context, tx *sqlx.Tx, projectID string) error {
	// A new row starts at a random value rather than 1: if the table is
	// ever emptied (db remove and sync under a running API), a project's
	// new generations do not repeat the old ones that cached entries hold.
	first := randomGeneration()
	q := `INSERT INTO job_generations (project_id, gen) VALUES (?, ?) ON CONFLICT (project_id) DO UPDATE SET gen = gen + 1`
	if s.dialect == MySQL {
		q = `INSERT INTO job_generations (project_id, gen) VALUES (?, ?) ON DUPLICATE KEY UPDATE gen = gen + 1`
	}
	if _, err := tx.ExecContext(ctx, q, projectID, first); err != nil {
		return fmt.Errorf("bumping the job generation: %w", err)
	}
	return nil
}

func randomGeneration() int64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err)) // crypto/rand never fails on Linux
	}
	// Positive and far from overflowing when bumped.
	return int64(binary.LittleEndian.Uint64(b[:]) >> 2)
}

// jobGeneration reads the project's job generation; 0 when the project
// has had no job write since the table was created.
func (s *Store) jobGeneration(ctx context.Context, projectID string) (int64, error) {
	rows, err := s.query(ctx, "SELECT gen FROM job_generations WHERE project_id = ?", projectID)
	if err != nil {
		return 0, fmt.Errorf("reading the job generation: %w", err)
	}
	defer rows.Close()
	var gen int64
	if rows.Next() {
		if err := rows.Scan(&gen); err != nil {
			return 0, fmt.Errorf("reading the job generation: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("reading the job generation: %w", err)
	}
	return gen, nil
}

// sharedJobGeneration is jobGeneration with the read shared by the
// concurrent requests of the project (rounds).
func (s *Store) sharedJobGeneration(ctx context.Context, projectID string) (int64, error) {
	return s.gens.do(ctx, projectID, struct{}{}, func(ctx context.Context, projectID string, _ []struct{}) (int64, error) {
		return s.jobGeneration(ctx, projectID)
	})
}

// cachedReadJobs is readJobs through the cache for reads of one project
// (tail and args restrict to projectID). read, if not nil, reads the same
// jobs as readJobs(tail, args) would, on a miss.
func (s *Store) cachedReadJobs(ctx context.Context, projectID, tail string, args []any, read func(context.Context) ([]JobView, error)) ([]JobView, error) {
	if read == nil {
		read = func(ctx context.Context) ([]JobView, error) { return s.readJobs(ctx, tail, args) }
	}
	c := &s.jobs
	if c.max <= 0 {
		return read(ctx)
	}
	gen, err := s.sharedJobGeneration(ctx, projectID)
	if err != nil {
		return nil, err
	}
	key := jobCacheKey(tail, args)
	now := s.now()
	c.mu.Lock()
	e := c.m[key]
	c.mu.Unlock()
	if e != nil && e.gen == gen && now.Sub(e.at) < jobCacheMaxAge {
		if c.check {
			if err := s.checkCached(ctx, e.views, tail, args); err != nil {
				return nil, err
			}
		}
		c.hits.Add(1)
		// A copy: the caller may not change what other requests share.
		return append([]JobView(nil), e.views...), nil
	}
	c.misses.Add(1)
	views, err := read(ctx)
	if err != nil {
		return nil, err
	}
	c.put(key, &cachedJobs{gen: gen, at: now, views: append([]JobView(nil), views...), size: viewsSize(key, views)})
	return views, nil
}

// checkCached compares a cache hit with what the database holds now,
// for tests: any write path that forgot to bump the generation fails them.
func (s *Store) checkCached(ctx context.Context, cached []JobView, tail string, args []any) error {
	fresh, err := s.readJobs(ctx, tail, args)
	if err != nil {
		return err
	}
	render := func(vs []JobView) ([]byte, error) {
		var b []byte
		for i := range vs {
			var err error
			if b, err = vs[i].AppendJSON(append(b, '\n'), false, true); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	a, err := render(cached)
	if err != nil {
		return err
	}
	b, err := render(fresh)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("%w: query %q", errJobCacheStale, tail)
	}
	return nil
}

func (c *jobCache) put(key string, e *cachedJobs) {
	if e.size > c.max/8 {
		return // one huge page would push out everything else
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*cachedJobs{}
	}
	if old := c.m[key]; old != nil {
		// Out of the map too: the eviction below must not count it again.
		delete(c.m, key)
		c.bytes -= old.size
	}
	// Over the bound: drop entries (in map order, i.e. arbitrary ones)
	// down to three quarters of it, so that eviction is not per put.
	if c.bytes+e.size > c.max {
		for k, old := range c.m {
			delete(c.m, k)
			c.bytes -= old.size
			if c.bytes+e.size <= c.max*3/4 {
				break
			}
		}
	}
	c.m[key] = e
	c.bytes += e.size
}

// viewsSize estimates the memory an entry holds: its key, the views'
// answer size (a fair proxy for the rows and rendered texts behind them)
// and a fixed overhead per view.
func viewsSize(key string, views []JobView) int {
	n := len(key) + 64
	for i := range views {
		n += views[i].SizeHint() + 128
	}
	return n
}

// jobCacheKey is the query's tail and its arguments, each after a NUL
// (which the tail, built here, never holds) and a type tag, strings
// length-prefixed: distinct queries have distinct keys.
func jobCacheKey(tail string, args []any) string {
	b := make([]byte, 0, len(tail)+16*len(args))
	b = append(b, tail...)
	for _, a := range args {
		b = append(b, 0)
		switch v := a.(type) {
		case string: // length-prefixed: a value may hold a NUL
			b = strconv.AppendInt(append(b, 's'), int64(len(v)), 10)
			b = append(append(b, ':'), v...)
		case int:
			b = strconv.AppendInt(append(b, 'i'), int64(v), 10)
		case int64:
			b = strconv.AppendInt(append(b, 'i'), v, 10)
		case bool:
			b = strconv.AppendBool(append(b, 'b'), v)
		default:
			b = fmt.Appendf(append(b, 'v'), "%T:%v", v, v)
		}
	}
	return string(b)
}
