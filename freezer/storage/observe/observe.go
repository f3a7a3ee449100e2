package observe

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
)

// Event describes one finished call. For Get, it is emitted when the
// reader is closed, with the bytes read and the time until then.
type Event struct {
	Storage  string
	Op       storage.Op
	Key      string
	Bytes    int64
	Duration time.Duration
	Err      error
}

// Counters are the totals of one operation.
type Counters struct {
	Calls, Errors, Bytes int64
	Duration             time.Duration
}

// Metrics accumulates counters per operation; safe for concurrent use.
type Metrics struct {
	calls, errors, bytes, nanos [4]atomic.Int64
}

func idx(op storage.Op) int {
	switch op {
	case storage.OpPut:
		return 0
	case storage.OpGet:
		return 1
	case storage.OpList:
		return 2
	default:
		return 3
	}
}

func (m *Metrics) add(e Event) {
	i := idx(e.Op)
	m.calls[i].Add(1)
	if e.Err != nil {
		m.errors[i].Add(1)
	}
	m.bytes[i].Add(e.Bytes)
	m.nanos[i].Add(int64(e.Duration))
}

// Get returns the counters of op.
func (m *Metrics) Get(op storage.Op) Counters {
	i := idx(op)
	return Counters{Calls: m.calls[i].Load(), Errors: m.errors[i].Load(), Bytes: m.bytes[i].Load(), Duration: time.Duration(m.nanos[i].Load())}
}

// Storage observes an inner storage.
type Storage struct {
	backup.Storage
	m   *Metrics
	log func(Event)
	now func() time.Time
}

// Options configures Wrap.
type Options struct {
	// Metrics receives the counters; nil allocates one (see Metrics()).
	Metrics *Metrics
	// Log, when set, is called once per finished call.
	Log func(Event)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Unwrap returns the observed storage.
func (s *Storage) Unwrap() backup.Storage { return s.Storage }

// Wrap observes inner.
func Wrap(inner backup.Storage, o Options) *Storage {
	if o.Metrics == nil {
		o.Metrics = &Metrics{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Storage{Storage: inner, m: o.Metrics, log: o.Log, now: o.Now}
}

// Metrics returns the counters being filled.
func (s *Storage) Metrics() *Metrics { return s.m }

func (s *Storage) done(op storage.Op, key string, n int64, start time.Time, err error) {
	e := Event{Storage: s.Storage.String(), Op: op, Key: key, Bytes: n, Duration: s.now().Sub(start), Err: err}
	s.m.add(e)
	if s.log != nil {
		s.log(e)
	}
}

// Put counts the bytes the backend read.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader) error {
	start := s.now()
	cr := &countReader{r: r}
	err := s.Storage.Put(ctx, key, cr)
	s.done(storage.OpPut, key, cr.n.Load(), start, err)
	return err
}

// Get counts the bytes the caller read, reported on Close.
func (s *Storage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	start := s.now()
	rc, err := s.Storage.Get(ctx, key)
	if err != nil {
		s.done(storage.OpGet, key, 0, start, err)
		return nil, err
	}
	return &getReader{s: s, rc: rc, key: key, start: start}, nil
}

// List times the listing.
func (s *Storage) List(ctx context.Context, dir string) ([]string, error) {
	start := s.now()
	names, err := s.Storage.List(ctx, dir)
	s.done(storage.OpList, dir, 0, start, err)
	return names, err
}

// Delete times the deletion.
func (s *Storage) Delete(ctx context.Context, key string) error {
	start := s.now()
	err := s.Storage.Delete(ctx, key)
	s.done(storage.OpDelete, key, 0, start, err)
	return err
}

// String names the inner storage.
func (s *Storage) String() string { return s.Storage.String() }

type countReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type getReader struct {
	s     *Storage
	rc    io.ReadCloser
	key   string
	start time.Time
	n     int64
	err   error
	once  sync.Once
}

func (g *getReader) Read(p []byte) (int, error) {
	n, err := g.rc.Read(p)
	g.n += int64(n)
	if err != nil && err != io.EOF {
		g.err = err
	}
	return n, err
}

func (g *getReader) Close() error {
	err := g.rc.Close()
	g.once.Do(func() {
		e := g.err
		if e == nil {
			e = err
		}
		g.s.done(storage.OpGet, g.key, g.n, g.start, e)
	})
	return err
}

// Close closes the inner storage when it holds connections.
func (s *Storage) Close() error { return storage.Close(s.Storage) }
