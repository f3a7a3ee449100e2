package cli

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dataFiles returns the stored payload files of the store, sorted.
func dataFiles(t *testing.T, store string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(store, "data", "tar", "h_b", "*", "*", "data"))
	must(t, err)
	return m
}

func metadataFiles(t *testing.T, store string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(store, "metadata", "tar", "h_b", "*", "*", "metadata"))
	must(t, err)
	return m
}

func smallTree(t *testing.T) string {
	src := filepath.Join(t.TempDir(), "src")
	mutate(t, src, 0)
	return src
}

func TestWrongPassphraseIsAnIntegrityError(t *testing.T) {
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	must(t, os.WriteFile(good, []byte("right\n"), 0o600))
	must(t, os.WriteFile(bad, []byte("wrong\n"), 0o600))
	for _, format := range []string{"openssl", "fzae1"} {
		t.Run(format, func(t *testing.T) {
			h := newHarness(t)
			h.backup(smallTree(t), "--encrypt-pass-file", good, "--encryption-format", format)
			dst := filepath.Join(t.TempDir(), "dst")
			code, _, errOut := h.run("--action", "restore", "--restore-abs-path", dst, "--encrypt-pass-file", bad)
			if code != ExitIntegrity || !strings.Contains(errOut, "Critical Error:") {
				t.Fatalf("exit %d, stderr %q; want %d", code, errOut, ExitIntegrity)
			}
			if !strings.Contains(strings.ToLower(errOut), "passphrase") {
				t.Errorf("message does not mention the passphrase: %q", errOut)
			}
			// No passphrase at all is a usage error, before anything is written.
			code, _, errOut = h.run("--action", "restore", "--restore-abs-path", filepath.Join(t.TempDir(), "d2"))
			if code != ExitUsage || !strings.Contains(errOut, "--encrypt-pass-file") {
				t.Fatalf("no passphrase: exit %d, stderr %q", code, errOut)
			}
		})
	}
}

func TestTamperedPayloadIsAnIntegrityError(t *testing.T) {
	cases := map[string]func(t *testing.T, data, meta string){
		"truncated": func(t *testing.T, data, _ string) {
			fi, err := os.Stat(data)
			must(t, err)
			must(t, os.Truncate(data, fi.Size()/2))
		},
		"bit flipped": func(t *testing.T, data, _ string) {
			b, err := os.ReadFile(data)
			must(t, err)
			b[len(b)/2] ^= 0x10
			must(t, os.WriteFile(data, b, 0o600))
		},
		// As a Python-agent backup: no size or sha256 in the metadata; the
		// gzip CRC still catches the flip.
		"bit flipped, upstream metadata": func(t *testing.T, data, meta string) {
			must(t, os.WriteFile(meta, []byte(`{"engine_name": "tar", "compression": "gzip", "encryption": false}`+"\n"), 0o600))
			b, err := os.ReadFile(data)
			must(t, err)
			b[len(b)/2] ^= 0x10
			must(t, os.WriteFile(data, b, 0o600))
		},
		"payload missing": func(t *testing.T, data, _ string) { must(t, os.Remove(data)) },
		"metadata garbage": func(t *testing.T, _, meta string) {
			must(t, os.WriteFile(meta, []byte("{not json"), 0o600))
		},
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			src := filepath.Join(t.TempDir(), "src")
			must(t, os.MkdirAll(src, 0o755))
			write(t, filepath.Join(src, "big"), randBytes(3, 1<<20), 0o644)
			h.backup(src)
			tamper(t, dataFiles(t, h.store)[0], metadataFiles(t, h.store)[0])
			dst := filepath.Join(t.TempDir(), "dst")
			code, _, errOut := h.run("--action", "restore", "--restore-abs-path", dst)
			if code != ExitIntegrity {
				t.Fatalf("exit %d (stderr %q), want %d", code, errOut, ExitIntegrity)
			}
		})
	}
}

// Without compression or encryption nothing but the metadata's
// data_sha256 sees a flipped byte of file content; a backend may skip its
// own per-part checks for such payloads (backup.WithCallerChecksum), so
// this check must hold alone. The restore fails with the integrity exit.
func TestPayloadSHA256AloneCatchesAFlip(t *testing.T) {
	h := newHarness(t)
	src := filepath.Join(t.TempDir(), "src")
	must(t, os.MkdirAll(src, 0o755))
	write(t, filepath.Join(src, "big"), randBytes(5, 1<<20), 0o644)
	h.backup(src, "--compression", "none")
	data := dataFiles(t, h.store)[0]
	b, err := os.ReadFile(data)
	must(t, err)
	b[len(b)/2] ^= 0x10 // inside the file's content, not a tar header
	must(t, os.WriteFile(data, b, 0o600))
	code, _, errOut := h.run("--action", "restore", "--restore-abs-path", filepath.Join(t.TempDir(), "dst"))
	if code != ExitIntegrity || !strings.Contains(errOut, "sha256") {
		t.Fatalf("exit %d (stderr %q), want %d and the sha256 mismatch", code, errOut, ExitIntegrity)
	}
}

