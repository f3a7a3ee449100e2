package agent

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/codec"
	"freezer.dev/freezer/freezer/engine/tar"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/faulty"
	"freezer.dev/freezer/freezer/storage/local"
)

type realCodecs struct{}

func (realCodecs) Compressor(name string) (backup.Codec, error) { return codec.Compressor(name) }
func (realCodecs) Cipher(format string, pass []byte, compression string) (backup.Codec, error) {
	return codec.NewEncryption(format, pass, compression, codec.EncryptOptions{})
}
func (realCodecs) ReadPassFile(path string) ([]byte, error) { return codec.ReadPassFile(path) }

// newTestAgent is an agent on a real local storage wrapped in the fault
// injector, with the real tar engine and codecs.
func newTestAgent(t *testing.T) (*Agent, *faulty.Storage) {
	t.Helper()
	st, err := local.New(local.Options{Root: filepath.Join(t.TempDir(), "store")})
	if err != nil {
		t.Fatal(err)
	}
	f := faulty.New(st)
	clock := time.Unix(1_800_000_000, 0)
	return &Agent{
		Storage: f, Engine: tar.New(tar.Options{}), Codecs: realCodecs{},
		Now:       func() time.Time { clock = clock.Add(time.Minute); return clock },
		ChunkSize: 64 << 10, QueueDepth: 2,
	}, f
}

