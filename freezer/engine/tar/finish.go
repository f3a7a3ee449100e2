package tar

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// smallFileMax is the largest member a restore hands to the finisher:
// such a file is read from the archive whole, into one of the finisher's
// buffers.
const smallFileMax = 64 << 10

// finishBuffers bounds the small files read but not yet written, and so
// the finisher's memory (finishBuffers × smallFileMax).
const finishBuffers = 32

// finisher writes, chowns, chmods, stamps and closes small regular files
// on worker goroutines, so that the extraction goroutine only reads the
// archive and makes names. A tree of many small files restores at the
// speed of its system calls, which one goroutine issues one at a time:
// the last part of a restore to Swift, the source tree's small files,
// left one core idle while the other extracted.
//
// Only what acts on an open descriptor moves to the workers. Every name
// (creating the file, directories, links, renames, deletions) is still
// made by the extraction goroutine in archive order, so a later member
// that replaces, links or deletes a file sees the same tree as before;
// writes into a descriptor whose name was since removed land in the
// orphaned file, as they would have.
type finisher struct {
	workers int
	finish  func(fileJob, func(string, ...any)) error // finishFile; tests replace it
	jobs    chan fileJob
	free    chan []byte
	wg      sync.WaitGroup
	once    sync.Once

	mu       sync.Mutex
	err      error // the first failure
	warnings []string
}

type fileJob struct {
	f            *os.File
	rel          string
	data         []byte // the file's content, in a finisher buffer
	chown        bool
	uid, gid     int
	mode         fs.FileMode
	atime, mtime time.Time
}

func newFinisher(workers int, finish func(fileJob, func(string, ...any)) error) *finisher {
	if finish == nil {
		finish = finishFile
	}
	fz := &finisher{
		workers: workers,
		finish:  finish,
		jobs:    make(chan fileJob, finishBuffers),
		free:    make(chan []byte, finishBuffers),
	}
	for range finishBuffers {
		fz.free <- nil // allocated on first use
	}
	fz.wg.Add(workers)
	for range workers {
		go fz.run()
	}
	return fz
}

// bufferOrQuit returns a buffer of n ≤ smallFileMax bytes, waiting while
// all are in flight, unless quit is closed first.
func (fz *finisher) bufferOrQuit(n int, quit <-chan struct{}) ([]byte, bool) {
	var b []byte
	select {
	case b = <-fz.free:
	case <-quit:
		return nil, false
	}
	if b == nil {
		b = make([]byte, smallFileMax)
	}
	return b[:n], true
}

// giveBack returns a buffer that was not queued.
func (fz *finisher) giveBack(b []byte) { fz.free <- b[:cap(b)] }

// queue hands a file to the workers; they close it.
func (fz *finisher) queue(j fileJob) { fz.jobs <- j }

// failed returns the first failure of a worker, if any.
func (fz *finisher) failed() error {
	fz.mu.Lock()
	defer fz.mu.Unlock()
	return fz.err
}

// stop waits for every queued file, then returns the first failure and
// the warnings. Later calls return nothing.
func (fz *finisher) stop() (warnings []string, err error) {
	fz.once.Do(func() {
		close(fz.jobs)
		fz.wg.Wait()
		warnings, err = fz.warnings, fz.err
	})
	return warnings, err
}

func (fz *finisher) run() {
	defer fz.wg.Done()
	for j := range fz.jobs {
		var err error
		if fz.failed() == nil {
			err = fz.finish(j, fz.warn)
		} else {
			j.f.Close() // the restore is failing: only release it
		}
		fz.free <- j.data[:cap(j.data)]
		if err != nil {
			fz.mu.Lock()
			if fz.err == nil {
				fz.err = err
			}
			fz.mu.Unlock()
		}
	}
}

func (fz *finisher) warn(format string, args ...any) {
	fz.mu.Lock()
	fz.warnings = addWarning(fz.warnings, fmt.Sprintf(format, args...))
	fz.mu.Unlock()
}

// finishFile writes j's content, then its attributes, and closes it.
func finishFile(j fileJob, warn func(string, ...any)) error {
	if len(j.data) > 0 {
		if _, err := j.f.Write(j.data); err != nil {
			j.f.Close()
			return fmt.Errorf("writing %s: %w", j.rel, err)
		}
	}
	// The finisher only runs where the times are set on a descriptor.
	_, err := closeWithAttrs(j, warn)
	return err
}

