package store

import (
	"context"
	"path/filepath"
	"testing"

	"freezer.dev/freezer/freezer_api/apiv2"
)

func TestSessionResultMigrationSQLite(t *testing.T) {
	testSessionResultMigration(t, "sqlite:///"+filepath.Join(t.TempDir(), "f.db"))
}

// testSessionResultMigration upgrades a version 2 database holding
// sessions: their result ("" in version 2) is kept, a new session has
// none (null), and no seq is handed out twice (a deleted session's seq
// included: its search terms were keyed by it).
func testSessionResultMigration(t *testing.T, url string) {
	ctx := context.Background()
	s, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.db.ExecContext(ctx, "CREATE TABLE freezer_schema_version (version INTEGER NOT NULL, applied_at BIGINT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	ms, err := s.migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:2] {
		if err := s.apply(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range []string{"old1", "old2", "old3"} {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id, project_id, user_id, description, status, result, schedule, jobs, created_at, updated_at)
			VALUES (?, 'p1', 'u1', '', 'active', ?, '{}', '{}', 1, 1)`, id, []string{"", "success", ""}[i]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.db.ExecContext(ctx, "DELETE FROM sessions WHERE id = 'old3'"); err != nil {
		t.Fatal(err)
	}
	if applied, err := s.Migrate(ctx); err != nil || len(applied) != len(ms)-2 {
		t.Fatalf("migrate applied %v, %v", applied, err)
	}
	sc := Scope{ProjectID: "p1", UserID: "u1"}
	for id, want := range map[string]string{"old1": "", "old2": "success"} {
		d, err := s.GetSession(ctx, sc, id)
		if err != nil || d.Result == nil || *d.Result != want {
			t.Fatalf("%s: result %v, %v; want %q", id, d.Result, err, want)
		}
	}
	id, err := s.CreateSession(ctx, sc, apiv2.SessionPatch{Schedule: &apiv2.JobSchedule{}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.GetSession(ctx, sc, id)
	if err != nil || d.Result != nil {
		t.Fatalf("new session: result %v, %v; want null", d.Result, err)
	}
	var seq int64
	if err := s.db.GetContext(ctx, &seq, "SELECT seq FROM sessions WHERE id = ?", id); err != nil || seq != 4 {
		t.Fatalf("new session seq %d, %v; want 4 (after the deleted 3)", seq, err)
	}
}
