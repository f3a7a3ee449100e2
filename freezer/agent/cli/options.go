package cli

// kind is an option's value type, as upstream's oslo.config type.
type kind int

const (
	str kind = iota
	boolean
	integer
	float
)

// opt is one freezer-agent option. Name is the oslo "dest" (underscores),
// which is also its key in a --config job INI and in scheduler job
// documents; on the command line it is spelled with dashes.
type opt struct {
	Name    string
	Short   string   // "-F"; "" = none
	Aliases []string // other command-line spellings, e.g. "--engine" for engine_name
	Kind    kind
	Default string // textual default; "" = unset
	Help    string
	Choices []string
	Group   string
	// Unsupported options are accepted (job files written for the Python
	// agent keep loading) but a run that sets them fails with a clear
	// message instead of silently doing something else.
	Unsupported string
	// Ignored options are accepted and have no effect here (logging
	// plumbing of oslo.log, say); a debug line notes them.
	Ignored bool
}

const (
	gGeneral = "General"
	gLevels  = "Incremental levels and retention"
	gData    = "Data (engine, compression, encryption)"
	gRestore = "Restore"
	gStorage = "Storage"
	gLog     = "Logging and output"
	gCompat  = "Accepted for compatibility with the Python agent"
)

// options lists every option, in help order within each group. It is a
// function so there is no package-level mutable table.
func options() []opt {
	noOS := "backups of OpenStack resources (cinder, nova, glance) are not supported by this agent; use the fs mode"
	return append([]opt{
		{Name: "action", Kind: str, Default: "backup", Group: gGeneral, Choices: []string{"backup", "restore", "info", "admin", "exec"},
			Help: "What to do: backup, restore, info (list backups), admin (remove old backups), exec (run --command)."},
		{Name: "engine_name", Short: "-e", Aliases: []string{"--engine"}, Kind: str, Default: "tar", Group: gGeneral, Choices: []string{"tar", "stream"},
			Help: "Archive engine: tar (GNU tar format with listed-incremental levels, built in; no tar binary needed). stream: a database tool's output, chosen by --mode mysql (without --snapshot) and --mode postgresql."},
		{Name: "path_to_backup", Short: "-F", Kind: str, Group: gGeneral, Help: "File or directory to back up."},
		{Name: "backup_name", Short: "-N", Kind: str, Group: gGeneral, Help: "Name of the backup; required for backup, restore and admin."},
		{Name: "hostname", Kind: str, Group: gGeneral, Help: "Host name the backups belong to. Default: this host's name. Set it to restore or purge another host's backups."},
		{Name: "container", Short: "-C", Kind: str, Default: "freezer_backups", Group: gGeneral,
			Help: "Where backups go: a Swift container (optionally container/prefix), an S3 bucket[/prefix], or a directory for local, ssh and ftp storage. A backup creates it when missing; the other actions never do."},
		{Name: "storage", Kind: str, Default: "swift", Group: gGeneral, Choices: []string{"local", "swift", "ssh", "s3", "ftp", "ftps"},
			Help: "Storage type."},
		{Name: "config", Kind: str, Group: gGeneral,
			Help: "A freezer job INI file: options with underscores (path_to_backup = /data) in any section; [storage:NAME] sections define several storages at once. Command-line options win."},
		{Name: "config_file", Kind: str, Group: gGeneral, Help: "An oslo-style config file whose [DEFAULT] options apply (below --config and the command line). Default, as oslo.config: the first freezer.conf and the first freezer-agent.conf found in ~/.freezer, ~, /etc/freezer and /etc."},
		{Name: "config_dir", Kind: str, Group: gGeneral, Help: "A directory of *.conf files read like --config-file, in sorted order. Default: the first freezer.conf.d and freezer-agent.conf.d directories found in the same places."},
		{Name: "metadata_out", Kind: str, Group: gLog, Help: "Write the result as JSON to this file; - means standard output (the scheduler uses this), and then nothing but an error goes to standard error."},
		{Name: "dry_run", Kind: boolean, Default: "False", Group: gGeneral,
			Help: "Do everything but write or delete: a backup is made and measured but not stored, a restore lists the archives, admin lists what it would remove."},
		{Name: "command", Kind: str, Group: gGeneral, Help: "Command line run by --action exec, through /bin/sh -c; its exit status becomes the agent's."},
		{Name: "sync", Kind: boolean, Default: "True", Group: gGeneral, Help: "Flush file system buffers before a backup."},
		{Name: "max_priority", Kind: str, Group: gGeneral, Help: "Any non-empty value runs at the highest CPU priority (nice -19) and real-time I/O priority (Linux); needs privileges. Use with caution."},
		{Name: "overwrite", Kind: boolean, Default: "False", Group: gRestore, Help: "Allow restoring into a non-empty directory."},
		{Name: "consistency_check", Kind: boolean, Default: "False", Group: gData,
			Help: "Compute an order-independent checksum of the tree before the backup and put it in the result (consistency_checksum)."},
		{Name: "consistency_checksum", Kind: str, Group: gRestore, Help: "After a restore, compare the restored tree's checksum with this value; a mismatch fails the restore."},

		{Name: "incremental", Kind: boolean, Group: gLevels,
			Help: "Take incremental (tar listed-incremental) backups: each level holds what changed since the previous one. Off by default; --max-level, --always-level or --restart-always-level turn it on."},
		{Name: "no_incremental", Kind: boolean, Group: gLevels,
			Help: "Never take incremental backups (every backup is a level 0), whatever other options say. Accepts an optional value (True/False) as the Python agent 13.0 did."},
		{Name: "max_level", Kind: integer, Group: gLevels, Help: "Highest incremental level: levels 0..N, then a new level 0."},
		{Name: "always_level", Kind: integer, Group: gLevels, Help: "Climb levels 0..N, then keep taking level N backups against level N-1 (differential)."},
		{Name: "restart_always_level", Kind: float, Group: gLevels, Help: "Start a new level 0 when the current chain's level 0 is older than this many days."},
		{Name: "remove_older_than", Short: "-R", Kind: float, Group: gLevels,
			Help: "admin: remove backups older than this many days, except those a newer backup still needs."},
		{Name: "remove_from_date", Kind: str, Group: gLevels,
			Help: "admin: remove backups older than this date, YYYY-MM-DDThh:mm:ss (UTC unless a zone is given), except those a newer backup still needs."},
		{Name: "fullbackup_rotation", Kind: integer, Group: gCompat, Unsupported: noOS, Help: "cindernative only."},

		{Name: "restore_abs_path", Kind: str, Group: gRestore, Help: "Directory to restore into (created if missing)."},
		{Name: "restore_from_date", Kind: str, Group: gRestore,
			Help: "Restore the state as of this date: the newest backup at or before it, YYYY-MM-DDThh:mm:ss (UTC unless a zone is given, e.g. 2026-03-25T23:23:23+01:00)."},

		{Name: "compression", Kind: str, Default: "gzip", Group: gData, Choices: []string{"gzip", "bzip2", "xz", "zstd", "none"},
			Help: "Compression of new backups. gzip, bzip2 and xz are readable by the Python agent; zstd is fastest. Restore reads it from the backup."},
		{Name: "encrypt_pass_file", Kind: str, Group: gData, Help: "Encrypt with the passphrase on the first line of this file."},
		{Name: "encryption_format", Kind: str, Default: "fzae1", Group: gData, Choices: []string{"fzae1", "openssl"},
			Help: "Encryption of new backups: fzae1 (authenticated, Argon2id key derivation) or openssl (the Python agent's `openssl enc -aes-256-cfb` format, unauthenticated; use it for chains a Python agent must restore). Restore reads it from the backup."},
		{Name: "exclude", Kind: str, Group: gData, Help: "Exclude files matching this shell pattern, e.g. '*.log'."},
		{Name: "dereference_symlink", Kind: str, Group: gData, Choices: []string{"", "soft", "hard", "all"},
			Help: "Archive what links point to: soft (symbolic links), hard (hard links as separate files) or all."},
		{Name: "max_segment_size", Short: "-M", Kind: integer, Default: "33554432", Group: gStorage,
			Help: "Segment size in bytes: one Swift segment or S3 part."},

		{Name: "ssh_key", Kind: str, Default: "~/.ssh/id_rsa", Group: gStorage, Help: "ssh storage: private key file."},
		{Name: "ssh_username", Kind: str, Group: gStorage, Help: "ssh storage: user name."},
		{Name: "ssh_host", Kind: str, Group: gStorage, Help: "ssh storage: host."},
		{Name: "ssh_password", Kind: str, Group: gStorage, Help: "ssh storage: password (the key is then not used)."},
		{Name: "ssh_port", Kind: integer, Default: "22", Group: gStorage, Help: "ssh storage: port."},
		{Name: "ssh_known_hosts", Kind: str, Group: gStorage, Help: "ssh storage: known_hosts file the server's host key is checked against. Default: ~/.ssh/known_hosts."},
		{Name: "ssh_insecure_ignore_host_key", Kind: boolean, Group: gStorage, Help: "ssh storage: do not check the server's host key (unsafe; upstream never checked it)."},
		{Name: "ftp_username", Kind: str, Group: gStorage, Help: "ftp/ftps storage: user name."},
		{Name: "ftp_password", Kind: str, Group: gStorage, Help: "ftp/ftps storage: password."},
		{Name: "ftp_host", Kind: str, Group: gStorage, Help: "ftp/ftps storage: host."},
		{Name: "ftp_port", Kind: integer, Default: "21", Group: gStorage, Help: "ftp/ftps storage: port."},
		{Name: "ftp_keyfile", Kind: str, Group: gStorage, Help: "ftps storage: client key file."},
		{Name: "ftp_certfile", Kind: str, Group: gStorage, Help: "ftps storage: client certificate file."},
		{Name: "ftp_cacert", Kind: str, Group: gStorage, Help: "ftps storage: CA certificate file the server's certificate is checked against."},
		{Name: "ftp_insecure", Kind: boolean, Group: gStorage, Help: "ftps storage: do not verify the server's certificate."},
		{Name: "access_key", Kind: str, Group: gStorage, Help: "s3 storage: access key (default: $ACCESS_KEY)."},
		{Name: "secret_key", Kind: str, Group: gStorage, Help: "s3 storage: secret key (default: $SECRET_KEY)."},
		{Name: "endpoint", Kind: str, Group: gStorage, Help: "s3 storage: endpoint URL (default: $ENDPOINT)."},
		{Name: "upload_limit", Kind: str, Default: "-1", Group: gStorage, Help: "Upload bandwidth limit in bytes per second; K, M, G suffixes allowed; -1 = none."},
		{Name: "download_limit", Kind: str, Default: "-1", Group: gStorage, Help: "Download bandwidth limit in bytes per second; K, M, G suffixes allowed; -1 = none."},
		{Name: "insecure", Kind: boolean, Default: "False", Group: gStorage, Help: "Do not verify TLS certificates."},
		{Name: "timeout", Kind: integer, Default: "120", Group: gCompat, Ignored: true},
		{Name: "proxy", Kind: str, Group: gStorage, Help: "HTTP(S) proxy URL for storages that speak HTTP."},
		{Name: "os_identity_api_version", Aliases: []string{"--os-auth-ver"}, Kind: str, Default: "3", Group: gCompat, Ignored: true},
		{Name: "project_id", Kind: str, Group: gStorage, Help: "Keystone project id to scope to (swift storage)."},
		{Name: "os_trust_id", Kind: str, Group: gStorage, Help: "Keystone trust id (swift storage)."},

		{Name: "log_file", Aliases: []string{"--logfile"}, Kind: str, Group: gLog,
			Help: "Log file. Default: /var/log/freezer-agent/freezer-agent.log if writable, else ~/.freezer/freezer.log."},
		{Name: "log_dir", Aliases: []string{"--logdir"}, Kind: str, Group: gLog, Help: "Directory for a relative --log-file."},
		{Name: "use_json", Kind: boolean, Default: "False", Group: gLog, Help: "Write the log as JSON lines instead of key=value lines."},
		{Name: "debug", Short: "-d", Kind: boolean, Default: "False", Group: gLog, Help: "Log at debug level."},
		{Name: "quiet", Short: "-q", Kind: boolean, Default: "False", Group: gLog, Help: "No progress, no stats line, no error message on standard error (the exit status and the log still tell)."},

		{Name: "cinder_vol_id", Kind: str, Group: gCompat, Unsupported: noOS},
		{Name: "cinder_vol_name", Kind: str, Group: gCompat, Unsupported: noOS},
		{Name: "cindernative_vol_id", Kind: str, Group: gCompat, Unsupported: noOS},
		{Name: "cindernative_backup_id", Kind: str, Group: gCompat, Unsupported: noOS},
		{Name: "cindernative_backup_az", Kind: str, Group: gCompat, Unsupported: noOS},
		{Name: "cindernative_backup_container", Kind: str, Group: gCompat, Ignored: true},
		{Name: "cinderbrick_vol_id", Kind: str, Group: gCompat, Unsupported: noOS},
		{Name: "nova_inst_id", Kind: str, Group: gCompat, Unsupported: noOS},
		{Name: "nova_inst_name", Kind: str, Group: gCompat, Unsupported: noOS},
		{Name: "nova_restore_network", Kind: str, Group: gCompat, Ignored: true},
		{Name: "glance_image_id", Kind: str, Group: gCompat, Unsupported: noOS},
		{Name: "glance_image_name", Kind: str, Group: gCompat, Unsupported: noOS},
		{Name: "glance_image_name_filter", Kind: str, Group: gCompat, Ignored: true},
		{Name: "rsync_block_size", Kind: integer, Default: "4096", Group: gCompat, Ignored: true},
		{Name: "temp_resource_prefix", Kind: str, Default: "freezer_", Group: gCompat, Ignored: true},
		{Name: "log_config_append", Aliases: []string{"--log-config", "--log_config"}, Kind: str, Group: gCompat, Ignored: true},
		{Name: "log_date_format", Kind: str, Group: gCompat, Ignored: true},
		{Name: "use_syslog", Kind: boolean, Group: gCompat, Ignored: true},
		{Name: "use_journal", Kind: boolean, Group: gCompat, Ignored: true},
		{Name: "syslog_log_facility", Kind: str, Group: gCompat, Ignored: true},
		{Name: "watch_log_file", Kind: boolean, Group: gCompat, Ignored: true},
	}, modeOptions()...) // modes.go
}

// storageKeys are the options a storage constructor may read; they are
// passed to it by name, from the top level or from a [storage:NAME]
// section.
func storageKeys() []string {
	return []string{
		"max_segment_size", "ssh_key", "ssh_username", "ssh_host", "ssh_password", "ssh_port",
		"ssh_known_hosts", "ssh_insecure_ignore_host_key",
		"ftp_username", "ftp_password", "ftp_host", "ftp_port", "ftp_keyfile", "ftp_certfile",
		"ftp_cacert", "ftp_insecure",
		"access_key", "secret_key", "endpoint", "upload_limit", "download_limit", "insecure",
		"timeout", "proxy", "os_identity_api_version", "project_id", "os_trust_id",
	}
}
