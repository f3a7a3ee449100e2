package postgresql

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pg.conf")
	os.WriteFile(p, []byte("[default]\nhost = /run/postgresql\nport = 5433\nuser = backup\npassword = a:b\\c\n"), 0o600)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c != (Config{Host: "/run/postgresql", Port: 5433, User: "backup", Password: `a:b\c`}) {
		t.Errorf("got %+v", c)
	}
	if escape(c.Password) != `a\:b\\c` {
		t.Errorf("escape %q", escape(c.Password))
	}
	os.WriteFile(p, []byte("[default]\nport = x\n"), 0o600)
	if _, err := LoadConfig(p); err == nil {
		t.Error("bad port accepted")
	}
}
