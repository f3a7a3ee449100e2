package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestFindConfigFilesTopmostOfEach(t *testing.T) {
	home := t.TempDir()
	mk := func(p string, dir bool) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if dir {
			if err := os.Mkdir(p, 0o755); err != nil {
				t.Fatal(err)
			}
			return
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A project/prog pair nothing else on the machine has.
	const project, prog = "fz-find-test-project", "fz-find-test-prog"
	mk(filepath.Join(home, "."+project, prog+".conf"), false)
	mk(filepath.Join(home, prog+".conf"), false) // lower in the search: ignored
	mk(filepath.Join(home, project+".conf"), false)
	mk(filepath.Join(home, "."+project, project+".conf.d"), true)
	mk(filepath.Join(home, prog+".conf.d"), false) // a file, not a directory

	got := FindConfigFiles(project, prog, home)
	want := []string{filepath.Join(home, project+".conf"), filepath.Join(home, "."+project, prog+".conf")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	gotDirs := FindConfigDirs(project, prog, home)
	wantDirs := []string{filepath.Join(home, "."+project, project+".conf.d")}
	if !reflect.DeepEqual(gotDirs, wantDirs) {
		t.Errorf("dirs %v, want %v", gotDirs, wantDirs)
	}
	if got := FindConfigFiles(project, prog, ""); len(got) != 0 {
		t.Errorf("without a home: %v", got)
	}
}
