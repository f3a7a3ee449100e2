package ssh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/internal/idle"
	"freezer.dev/freezer/freezer/storage/internal/resume"
	"freezer.dev/freezer/freezer/storage/retry"
)

const tempPrefix = ".freezer-tmp-"

// Options configures an SFTP storage.
type Options struct {
	// Container is the remote root directory.
	Container string
	Host      string
	Port      int // default 22
	Username  string
	// Password, when set, is used instead of the key (as upstream).
	Password string
	// KeyFile is the private key (upstream default ~/.ssh/id_rsa).
	KeyFile string
	// KnownHostsFile is checked for the server's host key; default
	// ~/.ssh/known_hosts.
	KnownHostsFile string
	// InsecureIgnoreHostKey skips the host-key check. Only an explicit
	// option sets it.
	InsecureIgnoreHostKey bool
	// Timeout bounds connecting, and how long the connection may move no
	// data while a call waits (a stalled server); default
	// idle.DefaultTimeout.
	Timeout time.Duration
	// NoCreate opens without creating Container, for the actions that only
	// read or delete (a missing directory lists as empty).
	NoCreate bool
}

// OptionsFrom maps upstream's --ssh-* options (and our ssh_known_hosts and
// ssh_insecure_ignore_host_key) to Options.
func OptionsFrom(v storage.Values, home string) (Options, error) {
	o := Options{
		Container:      v.Get("container"),
		Host:           v.Get("ssh_host"),
		Username:       v.Get("ssh_username"),
		Password:       v.Get("ssh_password"),
		KeyFile:        v.Get("ssh_key"),
		KnownHostsFile: v.Get("ssh_known_hosts"),
	}
	var err error
	if o.Port, err = storage.Int("ssh-port", v.Get("ssh_port"), 22); err != nil {
		return Options{}, err
	}
	if o.InsecureIgnoreHostKey, err = storage.Bool(v.Get("ssh_insecure_ignore_host_key"), false); err != nil {
		return Options{}, fmt.Errorf("option ssh-insecure-ignore-host-key: %w", err)
	}
	if o.KeyFile == "" && o.Password == "" && home != "" {
		o.KeyFile = filepath.Join(home, ".ssh", "id_rsa")
	}
	if o.KnownHostsFile == "" && home != "" {
		o.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
	}
	if o.Timeout, err = idle.Timeout(v); err != nil {
		return Options{}, err
	}
	return o, nil
}

// keepalive asks the server for an answer every interval until the
// connection ends. The SSH reader always waits for data, so without this
// an idle connection would reach the idle timeout; with it, only a server
// that stopped answering does.
func keepalive(c *gossh.Client, interval time.Duration) {
	done := make(chan struct{})
	go func() {
		c.Wait()
		close(done)
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if _, _, err := c.SendRequest("keepalive@openssh.com", true, nil); err != nil {
				return
			}
		}
	}
}

// Storage is a backup.Storage on an SFTP server. It keeps one connection
// and redials after the connection is lost.
type Storage struct {
	opts Options
	cfg  *gossh.ClientConfig
	root string

	mu     sync.Mutex
	conn   *gossh.Client
	client *sftp.Client
}

var _ backup.Storage = (*Storage)(nil)

