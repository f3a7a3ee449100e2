package cli

import (
	"fmt"
	"strings"

	"freezer.dev/freezer/internal/config"
)

// cmdline is the parsed command line.
type cmdline struct {
	args *config.Args

	// defaultFiles and defaultDirs are oslo's default config files and
	// directories, read when --config-file (resp. --config-dir) is not
	// given, as oslo.config does for upstream's agent.
	defaultFiles, defaultDirs []string
}

// parseArgs parses args (without the program name) with the schema's
// command-line rules. The agent takes no positional argument: one is a
// usage error, as argparse's "unrecognized arguments".
func parseArgs(args []string, s config.Schema) (cmdline, error) {
	a, err := s.ParseArgs(args)
	if err != nil {
		return cmdline{}, err
	}
	if len(a.Positional) > 0 {
		return cmdline{}, fmt.Errorf("unrecognized arguments: %s", strings.Join(a.Positional, " "))
	}
	for i, st := range a.Settings {
		// As in a job file, False given to an option that is no boolean
		// means "unset" (upstream's agent reads its options that way).
		if st.Opt.Type != config.Bool && st.Value == "False" {
			a.Settings[i].Unset = true
		}
	}
	return cmdline{args: a}, nil
}

// loadOsloFiles reads --config-file and --config-dir/*.conf (sorted) with
// oslo's rules, or the default files and directories when those are not
// given; nil when there is nothing to read.
func loadOsloFiles(cl cmdline) (*config.INI, error) {
	files, dirs := cl.defaultFiles, cl.defaultDirs
	if f, _ := cl.args.Last("", "config_file"); f != "" {
		files = []string{f}
	}
	if d, _ := cl.args.Last("", "config_dir"); d != "" {
		dirs = []string{d}
	}
	if len(files) == 0 && len(dirs) == 0 {
		return nil, nil
	}
	return config.LoadFiles(files, dirs)
}
