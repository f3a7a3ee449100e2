package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"freezer.dev/freezer/internal/wait"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations
var migrationFS embed.FS

// Dialect names a supported SQL engine.
type Dialect string

// Supported dialects.
const (
	SQLite Dialect = "sqlite"
	MySQL  Dialect = "mysql"
)

// Kind classifies the errors callers branch on.
type Kind int

// Error kinds.
const (
	KindNotFound      Kind = iota + 1 // the addressed resource does not exist
	KindExists                        // an id or registration collides
	KindUnprocessable                 // a reference (client, action) cannot be used
	KindInvalid                       // the request contradicts the stored state
	KindForbidden                     // the resource belongs to another project
)

// Error is a store error a client caused; Msg is safe to show to it.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

func errf(k Kind, format string, a ...any) error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, a...)}
}

// KindOf returns the Kind of a store error, 0 for other errors.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// Scope is the caller: the project of the URL and the token's user.
type Scope struct {
	ProjectID string
	UserID    string
}

// Options tune Open.
type Options struct {
	MaxOpenConns    int           // [database] max_pool_size + max_overflow
	MaxIdleConns    int           // [database] max_pool_size
	ConnMaxLifetime time.Duration // [database] connection_recycle_time
	ConnMaxIdleTime time.Duration // idle connections beyond this are closed
	Now             func() time.Time
	NewID           func() string
	// DriverLog receives what the MySQL driver reports on its own, such
	// as "closing bad idle connection" after a database restart. Without
	// it the driver writes those lines to stderr in its own format, in
	// the middle of the service's structured log.
	DriverLog func(msg string)
}

// driverLog adapts Options.DriverLog to the MySQL driver's Logger.
type driverLog func(string)

func (f driverLog) Print(v ...any) { f(strings.TrimSpace(fmt.Sprint(v...))) }

// Store is the database handle.
type Store struct {
	db      *sqlx.DB
	dialect Dialect
	now     func() time.Time
	newID   func() string
	stmts   stmtCache
}

// NewID returns a random 32-character lower-case hex id, the format of
// upstream's uuid4().hex.
func NewID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("reading random bytes: %v", err)) // crypto/rand never fails on Linux
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// ParseURL turns an SQLAlchemy database URL (what [database] connection
// holds in upstream deployments) into a driver name and DSN.
// Accepted: sqlite:///relative.db, sqlite:////abs/path.db, sqlite:// (in
// memory), mysql://, mysql+pymysql://, mysql+mysqldb://, mariadb+pymysql://
// user:password@host[:port]/db[?charset=..&unix_socket=..]. A plain
// go-sql-driver DSN with "mysql://" replaced is not needed: operators'
// existing URLs work unchanged.
func ParseURL(raw string) (Dialect, string, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return "", "", fmt.Errorf("database connection %q is not a URL (want sqlite:///path or mysql+pymysql://user:pw@host/db)", redact(raw))
	}
	engine, _, _ := strings.Cut(strings.ToLower(scheme), "+")
	switch engine {
	case "sqlite":
		p, q, _ := strings.Cut(rest, "?")
		if p == "" {
			return SQLite, "file::memory:?" + sqlitePragmas(), nil
		}
		// sqlite:///x → "/x" here: strip one slash for relative paths;
		// sqlite:////abs keeps "/abs".
		p = strings.TrimPrefix(p, "/")
		if p == "" {
			return "", "", fmt.Errorf("database connection %q has no file name", raw)
		}
		_ = q // SQLAlchemy query options have no SQLite meaning here
		return SQLite, "file:" + p + "?" + sqlitePragmas(), nil
	case "mysql", "mariadb":
		u, err := url.Parse("mysql://" + rest)
		if err != nil {
			return "", "", fmt.Errorf("parsing database connection %q: %w", redact(raw), err)
		}
		cfg := mysql.NewConfig()
		if u.User != nil {
			cfg.User = u.User.Username()
			cfg.Passwd, _ = u.User.Password()
		}
		cfg.DBName = strings.TrimPrefix(u.Path, "/")
		q := u.Query()
		if sock := q.Get("unix_socket"); sock != "" {
			cfg.Net, cfg.Addr = "unix", sock
		} else {
			host := u.Hostname()
			if host == "" {
				host = "localhost"
			}
			port := u.Port()
			if port == "" {
				port = "3306"
			}
			cfg.Net, cfg.Addr = "tcp", host+":"+port
		}
		cfg.Collation = "utf8mb4_bin"
		cfg.ParseTime = false
		cfg.InterpolateParams = true // one round trip per query
		cfg.Params = map[string]string{"sql_mode": "'TRADITIONAL'"}
		if cfg.DBName == "" {
			return "", "", fmt.Errorf("database connection %q names no database", redact(raw))
		}
		return MySQL, cfg.FormatDSN(), nil
	default:
		return "", "", fmt.Errorf("database connection %q: unsupported engine %q (want sqlite or mysql)", redact(raw), scheme)
	}
}