// New connects, checks the host key and creates the root directory.
func New(ctx context.Context, o Options) (*Storage, error) {
	if o.Host == "" || o.Username == "" {
		return nil, fmt.Errorf("ssh storage: --ssh-host and --ssh-username are required")
	}
	if o.Container == "" {
		return nil, fmt.Errorf("ssh storage: no container (remote directory) given")
	}
	if o.Port == 0 {
		o.Port = 22
	}
	if o.Timeout <= 0 {
		o.Timeout = idle.DefaultTimeout
	}
	cfg := &gossh.ClientConfig{User: o.Username, Timeout: o.Timeout}
	if o.Password != "" {
		cfg.Auth = []gossh.AuthMethod{
			gossh.Password(o.Password),
			gossh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
				ans := make([]string, len(qs))
				for i := range ans {
					ans[i] = o.Password
				}
				return ans, nil
			}),
		}
	} else {
		if o.KeyFile == "" {
			return nil, fmt.Errorf("ssh storage: neither --ssh-key nor --ssh-password given")
		}
		pem, err := os.ReadFile(o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("ssh storage: reading key: %w", err)
		}
		signer, err := gossh.ParsePrivateKey(pem)
		if err != nil {
			return nil, fmt.Errorf("ssh storage: parsing key %s (passphrase-protected keys are not supported): %w", o.KeyFile, err)
		}
		cfg.Auth = []gossh.AuthMethod{gossh.PublicKeys(signer)}
	}
	switch {
	case o.InsecureIgnoreHostKey:
		cfg.HostKeyCallback = gossh.InsecureIgnoreHostKey() //nolint:gosec // explicit opt-out
	case o.KnownHostsFile == "":
		return nil, fmt.Errorf("ssh storage: no known_hosts file to check the host key against (set ssh_known_hosts, or ssh_insecure_ignore_host_key=true to skip the check)")
	default:
		cb, err := knownhosts.New(o.KnownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("ssh storage: reading known_hosts: %w", err)
		}
		cfg.HostKeyCallback = cb
	}
	s := &Storage{opts: o, cfg: cfg, root: path.Clean(o.Container)}
	c, err := s.sftp(ctx)
	if err != nil {
		return nil, err
	}
	if o.NoCreate {
		return s, nil
	}
	if err := c.MkdirAll(s.root); err != nil {
		s.Close()
		return nil, fmt.Errorf("ssh storage: creating %s: %w", s.root, err)
	}
	return s, nil
}

// sftp returns the live client, dialling when there is none.
func (s *Storage) sftp(ctx context.Context) (*sftp.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		return s.client, nil
	}
	addr := net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port))
	d := net.Dialer{Timeout: s.opts.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, storage.MarkTransient(fmt.Errorf("ssh storage: connecting to %s: %w", addr, err))
	}
	nc = idle.Wrap(nc, s.opts.Timeout)
	cc, chans, reqs, err := gossh.NewClientConn(nc, addr, s.cfg)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("ssh storage: ssh handshake with %s: %w", addr, err)
	}
	conn := gossh.NewClient(cc, chans, reqs)
	client, err := sftp.NewClient(conn, sftp.UseConcurrentWrites(true), sftp.UseConcurrentReads(true))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssh storage: starting sftp on %s: %w", addr, err)
	}
	s.conn, s.client = conn, client
	go keepalive(conn, s.opts.Timeout/3)
	return client, nil
}

// check drops the connection when err says it is gone, so the next call
// redials, and marks such errors transient.
func (s *Storage) check(c *sftp.Client, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		s.mu.Lock()
		if s.client == c {
			s.client.Close()
			s.conn.Close()
			s.client, s.conn = nil, nil
		}
		s.mu.Unlock()
		return storage.MarkTransient(err)
	}
	return err
}

// Close ends the connection.
func (s *Storage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		return nil
	}
	s.client.Close()
	err := s.conn.Close()
	s.client, s.conn = nil, nil
	return err
}

// String names the storage.
func (s *Storage) String() string {
	return fmt.Sprintf("ssh:%s@%s:%d%s", s.opts.Username, s.opts.Host, s.opts.Port, s.root)
}

func (s *Storage) path(key string) string { return path.Join(s.root, key) }

func notExist(err error) bool {
	var se *sftp.StatusError
	if errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxNoSuchFile {
		return true
	}
	return errors.Is(err, fs.ErrNotExist)
}

// Put uploads to a temporary file and renames it into place.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader) (err error) {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("uploading %s: %w", key, err)
	}
	c, err := s.sftp(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("uploading %s to %s: %w", key, s, s.check(c, err))
		}
	}()
	target := s.path(key)
	dir := path.Dir(target)
	if err := c.MkdirAll(dir); err != nil {
		return fmt.Errorf("creating directory: %w", err)
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(dir, tempPrefix+path.Base(target)+"-"+hex.EncodeToString(rnd[:]))
	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			c.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("setting mode: %w", err)
	}
	if _, err := f.ReadFromWithConcurrency(storage.ContextReader(ctx, r), 8); err != nil {
		return err
	}
	if err := f.Sync(); err != nil && !unsupported(err) {
		return fmt.Errorf("syncing: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if fi, err := c.Lstat(target); err == nil && fi.IsDir() {
		return fmt.Errorf("a directory exists at that key")
	}
	if err := c.PosixRename(tmp, target); err != nil {
		return fmt.Errorf("renaming into place: %w", err)
	}
	committed = true
	return nil
}

