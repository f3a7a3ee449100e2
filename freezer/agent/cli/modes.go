package cli

// This file wires --mode and --snapshot (packages mode and snapshot) into
// the command line: the options, the Source and engine a mode needs, and
// --print-capabilities. It is kept apart from the option parser so either
// can change without the other.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer/agent"
	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/engine/stream"
	"freezer.dev/freezer/freezer/mode"
	"freezer.dev/freezer/freezer/mode/mongo"
	"freezer.dev/freezer/freezer/mode/mysql"
	"freezer.dev/freezer/freezer/mode/postgresql"
	"freezer.dev/freezer/freezer/mode/sqlserver"
	"freezer.dev/freezer/freezer/snapshot"
	"freezer.dev/freezer/freezer/snapshot/btrfs"
	"freezer.dev/freezer/freezer/snapshot/lvm"
	"freezer.dev/freezer/internal/config"
)

// modeOptions are the options of --mode and --snapshot, listed under
// gModes in --help.
func modeOptions() config.Schema {
	return config.Schema{
		{Name: "mode", Short: "m", Default: "fs", Section: gModes, Choices: []string{"fs", "mysql", "postgresql", "mongo", "sqlserver", "glance"},
			Help: "What to back up. fs: files and directories. mysql: a MariaDB/MySQL server (--mysql-conf); with --snapshot its data directory (--path-to-backup) is read from a snapshot taken under FLUSH TABLES WITH READ LOCK, released as soon as the snapshot exists; without --snapshot a hot backup is streamed by mariadb-backup (which must be installed; else the run fails and names --snapshot, because copying live InnoDB files under a read lock, as the Python agent does, is not consistent). Restore with --mode mysql: the restore follows the stored backup's metadata (without --engine it takes the newest backup of that name, whatever its engine); a hot backup's stream is extracted (mbstream) and prepared (mariadb-backup --prepare) into --restore-abs-path, ready for mariadbd, a --snapshot one is restored as files; a backup recorded with another --mode is refused. postgresql: a PostgreSQL server (--postgresql-conf), streamed by pg_basebackup with the WAL it needs, restored with --mode postgresql as a data directory. mongo: an fs backup that refuses to run unless the server on --hostname:27017 says this node is the replica set's primary (needs mongosh); combine with --snapshot. sqlserver: needs Windows VSS, refused by this agent. glance: Glance images (--glance-image-id, --glance-image-name, or every image of --project-id, less --glance-image-name-filter), each streamed through compression, encryption and the storage under <backup name>/<image id>, and restored as a new image \"Restore: <name>\" with the original's formats, visibility, protected flag and properties, checked against the original's checksum."},
		{Name: "snapshot", Short: "s", Section: gModes,
			Help: "Back up from a snapshot of --path-to-backup's file system, removed afterwards (also after a failure, SIGTERM, or, through a journal, after a crash: on the next run). btrfs: a read-only snapshot of the btrfs subvolume holding the path. lvm: an LVM snapshot of the logical volume holding it, as the Python agent (--lvm-* options). auto, or a true boolean (True, yes, on, 1), picks btrfs when the path is on btrfs, else lvm; when neither applies the backup fails, it never reads the live files instead. The kind used is recorded in the backup's metadata (snapshot)."},
		{Name: "snapshot_journal", Section: gModes,
			Help: "Directory where live snapshots are journaled, so that the next run removes one a killed run left. Default: /var/lib/freezer/snapshots as root, else ~/.freezer/snapshots."},
		{Name: "lvm_srcvol", Section: gModes, Help: "lvm snapshot: the logical volume to snapshot, e.g. /dev/vg0/data. Default: found from the mount table (/dev/mapper/<vg>-<lv>)."},
		{Name: "lvm_snapname", Section: gModes, Help: "Name of the snapshot (lvm; also btrfs). Default: freezer_backup_snap_<random hex>."},
		{Name: "lvm_snap_perm", Default: "ro", Section: gModes, Choices: []string{"ro", "rw"}, Help: "lvm snapshot: permission of the snapshot volume and its mount."},
		{Name: "lvm_snapsize", Default: "1G", Section: gModes, Help: "lvm snapshot: size of the snapshot (lvcreate --size); with a % it is lvcreate --extents, e.g. 80%FREE."},
		{Name: "lvm_dirmount", Section: gModes, Help: "lvm snapshot: where the snapshot is mounted. Default: /var/lib/freezer/mount_<random hex>."},
		{Name: "lvm_volgroup", Section: gModes, Help: "lvm snapshot: the volume group. Default: from the volume's name."},
		{Name: "mysql_conf", Section: gModes,
			Help: "mysql mode: INI file with a [default] section holding host, port (3306), user, password, and optionally socket, as the Python agent reads it."},
		{Name: "mysql_hot_backup_locks", Default: "auto", Section: gModes, Choices: []string{string(mysql.LocksAuto), string(mysql.LocksAlways), string(mysql.LocksNever)},
			Help: "mysql mode without --snapshot: whether mariadb-backup takes its BACKUP STAGE locks. They make the copy of non-InnoDB tables (Aria, MyISAM, ...) consistent, but BACKUP STAGE BLOCK_COMMIT holds every commit, InnoDB's too, while those tables and the redo log's tail are copied. auto: when every table outside the mysql, sys, performance_schema and information_schema schemas is InnoDB (checked when the backup starts), run mariadb-backup --no-lock, which never blocks commits (InnoDB is made consistent by --prepare at restore); otherwise keep the locks and log which tables are not InnoDB. always: keep them. never: --no-lock whatever the tables (their copies may be torn). Without the locks no DDL or account change may run during the backup, and the binary log position it records is not a consistent one. The result's backup_locks says which way it went."},
		{Name: "postgresql_conf", Section: gModes,
			Help: "postgresql mode: INI file with a [default] section holding host (or a socket directory), port (5432), user (a role with REPLICATION) and password."},
		{Name: "sql_server_conf", Section: gModes,
			Help: "sqlserver mode (Windows only): INI file with a [default] section holding instance."},
	}
}