func testTree(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i*31 + i>>9)
	}
	if err := os.WriteFile(filepath.Join(src, "big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "small"), []byte("small"), 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

func backupOpts(src string) Options {
	return Options{Action: ActionBackup, Mode: "fs", Engine: "tar", PathToBackup: src, BackupName: "b", Hostname: "h",
		Compression: "none", Incremental: true, MaxLevel: 5}
}

func committed(t *testing.T, a *Agent) []backup.Ref {
	t.Helper()
	refs, err := a.listRefs(context.Background(), "tar", "h_b")
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

// TestStorageFailuresNeverCommit: whichever of the three writes fails, the
// backup fails with the storage's error and nothing is listed; the next
// run starts clean.
func TestStorageFailuresNeverCommit(t *testing.T) {
	for _, r := range []faulty.Rule{
		{Op: storage.OpPut, KeyContains: "/data", After: 1 << 20},
		{Op: storage.OpPut, KeyContains: "/data"},
		{Op: storage.OpPut, KeyContains: "engine_metadata"},
		{Op: storage.OpPut, KeyContains: "metadata/"},
	} {
		t.Run(r.KeyContains, func(t *testing.T) {
			a, f := newTestAgent(t)
			src := testTree(t)
			f.Fail(r)
			_, err := a.Run(context.Background(), backupOpts(src))
			if !errors.Is(err, faulty.ErrInjected) {
				t.Fatalf("err = %v, want the injected storage error", err)
			}
			if refs := committed(t, a); len(refs) != 0 {
				t.Fatalf("failed backup listed: %v", refs)
			}
			f.Clear()
			res, err := a.Run(context.Background(), backupOpts(src))
			if err != nil {
				t.Fatal(err)
			}
			if res.Metadata["level"] != 0 {
				t.Fatalf("next backup level %v", res.Metadata["level"])
			}
		})
	}
}

// TestListFailureIsNotAnEmptyListing: upstream's Swift listing error became
// an empty list and a silent new level 0; here it fails the backup.
func TestListFailureIsNotAnEmptyListing(t *testing.T) {
	a, f := newTestAgent(t)
	src := testTree(t)
	if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
		t.Fatal(err)
	}
	f.Fail(faulty.Rule{Op: storage.OpList})
	if _, err := a.Run(context.Background(), backupOpts(src)); !errors.Is(err, faulty.ErrInjected) {
		t.Fatalf("err = %v", err)
	}
	f.Clear()
	if refs := committed(t, a); len(refs) != 1 {
		t.Fatalf("refs %v", refs)
	}
}

// TestRestoreReadFailureIsAStorageError: a storage read failing mid-stream
// is reported as such (exit 1), not as corrupt data (exit 4).
func TestRestoreReadFailureIsAStorageError(t *testing.T) {
	a, f := newTestAgent(t)
	src := testTree(t)
	if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
		t.Fatal(err)
	}
	f.Fail(faulty.Rule{Op: storage.OpGet, KeyContains: "/data", After: 1 << 20})
	_, err := a.Run(context.Background(), Options{Action: ActionRestore, Mode: "fs", Engine: "tar", BackupName: "b", Hostname: "h",
		RestoreAbsPath: filepath.Join(t.TempDir(), "dst")})
	if !errors.Is(err, faulty.ErrInjected) || errors.Is(err, ErrIntegrity) {
		t.Fatalf("err = %v; want the storage error, not an integrity error", err)
	}
}

// TestCancelStopsBackup: cancelling the context mid-backup stops it and
// commits nothing.
func TestCancelStopsBackup(t *testing.T) {
	a, _ := newTestAgent(t)
	src := testTree(t)
	ctx, cancel := context.WithCancel(context.Background())
	o := backupOpts(src)
	o.Compression = "xz"
	a.Engine = slowEngine{Engine: a.Engine, cancel: cancel}
	_, err := a.Run(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("err = %v", err)
	}
	if refs := committed(t, a); len(refs) != 0 {
		t.Fatalf("cancelled backup listed: %v", refs)
	}
}

// slowEngine cancels the run once the engine has written some output.
type slowEngine struct {
	backup.Engine
	cancel func()
}

func (e slowEngine) Backup(ctx context.Context, req backup.BackupRequest, out io.Writer) (backup.Stats, error) {
	return e.Engine.Backup(ctx, req, &cancelAfter{w: out, n: 1 << 20, cancel: e.cancel})
}

type cancelAfter struct {
	w      io.Writer
	n      int
	cancel func()
}

func (c *cancelAfter) Write(b []byte) (int, error) {
	c.n -= len(b)
	if c.n < 0 {
		c.cancel()
	}
	return c.w.Write(b)
}

// TestMissingEngineStateStartsNewChain: when the previous backup's
// engine_metadata is gone, the next backup is a level 0 (restorable),
// not a failure on every run.
func TestMissingEngineStateStartsNewChain(t *testing.T) {
	a, _ := newTestAgent(t)
	src := testTree(t)
	if _, err := a.Run(context.Background(), backupOpts(src)); err != nil {
		t.Fatal(err)
	}
	refs := committed(t, a)
	if err := a.Storage.Delete(context.Background(), refs[0].EngineMetadataKey()); err != nil {
		t.Fatal(err)
	}
	res, err := a.Run(context.Background(), backupOpts(src))
	if err != nil {
		t.Fatal(err)
	}
	if res.Metadata["level"] != 0 || res.Metadata["level_zero_timestamp"] == refs[0].L0 {
		t.Fatalf("got level %v of chain %v, want a new level 0", res.Metadata["level"], res.Metadata["level_zero_timestamp"])
	}
}

// shortPutStorage keeps only the first 100 bytes of a payload and reports
// success, as a storage with a bug that stops reading early would.
type shortPutStorage struct {
	backup.Storage
}

func (s shortPutStorage) Put(ctx context.Context, key string, r io.Reader) error {
	if strings.HasSuffix(key, "/data") {
		r = io.LimitReader(r, 100)
	}
	return s.Storage.Put(ctx, key, r)
}

// TestShortPutFailsBackup: a Put that returns nil before reading the whole
// payload fails the backup and writes no metadata, even when the rest of
// the payload already sat in the queue (a small tree: the whole archive
// fits in QueueDepth × ChunkSize, so no later write can notice).
func TestShortPutFailsBackup(t *testing.T) {
	a, _ := newTestAgent(t)
	a.Storage = shortPutStorage{Storage: a.Storage}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "small"), []byte("small"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := a.Run(context.Background(), backupOpts(src))
	if !errors.Is(err, errPutShort) {
		t.Fatalf("err = %v, want %v", err, errPutShort)
	}
	if refs := committed(t, a); len(refs) != 0 {
		t.Fatalf("backup with a cut payload listed: %v", refs)
	}
}
