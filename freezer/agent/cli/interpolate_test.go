package cli

import (
	"strings"
	"testing"
)

// The brief's hand-written job file, and the other places upstream reads
// with get(): storage sections, and the job INI value rules applied after
// expansion.
func TestJobINIInterpolates(t *testing.T) {
	job := writeFile(t, "job.ini", `[DEFAULT]
base = /srv
t = True
nothing =

[job]
path_to_backup = %(base)s/www
backup_name = 100%%
container = %(base)s/store/%(backup_name)s
dry_run = %(t)s
max_level = %(nothing)s

[storage:a]
storage = local
container = %(base)s/a%%
`)
	s := mustResolve(t, "--config", job)
	for k, want := range map[string]string{
		"path_to_backup": "/srv/www",
		"backup_name":    "100%",
		"container":      "/srv/store/100%",
	} {
		if got := s.str(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !s.bool("dry_run") {
		t.Errorf("dry_run = %%(t)s with t = True: %q", s.str("dry_run"))
	}
	if s.setBy("max_level") != "" {
		t.Errorf("max_level expanding to empty should stay unset, got %q", s.str("max_level"))
	}
	if len(s.storages) != 1 || s.storages[0].Values["container"] != "/srv/a%" {
		t.Errorf("storages %v", s.storages)
	}
}

// A file upstream's agent cannot read is a usage error (exit 2) whose
// message says where, and never the value (job files hold passwords).
func TestJobINIInterpolationErrorsExit2(t *testing.T) {
	for _, c := range []struct {
		ini  string
		want []string
	}{
		{"[action]\naction = exec\nos_password = pa%ss\ncommand = true\n",
			[]string{"job.ini:3: [action] os_password: '%' at offset 2 must be followed by '%' or '('"}},
		{"[action]\naction = exec\ncommand = exit %(code)s\n",
			[]string{"job.ini:3: [action] command: %(code)s at offset 5 refers to no key"}},
		{"[action]\naction = exec\ncommand = %(a)s\na = %(a)s\n",
			[]string{"job.ini:3: [action] command: %(name)s references nest more than 10 deep"}},
		{"[action]\naction = exec\ncommand = %(p)s\np = x%(q)d\n",
			[]string{"job.ini:3: [action] command: bad interpolation variable reference at offset 1 of the value of %(p)s"}},
		// Upstream reads every key, so an inherited key it does not know
		// still fails the job.
		{"[DEFAULT]\nnote = 5%\n[action]\naction = exec\ncommand = true\n",
			[]string{"job.ini:2: [action] note (inherited from [DEFAULT]): '%' at offset 1"}},
		{"[action]\naction = exec\ncommand = true\n[storage:x]\nstorage = local\ncontainer = /tmp/%\n",
			[]string{"job.ini:6: [storage:x] container: '%' at offset 5"}},
	} {
		job := writeFile(t, "job.ini", c.ini)
		code, _, errOut := runCLI(t, "--config", job)
		if code != ExitUsage || !strings.HasPrefix(errOut, "Critical Error: ") {
			t.Errorf("%q: exit %d, stderr %q; want %d and a Critical Error", c.ini, code, errOut, ExitUsage)
		}
		for _, w := range c.want {
			w = strings.Replace(w, "job.ini", job, 1)
			if !strings.Contains(errOut, w) {
				t.Errorf("%q: stderr %q lacks %q", c.ini, errOut, w)
			}
		}
		if strings.Contains(errOut, "pa%ss") {
			t.Errorf("the value was quoted: %q", errOut)
		}
	}
}

// End to end: a [DEFAULT] key that is no option still feeds a reference.
func TestJobINIInterpolationDrivesExec(t *testing.T) {
	job := writeFile(t, "job.ini", "[DEFAULT]\ncode = 7\n[action]\naction = exec\ncommand = exit %(code)s\n")
	if code, _, errOut := runCLI(t, "--config", job); code != 7 {
		t.Fatalf("exit %d, want 7 (stderr %q)", code, errOut)
	}
}

// The scheduler's WriteINI escapes every "%" (freezer_scheduler/agentrun:
// TestWriteINIEscapesPercent checks it writes exactly these lines); read
// back, each value is the freezer_action value again.
func TestJobINIReadsWriteINIEscapes(t *testing.T) {
	job := writeFile(t, "job.ini", "[action]\n"+
		"backup_name = 100%%\n"+
		"container = 100%%%%\n"+
		"path_to_backup = %%(x)s/%%(backup_name)s\n"+
		"hostname = a%%b%%%%c%%(x)s\n"+
		"command = 50%%\n\tof %%(x)s\n"+
		"exclude = [\"*%%.tmp\"]\n\n")
	s := mustResolve(t, "--config", job)
	for k, want := range map[string]string{
		"backup_name":    "100%",
		"container":      "100%%",
		"path_to_backup": "%(x)s/%(backup_name)s",
		"hostname":       "a%b%%c%(x)s",
		"command":        "50%\nof %(x)s",
		"exclude":        `["*%.tmp"]`,
	} {
		if got := s.str(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}