// storeRawBackup writes a level-0 backup whose payload is the given
// uncompressed tar stream, as a hostile or broken writer could.
func storeRawBackup(t *testing.T, store string, ts int64, payload []byte) {
	t.Helper()
	d := filepath.Join(store, "data", "tar", "h_b", fmt.Sprint(ts), fmt.Sprintf("0_%d", ts))
	m := filepath.Join(store, "metadata", "tar", "h_b", fmt.Sprint(ts), fmt.Sprintf("0_%d", ts))
	must(t, os.MkdirAll(d, 0o700))
	must(t, os.MkdirAll(m, 0o700))
	must(t, os.WriteFile(filepath.Join(d, "data"), payload, 0o600))
	must(t, os.WriteFile(filepath.Join(d, "engine_metadata"), nil, 0o600))
	must(t, os.WriteFile(filepath.Join(m, "metadata"), []byte(`{"engine_name": "tar", "compression": "none", "encryption": false}`+"\n"), 0o600))
}

func TestHostileArchiveStaysInsideTarget(t *testing.T) {
	outside := t.TempDir()
	cases := map[string][]*tar.Header{
		"dot-dot":  {{Name: "../escaped", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4}},
		"absolute": {{Name: filepath.Join(outside, "abs"), Typeflag: tar.TypeReg, Mode: 0o644, Size: 4}},
		"through symlink": {
			{Name: "ln", Typeflag: tar.TypeSymlink, Linkname: outside, Mode: 0o777},
			{Name: "ln/through", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4},
		},
	}
	for name, hdrs := range cases {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, h := range hdrs {
				must(t, tw.WriteHeader(h))
				if h.Size > 0 {
					_, err := tw.Write([]byte("evil"))
					must(t, err)
				}
			}
			must(t, tw.Close())
			h := newHarness(t)
			storeRawBackup(t, h.store, 1_000_000, buf.Bytes())
			base := t.TempDir()
			dst := filepath.Join(base, "dst")
			code, _, errOut := h.run("--action", "restore", "--restore-abs-path", dst)
			if code == 0 {
				t.Errorf("hostile archive restored with exit 0")
			}
			if !strings.Contains(errOut, "Critical Error:") {
				t.Errorf("no clear error: %q", errOut)
			}
			for _, p := range []string{filepath.Join(base, "escaped"), filepath.Join(outside, "abs"), filepath.Join(outside, "through")} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written outside the target", p)
				}
			}
		})
	}
}

func TestExitCodesAndTargets(t *testing.T) {
	h := newHarness(t)
	dst := filepath.Join(t.TempDir(), "dst")
	if code, _, _ := h.run("--action", "restore", "--restore-abs-path", dst); code != ExitNotFound {
		t.Errorf("restore with no backup: exit %d, want %d", code, ExitNotFound)
	}
	if code, _, _ := h.run("--action", "backup", "--path-to-backup", filepath.Join(t.TempDir(), "nope")); code != ExitNotFound {
		t.Errorf("backup of a missing path: exit %d, want %d", code, ExitNotFound)
	}
	src := smallTree(t)
	m := h.backup(src)
	ts := int64(m["time_stamp"].(float64))
	before := time.Unix(ts-1, 0).UTC().Format("2006-01-02T15:04:05")
	if code, _, _ := h.run("--action", "restore", "--restore-abs-path", dst, "--restore-from-date", before); code != ExitNotFound {
		t.Errorf("restore before the first backup: exit %d, want %d", code, ExitNotFound)
	}
	// Into a non-empty directory only with --overwrite.
	must(t, os.MkdirAll(dst, 0o755))
	write(t, filepath.Join(dst, "already"), []byte("x"), 0o644)
	if code, _, errOut := h.run("--action", "restore", "--restore-abs-path", dst); code != ExitUsage || !strings.Contains(errOut, "--overwrite") {
		t.Errorf("non-empty target: exit %d, stderr %q", code, errOut)
	}
	h.restore(dst, "--overwrite")
	if _, err := os.Stat(filepath.Join(dst, "a.txt")); err != nil {
		t.Error(err)
	}
	// Dry-run restore lists and writes nothing.
	dry := filepath.Join(t.TempDir(), "dry")
	code, out, _ := h.run("--action", "restore", "--restore-abs-path", dry, "--dry-run")
	if code != 0 || !strings.Contains(out, "a.txt") {
		t.Errorf("dry-run restore: exit %d, out %q", code, out)
	}
	if _, err := os.Stat(dry); err == nil {
		if names, _ := os.ReadDir(dry); len(names) > 0 {
			t.Errorf("dry-run restore wrote %v", names)
		}
	}
}