// capabilitiesOpt is --print-capabilities, a command-line-only flag like
// --version.
func capabilitiesOpt() config.Opt {
	return config.Opt{Name: "print_capabilities", Type: config.Bool, CLIOnly: true, Section: gProgram,
		Help: "Print the engines, modes, storages, compressions, encryption formats and snapshot kinds this agent supports as JSON, and exit (the scheduler asks)."}
}

// Capabilities is what --print-capabilities prints: what this agent can
// do, so the scheduler advertises exactly that.
type Capabilities struct {
	Engines           []string `json:"engines"`
	Modes             []string `json:"modes"`
	Storages          []string `json:"storages"`
	Compressions      []string `json:"compressions"`
	EncryptionFormats []string `json:"encryption_formats"`
	Snapshots         []string `json:"snapshots"`
}

func capabilities(sch config.Schema) Capabilities {
	choices := func(name string) []string {
		for _, o := range sch {
			if o.Name == name {
				return slices.DeleteFunc(slices.Clone(o.Choices), func(c string) bool { return c == "" })
			}
		}
		return nil
	}
	// The modes setupMode runs on this platform (sqlserver needs Windows).
	modes := []string{"fs", "mysql", "postgresql", "mongo", "glance"}
	return Capabilities{
		Engines:           choices("engine_name"),
		Modes:             modes,
		Storages:          choices("storage"),
		Compressions:      choices("compression"),
		EncryptionFormats: choices("encryption_format"),
		Snapshots:         []string{"btrfs", "lvm"},
	}
}

func printCapabilities(w io.Writer, sch config.Schema) int {
	b, _ := json.Marshal(capabilities(sch))
	fmt.Fprintf(w, "%s\n", b)
	return ExitOK
}

