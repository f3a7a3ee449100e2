package cli

import (
	"fmt"
	"io"

	"freezer.dev/freezer/internal/config"
	"freezer.dev/freezer/internal/version"
)

// writeHelp prints --help: usage, what the agent does, every option by
// section with its default, the config file rules, the environment and the
// exit statuses.
func writeHelp(w io.Writer, s config.Schema) {
	config.WriteHelp(w, config.Help{
		Usage:       "freezer-agent [options]",
		Description: fmt.Sprintf(helpIntro, version.String(), version.Upstream),
		Sections:    []string{gGeneral, gModes, gLevels, gData, gRestore, gStorage, gLog, gCompat, gProgram},
		Epilog:      helpEpilog,
	}, s)
}

const helpIntro = `freezer-agent %s (compatible with OpenStack Freezer %s): back up files and
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
take no value; --noNAME turns one off (--nosync). A boolean's value (in a
file, or --NAME=VALUE) is true/false, yes/no, on/off or 1/0, in any case.
`

const helpEpilog = `Config job file (--config), as the Python agent reads it: INI sections hold
options by their underscore names; keys are case-insensitive; the values
False, false and None mean off/unset and True, true mean on; %(name)s is
the value of key name of the section or of [DEFAULT], and a literal % is
written %%. Every section is merged except [storage:NAME] sections, each of
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
`
