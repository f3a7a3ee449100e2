package jobcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/store"
)

// Options tune New.
type Options struct {
	// Bytes bounds the cache of job reads; 0 disables it (reads are
	// still rendered once per stored text and gets still share their
	// reads). [api] job_cache_size in MiB.
	Bytes int
	// Check makes every cache hit also read the database and fail on a
	// difference: for tests, so that any write path that does not bump
	// the job generation fails them.
	Check bool
	// Now is the clock entries age by; time.Now if nil.
	Now func() time.Time
}

// Store is a store.Store whose job reads (list, get, the scheduler's
// poll) answer JobViews, cached. Every other method is the store's own.
//
// Each cached read is stored with the project's job generation read just
// before the read (store.JobGeneration), which every transaction writing
// the project's jobs, actions or sessions bumps. A read asks the database
// for that one row and answers from the cache only if it is unchanged, so
// an answer is never older than the database, even with several API
// instances on one database: a cached list costs one primary-key lookup
// instead of the join of jobs and actions, which was most of the
// database's and the server's work per read.
//
// Bounded by the views' size; entries also expire after maxAge, which
// bounds what a write made outside freezer-api (an operator's SQL) can
// leave stale.
type Store struct {
	*store.Store
	render apiv2.JobRenderer
	now    func() time.Time
	max    int  // bytes; 0 disables the cache
	check  bool // Options.Check

	mu    sync.Mutex
	m     map[string]*entry
	bytes int

	hits, misses atomic.Uint64
	gens         rounds[struct{}, int64]                    // generation reads (sharedGeneration)
	gets         rounds[string, map[string][]apiv2.JobView] // job gets' reads (batchedGet)
}

// New wraps st; closing st is still the caller's job.
func New(st *store.Store, o Options) *Store {
	c := &Store{Store: st, now: o.Now, max: o.Bytes, check: o.Check}
	if c.now == nil {
		c.now = time.Now
	}
	return c
}

// Stats are the job cache's counters, for /metrics.
type Stats struct {
	Hits, Misses    uint64 // cached job reads answered from the cache, and read from the database
	GenerationReads uint64 // reads of a project's job generation (shared by concurrent requests)
	GetReads        uint64 // reads of the jobs of job gets (shared by concurrent gets, cache or not)
	Entries, Bytes  int    // what the cache holds now (Bytes as accounted against job_cache_size)
}

// JobCacheStats returns the job cache's counters.
func (c *Store) JobCacheStats() Stats {
	st := Stats{Hits: c.hits.Load(), Misses: c.misses.Load()}
	c.mu.Lock()
	st.Entries, st.Bytes = len(c.m), c.bytes
	c.mu.Unlock()
	genReads, _ := c.gens.stats()
	getReads, _ := c.gets.stats()
	st.GenerationReads, st.GetReads = uint64(genReads), uint64(getReads)
	return st
}

type entry struct {
	gen   int64
	at    time.Time
	views []apiv2.JobView
	size  int
}

const maxAge = time.Minute

// errStale is what a checked cache hit (Options.Check) returns when the
// cached views differ from the database's.
var errStale = errors.New("job cache: cached views differ from the database (a write did not bump job_generations)")

// GetJobView returns one job of the project, encoded for an answer.
func (c *Store) GetJobView(ctx context.Context, sc store.Scope, id string) (apiv2.JobView, error) {
	var jobs []apiv2.JobView
	var err error
	if c.max <= 0 {
		jobs, err = c.batchedGet(ctx, sc.ProjectID, id)
	} else {
		jobs, err = c.cached(ctx, sc.ProjectID, getKey(sc.ProjectID, id), func(ctx context.Context) ([]apiv2.JobView, error) {
			return c.batchedGet(ctx, sc.ProjectID, id)
		}, func(ctx context.Context) ([]apiv2.JobView, error) {
			return c.views(c.Store.ReadJobsByID(ctx, sc.ProjectID, []string{id}))
		})
	}
	if err != nil {
		return apiv2.JobView{}, err
	}
	if len(jobs) == 0 {
		return apiv2.JobView{}, &store.Error{Kind: store.KindNotFound, Msg: "Job not found with ID " + id}
	}
	return jobs[0], nil
}

// ListJobViews lists the jobs of a project, or of every project when
// projectID is "", encoded for an answer.
func (c *Store) ListJobViews(ctx context.Context, projectID string, f store.Filter, p store.Page) ([]apiv2.JobView, error) {
	read := func(ctx context.Context) ([]apiv2.JobView, error) {
		return c.views(c.Store.ReadJobs(ctx, projectID, f, p))
	}
	if projectID == "" || c.max <= 0 {
		return read(ctx) // a list of every project (admin) is rare: not cached
	}
	return c.cached(ctx, projectID, listKey(projectID, f, p), read, read)
}

