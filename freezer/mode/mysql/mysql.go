// Package mysql is the mysql mode: a MariaDB or MySQL server described by
// upstream's --mysql-conf INI ([default] host, port, user, password; also
// socket here).
//
// With --snapshot, Lock holds FLUSH TABLES WITH READ LOCK while the
// snapshot is taken (upstream's behaviour, which is consistent because the
// snapshot is one instant). Without one, HotBackup streams
// `mariadb-backup --backup --stream=xbstream` (InnoDB is copied while it
// runs and made consistent by --prepare at restore; the other engines are
// copied under MariaDB's BACKUP STAGE locks, which it drops when there are
// none: see HotBackup), and its restore
// extracts the stream with mbstream and prepares it with mariadb-backup
// --prepare, leaving a data directory mariadbd starts on.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer/engine/stream"
	"freezer.dev/freezer/freezer/mode"
)

// Config is the [default] section of --mysql-conf.
type Config struct {
	Host     string
	Port     int
	User     string
	Password string
	Socket   string
}

// LoadConfig reads --mysql-conf.
func LoadConfig(path string) (Config, error) {
	v, err := mode.ReadSection(path, "default")
	if err != nil {
		return Config{}, fmt.Errorf("--mysql-conf: %w", err)
	}
	c := Config{Host: v["host"], User: v["user"], Password: v["password"], Socket: v["socket"], Port: 3306}
	if p := v["port"]; p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port <= 0 || c.Port > 65535 {
			return Config{}, fmt.Errorf("--mysql-conf %s: port %q is not a port number", path, p)
		}
	}
	if c.Host == "" && c.Socket == "" {
		c.Host = "localhost"
	}
	return c, nil
}

// DSN returns the go-sql-driver DSN.
func (c Config) DSN() string {
	d := mysqldrv.NewConfig()
	d.User, d.Passwd = c.User, c.Password
	if c.Socket != "" {
		d.Net, d.Addr = "unix", c.Socket
	} else {
		d.Net, d.Addr = "tcp", fmt.Sprintf("%s:%d", c.Host, c.Port)
	}
	d.Timeout = 30 * time.Second
	return d.FormatDSN()
}

// Lock is the mode's Hooks: FLUSH TABLES WITH READ LOCK on one connection,
// released by UNLOCK TABLES on the same one.
type Lock struct {
	Config Config
	db     *sql.DB
	conn   *sql.Conn
}

// Name implements mode.Hooks.
func (*Lock) Name() string { return "mysql" }

// Prepare implements mode.Hooks.
func (l *Lock) Prepare(ctx context.Context) error {
	db, err := sql.Open("mysql", l.Config.DSN())
	if err != nil {
		return err
	}
	l.db = db
	if l.conn, err = db.Conn(ctx); err != nil {
		return fmt.Errorf("connecting to the server: %w", err)
	}
	if _, err := l.conn.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK"); err != nil {
		return fmt.Errorf("FLUSH TABLES WITH READ LOCK: %w", err)
	}
	return nil
}

// Release implements mode.Hooks: the lock ends with UNLOCK TABLES, or, if
// that fails, when the connection closes.
func (l *Lock) Release(ctx context.Context) error {
	var err error
	if l.conn != nil {
		if _, uerr := l.conn.ExecContext(ctx, "UNLOCK TABLES"); uerr != nil {
			err = fmt.Errorf("UNLOCK TABLES: %w", uerr)
		}
		l.conn.Close() // closing the session releases the lock anyway
		l.conn = nil
	}
	if l.db != nil {
		l.db.Close()
		l.db = nil
	}
	return err
}

// Available reports whether mariadb-backup and mbstream are installed.
func Available() bool {
	_, e1 := exec.LookPath("mariadb-backup")
	_, e2 := exec.LookPath("mbstream")
	return e1 == nil && e2 == nil
}

// BackupLocks says whether a hot backup takes mariadb-backup's BACKUP
// STAGE locks (--mysql-hot-backup-locks).
type BackupLocks string

