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
// code. Command-line-only options, --config itself and options that
// fail when set (Unsupported) are left out.
func writeSample(w io.Writer, s config.Schema) error {
	var out config.Schema
	for _, o := range s {
		if o.Name == "config" {
			continue
		}
		o.Group = sampleSection
		out = append(out, o)
	}
	return config.WriteSample(w, out)
}
