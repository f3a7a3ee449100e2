package config

import (
	"os"
	"path/filepath"
)

// searchDirs are oslo.config's default directories for a project:
// ~/.project, ~, /etc/project, /etc (the snap directories are left out).
func searchDirs(project, home string) []string {
	var dirs []string
	if home != "" {
		dirs = append(dirs, filepath.Join(home, "."+project), home)
	}
	return append(dirs, filepath.Join("/etc", project), "/etc")
}

// FindConfigFiles is oslo.config's find_config_files(project, prog): for
// project.conf and then prog.conf, the first one found in the search
// directories. These are what an oslo program reads when it is given no
// --config-file.
func FindConfigFiles(project, prog, home string) []string {
	return find(project, prog, home, ".conf", false)
}

// FindConfigDirs is oslo.config's find_config_dirs(project, prog): the
// first project.conf.d and prog.conf.d directories found, read when no
// --config-dir is given.
func FindConfigDirs(project, prog, home string) []string {
	return find(project, prog, home, ".conf.d", true)
}

func find(project, prog, home, ext string, wantDir bool) []string {
	var out []string
	for _, base := range []string{project + ext, prog + ext} {
		for _, d := range searchDirs(project, home) {
			p := filepath.Join(d, base)
			if st, err := os.Stat(p); err == nil && st.IsDir() == wantDir {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