// Only a backup creates the storage's root: restore, info and retention on
// a container that does not exist (a typo, say) find nothing, say so with
// their usual exit status and leave no empty container behind.
func TestReadActionsCreateNoContainer(t *testing.T) {
	h := newHarness(t)
	dst := filepath.Join(t.TempDir(), "dst")
	runs := []struct {
		args []string
		code int
	}{
		{[]string{"--action", "restore", "--restore-abs-path", dst}, ExitNotFound},
		{[]string{"--action", "info"}, 0},
		{[]string{"--action", "admin", "--remove-older-than", "1"}, 0},
	}
	for _, r := range runs {
		code, _, errOut := h.run(r.args...)
		if code != r.code {
			t.Errorf("%v: exit %d, want %d: %s", r.args, code, r.code, errOut)
		}
		if _, err := os.Stat(h.store); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%v created the container %s (stat: %v)", r.args, h.store, err)
		}
	}
	h.backup(smallTree(t))
	if fi, err := os.Stat(h.store); err != nil || !fi.IsDir() {
		t.Fatalf("backup did not create the container: %v", err)
	}
}

func TestResultJSONAndTable(t *testing.T) {
	h := newHarness(t, "--max-level", "3")
	src := smallTree(t)
	m0 := h.backup(src, "--compression", "zstd")
	write(t, filepath.Join(src, "more"), []byte("more"), 0o644)
	m1 := h.backup(src, "--compression", "zstd")
	for k, want := range map[string]any{
		"backup_name": "b", "hostname": "h", "container": h.store, "storage": "local", "mode": "fs",
		"action": "backup", "backup_media": "fs", "engine_name": "tar", "compression": "zstd", "encrypted": false,
		"curr_backup_level": float64(1), "level": float64(1), "path_to_backup": src, "max_level": float64(3),
	} {
		if m1[k] != want {
			t.Errorf("result %s = %#v, want %#v", k, m1[k], want)
		}
	}
	if m1["level_zero_timestamp"] != m0["time_stamp"] || m1["time_stamp"].(float64) <= m0["time_stamp"].(float64) {
		t.Errorf("timestamps: %v %v %v", m0["time_stamp"], m1["level_zero_timestamp"], m1["time_stamp"])
	}
	if s, _ := m1["data_sha256"].(string); len(s) != 64 {
		t.Errorf("data_sha256 %v", m1["data_sha256"])
	}
	// The timestamp in the path is the one in the result.
	want := filepath.Join(h.store, "metadata", "tar", "h_b", fmt.Sprint(int64(m0["time_stamp"].(float64))), fmt.Sprintf("1_%d", int64(m1["time_stamp"].(float64))), "metadata")
	if _, err := os.Stat(want); err != nil {
		t.Errorf("metadata not at the result's timestamp: %v", err)
	}
	// Without --metadata-out: upstream's Property | Value table.
	code, out, _ := h.run("--action", "backup", "--path-to-backup", src)
	if code != 0 || !strings.Contains(out, "| Property") || !strings.Contains(out, "curr backup level") {
		t.Errorf("table output: %d %q", code, out)
	}
	// info: JSON rows and a table.
	code, out, _ = h.run("--action", "info", "--metadata-out", "-")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); code != 0 || err != nil {
		t.Fatalf("info: %d %v %q", code, err, out)
	}
	if len(rows) != 3 || rows[0]["level"] != float64(0) || rows[1]["level"] != float64(1) || rows[2]["level"] != float64(2) ||
		rows[0]["compression"] != "zstd" || rows[2]["compression"] != "gzip" || rows[0]["data_size"].(float64) <= 0 {
		t.Errorf("info rows %v", rows)
	}
	code, out, _ = h.run("--action", "info")
	if code != 0 || !strings.Contains(out, "| Backup") || strings.Count(out, "h_b") != 3 {
		t.Errorf("info table %q", out)
	}
	// info without --backup-name lists every name of the store.
	code, out, _ = h.run("--action", "info", "--backup-name", "other")
	if code != 0 || !strings.Contains(out, "No backups found") {
		t.Errorf("info for another name: %q", out)
	}
}

