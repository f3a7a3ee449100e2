package snapshot

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotApplicable is returned (wrapped) by Provider.Plan when the path does
// not lie on anything the provider can snapshot. Nothing has been created.
var ErrNotApplicable = errors.New("no snapshot of this kind can be taken here")

// Provider takes point-in-time snapshots of the file system holding a path.
//
// A snapshot's life is Plan → (journal) → Create → backup → Remove, driven
// by Manager:
//
//   - Plan inspects the system and decides every name (snapshot name, mount
//     directory, device) without changing anything, so the Record can be
//     journaled before anything exists.
//   - Create makes the snapshot the Record describes and makes it readable
//     at Record.BackupPath. When it fails it may have created part of it:
//     the Manager then calls Remove with the same Record.
//   - Remove deletes everything a Record names: what Create made, a part of
//     it, or nothing at all (a crash before Create) — removing what does not
//     exist is not an error. A Record may come from another, crashed process.
type Provider interface {
	// Kind names the provider ("btrfs", "lvm"); it is recorded in the
	// journal and in the backup's metadata.
	Kind() string
	// Plan returns the Record a Create would make for path (an absolute,
	// symlink-free path). It changes nothing. An error wrapping
	// ErrNotApplicable means path is not on something of this kind.
	Plan(ctx context.Context, path string) (Record, error)
	// Create makes the snapshot rec describes.
	Create(ctx context.Context, rec Record) error
	// Remove deletes what rec names; idempotent.
	Remove(ctx context.Context, rec Record) error
}

// Record describes one snapshot: enough for any later process to remove it.
// It is written to the journal before the snapshot is created and deleted
// only once the snapshot is gone.
type Record struct {
	Kind string `json:"kind"`
	// Name is the snapshot's name (the LVM logical volume, the btrfs
	// subvolume's base name).
	Name string `json:"name"`
	// Source is the path asked for (path_to_backup).
	Source string `json:"source"`
	// BackupPath is where Source is seen inside the snapshot: the engine
	// reads it instead of Source.
	BackupPath string `json:"backup_path"`
	// SnapshotPath is the snapshot's root: the btrfs subvolume, or the LVM
	// snapshot's mount directory.
	SnapshotPath string `json:"snapshot_path"`
	// Device is the snapshot's block device (LVM: /dev/<vg>/<name>).
	Device string `json:"device,omitempty"`
	// Origin is what was snapshotted (the btrfs subvolume, the LVM volume).
	Origin string `json:"origin,omitempty"`
	FSType string `json:"fs_type,omitempty"`
	// Size and Permission are LVM's --lvm-snapsize and --lvm-snap-perm.
	Size       string    `json:"size,omitempty"`
	Permission string    `json:"permission,omitempty"`
	Created    time.Time `json:"created"`
}

// NewName returns upstream's default snapshot name,
// freezer_backup_snap_<32 hex digits>.
func NewName() string {
	var b [16]byte
	rand.Read(b[:])
	return "freezer_backup_snap_" + hex.EncodeToString(b[:])
}

// Runner runs an external command and returns its combined output. The
// providers run every lvm2, mount and btrfs command through one, so tests
// can record and script them.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecRunner runs commands with os/exec, in the C locale (the providers
// read the tools' messages).
type ExecRunner struct{}

// Run implements Runner.
func (ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(out.String())
		if msg != "" {
			err = fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
		} else {
			err = fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
		}
	}
	return out.Bytes(), err
}

// Snapshot is a live snapshot taken by Manager.Take.
type Snapshot struct {
	Record Record
	m      *Manager
	lock   *os.File // the journal entry, locked while this process lives
	entry  string   // the journal entry's name
	done   bool
}

// Path is where the requested path is seen inside the snapshot.
func (s *Snapshot) Path() string { return s.Record.BackupPath }

// Remove deletes the snapshot and its journal entry. It is idempotent and
// must be called whatever happened to the backup; give it a context that
// is not already cancelled (context.WithoutCancel) so an interrupted run
// still cleans up.
func (s *Snapshot) Remove(ctx context.Context) error {
	if s == nil || s.done {
		return nil
	}
	p := s.m.provider(s.Record.Kind)
	if err := p.Remove(ctx, s.Record); err != nil {
		return fmt.Errorf("removing the %s snapshot %s: %w", s.Record.Kind, s.Record.Name, err)
	}
	s.done = true
	// The name goes before the lock: a Recover that opened the entry
	// just before sees it unnamed once it gets the lock.
	os.Remove(s.entry)
	s.lock.Close()
	return nil
}

