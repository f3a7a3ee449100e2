package cli

import (
	"fmt"
	"io"
	"strings"

	"freezer.dev/freezer/internal/version"
)

// writeHelp prints --help: usage, what the agent does, every option by
// group with its default, the config file rules, the environment and the
// exit statuses.
func writeHelp(w io.Writer, opts []opt) {
	fmt.Fprintf(w, `usage: freezer-agent [options]

freezer-agent %s (compatible with OpenStack Freezer %s): back up files and
directories to Swift, S3, SSH, FTP or a local directory, and restore them.
Backups use the same on-storage layout as the Python freezer-agent, so each
can restore what the other wrote (use gzip/bzip2/xz and
--encryption-format openssl for chains a Python agent must restore).

Examples:
  freezer-agent --action backup --path-to-backup /data --backup-name data \
      --storage local --container /srv/backups --max-level 7 --compression zstd
  freezer-agent --action restore --backup-name data --storage local \
      --container /srv/backups --restore-abs-path /tmp/data \
      --restore-from-date 2026-03-25T23:00:00
  freezer-agent --action info --storage local --container /srv/backups
  freezer-agent --action admin --backup-name data --storage local \
      --container /srv/backups --remove-older-than 30

Options are spelled with dashes here (--path-to-backup) and with
underscores in a --config job file (path_to_backup = /data). Boolean options
take no value; --noNAME turns one off (--nosync).
`, version.String(), version.Upstream)
	groups := []string{gGeneral, gModes, gLevels, gData, gRestore, gStorage, gLog}
	for _, g := range groups {
		fmt.Fprintf(w, "\n%s:\n", g)
		for _, o := range opts {
			if o.Group != g {
				continue
			}
			writeOptHelp(w, o)
		}
	}
	var compat []string
	for _, o := range opts {
		if o.Group == gCompat {
			compat = append(compat, "--"+strings.ReplaceAll(o.Name, "_", "-"))
		}
	}
	fmt.Fprintf(w, `
%s (jobs written for it keep loading; the
ones that need OpenStack resources fail with a clear message when set):
%s

  -h, --help            show this help and exit
  --version             print the version and exit
  --print-capabilities  print the engines, modes, storages, compressions,
                        encryption formats and snapshot kinds this agent
                        supports as JSON, and exit (the scheduler asks)
  --print-sample-config print a commented job file (--config) with every
                        option, its help and default, and exit

Config job file (--config), as the Python agent reads it: INI sections hold
options by their underscore names; keys are case-insensitive; the values
False, false and None mean off/unset and True, true mean on; %%(name)s is
the value of key name of the section or of [DEFAULT], and a literal %% is
written %%%%. Every section is merged except [storage:NAME] sections, each of
which is one more storage (with its own storage, container and storage
options); with such sections the backup is written to each of them.
Command-line options win over the file.

Environment: OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME,
OS_PROJECT_ID, OS_USER_DOMAIN_NAME, OS_PROJECT_DOMAIN_NAME, OS_REGION_NAME,
OS_TOKEN, OS_TRUST_ID, OS_CACERT, OS_INSECURE, OS_INTERFACE/OS_ENDPOINT_TYPE
are read for the swift storage only (no other storage needs Keystone);
ACCESS_KEY, SECRET_KEY and ENDPOINT are the s3 defaults.

Incremental backups are off by default; --incremental, or any of
--max-level, --always-level, --restart-always-level, turns them on, and
--no-incremental forces them off.

Dates (--restore-from-date, --remove-from-date) are YYYY-MM-DDThh:mm:ss in
UTC, or with an explicit zone (2026-03-25T23:23:23+01:00 or ...Z).

--consistency-check computes a SHA-256 over the tree walked in lexical
order (paths, types, file sizes and content hashes, link targets), so it
does not depend on directory listing order; it differs from the Python
agent's checksum.

Exit status:
  0    success
  1    failure (storage, engine or I/O error)
  2    usage or configuration error (bad option, missing required option)
  3    not found (no such --path-to-backup, no backup matching the request)
  4    integrity failure (corrupt, truncated or tampered data, wrong
       passphrase, size/sha256 or --consistency-checksum mismatch)
  N    --action exec: the command's own exit status
  killed by SIGINT/SIGTERM after stopping cleanly (nothing is committed)
`, gCompat, wrapList(compat, 76))
}

func writeOptHelp(w io.Writer, o opt) {
	spell := "--" + strings.ReplaceAll(o.Name, "_", "-")
	if o.Name == "engine_name" {
		spell = "--engine"
	}
	if o.Short != "" {
		spell = o.Short + ", " + spell
	}
	if o.Kind != boolean {
		spell += " " + strings.ToUpper(o.Name)
	}
	help := o.Help
	if c := nonEmpty(o.Choices); len(c) > 0 {
		help += " One of: " + strings.Join(c, ", ") + "."
	}
	if o.Default != "" {
		help += " Default: " + o.Default + "."
	}
	fmt.Fprintf(w, "  %s\n", spell)
	for _, l := range wrap(help, 70) {
		fmt.Fprintf(w, "        %s\n", l)
	}
}

func wrap(s string, n int) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		if cur != "" && len(cur)+1+len(word) > n {
			lines = append(lines, cur)
			cur = word
			continue
		}
		if cur == "" {
			cur = word
		} else {
			cur += " " + word
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

func wrapList(items []string, n int) string {
	var out []string
	for _, l := range wrap(strings.Join(items, " "), n) {
		out = append(out, "  "+l)
	}
	return strings.Join(out, "\n")
}