func sqlitePragmas() string {
	return "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(0)"
}

// redact hides a password in a URL for error messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "***")
	}
	return u.String()
}

// Open connects to the database named by an SQLAlchemy URL. It does not
// migrate; call Migrate (freezer-manage db sync) for that.
func Open(ctx context.Context, rawURL string, o Options) (*Store, error) {
	d, dsn, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	db, err := openDB(d, dsn, o)
	if err != nil {
		return nil, fmt.Errorf("opening %s database: %w", d, err)
	}
	if d == SQLite {
		// One connection: SQLite has one writer anyway, and a single
		// connection makes every transaction serialisable without
		// SQLITE_BUSY retries. An in-memory database also lives only as
		// long as its connection.
		db.SetMaxOpenConns(1)
		db.SetConnMaxLifetime(0)
	} else {
		if o.MaxOpenConns > 0 {
			db.SetMaxOpenConns(o.MaxOpenConns)
		}
		if o.MaxIdleConns > 0 {
			db.SetMaxIdleConns(o.MaxIdleConns)
		}
		if o.ConnMaxLifetime > 0 {
			db.SetConnMaxLifetime(o.ConnMaxLifetime)
		}
		if o.ConnMaxIdleTime > 0 {
			db.SetConnMaxIdleTime(o.ConnMaxIdleTime)
		}
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connecting to %s database: %w", d, err)
	}
	s := &Store{db: db, dialect: d, now: o.Now, newID: o.NewID}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = NewID
	}
	return s, nil
}

// openDB opens the pool; a MySQL pool gets its own driver configuration
// so that the driver's messages go to o.DriverLog.
func openDB(d Dialect, dsn string, o Options) (*sqlx.DB, error) {
	if d != MySQL || o.DriverLog == nil {
		return sqlx.Open(string(d), dsn)
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	cfg.Logger = driverLog(o.DriverLog)
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(sql.OpenDB(c), string(d)), nil
}

// Close closes the connection pool.
func (s *Store) Close() error {
	s.stmts.close()
	return s.db.Close()
}

// Dialect reports the engine in use.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that the database answers (used by /healthcheck).
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("pinging database: %w", err)
	}
	return nil
}

// Stats returns the connection pool statistics (for /metrics).
func (s *Store) Stats() sql.DBStats { return s.db.Stats() }

type migration struct {
	version int
	name    string
	sql     string
}

func (s *Store) migrations() ([]migration, error) {
	dir := "migrations/" + string(s.dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("reading embedded migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		n, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(n)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s has no number prefix", e.Name())
		}
		b, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// LatestVersion is the schema version this binary migrates to.
func (s *Store) LatestVersion() (int, error) {
	m, err := s.migrations()
	if err != nil || len(m) == 0 {
		return 0, err
	}
	return m[len(m)-1].version, nil
}

// Version returns the schema version of the database, 0 if never migrated.
func (s *Store) Version(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM freezer_schema_version")
	if err != nil {
		// The table is missing on a fresh database.
		if ok, _ := s.tableExists(ctx, "freezer_schema_version"); !ok {
			return 0, nil
		}
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	var v sql.NullInt64
	if err := s.db.GetContext(ctx, &v, "SELECT MAX(version) FROM freezer_schema_version"); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return int(v.Int64), nil
}

func (s *Store) tableExists(ctx context.Context, name string) (bool, error) {
	tables, err := s.Tables(ctx)
	if err != nil {
		return false, err
	}
	for _, t := range tables {
		if t == name {
			return true, nil
		}
	}
	return false, nil
}

// Tables lists the tables of the database, sorted.
func (s *Store) Tables(ctx context.Context) ([]string, error) {
	var q string
	if s.dialect == SQLite {
		q = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	} else {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name"
	}
	var names []string
	if err := s.db.SelectContext(ctx, &names, q); err != nil {
		return nil, fmt.Errorf("listing tables: %w", err)
	}
	return names, nil
}

// Migrate applies every migration newer than the database's version and
// returns the versions applied.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	if _, err := s.db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS freezer_schema_version (version INTEGER NOT NULL, applied_at BIGINT NOT NULL)"); err != nil {
		return nil, fmt.Errorf("creating schema version table: %w", err)
	}
	cur, err := s.Version(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := s.migrations()
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range ms {
		if m.version <= cur {
			continue
		}
		if err := s.apply(ctx, m); err != nil {
			return applied, err
		}
		applied = append(applied, m.version)
	}
	return applied, nil
}

func (s *Store) apply(ctx context.Context, m migration) error {
	// MySQL commits DDL implicitly, so a transaction only helps SQLite;
	// statements are idempotent enough to re-run after a crash mid-way
	// only on SQLite. On MySQL a failed migration needs `db remove`.
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("starting migration %s: %w", m.name, err)
	}
	defer tx.Rollback()
	for _, stmt := range splitSQL(m.sql) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("applying migration %s: %w (statement: %.80s)", m.name, err, stmt)
		}
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO freezer_schema_version (version, applied_at) VALUES (?, ?)", m.version, s.now().Unix()); err != nil {
		return fmt.Errorf("recording migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing migration %s: %w", m.name, err)
	}
	return nil
}

