package multi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
)

// chunkSize is how much of the stream is handed to the storages at once.
const chunkSize = 1 << 20

// Storage is several storages behind one backup.Storage.
type Storage struct {
	stores []backup.Storage
}

var _ backup.Storage = (*Storage)(nil)

// New combines stores; it needs at least one.
func New(stores ...backup.Storage) (*Storage, error) {
	if len(stores) == 0 {
		return nil, fmt.Errorf("multiple storage: no storage given")
	}
	return &Storage{stores: slices.Clone(stores)}, nil
}

// Storages returns the combined storages, in order.
func (s *Storage) Storages() []backup.Storage { return slices.Clone(s.stores) }

// Size returns the size of key, asking every storage that can tell sizes:
// a copy missing from one of them is missing, and copies of different
// sizes are an error wrapping backup.ErrSizeMismatch. With no such storage
// the error wraps backup.ErrSizeUnknown.
func (s *Storage) Size(ctx context.Context, key string) (int64, error) {
	if err := storage.CheckKey(key); err != nil {
		return 0, err
	}
	size, from := int64(-1), ""
	for _, st := range s.stores {
		n, err := backup.SizeOf(ctx, st, key)
		if errors.Is(err, backup.ErrSizeUnknown) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", st, err)
		}
		if size >= 0 && n != size {
			return 0, fmt.Errorf("%s is %d bytes in %s but %d bytes in %s: %w", key, size, from, n, st, backup.ErrSizeMismatch)
		}
		size, from = n, st.String()
	}
	if size < 0 {
		return 0, fmt.Errorf("sizing %s: %w", key, backup.ErrSizeUnknown)
	}
	return size, nil
}

// String names every storage.
func (s *Storage) String() string {
	names := make([]string, len(s.stores))
	for i, st := range s.stores {
		names[i] = st.String()
	}
	return "multi(" + strings.Join(names, ", ") + ")"
}

// errAborted is what the other storages read when one failed.
var errAborted = errors.New("aborted because another storage failed")

// Put writes r to every storage at once.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader) error {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if len(s.stores) == 1 {
		return s.stores[0].Put(ctx, key, r)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(s.stores)
	pws := make([]*io.PipeWriter, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	var failOnce sync.Once
	failed := -1
	fail := func(i int) {
		failOnce.Do(func() {
			failed = i
			for j, pw := range pws {
				if j != i {
					pw.CloseWithError(errAborted)
				}
			}
		})
	}
	prs := make([]*io.PipeReader, n)
	for i := range s.stores {
		prs[i], pws[i] = io.Pipe()
	}
	for i, st := range s.stores {
		pr := prs[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := st.Put(ctx, key, pr)
			if err == nil {
				// A storage must read to the end; one that stopped
				// early cannot have stored the whole stream.
				if _, rerr := pr.Read(make([]byte, 1)); rerr != io.EOF {
					err = fmt.Errorf("storage returned before the end of the stream")
				}
			}
			errs[i] = err
			pr.CloseWithError(errAborted)
			if err != nil {
				fail(i)
			}
		}()
	}
	// Feed all pipes; a write fails once its storage gave up.
	buf := make([]byte, chunkSize)
	var readErr error
feed:
	for {
		k, err := r.Read(buf)
		if k > 0 {
			for _, pw := range pws {
				if _, werr := pw.Write(buf[:k]); werr != nil {
					// That storage stopped; fail() aborts the others.
					break feed
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	for _, pw := range pws {
		if readErr != nil {
			pw.CloseWithError(readErr)
		} else {
			pw.Close()
		}
	}
	wg.Wait()

	var bad []error
	if readErr != nil {
		// The storages only failed because the source did.
		bad = append(bad, fmt.Errorf("reading the stream: %w", readErr))
	} else {
		for i, err := range errs {
			if err != nil && !(errors.Is(err, errAborted) && i != failed) {
				bad = append(bad, fmt.Errorf("storage %s: %w", s.stores[i], err))
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	// Undo the copies that were committed, so no storage shows an object
	// the others lack.
	for i, err := range errs {
		if err == nil {
			if derr := s.stores[i].Delete(context.WithoutCancel(ctx), key); derr != nil {
				bad = append(bad, fmt.Errorf("storage %s: removing the copy of %s after the failure: %w", s.stores[i], key, derr))
			}
		}
	}
	return fmt.Errorf("uploading %s to %s: %w", key, s, errors.Join(bad...))
}

// Get reads from the first storage that has key.
func (s *Storage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	var errs []error
	for _, st := range s.stores {
		rc, err := st.Get(ctx, key)
		if err == nil {
			return rc, nil
		}
		if !errors.Is(err, backup.ErrNotFound) {
			errs = append(errs, fmt.Errorf("storage %s: %w", st, err))
		}
	}
	if len(errs) == 0 {
		return nil, fmt.Errorf("downloading %s from %s: %w", key, s, backup.ErrNotFound)
	}
	return nil, fmt.Errorf("downloading %s from %s: %w", key, s, errors.Join(errs...))
}

// List returns the names every storage lists.
func (s *Storage) List(ctx context.Context, dir string) ([]string, error) {
	var common []string
	for i, st := range s.stores {
		names, err := st.List(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("listing %q in %s: storage %s: %w", dir, s, st, err)
		}
		if i == 0 {
			common = slices.Clone(names)
			continue
		}
		common = slices.DeleteFunc(common, func(n string) bool {
			_, found := slices.BinarySearch(names, n)
			return !found
		})
	}
	if common == nil {
		common = []string{}
	}
	return common, nil
}

// ListAll returns the names any storage lists, for reports.
func (s *Storage) ListAll(ctx context.Context, dir string) ([]string, error) {
	var all []string
	for _, st := range s.stores {
		names, err := st.List(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("listing %q in %s: storage %s: %w", dir, s, st, err)
		}
		all = append(all, names...)
	}
	slices.Sort(all)
	return slices.Compact(all), nil
}

// Delete deletes key from every storage, reporting each failure.
func (s *Storage) Delete(ctx context.Context, key string) error {
	var errs []error
	for _, st := range s.stores {
		if err := st.Delete(ctx, key); err != nil {
			errs = append(errs, fmt.Errorf("storage %s: %w", st, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("deleting %s from %s: %w", key, s, errors.Join(errs...))
	}
	return nil
}

// Close closes every storage that holds connections.
func (s *Storage) Close() error {
	var errs []error
	for _, st := range s.stores {
		errs = append(errs, storage.Close(st))
	}
	return errors.Join(errs...)
}