// snapshotKind maps --snapshot to a kind: "" (none), btrfs, lvm or auto.
// A boolean is read by config.ParseBool, as every boolean is: false asks
// for no snapshot, true for auto. Any other value is an error, so that a
// misspelt kind is not taken for "auto".
func snapshotKind(v string) (string, error) {
	k := strings.ToLower(strings.TrimSpace(v))
	switch k {
	case "":
		return "", nil
	case "btrfs", "lvm", "auto":
		return k, nil
	}
	b, err := config.ParseBool(v)
	if err != nil {
		return "", fmt.Errorf("--snapshot %q: want btrfs, lvm, auto or a boolean", v)
	}
	if !b {
		return "", nil
	}
	return "auto", nil
}

func (s *settings) snapshotManager(getenv func(string) string, now func() time.Time) *snapshot.Manager {
	journal := expandHome(s.str("snapshot_journal"), getenv)
	if journal == "" {
		if os.Geteuid() == 0 {
			journal = "/var/lib/freezer/snapshots"
		} else {
			journal = expandHome("~/.freezer/snapshots", getenv)
		}
	}
	return &snapshot.Manager{
		Journal: journal,
		Now:     now,
		Providers: []snapshot.Provider{
			btrfs.New(btrfs.Options{Name: s.str("lvm_snapname")}),
			lvm.New(lvm.Options{
				SrcVol:   s.str("lvm_srcvol"),
				VolGroup: s.str("lvm_volgroup"),
				SnapName: s.str("lvm_snapname"),
				Perm:     s.str("lvm_snap_perm"),
				SnapSize: s.str("lvm_snapsize"),
				DirMount: s.str("lvm_dirmount"),
			}),
		},
	}
}

// followStoredBackup returns what makes a restore of a mysql or
// postgresql backup use the engine the stored backup's metadata names
// rather than one implied by --mode: a --snapshot mysql backup is a tar
// backup, a hot one a stream backup, and which one a restore reads depends
// on what was stored last. Nil when --engine was given (the restore then
// reads that engine's backups only) or for the other modes (their engine
// is --engine, tar by default, as the Python agent does).
func followStoredBackup(s *settings, o agent.Options, newEngine func(string) (backup.Engine, error)) (func(backup.Metadata) (backup.Engine, error), []string) {
	if o.Action != agent.ActionRestore || s.setBy("engine_name") != "" || (o.Mode != "mysql" && o.Mode != "postgresql") {
		return nil, nil
	}
	asked := o.Mode
	pick := func(md backup.Metadata) (backup.Engine, error) {
		mode := md.Mode
		if mode == "" {
			mode = asked // written before the metadata recorded the mode
		}
		if mode != asked {
			return nil, fmt.Errorf("its metadata says it is a --mode %s backup, not --mode %s: restore it with --mode %s", mode, asked, mode)
		}
		if md.EngineName != stream.Name {
			if newEngine == nil {
				return nil, errors.New("this build has no engines")
			}
			return newEngine(md.EngineName)
		}
		switch mode {
		case "mysql":
			return stream.New(mysql.HotBackup(mysql.Config{}, mysql.Hot{})), nil
		case "postgresql":
			return stream.New(postgresql.BaseBackup(postgresql.Config{}, "")), nil
		}
		return nil, fmt.Errorf("a stream backup of --mode %s cannot be restored", mode)
	}
	return pick, []string{stream.Name, "tar", "rsync"}
}

