package faulty

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
)

// ErrInjected is the default error of a rule.
var ErrInjected = errors.New("faulty: injected failure")

// Rule makes matching calls fail.
type Rule struct {
	Op storage.Op
	// KeyContains restricts the rule to keys containing it ("" matches all).
	KeyContains string
	// After, for Put and Get, lets that many bytes of the stream through
	// before failing; zero fails the call before it reaches the storage.
	After int64
	// Skip lets that many matching calls through before the rule applies,
	// so a test can fail each call of a sequence in turn.
	Skip int
	// Times is how many matching calls fail; zero means every one.
	Times int
	// Err is the error returned; nil means ErrInjected.
	Err error
}

// Storage is the wrapper. Its zero rules let everything through.
type Storage struct {
	backup.Storage
	mu    sync.Mutex
	rules []*Rule
	calls map[storage.Op]int
}

// New wraps inner.
func New(inner backup.Storage) *Storage {
	return &Storage{Storage: inner, calls: map[storage.Op]int{}}
}

// Size forwards to the wrapped storage when it can tell sizes.
func (s *Storage) Size(ctx context.Context, key string) (int64, error) {
	return backup.SizeOf(ctx, s.Storage, key)
}

// Fail adds a rule; rules are tried in the order added.
func (s *Storage) Fail(r Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Err == nil {
		r.Err = ErrInjected
	}
	s.rules = append(s.rules, &r)
}

// Clear removes all rules.
func (s *Storage) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
}

// Calls reports how many calls of op were made.
func (s *Storage) Calls(op storage.Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// match returns the rule for this call, consuming one of its Times.
func (s *Storage) match(op storage.Op, key string) *Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	for i, r := range s.rules {
		if r.Op != op || !strings.Contains(key, r.KeyContains) {
			continue
		}
		if r.Skip > 0 {
			r.Skip--
			return nil
		}
		if r.Times > 0 {
			r.Times--
			if r.Times == 0 {
				s.rules = append(s.rules[:i:i], s.rules[i+1:]...)
			}
		}
		return r
	}
	return nil
}

// Put fails or cuts the stream as a rule says.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader) error {
	rule := s.match(storage.OpPut, key)
	if rule == nil {
		return s.Storage.Put(ctx, key, r)
	}
	if rule.After <= 0 {
		return rule.Err
	}
	return s.Storage.Put(ctx, key, &cutReader{r: r, left: rule.After, err: rule.Err})
}

// Get fails or cuts the stream as a rule says.
func (s *Storage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rule := s.match(storage.OpGet, key)
	if rule != nil && rule.After <= 0 {
		return nil, rule.Err
	}
	rc, err := s.Storage.Get(ctx, key)
	if err != nil || rule == nil {
		return rc, err
	}
	return struct {
		io.Reader
		io.Closer
	}{&cutReader{r: rc, left: rule.After, err: rule.Err}, rc}, nil
}

// List fails as a rule says.
func (s *Storage) List(ctx context.Context, dir string) ([]string, error) {
	if rule := s.match(storage.OpList, dir); rule != nil {
		return nil, rule.Err
	}
	return s.Storage.List(ctx, dir)
}

// Delete fails as a rule says.
func (s *Storage) Delete(ctx context.Context, key string) error {
	if rule := s.match(storage.OpDelete, key); rule != nil {
		return rule.Err
	}
	return s.Storage.Delete(ctx, key)
}

// String names the inner storage.
func (s *Storage) String() string { return "faulty:" + s.Storage.String() }

type cutReader struct {
	r    io.Reader
	left int64
	err  error
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, c.err
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// Close closes the inner storage when it holds connections.
func (s *Storage) Close() error { return storage.Close(s.Storage) }
