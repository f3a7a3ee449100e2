package upstream

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/store"
)

// TestImportUpstreamMasterSchemaFixture imports from upstream master's
// schema (job_actions and user_credentials tables,
// backups.status, client capabilities), which no package here can create:
// the tables and rows are a fixture written from that description. Debian
// 13.0's real schema and data are covered by freezer-manage's integration
// test.
func TestImportUpstreamMasterSchemaFixture(t *testing.T) {
	ctx := context.Background()
	srcURL := "sqlite:///" + filepath.Join(t.TempDir(), "upstream.db")
	src, err := store.Open(ctx, srcURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	// The upstream tables are written on a connection of their own: the
	// store has no statement for tables that are not its own.
	d, dsn, err := store.ParseURL(srcURL)
	if err != nil {
		t.Fatal(err)
	}
	srcDB, err := sql.Open(string(d), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer srcDB.Close()
	for _, q := range []string{
		`CREATE TABLE clients (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, id VARCHAR(255) PRIMARY KEY, project_id VARCHAR(36), user_id VARCHAR(64) NOT NULL, client_id VARCHAR(255) NOT NULL, hostname VARCHAR(128), description VARCHAR(255), uuid VARCHAR(36) NOT NULL, supported_actions VARCHAR(255), supported_modes VARCHAR(255), supported_storages VARCHAR(255), supported_engines VARCHAR(255), is_central BOOLEAN NOT NULL DEFAULT 0)`,
		`CREATE TABLE actions (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, id VARCHAR(36) PRIMARY KEY, action VARCHAR(255) NOT NULL, project_id VARCHAR(36), user_id VARCHAR(64) NOT NULL, actionmode VARCHAR(255), path_to_backup VARCHAR(255), backup_name VARCHAR(255), container VARCHAR(255), log_file VARCHAR(255), timeout INT, priority INT, max_retries INT, max_retries_interval INT, mandatory BOOLEAN, backup_metadata TEXT)`,
		`CREATE TABLE jobs (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, id VARCHAR(36) PRIMARY KEY, project_id VARCHAR(36), user_id VARCHAR(64) NOT NULL, schedule TEXT, client_id VARCHAR(255) NOT NULL, session_id VARCHAR(36), session_tag INT, description VARCHAR(255))`,
		`CREATE TABLE job_actions (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, id VARCHAR(36) PRIMARY KEY, job_id VARCHAR(36) NOT NULL, action_id VARCHAR(36) NOT NULL, position INT)`,
		`CREATE TABLE user_credentials (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, id VARCHAR(36) PRIMARY KEY, trust_id VARCHAR(255) NOT NULL, trustor_user_id VARCHAR(64) NOT NULL, job_id VARCHAR(36) NOT NULL)`,
		`CREATE TABLE sessions (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, id VARCHAR(36) PRIMARY KEY, session_tag INT, description VARCHAR(255), hold_off INT, schedule TEXT, job TEXT, project_id VARCHAR(36), user_id VARCHAR(64) NOT NULL, time_start INT, time_end INT, time_started INT, time_ended INT, status VARCHAR(255), result VARCHAR(255))`,
		`CREATE TABLE backups (created_at DATETIME, updated_at DATETIME, deleted_at DATETIME, deleted BOOLEAN, id VARCHAR(36) PRIMARY KEY, job_id VARCHAR(36), project_id VARCHAR(36), user_id VARCHAR(64) NOT NULL, status VARCHAR(64) NOT NULL DEFAULT 'available', backup_metadata TEXT)`,
		`INSERT INTO clients VALUES (NULL,NULL,NULL,0,'u1','p1','usr','central1','host1',NULL,'u1','["backup"]','["fs"]','["swift"]','["tar"]',1)`,
		`INSERT INTO actions VALUES (NULL,NULL,NULL,0,'a1','backup','p1','usr','fs','/etc','etc','c',NULL,NULL,NULL,2,3,1,'{"action":"backup","mode":"fs","storage":"swift"}')`,
		`INSERT INTO actions VALUES (NULL,NULL,NULL,0,'a2','restore','p1','usr',NULL,NULL,NULL,NULL,NULL,NULL,NULL,5,6,0,'{"action":"restore"}')`,
		`INSERT INTO jobs VALUES (NULL,NULL,NULL,0,'j1','p1','usr','{"status":"running","current_pid":9}','central1','',0,'d')`,
		`INSERT INTO job_actions VALUES (NULL,NULL,NULL,0,'x2','j1','a2',1)`,
		`INSERT INTO job_actions VALUES (NULL,NULL,NULL,0,'x1','j1','a1',0)`,
		`INSERT INTO job_actions VALUES (NULL,NULL,NULL,1,'x3','j1','a2',2)`,
		`INSERT INTO user_credentials VALUES (NULL,NULL,NULL,0,'c1','trust-1','usr','j1')`,
		`INSERT INTO sessions VALUES (NULL,NULL,NULL,0,'s1',4,'sess',60,'{}','{"j1":{"client_id":"central1","status":"running","result":"","time_started":5,"time_ended":""}}','p1','usr',10,-1,-1,-1,'running','')`,
		`INSERT INTO backups VALUES (NULL,NULL,NULL,0,'b1','j1','p1','usr','error','{"container":"c","hostname":"h","backup_name":"b"}')`,
	} {
		if _, err := srcDB.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	dst, err := store.Open(ctx, "sqlite:///"+filepath.Join(t.TempDir(), "f.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := dst.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := Import(ctx, dst, src)
	if err != nil || st.Clients != 1 || st.Actions != 2 || st.Jobs != 1 || st.Sessions != 1 || st.Backups != 1 || len(st.Skipped) != 0 {
		t.Fatalf("%+v %v", st, err)
	}
	sc := store.Scope{ProjectID: "p1"}
	j, err := dst.GetJob(ctx, sc, "j1")
	if err != nil || len(j.JobActions) != 2 || j.JobActions[0].ActionID != "a1" || j.JobActions[1].ActionID != "a2" ||
		j.UserCredentials == nil || j.UserCredentials.TrustID != "trust-1" || j.JobSchedule.CurrentPID != 9 {
		t.Fatalf("job %+v %v", j, err)
	}
	if a, _ := dst.GetAction(ctx, sc, "a1"); *a.MaxRetries != 2 || !*a.Mandatory {
		t.Fatalf("action %+v", a)
	}
	if c, _ := dst.GetClient(ctx, store.Scope{ProjectID: "other"}, "central1"); !c.Client.IsCentral || len(c.Client.SupportedStorages) != 1 {
		t.Fatalf("client %+v", c)
	}
	if s, _ := dst.GetSession(ctx, sc, "s1"); s.SessionTag != 4 || s.HoldOff != 60 || s.Jobs["j1"].ClientID != "central1" || s.TimeStart != 10 {
		t.Fatalf("session %+v", s)
	}
	if b, _ := dst.GetBackup(ctx, sc, "b1"); b.Status != "error" {
		t.Fatalf("backup %+v", b)
	}
	// Again: nothing is imported twice, and a client changed here since
	// is left as it is (not overwritten by the upstream row).
	if _, err := dst.RegisterClient(ctx, store.Scope{ProjectID: "p1"}, apiv2.ClientInfo{ClientID: "central1", IsCentral: true,
		Description: "changed here", SupportedStorages: []string{"swift"}}); err != nil {
		t.Fatal(err)
	}
	st, err = Import(ctx, dst, src)
	if err != nil || st.Clients != 0 || st.Actions != 0 || st.Jobs != 0 || st.Sessions != 0 || st.Backups != 0 || len(st.Skipped) != 0 {
		t.Fatalf("second import: %+v %v", st, err)
	}
	if c, _ := dst.GetClient(ctx, store.Scope{ProjectID: "p1"}, "central1"); c.Client.Description != "changed here" {
		t.Fatalf("second import overwrote the client: %+v", c.Client)
	}
	// A client of another project whose id is a central client here is
	// reported as skipped, not taken for one already imported.
	if _, err := srcDB.Exec(`INSERT INTO clients VALUES (NULL,NULL,NULL,0,'u9','p2','usr','central1','host9',NULL,'u9','[]','[]','[]','[]',0)`); err != nil {
		t.Fatal(err)
	}
	st, err = Import(ctx, dst, src)
	if err != nil || st.Clients != 0 || len(st.Skipped) != 1 || !strings.Contains(st.Skipped[0], "another project") {
		t.Fatalf("clashing client: %+v %v", st, err)
	}
	// A Go database is not an upstream one.
	if _, err := Import(ctx, dst, dst); err == nil {
		t.Fatal("imported from itself")
	}
}
