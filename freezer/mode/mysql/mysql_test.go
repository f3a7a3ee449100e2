package mysql

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "my.conf")
	os.WriteFile(p, []byte("[default]\nhost = db.example\nuser = backup\npassword = s3cret\n"), 0o600)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if c != (Config{Host: "db.example", Port: 3306, User: "backup", Password: "s3cret"}) {
		t.Errorf("got %+v", c)
	}
	if dsn := c.DSN(); dsn != "backup:s3cret@tcp(db.example:3306)/?timeout=30s" {
		t.Errorf("DSN %q", dsn)
	}
	os.WriteFile(p, []byte("[default]\nsocket = /run/mysqld/mysqld.sock\nuser = root\n"), 0o600)
	if c, _ := LoadConfig(p); c.DSN() != "root@unix(/run/mysqld/mysqld.sock)/?timeout=30s" {
		t.Errorf("socket DSN %q", c.DSN())
	}
	for _, bad := range []string{"[client]\nhost = x\n", "[default]\nport = many\n"} {
		os.WriteFile(p, []byte(bad), 0o600)
		if _, err := LoadConfig(p); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestLockTimer(t *testing.T) {
	now := time.Unix(0, 0)
	lt := &lockTimer{now: func() time.Time { return now }}
	for _, l := range []struct {
		after time.Duration
		line  string
	}{
		{0, "[00] 2026-12-07 21:50:01 Acquiring BACKUP LOCKS...(BACKUP STAGE START)"},
		{time.Second, "[00] 2026-12-07 21:50:02 Acquiring BACKUP LOCKS...(BACKUP STAGE BLOCK_DDL)"},
		{2 * time.Second, "[00] 2026-12-07 21:50:04 Acquiring BACKUP LOCKS...(BACKUP STAGE BLOCK_COMMIT)"},
		{500 * time.Millisecond, "[00] 2026-12-07 21:50:04 Executing BACKUP STAGE END"},
	} {
		now = now.Add(l.after)
		lt.line(l.line)
	}
	s := lt.stats()
	if s["lock_seconds"] != 0.5 || s["ddl_lock_seconds"] != 2.5 {
		t.Errorf("stats %v", s)
	}
}