// closeWithAttrs sets the owner (a failure is only a warning), mode and
// times of the written file j.f on its descriptor, after the last write,
// and closes it. It reports whether the times were set: where a
// descriptor cannot take them, the caller sets them by name.
func closeWithAttrs(j fileJob, warn func(string, ...any)) (timesSet bool, err error) {
	f := j.f
	if j.chown {
		if cerr := f.Chown(j.uid, j.gid); cerr != nil {
			warn("%s: cannot change owner: %v", j.rel, cerr)
		}
	}
	if cerr := f.Chmod(j.mode); cerr != nil {
		err = fmt.Errorf("setting mode of %s: %w", j.rel, cerr)
	}
	if err == nil {
		terr := setFileTimes(f, j.atime, j.mtime)
		if terr != nil && !errors.Is(terr, errors.ErrUnsupported) {
			err = fmt.Errorf("setting times of %s: %w", j.rel, terr)
		}
		timesSet = terr == nil
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing %s: %w", j.rel, cerr)
	}
	return timesSet, err
}

// parallelDirsMin is the number of directories from which finishDirs
// shares them out; below it the goroutines cost more than they save.
const parallelDirsMin = 256

// finishDirsParallel is finishDirs on the finisher's workers. A
// directory's attributes may be set once every directory below it is
// done (a parent made unreadable first would hide its children from a
// non-root restore), and setting them changes nothing in the parent, so
// the depths are done one after another, deepest first, and the
// directories of one depth in any order. The directories of one parent go
// to one worker, which opens the parent once.
//
// A directory scheduled twice keeps its first member's attributes, as
// the serial order (last scheduled, first applied) gives.
func (r *restorer) finishDirsParallel() error {
	seen := make(map[string]bool, len(r.delayed))
	byDepth := map[int][]dirAttr{}
	maxDepth := 0
	var top []dirAttr // the target directory itself
	for _, d := range r.delayed {
		if seen[d.rel] {
			continue
		}
		seen[d.rel] = true
		if d.rel == "" {
			top = append(top, d)
			continue
		}
		depth := strings.Count(d.rel, "/") + 1
		byDepth[depth] = append(byDepth[depth], d)
		maxDepth = max(maxDepth, depth)
	}
	for depth := maxDepth; depth >= 1; depth-- {
		if err := r.finishDepth(byDepth[depth]); err != nil {
			return err
		}
	}
	for _, d := range top {
		if err := r.setDirAttr(r.root, ".", d, r.warn); err != nil {
			return err
		}
	}
	return nil
}

// finishDepth sets the attributes of directories of the same depth.
func (r *restorer) finishDepth(ds []dirAttr) error {
	if len(ds) == 0 {
		return nil
	}
	parentOf := func(d dirAttr) string { p, _ := splitRel(d.rel); return p }
	slices.SortStableFunc(ds, func(a, b dirAttr) int { return strings.Compare(parentOf(a), parentOf(b)) })
	groups := make(chan []dirAttr, len(ds))
	for i := 0; i < len(ds); {
		j := i + 1
		for j < len(ds) && parentOf(ds[j]) == parentOf(ds[i]) {
			j++
		}
		groups <- ds[i:j]
		i = j
	}
	close(groups)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	warn := func(format string, args ...any) {
		mu.Lock()
		r.warn(format, args...)
		mu.Unlock()
	}
	for range min(r.fin.workers, len(groups)) {
		wg.Go(func() {
			for g := range groups {
				if err := r.finishGroup(g, warn); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// finishGroup sets the attributes of directories with the same parent.
func (r *restorer) finishGroup(g []dirAttr, warn func(string, ...any)) error {
	parent, _ := splitRel(g[0].rel)
	h, err := openDirNoFollow(r.root, parent)
	if err != nil {
		return nil // removed or replaced later in the same archive
	}
	if h != r.root {
		defer h.Close()
	}
	for _, d := range g {
		_, base := splitRel(d.rel)
		if err := r.setDirAttr(h, base, d, warn); err != nil {
			return err
		}
	}
	return nil
}

var errNotDir = errors.New("not a directory")

// openDirNoFollow opens directory rel below root, refusing a symbolic
// link in any component, as dirHandle does. rel "" is root itself.
func openDirNoFollow(root *os.Root, rel string) (*os.Root, error) {
	if rel == "" {
		return root, nil
	}
	h := root
	for part := range strings.SplitSeq(rel, "/") {
		fi, err := h.Lstat(part)
		if err == nil && !fi.IsDir() {
			err = errNotDir // a symbolic link is not a directory to Lstat
		}
		var next *os.Root
		if err == nil {
			next, err = h.OpenRoot(part)
		}
		if h != root {
			h.Close()
		}
		if err != nil {
			return nil, err
		}
		h = next
	}
	return h, nil
}
