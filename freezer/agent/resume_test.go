package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestSourceIdentity: reading the source leaves its identity as it was;
// a write, a touch, a chmod, a rename or a new file changes it.
func TestSourceIdentity(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	f := filepath.Join(src, "d", "f")
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := func() string {
		t.Helper()
		s, err := sourceIdentity(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	base := id()
	if _, err := os.ReadFile(f); err != nil {
		t.Fatal(err)
	}
	if id() != base {
		t.Fatal("reading a file changed the identity")
	}
	changes := []struct {
		what string
		do   func() error
	}{
		{"write", func() error { return os.WriteFile(f, []byte("contenT"), 0o644) }},
		{"touch", func() error { return os.Chtimes(f, time.Now(), time.Now().Add(-time.Hour)) }},
		{"chmod", func() error { return os.Chmod(f, 0o600) }},
		{"rename", func() error { return os.Rename(f, f+"2") }},
		{"new file", func() error { return os.WriteFile(filepath.Join(src, "g"), nil, 0o644) }},
	}
	prev := base
	for _, c := range changes {
		if err := c.do(); err != nil {
			t.Fatal(err)
		}
		now := id()
		if now == prev {
			t.Errorf("%s: identity unchanged", c.what)
		}
		prev = now
	}
}

// TestStreamOptions: every option that shapes the stream changes the
// digest.
func TestStreamOptions(t *testing.T) {
	o := Options{Exclude: []string{"*.tmp"}}
	base := streamOptions(o, "tar", "gzip", "")
	o2 := o
	o2.Exclude = []string{"*.log"}
	o3 := o
	o3.DereferenceSymlink = "all"
	for what, got := range map[string]string{
		"engine":      streamOptions(o, "rsync", "gzip", ""),
		"compression": streamOptions(o, "tar", "zstd", ""),
		"encryption":  streamOptions(o, "tar", "gzip", "fzae1"),
		"exclude":     streamOptions(o2, "tar", "gzip", ""),
		"dereference": streamOptions(o3, "tar", "gzip", ""),
	} {
		if got == base {
			t.Errorf("%s does not change the digest", what)
		}
	}
}

// TestJournalRoundTrip: a saved journal reads back whole; one of another
// version is ignored.
func TestJournalRoundTrip(t *testing.T) {
	a := &Agent{}
	p := filepath.Join(t.TempDir(), "resume", "j.json")
	j := &resumeJournal{Version: journalVersion, Storage: "swift:c", Options: "o", Source: "s",
		Rand: []byte{1, 2, 3}, Tokens: map[string]string{"s3:b": "upload-1"}}
	j.Ref.Engine, j.Ref.Name, j.Ref.TS = "tar", "h_b", 42
	if err := saveJournal(p, j); err != nil {
		t.Fatal(err)
	}
	got := a.loadJournal(p)
	if got == nil || got.Ref != j.Ref || string(got.Rand) != string(j.Rand) || got.Tokens["s3:b"] != "upload-1" {
		t.Fatalf("read back %+v", got)
	}
	j.Version = journalVersion + 1
	if err := saveJournal(p, j); err != nil {
		t.Fatal(err)
	}
	if a.loadJournal(p) != nil {
		t.Fatal("a journal of another version was used")
	}
}