func TestDryRunBackupStoresNothing(t *testing.T) {
	h := newHarness(t)
	code, _, errOut := h.run("--action", "backup", "--path-to-backup", smallTree(t), "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if len(dataFiles(t, h.store)) != 0 || len(metadataFiles(t, h.store)) != 0 {
		t.Fatal("dry-run backup stored objects")
	}
}

func TestConsistencyChecksumEndToEnd(t *testing.T) {
	h := newHarness(t)
	src := smallTree(t)
	m := h.backup(src, "--consistency-check")
	sum, _ := m["consistency_checksum"].(string)
	if len(sum) != 64 {
		t.Fatalf("consistency_checksum %q", sum)
	}
	h.restore(filepath.Join(t.TempDir(), "ok"), "--consistency-checksum", sum)
	code, _, errOut := h.run("--action", "restore", "--restore-abs-path", filepath.Join(t.TempDir(), "bad"), "--consistency-checksum", strings.Repeat("0", 64))
	if code != ExitIntegrity || !strings.Contains(errOut, "consistency checksum") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestInterruptedBackupIsNeverListed(t *testing.T) {
	h := newHarness(t, "--max-level", "3")
	src := filepath.Join(t.TempDir(), "src")
	for i := 0; i < 8; i++ {
		write(t, filepath.Join(src, fmt.Sprintf("f%02d", i)), randBytes(uint64(i), 1<<20), 0o644)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		code, _, _ := h.runCtx(ctx, "--action", "backup", "--path-to-backup", src, "--compression", "bzip2")
		done <- code
	}()
	// Cancel once the payload is being written (its directory exists).
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, _ := filepath.Glob(filepath.Join(h.store, "data", "tar", "h_b", "*", "*"))
		if len(m) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	if code := <-done; code == 0 {
		t.Skip("the backup finished before it could be interrupted")
	}
	if m := metadataFiles(t, h.store); len(m) != 0 {
		t.Fatalf("interrupted backup committed: %v", m)
	}
	code, out, _ := h.run("--action", "info")
	if code != 0 || !strings.Contains(out, "No backups found") {
		t.Fatalf("info after interruption: %q", out)
	}
	// The next run is a clean level 0 and restores.
	m := h.backup(src, "--compression", "zstd")
	if m["curr_backup_level"] != float64(0) {
		t.Fatalf("level %v after interruption", m["curr_backup_level"])
	}
	dst := filepath.Join(t.TempDir(), "dst")
	h.restore(dst)
	sameTree(t, "after interruption", manifest(t, src), manifest(t, dst))
}

// TestRetentionEndToEnd: with upstream, a cutoff between a chain's level 0
// and its increments deletes the whole chain; here it keeps
// every backup a newer one needs, and removes uncommitted data.
func TestRetentionEndToEnd(t *testing.T) {
	h := newHarness(t, "--max-level", "2")
	src := smallTree(t)
	var stamps []int64
	for i := 0; i < 5; i++ { // levels 0 1 2 | 0 1
		write(t, filepath.Join(src, fmt.Sprintf("v%d", i)), []byte("x"), 0o644)
		m := h.backup(src)
		stamps = append(stamps, int64(m["time_stamp"].(float64)))
	}
	date := func(ts int64) string { return time.Unix(ts, 0).UTC().Format(time.RFC3339) }
	// An orphan payload (a run that never committed), old enough to go.
	orphan := filepath.Join(h.store, "data", "tar", "h_b", fmt.Sprint(stamps[1]+5), fmt.Sprintf("0_%d", stamps[1]+5))
	must(t, os.MkdirAll(orphan, 0o700))
	must(t, os.WriteFile(filepath.Join(orphan, "data"), []byte("partial"), 0o600))

	// Uncommitted data is collected only when older than a day (it may be
	// a backup still running): let two days pass.
	h.now = h.now.Add(48 * time.Hour)

	// Cutoff inside the first chain: nothing of it goes.
	code, out, errOut := h.run("--action", "admin", "--remove-from-date", date(stamps[1]))
	if code != 0 || len(metadataFiles(t, h.store)) != 5 {
		t.Fatalf("cutoff inside a chain removed backups: %d %q %q", code, out, errOut)
	}
	// Dry run after the first chain: lists it, removes nothing.
	code, out, _ = h.run("--action", "admin", "--remove-from-date", date(stamps[2]), "--dry-run")
	if code != 0 || strings.Count(out, "h_b") != 3 || len(metadataFiles(t, h.store)) != 5 {
		t.Fatalf("dry run: %d %q", code, out)
	}
	code, _, errOut = h.run("--action", "admin", "--remove-from-date", date(stamps[2]))
	if code != 0 {
		t.Fatalf("admin: %d %s", code, errOut)
	}
	left := metadataFiles(t, h.store)
	if len(left) != 2 {
		t.Fatalf("left %v", left)
	}
	if _, err := os.Stat(filepath.Join(h.store, "data", "tar", "h_b", fmt.Sprint(stamps[0]))); err == nil {
		t.Error("data of the removed chain is still there")
	}
	if _, err := os.Stat(orphan); err == nil {
		t.Error("uncommitted data was not collected")
	}
	dst := filepath.Join(t.TempDir(), "dst")
	h.restore(dst)
	sameTree(t, "after retention", manifest(t, src), manifest(t, dst))
	// --remove-older-than 0 removes everything older than now, but not
	// uncommitted data younger than a day: that may be a running backup.
	fresh := h.now.Add(100*time.Second - time.Hour).Unix()
	running := filepath.Join(h.store, "data", "tar", "h_b", fmt.Sprint(fresh), fmt.Sprintf("0_%d", fresh))
	must(t, os.MkdirAll(running, 0o700))
	must(t, os.WriteFile(filepath.Join(running, "data"), []byte("in progress"), 0o600))
	if code, _, errOut := h.run("--action", "admin", "--remove-older-than", "0"); code != 0 {
		t.Fatalf("remove-older-than 0: %s", errOut)
	}
	if left := metadataFiles(t, h.store); len(left) != 0 {
		t.Fatalf("left %v", left)
	}
	if _, err := os.Stat(filepath.Join(running, "data")); err != nil {
		t.Fatalf("data of a possibly running backup was removed: %v", err)
	}
}

// TestJobINIWithSeveralStorages: a --config job file in the form the
// scheduler writes ([action] with underscore names, True/False/None
// values) and two [storage:NAME] sections: the backup lands in both, each
// restores on its own, and the top-level storage/container are ignored.
func TestJobINIWithSeveralStorages(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	src := smallTree(t)
	job := filepath.Join(dir, "job.ini")
	must(t, os.WriteFile(job, []byte(fmt.Sprintf(`[action]
action = backup
path_to_backup = %s
backup_name = b
hostname = h
storage = swift
container = ignored
max_level = 2
dry_run = False
exclude = None
nosync = True
sync = False
compression = zstd

[storage:first]
storage = local
container = %s

[storage:second]
storage = local
container = %s
`, src, a, b)), 0o600))
	h := newHarness(t)
	h.base = nil
	code, out, errOut := h.run("--config", job, "--metadata-out", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var m map[string]any
	must(t, json.Unmarshal([]byte(out), &m))
	if m["container"] != "ignored" || m["compression"] != "zstd" {
		t.Errorf("result %v", m)
	}
	for _, store := range []string{a, b} {
		if got := metadataFiles(t, store); len(got) != 1 {
			t.Fatalf("%s holds %v", store, got)
		}
		dst := filepath.Join(t.TempDir(), "dst")
		h.base = []string{"--nosync", "--storage", "local", "--container", store, "--hostname", "h", "--backup-name", "b"}
		h.restore(dst)
		sameTree(t, store, manifest(t, src), manifest(t, dst))
		h.base = nil
	}
}

func TestSingleFileAndExclude(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	f := filepath.Join(dir, "only.txt")
	write(t, f, []byte("just me"), 0o640)
	h.backup(f, "--consistency-check")
	dst := filepath.Join(t.TempDir(), "dst")
	h.restore(dst)
	if b, err := os.ReadFile(filepath.Join(dst, "only.txt")); err != nil || string(b) != "just me" {
		t.Fatalf("single file restored as %q, %v", b, err)
	}

	h2 := newHarness(t)
	src := smallTree(t)
	write(t, filepath.Join(src, "noise.log"), []byte("x"), 0o644)
	write(t, filepath.Join(src, "dir1", "deep.log"), []byte("x"), 0o644)
	h2.backup(src, "--exclude", "*.log")
	dst2 := filepath.Join(t.TempDir(), "dst")
	h2.restore(dst2)
	want := manifest(t, src)
	delete(want, "noise.log")
	delete(want, filepath.Join("dir1", "deep.log"))
	sameTree(t, "with --exclude", want, manifest(t, dst2))
}
