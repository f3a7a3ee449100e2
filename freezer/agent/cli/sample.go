package cli

import (
	"io"

	"freezer.dev/freezer/internal/config"
)

// sampleSection is the section the sample job file uses; the agent merges
// every section but [storage:NAME] ones, and upstream's examples and the
// scheduler's generated files use [default] or [action].
const sampleSection = "default"

// writeSample renders a commented job INI (--config) with every option a
// job file may set, its help, type and default: etc/freezer's
// freezer-agent-job.ini.sample is this output, so it never drifts from the
// code. Options that only make sense on the command line, and options the
// agent accepts but does not support, are left out.
func writeSample(w io.Writer, opts []opt) error {
	var s config.Schema
	for _, o := range opts {
		if o.Unsupported != "" || o.Ignored {
			continue
		}
		switch o.Name {
		case "config", "config_file", "config_dir":
			continue
		}
		t := config.String
		switch o.Kind {
		case boolean:
			t = config.Bool
		case integer:
			t = config.Int
		case float:
			t = config.Float
		}
		s = append(s, config.Opt{Group: sampleSection, Name: o.Name, Type: t,
			Default: o.Default, Help: o.Help, Choices: o.Choices})
	}
	return config.WriteSample(w, s)
}