const (
	// LocksAuto drops the locks when every table outside the system
	// schemas is InnoDB, and keeps them otherwise.
	LocksAuto BackupLocks = "auto"
	// LocksAlways keeps them: BACKUP STAGE BLOCK_COMMIT holds every
	// commit while the non-InnoDB tables and the redo log's tail are
	// copied.
	LocksAlways BackupLocks = "always"
	// LocksNever runs mariadb-backup --no-lock, which issues no BACKUP
	// STAGE or FLUSH TABLES statement at all.
	LocksNever BackupLocks = "never"
)

// Hot is how a hot backup runs.
type Hot struct {
	// Locks is auto when empty.
	Locks BackupLocks
	// TempDir holds the credentials file (mode 0600) and mariadb-backup's
	// target directory while it runs; "" = os.TempDir().
	TempDir string
	// Now is the clock the lock timer reads; nil = time.Now.
	Now func() time.Time
	// Log, when set, is told which way auto went and why.
	Log *logrus.Entry
}

// HotBackup returns the stream engine's options for a mariadb-backup hot
// backup of the server in c whose data directory is the backup path.
//
// Without its locks mariadb-backup copies InnoDB exactly as with them (the
// redo log it copies makes --prepare consistent); what the locks add is a
// consistent copy of the other engines' files, which are copied while
// commits wait, and a binary log position. So the locks are dropped only
// when there are no such tables to protect (auto) or the operator says so
// (never); the system schemas' Aria tables change only with DDL and
// account changes, which a backup window is not expected to see.
func HotBackup(c Config, h Hot) stream.Options {
	if h.Now == nil {
		h.Now = time.Now
	}
	if h.Locks == "" {
		h.Locks = LocksAuto
	}
	t := &lockTimer{now: h.Now}
	return stream.Options{
		Backup: func(ctx context.Context, path string) (stream.Command, error) {
			locks := h.Locks != LocksNever
			if h.Locks == LocksAuto {
				others, n, err := nonInnoDB(ctx, c)
				if err != nil {
					return stream.Command{}, fmt.Errorf("--mysql-hot-backup-locks auto: listing the tables that are not InnoDB: %w", err)
				}
				locks = n > 0
				if h.Log != nil {
					if locks {
						h.Log.WithFields(logrus.Fields{"tables": strings.Join(others, ", "), "count": n}).
							Info("mysql hot backup: keeping mariadb-backup's BACKUP STAGE locks (commits wait while the non-InnoDB tables are copied), because these tables are not InnoDB")
					} else {
						h.Log.Info("mysql hot backup: every table outside the system schemas is InnoDB, so mariadb-backup runs with --no-lock and never blocks commits")
					}
				}
			}
			t.setLocks(locks)
			dir, err := os.MkdirTemp(h.TempDir, "freezer-mariabackup-*")
			if err != nil {
				return stream.Command{}, err
			}
			cnf := filepath.Join(dir, "client.cnf")
			if err := os.WriteFile(cnf, []byte(clientCnf(c)), 0o600); err != nil {
				os.RemoveAll(dir)
				return stream.Command{}, err
			}
			target := filepath.Join(dir, "target")
			// --defaults-extra-file must come first; the password is
			// never on the command line.
			args := []string{"--defaults-extra-file=" + cnf, "--backup", "--stream=xbstream",
				"--target-dir=" + target, "--datadir=" + path}
			if !locks {
				args = append(args, "--no-lock")
			}
			return stream.Command{
				Path: "mariadb-backup",
				Args: args,
				Done: func() { os.RemoveAll(dir) },
			}, nil
		},
		StderrLine: t.line,
		Stats:      t.stats,
		Restore: func(ctx context.Context, dir string) (stream.Command, []stream.Command, error) {
			return stream.Command{Path: "mbstream", Args: []string{"-x"}},
				[]stream.Command{{Path: "mariadb-backup", Args: []string{"--prepare", "--target-dir=" + dir}}}, nil
		},
	}
}

// systemSchemas are left out of the InnoDB-only check: mysql's tables are
// Aria or MyISAM on every server, and the others hold no table files.
var systemSchemas = []string{"mysql", "sys", "performance_schema", "information_schema"}

// maxNamed is how many non-InnoDB tables the log names.
const maxNamed = 5

