//go:build integration

package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"freezer.dev/freezer/freezer_api/store"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// TestImportUpstream: a database written by the upstream Python
// freezer-api (Debian 13.0: its freezer-manage makes the schema, its own DB
// layer writes the rows) is imported with ids, owners and documents intact,
// soft-deleted rows left out, and a second import changes nothing.
func TestImportUpstream(t *testing.T) {
	env := testenv.Load(t)
	host, port, user := env.Get(t, "MYSQL_HOST"), env.Get(t, "MYSQL_PORT"), env.Get(t, "MYSQL_USER")
	pw, _ := env.Lookup("MYSQL_PASSWORD")
	cred := user
	if pw != "" {
		cred += ":" + pw
	}
	admin, err := sql.Open("mysql", fmt.Sprintf("%s@tcp(%s:%s)/", cred, host, port))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	stamp := time.Now().UnixNano()
	srcDB, dstDB := fmt.Sprintf("fzapi_upsrc_%d", stamp), fmt.Sprintf("fzapi_updst_%d", stamp)
	for _, db := range []string{srcDB, dstDB} {
		if _, err := admin.Exec("CREATE DATABASE " + db); err != nil {
			t.Fatal(err)
		}
		defer admin.Exec("DROP DATABASE IF EXISTS " + db)
	}
	srcURL := fmt.Sprintf("mysql+pymysql://%s@%s:%s/%s", cred, host, port, srcDB)
	dir := t.TempDir()
	upConf := filepath.Join(dir, "upstream.conf")
	os.WriteFile(upConf, []byte("[database]\nconnection = "+srcURL+"\n[storage]\nbackend = sqlalchemy\ndriver = sqlalchemy\n"), 0o600)
	py := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + dir, "PYTHONWARNINGS=ignore"}
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s%s", args, err, out.String(), errb.String())
		}
		return out.Bytes()
	}
	py("/usr/bin/freezer-manage", "--config-file", upConf, "db", "sync")
	// Upstream's freezer-manage exits 0 even when it fails: check.
	var n int
	if err := admin.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = 'jobs'", srcDB).Scan(&n); err != nil || n != 1 {
		t.Fatalf("upstream freezer-manage db sync made no jobs table (%v)", err)
	}
	abs, _ := filepath.Abs("testdata/upstream_populate.py")
	var ids map[string]string
	if err := json.Unmarshal(py("/usr/bin/python3", abs, upConf), &ids); err != nil {
		t.Fatal(err)
	}

	conf := filepath.Join(dir, "freezer-api.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[database]\nconnection = mysql+pymysql://%s@%s:%s/%s\n", cred, host, port, dstDB)), 0o600)
	ctx := context.Background()
	var out, errb bytes.Buffer
	if c := run(ctx, []string{"--config-file", conf, "db", "import-upstream", srcURL}, &out, &errb); c != 1 || !strings.Contains(errb.String(), "db sync") {
		t.Fatalf("import before sync: exit %d: %s", c, errb.String())
	}
	if c := run(ctx, []string{"--config-file", conf, "db", "sync"}, &out, &errb); c != 0 {
		t.Fatal(errb.String())
	}
	out.Reset()
	if c := run(ctx, []string{"--config-file", conf, "db", "import-upstream", srcURL}, &out, &errb); c != 0 {
		t.Fatalf("import: %s%s", out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "imported 1 clients, 1 actions, 1 jobs, 1 sessions, 2 backups") {
		t.Fatalf("import: %s", out.String())
	}

	st, err := store.Open(ctx, fmt.Sprintf("mysql+pymysql://%s@%s:%s/%s", cred, host, port, dstDB), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p1 := store.Scope{ProjectID: "proj1", UserID: "user1"}
	j, err := st.GetJob(ctx, p1, ids["job"])
	if err != nil {
		t.Fatal(err)
	}
	if j.ClientID != "proj1_node1" || j.Description != "nightly" || j.UserID != "user1" || j.JobSchedule.Status != "scheduled" ||
		j.JobSchedule.ScheduleInterval != "1 days" || j.JobSchedule.TimeCreated == 0 || len(j.JobActions) != 2 ||
		j.JobActions[0].ActionID != ids["action"] || j.JobActions[1].FreezerAction.Action() != "info" {
		t.Fatalf("job %+v", j)
	}
	a, err := st.GetAction(ctx, p1, ids["action"])
	if err != nil || *a.MaxRetries != 3 || *a.MaxRetriesInterval != 7 || a.FreezerAction.String("path_to_backup") != "/etc" {
		t.Fatalf("action %+v %v", a, err)
	}
	s, err := st.GetSession(ctx, p1, ids["session"])
	if err != nil || s.Description != "sess" || s.Status != "active" || s.Schedule.ScheduleInterval != "2 hours" || s.HoldOff != 30 {
		t.Fatalf("session %+v %v", s, err)
	}
	b, err := st.GetBackup(ctx, p1, ids["backup"])
	if err != nil || b.Status != "available" || b.BackupMetadata.TimeStamp() != 1790000000 || b.BackupMetadata.String("job_id") != ids["job"] {
		t.Fatalf("backup %+v %v", b, err)
	}
	if _, err := st.GetBackup(ctx, store.Scope{ProjectID: "proj2"}, ids["other_backup"]); err != nil {
		t.Fatalf("proj2's backup: %v", err)
	}
	if _, err := st.GetBackup(ctx, p1, ids["deleted_backup"]); store.KindOf(err) != store.KindNotFound {
		t.Fatalf("soft-deleted backup imported: %v", err)
	}
	c, err := st.GetClient(ctx, p1, "proj1_node1")
	// Capabilities are kept as upstream had them (none here), not defaulted.
	if err != nil || c.Client.Description != "first node" || len(c.Client.SupportedStorages) != 0 {
		t.Fatalf("client %+v %v", c, err)
	}
	// Search works on imported rows.
	list, err := st.ListJobs(ctx, "proj1", store.ParseSearch(apiSearch("client_id", "proj1_node1")), store.Page{Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("search: %v %v", list, err)
	}
	out.Reset()
	if c := run(ctx, []string{"--config-file", conf, "db", "import-upstream", srcURL}, &out, &errb); c != 0 ||
		!strings.Contains(out.String(), "0 actions, 0 jobs, 0 sessions, 0 backups") {
		t.Fatalf("second import: %s", out.String())
	}
}
