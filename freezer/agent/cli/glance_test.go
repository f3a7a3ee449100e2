package cli

import "testing"

// The project's list object is spaced as Python's json.dumps writes it.
func TestProjectListIsUpstreams(t *testing.T) {
	if got := string(ProjectList([]string{"a", "b"})); got != `["a", "b"]` {
		t.Fatal(got)
	}
	if got := string(ProjectList(nil)); got != `[]` {
		t.Fatal(got)
	}
	if ProjectListKey("p1") != "project_glance_p1" {
		t.Fatal(ProjectListKey("p1"))
	}
}

// Without an image, a name, a filter or a project the mode refuses.
func TestGlanceModeNeedsATarget(t *testing.T) {
	code, _, errOut := runCLIWithDeps(t, "--mode", "glance", "--storage", "local", "--container", t.TempDir(), "--backup-name", "b")
	if code != ExitUsage {
		t.Fatalf("exit %d, %s", code, errOut)
	}
}