// Release drops this process's hold on the snapshot's journal entry
// without removing the snapshot, as if the process had died: the next
// Recover removes it. For tests and for handing a snapshot over.
func (s *Snapshot) Release() {
	if s != nil && s.lock != nil && !s.done {
		s.lock.Close()
		s.done = true
	}
}

// Manager takes snapshots through its providers and keeps a journal of the
// live ones, so that a snapshot left by a crashed or killed run is removed
// by the next one (Recover).
type Manager struct {
	// Journal is the directory of journal entries (one JSON file per
	// snapshot, locked by its owner while it lives).
	Journal   string
	Providers []Provider // tried in this order for kind "auto"
	// Now is the clock (Record.Created, the age of a half-written
	// entry); nil = time.Now.
	Now func() time.Time
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// staleNew is how old an unlocked, half-written journal entry (a ".new"
// file) must be before Recover deletes it: younger, it may belong to a
// run that has created it and not yet locked it.
const staleNew = 10 * time.Minute

func (m *Manager) provider(kind string) Provider {
	for _, p := range m.Providers {
		if p.Kind() == kind {
			return p
		}
	}
	return nil
}

// Kinds lists the providers' kinds.
func (m *Manager) Kinds() []string {
	var ks []string
	for _, p := range m.Providers {
		ks = append(ks, p.Kind())
	}
	return ks
}

// Take snapshots the file system holding path with the provider named kind,
// or with the first applicable one when kind is "auto". When no provider
// applies, the error says why for each; there is never a silent fallback to
// the live file system.
func (m *Manager) Take(ctx context.Context, kind, path string) (*Snapshot, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	var ps []Provider
	if kind == "auto" {
		ps = m.Providers
	} else if p := m.provider(kind); p != nil {
		ps = []Provider{p}
	} else {
		return nil, fmt.Errorf("snapshot kind %q is not supported (supported: %s)", kind, strings.Join(m.Kinds(), ", "))
	}
	var why []string
	for _, p := range ps {
		rec, err := p.Plan(ctx, abs)
		if errors.Is(err, ErrNotApplicable) {
			why = append(why, fmt.Sprintf("%s: %v", p.Kind(), err))
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("planning a %s snapshot of %s: %w", p.Kind(), abs, err)
		}
		return m.create(ctx, p, rec)
	}
	return nil, fmt.Errorf("cannot snapshot %s (%s): %w", abs, strings.Join(why, "; "), ErrNotApplicable)
}

func (m *Manager) create(ctx context.Context, p Provider, rec Record) (*Snapshot, error) {
	rec.Kind = p.Kind()
	if rec.Created.IsZero() {
		rec.Created = m.now().UTC()
	}
	lock, entry, err := m.journal(rec)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{Record: rec, m: m, lock: lock, entry: entry}
	if err := p.Create(ctx, rec); err != nil {
		if rerr := s.Remove(context.WithoutCancel(ctx)); rerr != nil {
			return nil, fmt.Errorf("creating the %s snapshot %s: %w (and cleaning up: %v; the next run retries)", rec.Kind, rec.Name, err, rerr)
		}
		return nil, fmt.Errorf("creating the %s snapshot %s: %w", rec.Kind, rec.Name, err)
	}
	return s, nil
}

// journal writes rec as a new journal entry and returns it open with an
// exclusive lock, held until the process ends or the snapshot is removed.
//
// The entry is written, locked and synced under a temporary name first and
// only then linked to its ".json" name: every entry Recover can see was
// locked before it appeared, so a Recover running at the same moment never
// finds a live entry unlocked (or empty) and takes it for a dead run's.
func (m *Manager) journal(rec Record) (*os.File, string, error) {
	if err := os.MkdirAll(m.Journal, 0o700); err != nil {
		return nil, "", fmt.Errorf("creating the snapshot journal: %w", err)
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, "", err
	}
	final := filepath.Join(m.Journal, rec.Name+".json")
	tmp := filepath.Join(m.Journal, "."+rec.Name+newSuffix)
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, "", fmt.Errorf("writing the snapshot journal: %w", err)
	}
	fail := func(what string, err error) (*os.File, string, error) {
		f.Close()
		os.Remove(tmp)
		return nil, "", fmt.Errorf("%s: %w", what, err)
	}
	if err := tryLock(f); err != nil {
		return fail("locking the snapshot journal entry", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fail("writing the snapshot journal", err)
	}
	if err := f.Sync(); err != nil {
		return fail("writing the snapshot journal", err)
	}
	// Link, not rename: it fails when the name is taken (a second run
	// given the same --lvm-snapname) instead of replacing its entry.
	if err := os.Link(tmp, final); err != nil {
		return fail("writing the snapshot journal", err)
	}
	os.Remove(tmp)
	// f stays the entry's open, locked file, now named final.
	return f, final, nil
}

// newSuffix ends a journal entry still being written.
const newSuffix = ".new"

// Recover removes the snapshots whose journal entries no live process
// holds: those a crashed or killed run left behind. It returns the records
// it removed; an entry it cannot remove stays for the next run and is
// reported in the error. Several runs may recover at once: each entry is
// handled by the one that locks it while it still has its name.
func (m *Manager) Recover(ctx context.Context) ([]Record, error) {
	ents, err := os.ReadDir(m.Journal)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the snapshot journal: %w", err)
	}
	var done []Record
	var errs []error
	for _, e := range ents {
		name := filepath.Join(m.Journal, e.Name())
		if strings.HasSuffix(e.Name(), newSuffix) {
			m.dropStaleNew(name)
			continue
		}
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			continue // removed by its owner meanwhile
		}
		if tryLock(f) != nil || !stillNamed(f, name) {
			// Its owner is alive, or it was removed (by its owner or
			// another Recover) between our open and our lock.
			f.Close()
			continue
		}
		rec, err := readRecord(f)
		if errors.Is(err, errEmptyEntry) {
			// An entry of an older agent, killed between creating the
			// entry and writing it: the snapshot was not created yet.
			os.Remove(name)
			f.Close()
			continue
		}
		if err != nil {
			f.Close()
			errs = append(errs, fmt.Errorf("journal entry %s: %w", name, err))
			continue
		}
		p := m.provider(rec.Kind)
		if p == nil {
			f.Close()
			errs = append(errs, fmt.Errorf("journal entry %s: unknown snapshot kind %q", name, rec.Kind))
			continue
		}
		if err := p.Remove(ctx, rec); err != nil {
			f.Close()
			errs = append(errs, fmt.Errorf("removing the %s snapshot %s left by an earlier run: %w", rec.Kind, rec.Name, err))
			continue
		}
		os.Remove(name)
		f.Close()
		done = append(done, rec)
	}
	return done, errors.Join(errs...)
}

