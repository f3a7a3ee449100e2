package retry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/faulty"
	"freezer.dev/freezer/freezer/storage/internal/idle"
	"freezer.dev/freezer/freezer/storage/local"
	"freezer.dev/freezer/freezer/storage/storagetest"
)

func noSleep(waits *[]time.Duration) Policy {
	return Policy{
		Attempts: 4, Base: 100 * time.Millisecond, Max: time.Second,
		Rand: func() float64 { return 1 },
		Sleep: func(ctx context.Context, d time.Duration) error {
			if waits != nil {
				*waits = append(*waits, d)
			}
			return ctx.Err()
		},
	}
}

func TestDoRetriesTransientWithBackoff(t *testing.T) {
	var waits []time.Duration
	calls := 0
	err := Do(context.Background(), noSleep(&waits), func(context.Context) error {
		calls++
		if calls < 3 {
			return storage.MarkTransient(errors.New("503"))
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err %v after %d calls, want success on the 3rd", err, calls)
	}
	if len(waits) != 2 || waits[0] != 100*time.Millisecond || waits[1] != 200*time.Millisecond {
		t.Fatalf("waits %v, want [100ms 200ms]", waits)
	}
}

func TestDoGivesUp(t *testing.T) {
	calls := 0
	base := storage.MarkTransient(errors.New("503 again"))
	err := Do(context.Background(), noSleep(nil), func(context.Context) error { calls++; return base })
	if calls != 4 || !errors.Is(err, base) || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Fatalf("calls %d err %v", calls, err)
	}
}

// A stalled server is tried twice, not Attempts times: each try waits a
// whole idle timeout.
func TestDoGivesUpOnASecondStall(t *testing.T) {
	calls := 0
	stall := fmt.Errorf("uploading: %w", &idle.StallError{Addr: "127.0.0.1:8080", Idle: time.Minute})
	err := Do(context.Background(), noSleep(nil), func(context.Context) error { calls++; return stall })
	if calls != 2 || !strings.Contains(err.Error(), "127.0.0.1:8080 stalled") || !strings.Contains(err.Error(), "stalled twice") {
		t.Fatalf("calls %d err %v", calls, err)
	}
	// A stall between other failures does not count twice.
	calls = 0
	err = Do(context.Background(), noSleep(nil), func(context.Context) error {
		calls++
		if calls%2 == 1 {
			return stall
		}
		return storage.MarkTransient(errors.New("503"))
	})
	if calls != 4 {
		t.Fatalf("calls %d err %v, want all 4 attempts", calls, err)
	}
}

func TestDoDoesNotRetryPermanent(t *testing.T) {
	calls := 0
	err := Do(context.Background(), noSleep(nil), func(context.Context) error {
		calls++
		return backup.ErrNotFound
	})
	if calls != 1 || !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("calls %d err %v", calls, err)
	}
}

func TestDoStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := noSleep(nil)
	p.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }
	calls := 0
	err := Do(ctx, p, func(context.Context) error { calls++; return storage.MarkTransient(errors.New("x")) })
	if calls != 1 || !errors.Is(err, context.Canceled) {
		t.Fatalf("calls %d err %v", calls, err)
	}
}

func TestBackoffCapsAndJitters(t *testing.T) {
	p := Policy{Base: time.Second, Max: 5 * time.Second, Rand: func() float64 { return 0 }}
	if d := p.Backoff(10); d != 2500*time.Millisecond {
		t.Fatalf("Backoff(10) with rand 0 = %v, want half of the 5s cap", d)
	}
	p.Rand = func() float64 { return 0.999999 }
	if d := p.Backoff(2); d < 1900*time.Millisecond || d > 2*time.Second {
		t.Fatalf("Backoff(2) = %v", d)
	}
}

func newLocal(t *testing.T) backup.Storage {
	s, err := local.New(local.Options{Root: filepath.Join(t.TempDir(), "c")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) backup.Storage { return Wrap(newLocal(t), noSleep(nil)) })
}

func TestWrapRetriesReplayablePut(t *testing.T) {
	f := faulty.New(newLocal(t))
	f.Fail(faulty.Rule{Op: storage.OpPut, After: 3, Times: 2, Err: storage.MarkTransient(errors.New("proxy down"))})
	s := Wrap(f, noSleep(nil))
	ctx := context.Background()
	if err := s.Put(ctx, "a/metadata", bytes.NewReader([]byte("hello world"))); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if f.Calls(storage.OpPut) != 3 {
		t.Fatalf("%d put calls, want 3", f.Calls(storage.OpPut))
	}
	rc, err := s.Get(ctx, "a/metadata")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello world" {
		t.Fatalf("got %q after retried Put", b)
	}
}

func TestWrapDoesNotReplayStreams(t *testing.T) {
	f := faulty.New(newLocal(t))
	f.Fail(faulty.Rule{Op: storage.OpPut, After: 3, Times: 1, Err: storage.MarkTransient(errors.New("proxy down"))})
	s := Wrap(f, noSleep(nil))
	err := s.Put(context.Background(), "a/data", io.MultiReader(strings.NewReader("hello world")))
	if err == nil || f.Calls(storage.OpPut) != 1 {
		t.Fatalf("err %v after %d calls; a stream must not be retried", err, f.Calls(storage.OpPut))
	}
}

func TestWrapRetriesListGetDelete(t *testing.T) {
	f := faulty.New(newLocal(t))
	s := Wrap(f, noSleep(nil))
	ctx := context.Background()
	if err := s.Put(ctx, "d/x", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	tr := storage.MarkTransient(errors.New("timeout"))
	for _, op := range []storage.Op{storage.OpList, storage.OpGet, storage.OpDelete} {
		f.Fail(faulty.Rule{Op: op, Times: 2, Err: tr})
	}
	if names, err := s.List(ctx, "d"); err != nil || len(names) != 1 {
		t.Fatalf("List: %v %v", names, err)
	}
	rc, err := s.Get(ctx, "d/x")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	rc.Close()
	if err := s.Delete(ctx, "d/x"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, op := range []storage.Op{storage.OpList, storage.OpGet, storage.OpDelete} {
		if f.Calls(op) != 3 {
			t.Errorf("%s: %d calls, want 3", op, f.Calls(op))
		}
	}
}