// splitSQL splits a migration file into statements: it drops "--"
// comment lines and splits on ";" at line ends (the files hold no
// semicolons inside literals).
func splitSQL(src string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(t, ";") {
			stmt := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")
			out = append(out, stmt)
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}

// DropAll removes every table this package created (freezer-manage db
// remove).
func (s *Store) DropAll(ctx context.Context) error {
	for _, t := range []string{"client_terms", "action_terms", "job_terms", "session_terms", "backup_terms",
		"job_actions", "jobs", "actions", "sessions", "clients", "backups", "job_generations", "freezer_schema_version"} {
		if _, err := s.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+t); err != nil {
			return fmt.Errorf("dropping table %s: %w", t, err)
		}
	}
	return nil
}

// errRetry marks a conflict that a fresh attempt of the whole transaction
// resolves (e.g. a concurrent insert of the same unique key).
var errRetry = errors.New("transaction conflict")

// maxTxAttempts bounds the retries of a transaction that hit a deadlock,
// a lock wait timeout or errRetry.
const maxTxAttempts = 5

// inTx runs fn in a transaction, committing if it returns nil, and runs it
// again (from scratch) when the database reports a deadlock: under
// concurrent writes InnoDB picks a victim, and retrying is the documented
// answer. (Upstream's retry decorator never fired.)
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil || attempt >= maxTxAttempts || !retryable(err) {
			return err
		}
		backoff := time.Duration(attempt*attempt) * 5 * time.Millisecond
		if wait.Sleep(ctx, backoff) != nil {
			return err
		}
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	var opts *sql.TxOptions
	if s.dialect == MySQL {
		// READ COMMITTED: no gap locks on lookups of missing rows, which
		// otherwise deadlock concurrent inserts into the same index range.
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	tx, err := s.db.BeginTxx(ctx, opts)
	if err != nil {
		return fmt.Errorf("starting transaction: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing transaction: %w", err)
	}
	return nil
}

func retryable(err error) bool {
	if errors.Is(err, errRetry) {
		return true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205 // deadlock, lock wait timeout
	}
	return strings.Contains(err.Error(), "database is locked") || strings.Contains(err.Error(), "SQLITE_BUSY")
}

// forUpdate is the row-lock suffix for read-modify-write sequences. SQLite
// needs none: its single connection serialises transactions.
func (s *Store) forUpdate() string {
	if s.dialect == MySQL {
		return " FOR UPDATE"
	}
	return ""
}

// isDuplicate reports a unique-constraint violation.
func isDuplicate(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// docRow is a table row that decodes into its API document.
type docRow[D any] interface{ doc() (D, error) }

// listProjectDocs is the list query shared by the resources that belong to
// exactly one project (actions, backups, sessions): the project's rows that
// match the search filter, one page, as documents.
func listProjectDocs[R docRow[D], D any](ctx context.Context, s *Store, table, terms string, sc Scope, f Filter, p Page) ([]D, error) {
	w, args := f.where(terms, nil)
	ps, pargs := p.sql()
	var rows []R
	all := append([]any{sc.ProjectID}, append(args, pargs...)...)
	if err := s.db.SelectContext(ctx, &rows, "SELECT d.* FROM "+table+" d WHERE d.project_id = ?"+w+ps, all...); err != nil {
		return nil, fmt.Errorf("listing %s: %w", table, err)
	}
	out := make([]D, 0, len(rows))
	for _, r := range rows {
		d, err := r.doc()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// ScanTable returns every row of a table of any schema, as its columns'
// values in text (NULL columns absent): for reading an upstream database
// (package upstream), whose tables are not this package's.
func (s *Store) ScanTable(ctx context.Context, table string) ([]map[string]string, error) {
	for _, c := range table {
		if (c < 'a' || c > 'z') && c != '_' {
			return nil, fmt.Errorf("table name %q", table)
		}
	}
	rows, err := s.db.QueryxContext(ctx, "SELECT * FROM "+table)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", table, err)
	}
	defer rows.Close()
	var out []map[string]string
	for rows.Next() {
		m := map[string]any{}
		if err := rows.MapScan(m); err != nil {
			return nil, fmt.Errorf("reading %s: %w", table, err)
		}
		r := make(map[string]string, len(m))
		for k, v := range m {
			switch x := v.(type) {
			case nil:
			case []byte:
				r[k] = string(x)
			case string:
				r[k] = x
			case bool:
				r[k] = strconv.FormatBool(x)
			default:
				r[k] = fmt.Sprint(x)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", table, err)
	}
	return out, nil
}