// dropStaleNew deletes a half-written entry whose writer died before
// linking it (no snapshot was created for it yet) once it is older than
// staleNew and unlocked.
func (m *Manager) dropStaleNew(name string) {
	fi, err := os.Stat(name)
	if err != nil || m.now().Sub(fi.ModTime()) < staleNew {
		return
	}
	f, err := os.Open(name)
	if err != nil {
		return
	}
	defer f.Close()
	if tryLock(f) == nil && stillNamed(f, name) {
		os.Remove(name)
	}
}

// stillNamed reports whether name is still the file f has open.
func stillNamed(f *os.File, name string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(name)
	return err == nil && os.SameFile(a, b)
}

var errEmptyEntry = errors.New("empty journal entry")

func readRecord(f *os.File) (Record, error) {
	var rec Record
	b, err := io.ReadAll(f)
	if err != nil {
		return rec, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return rec, errEmptyEntry
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, err
	}
	if rec.Kind == "" || rec.Name == "" {
		return rec, errors.New("no kind or name")
	}
	return rec, nil
}

// MountPoint is one line of the mount table.
type MountPoint struct {
	Device, Dir, FSType, Options string
}

// ParseMounts parses /proc/mounts (or /proc/self/mounts), undoing the
// octal escapes of spaces and tabs.
func ParseMounts(b []byte) []MountPoint {
	var ms []MountPoint
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		ms = append(ms, MountPoint{Device: unescape(f[0]), Dir: unescape(f[1]), FSType: f[2], Options: f[3]})
	}
	return ms
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
					break
				}
				v = v*8 + byte(c-'0')
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// FindMount returns the mount that holds path: the last-mounted one whose
// directory is the longest prefix of path.
func FindMount(ms []MountPoint, path string) (MountPoint, bool) {
	best, found := MountPoint{}, false
	for _, m := range ms {
		if m.Dir == path || m.Dir == "/" || strings.HasPrefix(path, m.Dir+"/") {
			if !found || len(m.Dir) >= len(best.Dir) {
				best, found = m, true
			}
		}
	}
	return best, found
}
