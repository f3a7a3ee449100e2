//go:build integration

package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/multi"
	"freezer.dev/freezer/freezer/storage/storagetest"
	"freezer.dev/freezer/internal/testutil/testenv"
)

func uniq() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// demoEnv plays the OS_* environment of the demo user.
func demoEnv(t *testing.T) Env {
	env := testenv.Load(t)
	m := map[string]string{
		"OS_AUTH_URL":            env.Get(t, "OS_AUTH_URL"),
		"OS_USERNAME":            env.Get(t, "DEMO_OS_USERNAME"),
		"OS_PASSWORD":            env.Get(t, "DEMO_OS_PASSWORD"),
		"OS_PROJECT_NAME":        env.Get(t, "DEMO_OS_PROJECT_NAME"),
		"OS_USER_DOMAIN_NAME":    env.Get(t, "DEMO_OS_USER_DOMAIN_NAME"),
		"OS_PROJECT_DOMAIN_NAME": env.Get(t, "DEMO_OS_PROJECT_DOMAIN_NAME"),
		"OS_REGION_NAME":         env.Get(t, "OS_REGION_NAME"),
	}
	return Env{Getenv: func(k string) string { return m[k] }}
}

// TestMultiAcrossRealServers writes one backup to Swift, SFTP and FTP at
// once from [storage:NAME]-style sections and reads each copy back.
func TestMultiAcrossRealServers(t *testing.T) {
	env := testenv.Load(t)
	ctx := context.Background()
	run := "multi-" + uniq()
	sections := map[string]storage.Values{
		"swift": {"storage": "swift", "container": "freezer-go-storagetest/" + run},
		"sftp": {"storage": "ssh", "container": env.Get(t, "SSH_CONTAINER") + "/" + run,
			"ssh_host": env.Get(t, "SSH_HOST"), "ssh_port": env.Get(t, "SSH_PORT"), "ssh_username": env.Get(t, "SSH_USER"),
			"ssh_key": env.Get(t, "SSH_KEY"), "ssh_known_hosts": env.Get(t, "SSH_KNOWN_HOSTS")},
		"ftp": {"storage": "ftp", "container": env.Get(t, "FTP_CONTAINER") + "/" + run,
			"ftp_host": env.Get(t, "FTP_HOST"), "ftp_port": env.Get(t, "FTP_PORT"),
			"ftp_username": env.Get(t, "FTP_USER"), "ftp_password": env.Get(t, "FTP_PASS")},
	}
	st, err := FromSections(ctx, storage.Values{"max_segment_size": "1M"}, sections, demoEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	defer storage.Close(st)
	m := st.(*multi.Storage)
	ref := backup.Ref{Engine: "tar", Name: "h_multi", L0: 1700000000, TS: 1700000000}
	defer func() {
		for _, k := range []string{"data", "metadata"} {
			if err := st.Delete(ctx, k); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	}()
	const n = 3<<20 + 17
	if err := st.Put(ctx, ref.DataKey(), storagetest.Generator(8, n)); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, ref.MetadataKey(), strings.NewReader(`{"engine_name": "tar", "compression": "gzip", "encryption": false}`)); err != nil {
		t.Fatal(err)
	}
	want, _, _ := storagetest.HashOf(storagetest.Generator(8, n))
	for _, s := range m.Storages() {
		rc, err := s.Get(ctx, ref.DataKey())
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		got, size, err := storagetest.HashOf(rc)
		rc.Close()
		if err != nil || got != want || size != n {
			t.Fatalf("%s: %d bytes, hash ok %v, %v", s, size, got == want, err)
		}
	}
	names, err := st.List(ctx, backup.ChainDir("tar", "h_multi", 1700000000))
	if err != nil || strings.Join(names, ",") != "0_1700000000" {
		t.Fatalf("List = %q, %v", names, err)
	}
}

// TestUploadLimitOver30s: --upload-limit 1M to the real Swift holds the
// rate within ±10 % over 30 seconds.
func TestUploadLimitOver30s(t *testing.T) {
	ctx := context.Background()
	st, err := New(ctx, storage.Values{
		"storage": "swift", "container": "freezer-go-storagetest/limit-" + uniq(),
		"max_segment_size": "1M", "upload_limit": "1M",
	}, demoEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Delete(ctx, "x")
	const rate = 1 << 20
	n := int64(30*rate + rate/10) // 30 s beyond the initial burst of 0.1 s
	start := time.Now()
	if err := st.Put(ctx, "x/data", storagetest.Generator(9, n)); err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	t.Logf("%d bytes at --upload-limit 1M took %v (%.0f B/s)", n, d, float64(n)/d.Seconds())
	if d < 27*time.Second || d > 33*time.Second {
		t.Fatalf("upload took %v, want 30 s ± 10 %%", d)
	}
}
