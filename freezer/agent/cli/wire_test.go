package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/local"
	"freezer.dev/freezer/freezer/storage/multi"
	"freezer.dev/freezer/freezer/storage/ratelimit"
)

// openFromArgs opens the storages a command line names, as a run does.
func openFromArgs(t *testing.T, args ...string) backup.Storage {
	t.Helper()
	cl, err := parseArgs(args, schema())
	if err != nil {
		t.Fatal(err)
	}
	s, err := resolve(cl, schema(), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	specs, err := s.storageSpecs(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStorage(context.Background(), specs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { storage.Close(st) })
	return st
}

// With several [storage:NAME] sections the job-wide --upload-limit bounds
// the combined stream once (a 1 MiB/s job moves 1 MiB/s of backup, not
// 1 MiB/s per storage), and a limit inside a section bounds that storage
// alone.
func TestJobWideLimitAppliesOnceToSeveralStorages(t *testing.T) {
	dir := t.TempDir()
	job := writeFile(t, "job.ini", `[action]
upload_limit = 1M
download_limit = 3M

[storage:a]
storage = local
container = `+dir+`/a
[storage:b]
storage = local
container = `+dir+`/b
upload_limit = 2M
`)
	st := openFromArgs(t, "--config", job)
	top, ok := st.(*ratelimit.Storage)
	if !ok {
		t.Fatalf("combined storage %T: the job-wide limit is not applied to it", st)
	}
	if up, down := top.Limits(); up != 1<<20 || down != 3<<20 {
		t.Fatalf("job-wide limits %d/%d, want %d/%d", up, down, 1<<20, 3<<20)
	}
	m, ok := top.Unwrap().(*multi.Storage)
	if !ok {
		t.Fatalf("inner %T, want the multi storage", top.Unwrap())
	}
	subs := m.Storages()
	if len(subs) != 2 {
		t.Fatalf("%d storages", len(subs))
	}
	if _, ok := subs[0].(*local.Storage); !ok {
		t.Errorf("storage a is %T: it has no limit of its own and must not get the job's again", subs[0])
	}
	b, ok := subs[1].(*ratelimit.Storage)
	if !ok {
		t.Fatalf("storage b is %T, want its own 2M limit", subs[1])
	}
	if up, down := b.Limits(); up != 2<<20 || down != 0 {
		t.Errorf("storage b limits %d/%d, want %d/0", up, down, 2<<20)
	}
}

// One storage given on the command line keeps its limit as before.
func TestSingleStorageLimit(t *testing.T) {
	st := openFromArgs(t, "--storage", "local", "--container", t.TempDir(), "--upload-limit", "5K")
	top, ok := st.(*ratelimit.Storage)
	if !ok {
		t.Fatalf("storage %T has no limit", st)
	}
	if up, _ := top.Limits(); up != 5<<10 {
		t.Fatalf("upload limit %d", up)
	}
}

// The run's memory budget (handed to the Go runtime by the program) is the
// storages' upload buffers plus the fixed headroom, set once the storages
// are open.
func TestMemoryBudgetFollowsTheStorages(t *testing.T) {
	src := t.TempDir()
	if err := os.WriteFile(src+"/f", []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []int64
	logger := logrus.New()
	logger.SetOutput(&bytes.Buffer{})
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{
		Args: []string{"--action", "backup", "--storage", "local", "--container", t.TempDir(),
			"--path-to-backup", src, "--backup-name", "b", "--hostname", "h"},
		Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }, Log: logger,
		Deps:           DefaultDeps(),
		SetMemoryLimit: func(n int64) { got = append(got, n) },
	})
	if code != 0 {
		t.Fatalf("backup exit %d: %s", code, errb.String())
	}
	if len(got) != 1 || got[0] != memoryHeadroom {
		t.Fatalf("memory budget %v, want one call with %d (local storage holds no upload buffers)", got, memoryHeadroom)
	}
}

// A storage that cannot be opened is named once in the error ("ftp
// storage: ..."), and with several storages the error says which one by
// its container.
func TestStorageOpenErrorNamesTheStorageOnce(t *testing.T) {
	dir := t.TempDir()
	spec := func(typ, container string) StorageSpec {
		return StorageSpec{Type: typ, Container: container, Options: map[string]string{}, Getenv: func(string) string { return "" }}
	}
	_, err := openStorage(context.Background(), []StorageSpec{spec("ftp", "remote")})
	if err == nil || strings.Count(err.Error(), "ftp storage") != 1 || strings.Contains(err.Error(), `"remote"`) {
		t.Errorf("one storage: %v; want the backend named once", err)
	}
	_, err = openStorage(context.Background(), []StorageSpec{spec("local", dir+"/a"), spec("ftp", "remote")})
	if err == nil || strings.Count(err.Error(), "ftp storage") != 1 || !strings.HasPrefix(err.Error(), `container "remote": `) {
		t.Errorf("two storages: %v; want the failing one's container, then the backend's error", err)
	}
}
