package cli

import (
	"freezer.dev/freezer/internal/config"
	"freezer.dev/freezer/internal/logging"
)

// Sections of --help.
const (
	gGeneral = "General"
	gModes   = "Snapshots and application modes"
	gLevels  = "Incremental levels and retention"
	gData    = "Data (engine, compression, encryption)"
	gRestore = "Restore"
	gStorage = "Storage"
	gLog     = "Logging and output"
	gCompat  = "Accepted for compatibility with the Python agent"
	gProgram = "Program"
)

// schema lists every freezer-agent option, in help order within each
// section. Its name (underscores) is also its key in a --config job file
// and in scheduler job documents; on the command line it is spelled with
// dashes. All are [DEFAULT] options of the oslo files (--config-file). It
// is a function so there is no package-level mutable table.
func schema() config.Schema {
	noOS := "backups of OpenStack resources other than glance images (cinder, nova) are not supported by this agent"
	noOsloLog := "logging is configured by the oslo.log options only"
	s := config.Schema{
		{Name: "action", Default: "backup", Section: gGeneral, Choices: []string{"backup", "restore", "info", "admin", "exec", "verify", "list"},
			Help: "What to do: backup, restore, info (list backups), admin (remove old backups), exec (run --command), list (the contents of the backup a restore at --restore-from-date would give, merged over its chain: path, type, size, mode, owner, mtime and the level each comes from), verify (read the chain a restore at --restore-from-date would apply and check every checksum, authentication tag and archive member, writing nothing; exit 4 names the first damaged object of each damaged level)."},
		{Name: "engine_name", Short: "e", Aliases: []string{"engine"}, Default: "tar", Section: gGeneral, Choices: []string{"tar", "rsync", "rsyncv2", "stream", "glance"},
			Help: "Archive engine: tar (GNU tar format with listed-incremental levels, built in; no tar binary needed); rsyncv2 (or rsync: upstream's block-level format, stored as \"rsync\"; see the operators guide); stream: a database tool's output, chosen by --mode mysql (without --snapshot) and --mode postgresql; glance: a Glance image's bytes (the same as --mode glance)."},
		{Name: "path_to_backup", Short: "F", Section: gGeneral, Help: "File or directory to back up."},
		{Name: "backup_name", Short: "N", Section: gGeneral, Help: "Name of the backup; required for backup, restore and admin."},
		{Name: "hostname", Section: gGeneral, Help: "Host name the backups belong to. Default: this host's name. Set it to restore or purge another host's backups."},
		{Name: "container", Short: "C", Default: "freezer_backups", Section: gGeneral,
			Help: "Where backups go: a Swift container (optionally container/prefix), an S3 bucket[/prefix], or a directory for local, ssh and ftp storage. A backup creates it when missing; the other actions never do."},
		{Name: "storage", Default: "swift", Section: gGeneral, Choices: []string{"local", "swift", "ssh", "s3", "ftp", "ftps"},
			Help: "Storage type."},
		{Name: "config", Section: gGeneral,
			Help: "A freezer job INI file: options with underscores (path_to_backup = /data) in any section; [storage:NAME] sections define several storages at once. Command-line options win."},
		{Name: "config_file", CLIOnly: true, Section: gGeneral, Help: "An oslo-style config file whose [DEFAULT] options apply (below --config and the command line). Default, as oslo.config: the first freezer.conf and the first freezer-agent.conf found in ~/.freezer, ~, /etc/freezer and /etc."},
		{Name: "config_dir", CLIOnly: true, Section: gGeneral, Help: "A directory of *.conf files read like --config-file, in sorted order. Default: the first freezer.conf.d and freezer-agent.conf.d directories found in the same places."},
		{Name: "metadata_out", Section: gLog, Help: "Write the result as JSON to this file; - means standard output (the scheduler uses this), and then nothing but an error goes to standard error."},
		{Name: "dry_run", Type: config.Bool, Default: "False", Section: gGeneral,
			Help: "Do everything but write or delete: a backup is made and measured but not stored, a restore lists the archives, admin lists what it would remove."},
		{Name: "command", Section: gGeneral, Help: "Command line run by --action exec, through /bin/sh -c; its exit status becomes the agent's."},
		{Name: "sync", Type: config.Bool, Default: "True", Section: gGeneral, Help: "Flush file system buffers before a backup."},
		{Name: "max_priority", Section: gGeneral, Help: "Any non-empty value runs at the highest CPU priority (nice -19) and real-time I/O priority (Linux); needs privileges. Use with caution."},
		{Name: "overwrite", Type: config.Bool, Default: "False", Section: gRestore, Help: "Allow restoring into a non-empty directory."},
		{Name: "consistency_check", Type: config.Bool, Default: "False", Section: gData,
			Help: "Compute an order-independent checksum of the tree before the backup and put it in the result (consistency_checksum)."},
		{Name: "consistency_checksum", Section: gRestore, Help: "After a restore, compare the restored tree's checksum with this value; a mismatch fails the restore."},

		{Name: "incremental", Type: config.Bool, Section: gLevels,
			Help: "Take incremental (tar listed-incremental) backups: each level holds what changed since the previous one. Off by default; --max-level, --always-level or --restart-always-level turn it on."},
		{Name: "no_incremental", Type: config.Bool, Lenient: true, Section: gLevels,
			Help: "Never take incremental backups (every backup is a level 0), whatever other options say. Accepts an optional value (True/False) as the Python agent 13.0 did."},
		{Name: "max_level", Type: config.Int, Section: gLevels, Help: "Highest incremental level: levels 0..N, then a new level 0."},
		{Name: "always_level", Type: config.Int, Section: gLevels, Help: "Climb levels 0..N, then keep taking level N backups against level N-1 (differential)."},
		{Name: "restart_always_level", Type: config.Float, Section: gLevels, Help: "Start a new level 0 when the current chain's level 0 is older than this many days."},
		{Name: "remove_older_than", Short: "R", Type: config.Float, Section: gLevels,
			Help: "admin: remove backups older than this many days, except those a newer backup still needs."},
		{Name: "remove_from_date", Section: gLevels,
			Help: "admin: remove backups older than this date, YYYY-MM-DDThh:mm:ss (UTC unless a zone is given), except those a newer backup still needs."},
		{Name: "abandoned_upload_grace", Type: config.Float, Default: "1", Section: gLevels,
			Help: "admin: also remove what backups that never completed left (payload segments, S3's incomplete multipart uploads) once they started more than this many days ago. A backup that runs, or is resumed, later than that after its start loses what it stored and uploads it again."},

		{Name: "verify_read_data", Type: config.Bool, Default: "True", Section: gRestore,
			Help: "--action verify: read and check every stored byte. False only checks that each level's payload and engine state exist and that the payload's stored size matches the size recorded in its metadata (fast, no payload byte read; contents are not checked)."},
		{Name: "restore_path", Type: config.MultiString, Section: gRestore,
			Help: "Restore only the paths matching this shell glob (relative to the backup's root, as --action list shows them; a matching directory brings everything below it) and the directories above them; repeatable. Every level is still read whole: its checks need every byte."},
		{Name: "list_format", Default: "table", Section: gRestore, Choices: []string{"table", "json"},
			Help: "--action list: a table, or a JSON array."},
		{Name: "list_glob", Section: gRestore,
			Help: "--action list: only paths matching this shell glob (relative to the backup's root, as in the archive; * does not match /)."},
		{Name: "restore_abs_path", Section: gRestore, Help: "Directory to restore into (created if missing)."},
		{Name: "restore_from_date", Section: gRestore,
			Help: "Restore the state as of this date: the newest backup at or before it, YYYY-MM-DDThh:mm:ss (UTC unless a zone is given, e.g. 2026-03-25T23:23:23+01:00)."},

		{Name: "compression", Default: "gzip", Section: gData, Choices: []string{"gzip", "bzip2", "xz", "zstd", "none"},
			Help: "Compression of new backups. gzip, bzip2 and xz are readable by the Python agent; zstd is fastest. Restore reads it from the backup."},
		{Name: "encrypt_pass_file", Section: gData, Help: "Encrypt with the passphrase on the first line of this file."},
		{Name: "encryption_format", Default: "fzae1", Section: gData, Choices: []string{"fzae1", "openssl"},
			Help: "Encryption of new backups: fzae1 (authenticated, Argon2id key derivation) or openssl (the Python agent's `openssl enc -aes-256-cfb` format, unauthenticated; use it for chains a Python agent must restore). Restore reads it from the backup."},
		{Name: "exclude", Section: gData, Help: "Exclude files matching this shell pattern, e.g. '*.log'."},
		{Name: "dereference_symlink", Section: gData, Choices: []string{"", "soft", "hard", "all"},
			Help: "Archive what links point to: soft (symbolic links), hard (hard links as separate files) or all."},
		{Name: "rsync_block_size", Type: config.Int, Default: "4096", Section: gData,
			Help: "Block size in bytes of a new rsyncv2 chain; later levels keep their chain's."},
		{Name: "max_segment_size", Short: "M", Type: config.Int, Default: "33554432", Section: gStorage,
			Help: "Segment size in bytes: one Swift segment or S3 part."},

		{Name: "ssh_key", Default: "~/.ssh/id_rsa", Section: gStorage, Help: "ssh storage: private key file."},
		{Name: "ssh_username", Section: gStorage, Help: "ssh storage: user name."},
		{Name: "ssh_host", Section: gStorage, Help: "ssh storage: host."},
		{Name: "ssh_password", Section: gStorage, Help: "ssh storage: password (the key is then not used)."},
		{Name: "ssh_port", Type: config.Int, Default: "22", Section: gStorage, Help: "ssh storage: port."},
		{Name: "ssh_known_hosts", Section: gStorage, Help: "ssh storage: known_hosts file the server's host key is checked against. Default: ~/.ssh/known_hosts."},
		{Name: "ssh_insecure_ignore_host_key", Type: config.Bool, Section: gStorage, Help: "ssh storage: do not check the server's host key (unsafe; upstream never checked it)."},
		{Name: "ftp_username", Section: gStorage, Help: "ftp/ftps storage: user name."},
		{Name: "ftp_password", Section: gStorage, Help: "ftp/ftps storage: password."},
		{Name: "ftp_host", Section: gStorage, Help: "ftp/ftps storage: host."},
		{Name: "ftp_port", Type: config.Int, Default: "21", Section: gStorage, Help: "ftp/ftps storage: port."},
		{Name: "ftp_keyfile", Section: gStorage, Help: "ftps storage: client key file."},
		{Name: "ftp_certfile", Section: gStorage, Help: "ftps storage: client certificate file."},
		{Name: "ftp_cacert", Section: gStorage, Help: "ftps storage: CA certificate file the server's certificate is checked against."},
		{Name: "ftp_insecure", Type: config.Bool, Section: gStorage, Help: "ftps storage: do not verify the server's certificate."},
		{Name: "access_key", Section: gStorage, Help: "s3 storage: access key (default: $ACCESS_KEY)."},
		{Name: "secret_key", Section: gStorage, Help: "s3 storage: secret key (default: $SECRET_KEY)."},
		{Name: "endpoint", Section: gStorage, Help: "s3 storage: endpoint URL (default: $ENDPOINT)."},
		{Name: "upload_limit", Default: "-1", Section: gStorage, Help: "Upload bandwidth limit in bytes per second; K, M, G suffixes allowed; -1 = none."},
		{Name: "download_limit", Default: "-1", Section: gStorage, Help: "Download bandwidth limit in bytes per second; K, M, G suffixes allowed; -1 = none."},
		{Name: "insecure", Type: config.Bool, Default: "False", Section: gStorage, Help: "Do not verify TLS certificates."},
		{Name: "proxy", Section: gStorage, Help: "HTTP(S) proxy URL for storages that speak HTTP."},
		{Name: "idle_timeout", Type: config.Int, Default: "60", Section: gStorage, Help: "Seconds a storage connection (swift, s3, ssh, ftp) may move no data while a request waits; then the request is retried, and the run fails naming the server."},
		{Name: "project_id", Section: gStorage, Help: "Keystone project id to scope to (swift storage, glance mode); in the glance mode also the project whose images are all backed up."},
		{Name: "os_trust_id", Section: gStorage, Help: "Keystone trust id to scope the token to instead of a project (swift storage, glance mode; default $OS_TRUST_ID)."},

		{Name: "log_file", Aliases: []string{"logfile"}, Section: gLog,
			Help: "Log file. Default: <log_dir>/freezer-agent.log with --log-dir, else /var/log/freezer-agent/freezer-agent.log if writable, else ~/.freezer/freezer.log."},
		{Name: "log_dir", Aliases: []string{"logdir"}, Section: gLog, Help: "Directory of a relative --log-file; alone, the log is <log_dir>/freezer-agent.log."},
		{Name: "use_json", Type: config.Bool, Default: "False", Section: gLog, Help: "Write the log as JSON lines instead of key=value lines."},
		{Name: "debug", Short: "d", Type: config.Bool, Default: "False", Section: gLog, Help: "Log at debug level."},
		{Name: "quiet", Short: "q", Type: config.Bool, Default: "False", Section: gLog, Help: "No progress, no stats line, no error message on standard error (the exit status and the log still tell)."},

		// Accepted for the Python agent's jobs, not supported: a run that
		// sets one fails with the reason (supporting one is deleting its
		// Unsupported), or warns that it has no effect (NoEffect).
		{Name: "lvm_auto_snap", Section: gCompat, NoEffect: "the logical volume is found from --path-to-backup (or --lvm-srcvol) when --snapshot lvm is given; set --snapshot to take a snapshot",
			Help: "Directory whose LVM volume is snapshotted automatically."},
		{Name: "cinder_vol_id", Section: gCompat, Unsupported: noOS, Help: "cinder mode: volume id."},
		{Name: "cinder_vol_name", Section: gCompat, Unsupported: noOS, Help: "cinder mode: volume name."},
		{Name: "cindernative_vol_id", Section: gCompat, Unsupported: noOS, Help: "cindernative mode: volume id."},
		{Name: "cindernative_backup_id", Section: gCompat, Unsupported: noOS, Help: "cindernative mode: backup id."},
		{Name: "cindernative_backup_az", Section: gCompat, Unsupported: noOS, Help: "cindernative mode: availability zone of the backup."},
		{Name: "cindernative_backup_container", Section: gCompat, NoEffect: noOS, Help: "cindernative mode: container of the backup."},
		{Name: "cinderbrick_vol_id", Section: gCompat, Unsupported: noOS, Help: "cinderbrick mode: volume id."},
		{Name: "fullbackup_rotation", Type: config.Int, Section: gCompat, Unsupported: noOS, Help: "cindernative mode: take a full backup every N backups."},
		{Name: "nova_inst_id", Section: gCompat, Unsupported: noOS, Help: "nova mode: instance id."},
		{Name: "nova_inst_name", Section: gCompat, Unsupported: noOS, Help: "nova mode: instance name."},
		{Name: "nova_restore_network", Section: gCompat, NoEffect: noOS, Help: "nova mode: network of the restored instance."},
		{Name: "glance_image_id", Section: gModes, Help: "glance mode: the image to back up or restore."},
		{Name: "glance_image_name", Section: gModes, Help: "glance mode: back up or restore every image of this name."},
		{Name: "glance_image_name_filter", Section: gModes, Help: "glance mode: skip the images whose name contains this (with --project-id, or alone over every image the user sees)."},
		{Name: "temp_resource_prefix", Default: "freezer_", Section: gCompat, NoEffect: noOS, Help: "Prefix of the temporary OpenStack resources a backup creates."},
		{Name: "timeout", Type: config.Int, Default: "120", Section: gCompat, Help: "Seconds the running operation may take, when set; then it fails (exit status 1). Unset, nothing bounds it (upstream's default bounded only its OpenStack modes)."},
		{Name: "os_identity_api_version", Aliases: []string{"os_auth_ver"}, Default: "3", Section: gCompat, NoEffect: "only the Keystone v3 API is used", Help: "Keystone API version."},
		{Name: "log_config_append", Aliases: []string{"log_config"}, Section: gCompat, NoEffect: noOsloLog, Help: "oslo.log: a Python logging configuration file."},
		// No default here: a job file reads "%" as interpolation, so the
		// sample's uncommented default would not load; "" is oslo's default.
		{Name: "log_date_format", Section: gLog, Help: "strftime format of the time of each log line; default " + logging.DefaultDateFormat + " (in a job file, write %% for %)."},
		{Name: "use_syslog", Type: config.Bool, Default: "False", Section: gLog, Help: "Log to syslog (/dev/log) as well."},
		{Name: "use_journal", Type: config.Bool, Default: "False", Section: gLog, Help: "Log to the systemd journal as well, with structured fields."},
		{Name: "syslog_log_facility", Default: "LOG_USER", Section: gLog, Help: "Syslog facility of use_syslog and use_journal: LOG_USER, LOG_DAEMON, LOG_LOCAL0 to LOG_LOCAL7, ..."},
		{Name: "watch_log_file", Type: config.Bool, Section: gCompat, NoEffect: "the file is not reopened when moved; use logrotate's copytruncate", Help: "oslo.log: reopen the log file when it is moved."},
		{Name: "use_stderr", Type: config.Bool, Default: "False", Section: gLog, Help: "Log to standard error as well (where progress and errors go too)."},
	}
	s = append(s, modeOptions()...) // modes.go
	return append(s,
		config.HelpOpt(gProgram),
		config.VersionOpt(gProgram),
		capabilitiesOpt(), // modes.go
		config.SampleOpt(gProgram, "a commented job file (--config) with every option, its help and default"))
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
		"timeout", "idle_timeout", "proxy", "os_identity_api_version", "project_id", "os_trust_id",
	}
}
