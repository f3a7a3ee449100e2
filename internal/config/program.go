package config

// ProgramOpts are the command-line options every program has, listed in
// its --help under section: --help, --version, --print-sample-config
// (sample says what the sample is).
func ProgramOpts(section, sample string) Schema {
	return Schema{
		{Name: "help", Short: "h", Type: Bool, CLIOnly: true, Section: section, Help: "Show this help and exit."},
		{Name: "version", Type: Bool, CLIOnly: true, Section: section, Help: "Print the version and exit."},
		{Name: "print_sample_config", Type: Bool, CLIOnly: true, Section: section, Help: "Print " + sample + " and exit."},
	}
}
