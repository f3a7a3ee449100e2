package agent

import (
	"fmt"
	"strings"
	"time"
)

// Actions, as upstream's --action values.
const (
	ActionBackup  = "backup"
	ActionRestore = "restore"
	ActionInfo    = "info"
	ActionAdmin   = "admin"
	ActionVerify  = "verify"
	ActionList    = "list"
	ActionExec    = "exec"
)

// Options are the resolved options of one run (command line over job INI
// over defaults), with upstream's meaning. The command line builds them;
// nothing here reads flags or files.
type Options struct {
	Action       string
	Mode         string // fs, mysql, postgresql, mongo, sqlserver
	Engine       string // engine name as in the layout, e.g. "tar"
	PathToBackup string
	BackupName   string
	Hostname     string
	Container    string
	Storage      string // storage name, for the result and messages only

	Compression      string // compressor name for new backups
	EncryptPassFile  string // "" = no encryption
	EncryptionFormat string // format for new encrypted backups

	Incremental        bool
	MaxLevel           int
	AlwaysLevel        int
	RestartAlwaysLevel float64 // days; 0 = off

	RestoreAbsPath  string
	RestoreFromDate time.Time // zero = newest
	// VerifyReadData makes verify read and check every stored byte; off,
	// it only checks that every object is there.
	VerifyReadData bool
	// ListGlob filters list's paths (path.Match on the relative path);
	// "" lists everything.
	ListGlob string
	// RestorePaths restricts a restore to matching paths (globs) and the
	// directories above them.
	RestorePaths []string

	RemoveOlderThan float64 // days; used when HaveRemoveOlder
	HaveRemoveOlder bool    // --remove-older-than was given (0 is a valid value)
	// AbandonedUploadGrace is how long (days) admin leaves what a backup
	// that never completed stored, so that a run still going on, or one
	// to be resumed, keeps it.
	AbandonedUploadGrace float64
	RemoveFromDate       time.Time // zero = unset

	Exclude            []string
	DereferenceSymlink string
	RsyncBlockSize     int // block size of a new rsync chain; 0 = the engine's default

	Overwrite           bool
	DryRun              bool
	Sync                bool
	ConsistencyCheck    bool
	ConsistencyChecksum string

	Command string

	// ResultExtras are copied into the backup result JSON as they are
	// (upstream echoes options such as ssh_host, log_file, proxy there).
	ResultExtras map[string]any
}

// ModeGlance is the mode (and engine) whose backups are Glance images,
// not files: it needs no path to back up or restore into.
const ModeGlance = "glance"

func (o Options) resourceMode() bool { return o.Mode == ModeGlance }

// HostBackupName is "<hostname>_<backup_name>", the layout's name.
func (o Options) HostBackupName() string { return o.Hostname + "_" + o.BackupName }

// dateLayouts are the accepted --restore-from-date / --remove-from-date
// forms. Upstream's is the first, read as local time; we read a date
// without a zone as UTC so that the same job gives the same answer on every
// host, and accept an explicit zone.
var dateLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	time.RFC3339,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04",
	"2006-01-02",
}

// ParseDate parses a date option: "YYYY-MM-DDThh:mm:ss" in UTC, or with a
// zone ("...Z", "...+02:00").
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DDThh:mm:ss (UTC) or with a zone, e.g. 2026-03-25T23:23:23+01:00", s)
}

// Validate checks what every action needs before it touches anything.
func (o Options) Validate() error {
	switch o.Action {
	case ActionBackup, ActionRestore, ActionInfo, ActionAdmin, ActionExec, ActionVerify, ActionList:
	default:
		return usagef("--action %q: want one of backup, restore, info, admin, exec, verify, list", o.Action)
	}
	if o.Action == ActionExec {
		if strings.TrimSpace(o.Command) == "" {
			return usagef("--action exec needs --command")
		}
		return nil
	}
	switch o.Mode {
	case "fs", "mysql", "postgresql", "mongo", "sqlserver", ModeGlance:
		// Which of these this build runs, and how, the command line
		// decides when it wires the Source and the engine.
	default:
		return usagef("--mode %q: want fs, mysql, postgresql, mongo, sqlserver or glance", o.Mode)
	}
	if o.Engine == "" {
		return usagef("no --engine given")
	}
	if o.Action == ActionInfo {
		return nil
	}
	if o.BackupName == "" {
		return usagef("--backup-name is required for --action %s", o.Action)
	}
	if o.Hostname == "" {
		return usagef("--hostname is empty")
	}
	if o.MaxLevel < 0 || o.AlwaysLevel < 0 || o.RestartAlwaysLevel < 0 {
		return usagef("--max-level, --always-level and --restart-always-level must not be negative")
	}
	switch o.Action {
	case ActionBackup:
		if o.PathToBackup == "" && !o.resourceMode() {
			return usagef("--path-to-backup is required for --action backup")
		}
		switch o.DereferenceSymlink {
		case "", "soft", "hard", "all":
		default:
			return usagef("--dereference-symlink %q: want soft, hard or all", o.DereferenceSymlink)
		}
	case ActionRestore:
		if o.RestoreAbsPath == "" && !o.resourceMode() {
			return usagef("--restore-abs-path is required for --action restore")
		}
	case ActionAdmin:
		if !o.HaveRemoveOlder && o.RemoveFromDate.IsZero() {
			return usagef("--action admin needs --remove-older-than or --remove-from-date")
		}
		if o.HaveRemoveOlder && !o.RemoveFromDate.IsZero() {
			return usagef("give only one of --remove-older-than and --remove-from-date")
		}
		if o.HaveRemoveOlder && o.RemoveOlderThan < 0 {
			return usagef("--remove-older-than must not be negative")
		}
		if o.AbandonedUploadGrace < 0 {
			return usagef("--abandoned-upload-grace must not be negative")
		}
	}
	return nil
}