// views renders stored jobs.
func (c *Store) views(jobs []apiv2.StoredJob, err error) ([]apiv2.JobView, error) {
	if err != nil {
		return nil, err
	}
	out := make([]apiv2.JobView, len(jobs))
	for i := range jobs {
		if out[i], err = c.render.View(&jobs[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sharedGeneration is store.JobGeneration with the read shared by the
// concurrent requests of the project (rounds).
func (c *Store) sharedGeneration(ctx context.Context, projectID string) (int64, error) {
	return c.gens.do(ctx, projectID, struct{}{}, func(ctx context.Context, projectID string, _ []struct{}) (int64, error) {
		return c.Store.JobGeneration(ctx, projectID)
	})
}

// cached answers a job read of projectID from the (enabled) cache, or by
// read (and keeps the answer). fresh reads the same jobs alone, for
// Options.Check.
func (c *Store) cached(ctx context.Context, projectID, key string, read, fresh func(context.Context) ([]apiv2.JobView, error)) ([]apiv2.JobView, error) {
	gen, err := c.sharedGeneration(ctx, projectID)
	if err != nil {
		return nil, err
	}
	now := c.now()
	c.mu.Lock()
	e := c.m[key]
	c.mu.Unlock()
	if e != nil && e.gen == gen && now.Sub(e.at) < maxAge {
		if c.check {
			if err := checkCached(ctx, e.views, key, fresh); err != nil {
				return nil, err
			}
		}
		c.hits.Add(1)
		// A copy: the caller may not change what other requests share.
		return append([]apiv2.JobView(nil), e.views...), nil
	}
	c.misses.Add(1)
	views, err := read(ctx)
	if err != nil {
		return nil, err
	}
	c.put(key, &entry{gen: gen, at: now, views: append([]apiv2.JobView(nil), views...), size: viewsSize(key, views)})
	return views, nil
}

// checkCached compares a cache hit with what the database holds now,
// for tests: any write path that forgot to bump the generation fails them.
func checkCached(ctx context.Context, cached []apiv2.JobView, key string, fresh func(context.Context) ([]apiv2.JobView, error)) error {
	now, err := fresh(ctx)
	if err != nil {
		return err
	}
	render := func(vs []apiv2.JobView) ([]byte, error) {
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
	b, err := render(now)
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("%w: read %q", errStale, key)
	}
	return nil
}

func (c *Store) put(key string, e *entry) {
	if e.size > c.max/8 {
		return // one huge page would push out everything else
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]*entry{}
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
func viewsSize(key string, views []apiv2.JobView) int {
	n := len(key) + 64
	for i := range views {
		n += views[i].SizeHint() + 128
	}
	return n
}

// getKey and listKey name a read in the cache: a kind, then every input
// of the read after a NUL, strings length-prefixed (a value may hold a
// NUL), so that distinct reads have distinct keys.
func getKey(projectID, id string) string {
	b := make([]byte, 0, 8+len(projectID)+len(id))
	b = append(b, 'g')
	b = appendStr(b, projectID)
	return string(appendStr(b, id))
}

func listKey(projectID string, f store.Filter, p store.Page) string {
	b := make([]byte, 0, 64)
	b = appendStr(append(b, 'l'), projectID)
	for _, part := range [...]struct {
		tag   byte
		conds []store.Cond
	}{{'m', f.Match}, {'n', f.MatchNot}} {
		b = strconv.AppendInt(append(b, 0, part.tag), int64(len(part.conds)), 10)
		for _, cd := range part.conds {
			b = appendStr(appendStr(b, cd.Key), cd.Value)
		}
	}
	for _, part := range [...]struct {
		tag  byte
		text []string
	}{{'t', f.Text}, {'x', f.NotText}} {
		b = strconv.AppendInt(append(b, 0, part.tag), int64(len(part.text)), 10)
		for _, s := range part.text {
			b = appendStr(b, s)
		}
	}
	b = strconv.AppendInt(append(b, 0, 'p'), int64(p.Limit), 10)
	b = strconv.AppendInt(append(b, 0), int64(p.Offset), 10)
	return string(b)
}

func appendStr(b []byte, s string) []byte {
	b = strconv.AppendInt(append(b, 0), int64(len(s)), 10)
	return append(append(b, ':'), s...)
}
