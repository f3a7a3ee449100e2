package testenv

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestReadParsesEnvFile(t *testing.T) {
	dir := t.TempDir()
	body := "# comment\nexport OS_AUTH_URL=http://127.0.0.1:5000/v3\nDEMO_OS_USERNAME='demo'\nDEMO_OS_PASSWORD=\"demo_pw\"\n\nbroken line\n"
	if err := os.WriteFile(filepath.Join(dir, "testenv.env"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FREEZER_TESTENV_ROOT", dir)
	e, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Get(t, "DEMO_OS_USERNAME"); got != "demo" {
		t.Fatalf("DEMO_OS_USERNAME = %q", got)
	}
	env := e.OSEnv("demo")
	slices.Sort(env)
	want := []string{"OS_AUTH_URL=http://127.0.0.1:5000/v3", "OS_PASSWORD=demo_pw", "OS_USERNAME=demo"}
	if !slices.Equal(env, want) {
		t.Fatalf("OSEnv = %v, want %v", env, want)
	}
}

func TestReadFailsWithoutFile(t *testing.T) {
	t.Setenv("FREEZER_TESTENV_ROOT", t.TempDir())
	if _, err := Read(); err == nil {
		t.Fatal("missing environment file accepted")
	}
}