// setupMode returns the Source a backup reads through (nil: the live
// path) and, for modes whose payload is a command's output, the engine to
// use instead of --engine (nil: --engine). Before any backup it removes
// the snapshots a killed run left.
//
// A hot-backup mode (mysql without --snapshot, postgresql) stores its
// payload with the stream engine; the other actions of such a mode use it
// too unless --engine is given (a mysql backup taken with --snapshot is a
// tar backup: restore it with --engine tar).
func setupMode(ctx context.Context, s *settings, o *agent.Options, log *logrus.Entry, getenv func(string) string, now func() time.Time) (agent.Source, backup.Engine, error) {
	if o.Mode == agent.ModeGlance {
		// The engine is made per image (glance.go); incremental levels
		// of an image are not a thing.
		o.Incremental, o.MaxLevel, o.AlwaysLevel, o.RestartAlwaysLevel = false, 0, 0, 0
		return nil, nil, nil
	}
	explicitEngine := s.setBy("engine_name") != ""
	if o.Engine == stream.Name && o.Mode != "mysql" && o.Mode != "postgresql" {
		return nil, nil, withUsage(errors.New("--engine stream is for --mode mysql and --mode postgresql"))
	}
	if o.Action != agent.ActionBackup {
		if explicitEngine && o.Engine != stream.Name {
			return nil, nil, nil
		}
		switch o.Mode {
		case "mysql":
			o.Engine = stream.Name
			return nil, stream.New(mysql.HotBackup(mysql.Config{}, mysql.Hot{})), nil
		case "postgresql":
			o.Engine = stream.Name
			return nil, stream.New(postgresql.BaseBackup(postgresql.Config{}, "")), nil
		}
		return nil, nil, nil
	}
	kind, err := snapshotKind(s.str("snapshot"))
	if err != nil {
		return nil, nil, withUsage(err)
	}
	mgr := s.snapshotManager(getenv, now)
	gone, err := mgr.Recover(ctx)
	for _, r := range gone {
		log.WithFields(logrus.Fields{"snapshot": r.Name, "kind": r.Kind, "created": r.Created}).Warn("removed a snapshot left by an earlier, interrupted run")
	}
	if err != nil {
		log.WithError(err).Error("removing snapshots left by earlier runs")
	}
	var hooks mode.Hooks
	var eng backup.Engine
	switch o.Mode {
	case "fs":
	case "mysql":
		conf := expandHome(s.str("mysql_conf"), getenv)
		if conf == "" {
			return nil, nil, withUsage(errors.New("--mode mysql needs --mysql-conf"))
		}
		cfg, err := mysql.LoadConfig(conf)
		if err != nil {
			return nil, nil, withUsage(err)
		}
		if kind != "" {
			if explicitEngine && o.Engine == stream.Name {
				return nil, nil, withUsage(errors.New("--mode mysql: --snapshot copies the data directory with --engine tar; --engine stream is the hot backup, which needs no snapshot"))
			}
			hooks = &mysql.Lock{Config: cfg}
			break
		}
		if !mysql.Available() {
			return nil, nil, withUsage(mysql.ErrNoHotBackup)
		}
		eng = stream.New(mysql.HotBackup(cfg, mysql.Hot{Locks: mysql.BackupLocks(s.str("mysql_hot_backup_locks")), Now: now, Log: log}))
	case "postgresql":
		conf := expandHome(s.str("postgresql_conf"), getenv)
		if conf == "" {
			return nil, nil, withUsage(errors.New("--mode postgresql needs --postgresql-conf"))
		}
		cfg, err := postgresql.LoadConfig(conf)
		if err != nil {
			return nil, nil, withUsage(err)
		}
		if kind != "" {
			return nil, nil, withUsage(errors.New("--mode postgresql takes a base backup with pg_basebackup, which is consistent by itself: drop --snapshot"))
		}
		if !postgresql.Available() {
			return nil, nil, withUsage(errors.New("--mode postgresql needs pg_basebackup, and it is not installed"))
		}
		eng = stream.New(postgresql.BaseBackup(cfg, ""))
	case "mongo":
		hooks = &mongo.Check{Host: o.Hostname}
	case "sqlserver":
		if conf := expandHome(s.str("sql_server_conf"), getenv); conf != "" {
			if _, err := sqlserver.LoadInstance(conf); err != nil {
				return nil, nil, withUsage(err)
			}
		}
		return nil, nil, withUsage(errors.New("--mode sqlserver needs a VSS snapshot (Windows), which this agent does not have"))
	default:
		return nil, nil, withUsage(fmt.Errorf("--mode %s is not supported by this agent", o.Mode))
	}
	if eng != nil {
		// The tool makes a complete, consistent copy each time.
		o.Engine, o.Incremental = stream.Name, false
	}
	if hooks == nil && kind == "" {
		return nil, eng, nil
	}
	return &mode.Source{Hooks: hooks, Snapshots: mgr, Kind: kind, Now: now}, eng, nil
}
