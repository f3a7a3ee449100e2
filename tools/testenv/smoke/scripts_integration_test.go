//go:build integration

package smoke

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"freezer.dev/freezer/internal/testutil/testenv"
)

// pidFiles reads every recorded pid under $ROOT/run.
func pidFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "run", "*.pid"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(f)] = strings.TrimSpace(string(b))
	}
	return m
}

// The must-show: with everything up, a second `up.sh all` is a
// no-op: every component says "already up" and no process is replaced.
func TestUpShIsNoOpWhenUp(t *testing.T) {
	env := testenv.Load(t)
	before := pidFiles(t, env.Root)
	if len(before) == 0 {
		t.Fatalf("no pid files in %s/run: is the environment up?", env.Root)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", "../up.sh", "all").CombinedOutput()
	if err != nil {
		t.Fatalf("up.sh all: %v\n%s", err, out)
	}
	for _, c := range []string{"mariadb", "keystone", "memcached", "swift", "s3", "sshd", "ftp"} {
		found := false
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "] "+c+": already up") {
				found = true
			}
		}
		if !found {
			t.Errorf("component %s did not report \"already up\":\n%s", c, out)
		}
	}
	after := pidFiles(t, env.Root)
	for name, pid := range before {
		if after[name] != pid {
			t.Errorf("%s changed from %s to %s", name, pid, after[name])
		}
		if _, err := strconv.Atoi(pid); err != nil {
			t.Errorf("%s holds %q, not a pid", name, pid)
		}
	}
}

// parseExports reads env.sh's `export K=V` lines (values are shell-quoted
// with %q only when they need it; ours never do).
func parseExports(t *testing.T, out []byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			t.Fatalf("env.sh printed a line that is not an export: %q", line)
		}
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestEnvShExportsWorkingCredentials(t *testing.T) {
	env := testenv.Load(t)
	for _, user := range []string{"admin", "demo", "other"} {
		t.Run(user, func(t *testing.T) {
			out, err := exec.Command("bash", "../env.sh", user).Output()
			if err != nil {
				t.Fatalf("env.sh %s: %v", user, err)
			}
			got := parseExports(t, out)
			u := strings.ToUpper(user)
			want := map[string]string{
				"OS_AUTH_URL":           env.Get(t, "OS_AUTH_URL"),
				"OS_USERNAME":           env.Get(t, u+"_OS_USERNAME"),
				"OS_PASSWORD":           env.Get(t, u+"_OS_PASSWORD"),
				"OS_PROJECT_NAME":       env.Get(t, u+"_OS_PROJECT_NAME"),
				"OS_BACKUP_URL":         env.Get(t, "BACKUP_URL"),
				"OS_BACKUP_API_VERSION": "2",
				"S3_ENDPOINT":           env.Get(t, "S3_ENDPOINT"),
				"SSH_KEY":               env.Get(t, "SSH_KEY"),
				"FTP_PORT":              env.Get(t, "FTP_PORT"),
			}
			if user != "admin" {
				want["S3_ACCESS_KEY"] = env.Get(t, u+"_S3_ACCESS_KEY")
			} else if _, ok := got["S3_ACCESS_KEY"]; ok {
				t.Error("admin got S3 keys; only demo and other have EC2 credentials")
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			// The exported OS_* really authenticate. (gophercloud's own
			// AuthOptionsFromEnv wants OS_DOMAIN_NAME, which python clients
			// read as a domain scope, so the names are mapped by hand as our
			// programs do.)
			opts := gophercloud.AuthOptions{
				IdentityEndpoint: got["OS_AUTH_URL"],
				Username:         got["OS_USERNAME"],
				Password:         got["OS_PASSWORD"],
				DomainName:       got["OS_USER_DOMAIN_NAME"],
				Scope: &gophercloud.AuthScope{
					ProjectName: got["OS_PROJECT_NAME"],
					DomainName:  got["OS_PROJECT_DOMAIN_NAME"],
				},
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			p, err := openstack.AuthenticatedClient(ctx, opts)
			if err != nil {
				t.Fatalf("authenticating with env.sh %s's variables: %v", user, err)
			}
			res, ok := p.GetAuthResult().(tokens.CreateResult)
			if !ok {
				t.Fatalf("auth result is %T", p.GetAuthResult())
			}
			project, err := res.ExtractProject()
			if err != nil || project == nil || project.ID != env.Get(t, u+"_OS_PROJECT_ID") {
				t.Fatalf("token project = %+v (%v), want %s", project, err, env.Get(t, u+"_OS_PROJECT_ID"))
			}
		})
	}
	if err := exec.Command("bash", "../env.sh", "nobody").Run(); err == nil {
		t.Error("env.sh accepted an unknown user")
	}
}
