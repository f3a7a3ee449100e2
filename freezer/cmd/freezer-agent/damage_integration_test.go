//go:build integration

package main

// Damage on the real Swift and S3: a stored payload with a flipped byte,
// cut short, or (Swift) missing a segment makes restore exit 4 leaving no
// damaged file in the target, and verify exit 4 writing nothing.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/registry"
)

// walkKeys lists every key under dir, descending into names that list.
func walkKeys(ctx context.Context, t *testing.T, st interface {
	List(context.Context, string) ([]string, error)
}, dir string) []string {
	t.Helper()
	names, err := st.List(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		k := strings.TrimSuffix(n, "/")
		if dir != "" && !strings.HasPrefix(k, dir+"/") {
			k = dir + "/" + k
		}
		if sub := walkKeys(ctx, t, st, k); len(sub) > 0 {
			out = append(out, sub...)
		} else {
			out = append(out, k)
		}
	}
	return out
}

func runExit(env []string, args ...string) (int, string) {
	home, _ := os.MkdirTemp("", "dmg")
	defer os.RemoveAll(home)
	cmd := exec.Command(binary, append(args, "--nosync", "--log-file", filepath.Join(home, "log"))...)
	cmd.Env = append([]string{"HOME=" + home}, env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), errb.String()
	}
	if err != nil {
		return -1, err.Error()
	}
	return 0, errb.String()
}

func TestAgentDamagedPayloadOnSwiftAndS3(t *testing.T) {
	name := fmt.Sprintf("damage-it-%d", time.Now().UnixNano())
	cases := resumeCases(t, name)
	src := filepath.Join(t.TempDir(), "src")
	put(t, filepath.Join(src, "a"), "first small file\n", 0o644)
	put(t, filepath.Join(src, "sub", "b"), "second small file\n", 0o644)
	// Incompressible, so every format's payload has several segments.
	big := make([]byte, 3<<20)
	rand.NewChaCha8([32]byte{7}).Read(big)
	put(t, filepath.Join(src, "big"), string(big), 0o644)
	srcState := treeState(t, src)
	for sname, mk := range cases {
		kinds := []string{"flip", "truncate"}
		if sname == "swift" {
			kinds = append(kinds, "missing")
		}
		formats := [][]string{{"--compression", "none"}, {"--compression", "gzip", "--encrypt-pass-file", "", "--encryption-format", "openssl"}, {"--compression", "zstd"}}
		for fi, fmtArgs := range formats {
			for _, kind := range kinds {
				t.Run(fmt.Sprintf("%s/%d/%s", sname, fi, kind), func(t *testing.T) {
					c := mk(t)
					c.args = append([]string{}, c.args...)
					// A small segment size so the payload has several segments.
					for i := range c.args {
						if c.args[i] == "--max-segment-size" && sname == "swift" {
							c.args[i+1] = "1048576"
						}
					}
					bn := fmt.Sprintf("d%d%s", fi, kind)
					fa := append([]string{}, fmtArgs...)
					for i := range fa {
						if fa[i] == "--encrypt-pass-file" {
							p := filepath.Join(t.TempDir(), "pass")
							put(t, p, "secret\n", 0o600)
							fa[i+1] = p
						}
					}
					common := append(append([]string{"--backup-name", bn, "--hostname", "h"}, fa...), c.args...)
					home := t.TempDir()
					runResumeAgent(t, c, home, append([]string{"--action", "backup", "--path-to-backup", src}, common...)...)
					ctx := context.Background()
					v := storage.Values{}
					for k, val := range c.values {
						v[k] = val
					}
					v["max_segment_size"] = "67108864"
					st, err := registry.New(ctx, v, registry.Env{Getenv: func(string) string { return "" }, Home: home})
					if err != nil {
						t.Fatal(err)
					}
					defer storage.Close(st)
					var target string
					keys := walkKeys(ctx, t, st, "")
					for _, k := range keys {
						if !strings.Contains(k, "h_"+bn) {
							continue
						}
						if sname == "swift" && strings.Contains(k, "/segments/") && strings.HasSuffix(k, "00000001") {
							target = k
						}
						if sname == "s3" && storage.IsPayloadKey(k) {
							target = k
						}
					}
					if target == "" {
						t.Fatalf("no payload object to damage among %v", keys)
					}
					r, err := st.Get(ctx, target)
					if err != nil {
						t.Fatal(err)
					}
					b, err := io.ReadAll(r)
					r.Close()
					if err != nil {
						t.Fatal(err)
					}
					switch kind {
					case "flip":
						b[len(b)/2] ^= 0x40
						err = st.Put(ctx, target, bytes.NewReader(b))
					case "truncate":
						err = st.Put(ctx, target, bytes.NewReader(b[:len(b)/2]))
					case "missing":
						err = st.Delete(ctx, target)
					}
					if err != nil {
						t.Fatalf("damaging %s: %v", target, err)
					}
					dst := filepath.Join(t.TempDir(), "dst")
					code, stderr := runExit(c.env, append([]string{"--action", "restore", "--restore-abs-path", dst}, common...)...)
					if code != 4 {
						t.Fatalf("restore of a damaged payload (%s %s) exited %d, want 4\n%s", kind, target, code, stderr)
					}
					if !strings.Contains(stderr, "not restored") && !strings.Contains(stderr, "no member after this point was restored") && !strings.Contains(stderr, "big") {
						t.Errorf("restore's error does not name what was not restored:\n%s", stderr)
					}
					if _, err := os.Stat(dst); err == nil {
						got := treeState(t, dst)
						for p, fs := range got {
							// Directories may differ in mtime when a file in them was not restored.
							if want, ok := srcState[p]; !ok || want.Type != fs.Type || want.Content != fs.Content {
								t.Errorf("target holds %s that differs from the source", p)
							}
						}
					}
					vdst := t.TempDir()
					code, stderr = runExit(c.env, append([]string{"--action", "verify", "--restore-abs-path", vdst}, common...)...)
					if code != 4 {
						t.Fatalf("verify of a damaged payload exited %d, want 4\n%s", code, stderr)
					}
					if ents, _ := os.ReadDir(vdst); len(ents) != 0 {
						t.Errorf("verify wrote %d entries", len(ents))
					}
				})
			}
		}
	}
}