// nonInnoDB returns up to maxNamed of the server's tables outside the
// system schemas that are not InnoDB (schema.table (engine)), and how many
// there are. A base table with no engine (a table the server cannot open)
// counts: nothing says it is InnoDB.
func nonInnoDB(ctx context.Context, c Config) ([]string, int, error) {
	db, err := sql.Open("mysql", c.DSN())
	if err != nil {
		return nil, 0, err
	}
	defer db.Close()
	q := "SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(ENGINE, '?') FROM information_schema.TABLES" +
		" WHERE TABLE_SCHEMA NOT IN (?, ?, ?, ?) AND TABLE_TYPE <> 'VIEW'" +
		" AND (ENGINE IS NULL OR ENGINE <> 'InnoDB') ORDER BY TABLE_SCHEMA, TABLE_NAME"
	args := make([]any, len(systemSchemas))
	for i, s := range systemSchemas {
		args[i] = s
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var names []string
	n := 0
	for rows.Next() {
		var schema, table, engine string
		if err := rows.Scan(&schema, &table, &engine); err != nil {
			return nil, 0, err
		}
		if n++; n <= maxNamed {
			names = append(names, fmt.Sprintf("%s.%s (%s)", schema, table, engine))
		}
	}
	return names, n, rows.Err()
}

// clientCnf renders c as the [client] group of a MariaDB option file,
// which mariadb-backup reads with --defaults-extra-file.
func clientCnf(c Config) string {
	var b strings.Builder
	b.WriteString("[client]\n")
	fmt.Fprintf(&b, "user=%s\npassword=%s\n", optionValue(c.User), optionValue(c.Password))
	if c.Socket != "" {
		fmt.Fprintf(&b, "socket=%s\n", optionValue(c.Socket))
	} else {
		fmt.Fprintf(&b, "host=%s\nport=%d\nprotocol=tcp\n", optionValue(c.Host), c.Port)
	}
	return b.String()
}

// optionValue quotes v for a MariaDB option file. Unquoted, the file's
// reader strips leading and trailing blanks, ends the value at a "#"
// (a comment) and reads backslash escapes; inside double quotes "#" and
// blanks are kept and the escapes \\, \" and \n (\t, \r, \b) give the
// character back, so every string round-trips.
func optionValue(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		switch r {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// lockTimer measures, from mariadb-backup's messages as they arrive, how
// long it blocked writes: from BACKUP STAGE BLOCK_COMMIT (commits wait) to
// BACKUP STAGE END, and from BLOCK_DDL for DDL.
type lockTimer struct {
	now                     func() time.Time
	mu                      sync.Mutex
	commit, ddl, end        time.Time
	sawCommit, sawDDL, done bool
	// locks is false for a --no-lock run, which still logs "Starting
	// BACKUP STAGE ..." lines although it issues no statement.
	locks, decided bool
}

func (t *lockTimer) setLocks(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.locks, t.decided = on, true
}

func (t *lockTimer) line(l string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case strings.Contains(l, "BACKUP STAGE BLOCK_COMMIT") && !t.sawCommit:
		t.commit, t.sawCommit = t.now(), true
	case strings.Contains(l, "BACKUP STAGE BLOCK_DDL") && !t.sawDDL:
		t.ddl, t.sawDDL = t.now(), true
	case strings.Contains(l, "BACKUP STAGE END") && !t.done:
		t.end, t.done = t.now(), true
	}
}

func (t *lockTimer) stats() map[string]any {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := map[string]any{"hot_backup": "mariadb-backup"}
	if t.decided {
		m["backup_locks"] = t.locks
		if !t.locks {
			m["lock_seconds"], m["ddl_lock_seconds"] = 0.0, 0.0
			return m
		}
	}
	if t.sawCommit && t.done {
		m["lock_seconds"] = t.end.Sub(t.commit).Seconds()
	}
	if t.sawDDL && t.done {
		m["ddl_lock_seconds"] = t.end.Sub(t.ddl).Seconds()
	}
	return m
}

// ErrNoHotBackup is why a mysql backup without --snapshot fails when
// mariadb-backup is not installed.
var ErrNoHotBackup = errors.New("--mode mysql without --snapshot needs mariadb-backup (and mbstream) for a consistent hot backup, and it is not installed: install it, or give --snapshot to copy the data directory from a snapshot taken under FLUSH TABLES WITH READ LOCK")
