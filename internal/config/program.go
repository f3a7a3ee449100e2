package config

// HelpOpt is --help (-h), listed under section.
func HelpOpt(section string) Opt {
	return Opt{Name: "help", Short: "h", Type: Bool, CLIOnly: true, Section: section, Help: "Show this help and exit."}
}

// VersionOpt is --version.
func VersionOpt(section string) Opt {
	return Opt{Name: "version", Type: Bool, CLIOnly: true, Section: section, Help: "Print the version and exit."}
}

// SampleOpt is --print-sample-config; sample says what it prints.
func SampleOpt(section, sample string) Opt {
	return Opt{Name: "print_sample_config", Type: Bool, CLIOnly: true, Section: section, Help: "Print " + sample + " and exit."}
}

// ProgramOpts are the command-line options every program with a config
// file has: --help, --version and --print-sample-config.
func ProgramOpts(section, sample string) Schema {
	return Schema{HelpOpt(section), VersionOpt(section), SampleOpt(section, sample)}
}