func unsupported(err error) bool {
	var se *sftp.StatusError
	return errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxOpUnsupported
}

// Get opens the remote file. When the connection drops during the
// transfer, the reader redials and continues from the offset reached.
func (s *Storage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := storage.CheckKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("downloading %s: %w", key, err)
	}
	r, err := resume.Open(ctx, key, retry.Policy{Attempts: 3}, func(ctx context.Context, off int64) (io.ReadCloser, int64, error) {
		return s.open(ctx, key, off)
	})
	if err != nil {
		return nil, fmt.Errorf("downloading %s from %s: %w", key, s, err)
	}
	return r, nil
}

// Size stats the remote file at key.
func (s *Storage) Size(ctx context.Context, key string) (int64, error) {
	if err := storage.CheckKey(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("sizing %s: %w", key, err)
	}
	c, err := s.sftp(ctx)
	if err != nil {
		return 0, fmt.Errorf("sizing %s in %s: %w", key, s, err)
	}
	fi, err := c.Stat(s.path(key))
	if err != nil {
		if notExist(err) {
			return 0, fmt.Errorf("sizing %s in %s: %w", key, s, backup.ErrNotFound)
		}
		return 0, fmt.Errorf("sizing %s in %s: %w", key, s, s.check(c, err))
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("sizing %s in %s: not a file: %w", key, s, backup.ErrNotFound)
	}
	return fi.Size(), nil
}

func (s *Storage) open(ctx context.Context, key string, off int64) (io.ReadCloser, int64, error) {
	c, err := s.sftp(ctx)
	if err != nil {
		return nil, 0, err
	}
	f, err := c.Open(s.path(key))
	if err != nil {
		if notExist(err) {
			return nil, 0, backup.ErrNotFound
		}
		return nil, 0, s.check(c, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, s.check(c, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("not a file: %w", backup.ErrNotFound)
	}
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, 0, s.check(c, err)
		}
	}
	return &checkedFile{s: s, c: c, f: f}, fi.Size(), nil
}

// checkedFile marks the errors of a lost connection transient (and drops
// the connection) so the resuming reader redials.
type checkedFile struct {
	s *Storage
	c *sftp.Client
	f *sftp.File
}

func (cf *checkedFile) Read(p []byte) (int, error) {
	n, err := cf.f.Read(p)
	if err != nil && err != io.EOF {
		err = cf.s.check(cf.c, err)
	}
	return n, err
}

func (cf *checkedFile) Close() error { return cf.f.Close() }

// List reads the remote directory, sorted.
func (s *Storage) List(ctx context.Context, dir string) ([]string, error) {
	if err := storage.CheckDir(dir); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing %q: %w", dir, err)
	}
	c, err := s.sftp(ctx)
	if err != nil {
		return nil, err
	}
	fis, err := c.ReadDirContext(ctx, s.path(dir))
	if err != nil {
		if notExist(err) {
			return []string{}, nil
		}
		var se *sftp.StatusError
		if errors.As(err, &se) && se.FxCode() == sftp.ErrSSHFxFailure {
			// OpenSSH answers "failure" for a path that is a file.
			if fi, serr := c.Lstat(s.path(dir)); serr == nil && !fi.IsDir() {
				return []string{}, nil
			}
		}
		return nil, fmt.Errorf("listing %q in %s: %w", dir, s, s.check(c, err))
	}
	names := make([]string, 0, len(fis))
	for _, fi := range fis {
		if !strings.HasPrefix(fi.Name(), tempPrefix) {
			names = append(names, fi.Name())
		}
	}
	slices.Sort(names)
	return names, nil
}

// Delete removes the file or the directory tree at key.
func (s *Storage) Delete(ctx context.Context, key string) error {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	c, err := s.sftp(ctx)
	if err != nil {
		return err
	}
	if err := c.RemoveAll(s.path(key)); err != nil && !notExist(err) {
		return fmt.Errorf("deleting %s from %s: %w", key, s, s.check(c, err))
	}
	return nil
}
