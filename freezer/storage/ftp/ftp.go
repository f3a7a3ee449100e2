package ftp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jlaffaye/ftp"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/internal/readerr"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/internal/idle"
	"freezer.dev/freezer/freezer/storage/internal/resume"
	"freezer.dev/freezer/freezer/storage/retry"
	"freezer.dev/freezer/internal/tlsconf"
)

const tempPrefix = ".freezer-tmp-"

// Options configures an FTP or FTPS storage.
type Options struct {
	// Container is the remote root directory.
	Container string
	Host      string
	Port      int // default 21
	Username  string
	Password  string
	// TLS selects explicit FTPS (AUTH TLS, PROT P) for control and data.
	TLS bool
	// CACert is a PEM file of CAs trusted for the server certificate; the
	// system pool otherwise.
	CACert string
	// Insecure skips verifying the server certificate.
	Insecure bool
	// CertFile and KeyFile are an optional client certificate
	// (upstream's --ftp-certfile/--ftp-keyfile).
	CertFile, KeyFile string
	// Timeout bounds connecting, and how long a command's answer or a
	// transfer may make no progress; default idle.DefaultTimeout.
	Timeout time.Duration
	// MaxConns bounds the open connections; default 4.
	MaxConns int
	// Retry is the policy for resuming a download cut in the middle;
	// zero means retry.Default().
	Retry retry.Policy
	// Dial, when set, opens the plain FTP connections (control and data)
	// instead of a net.Dialer: the tests cut a transfer with it.
	Dial func(network, addr string) (net.Conn, error)
	// NoCreate opens without creating Container, for the actions that only
	// read or delete (a missing directory lists as empty). The login is
	// still checked at once.
	NoCreate bool
}

// OptionsFrom maps upstream's --ftp-* options; tls selects FTPS (the
// "ftps" storage name). ftp_cacert and ftp_insecure are ours.
func OptionsFrom(v storage.Values, tls bool) (Options, error) {
	o := Options{
		Container: v.Get("container"),
		Host:      v.Get("ftp_host"),
		Username:  v.Get("ftp_username"),
		Password:  v.Get("ftp_password"),
		TLS:       tls,
		CACert:    v.Get("ftp_cacert"),
		CertFile:  v.Get("ftp_certfile"),
		KeyFile:   v.Get("ftp_keyfile"),
	}
	var err error
	if o.Port, err = storage.Int("ftp-port", v.Get("ftp_port"), 21); err != nil {
		return Options{}, err
	}
	if o.Insecure, err = storage.Bool(v.Get("ftp_insecure"), false); err != nil {
		return Options{}, fmt.Errorf("option ftp-insecure: %w", err)
	}
	if o.Timeout, err = idle.Timeout(v); err != nil {
		return Options{}, err
	}
	return o, nil
}

// Storage is a backup.Storage on an FTP server.
type Storage struct {
	opts Options
	tls  *tls.Config
	root string

	sem  chan struct{}
	mu   sync.Mutex
	idle []*ftp.ServerConn
}

var _ backup.Storage = (*Storage)(nil)

// New logs in once (to fail early on bad settings) and creates the root.
func New(ctx context.Context, o Options) (*Storage, error) {
	if o.Host == "" || o.Username == "" || o.Password == "" {
		return nil, fmt.Errorf("ftp storage: --ftp-host, --ftp-username and --ftp-password are required")
	}
	if o.Container == "" {
		return nil, fmt.Errorf("ftp storage: no container (remote directory) given")
	}
	if o.Port == 0 {
		o.Port = 21
	}
	if o.Timeout <= 0 {
		o.Timeout = idle.DefaultTimeout
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 4
	}
	s := &Storage{opts: o, root: path.Clean(o.Container), sem: make(chan struct{}, o.MaxConns)}
	if o.TLS {
		cfg, err := tlsconf.Config(tlsconf.Options{CAFile: o.CACert, CertFile: o.CertFile, KeyFile: o.KeyFile, Insecure: o.Insecure})
		if err != nil {
			return nil, fmt.Errorf("ftps storage: %w", err)
		}
		if cfg == nil {
			cfg = &tls.Config{}
		}
		cfg.ServerName = o.Host
		// Data connections resume the control connection's TLS session,
		// as vsftpd's require_ssl_reuse demands.
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
		s.tls = cfg
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return nil, err
	}
	if !path.IsAbs(s.root) {
		// A relative container is relative to the login directory. The
		// root is made absolute once, on this fresh connection, because
		// CWD (isDir, List, removeAll) moves pooled connections around
		// and a relative path would then resolve against wherever the
		// connection was last.
		var home string
		home, err = c.CurrentDir()
		if err == nil && !path.IsAbs(home) {
			err = fmt.Errorf("PWD answered %q, not an absolute path", home)
		}
		if err != nil {
			s.release(c, err)
			return nil, fmt.Errorf("%s: finding the login directory for the relative container %q: %w", s.kind(), o.Container, err)
		}
		s.root = path.Join(home, s.root)
	}
	if !o.NoCreate {
		err = s.mkdirAll(c, s.root)
	}
	s.release(c, err)
	if err != nil {
		return nil, fmt.Errorf("%s: creating %s: %w", s.kind(), s.root, err)
	}
	return s, nil
}

func (s *Storage) kind() string {
	if s.tls != nil {
		return "ftps storage"
	}
	return "ftp storage"
}

// String names the storage.
func (s *Storage) String() string {
	scheme := "ftp"
	if s.tls != nil {
		scheme = "ftps"
	}
	return fmt.Sprintf("%s:%s@%s:%d%s", scheme, s.opts.Username, s.opts.Host, s.opts.Port, s.root)
}

func (s *Storage) path(key string) string { return path.Join(s.root, key) }

// acquire takes an idle connection or dials one, within MaxConns.
func (s *Storage) acquire(ctx context.Context) (*ftp.ServerConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		c := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return c, nil
	}
	s.mu.Unlock()
	addr := net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port))
	opts := []ftp.DialOption{ftp.DialWithContext(ctx), ftp.DialWithTimeout(s.opts.Timeout), ftp.DialWithForceListHidden(true),
		ftp.DialWithDialFunc(s.dialFunc(ctx, addr))}
	if s.tls != nil {
		opts = append(opts, ftp.DialWithExplicitTLS(s.tls))
	}
	c, err := ftp.Dial(addr, opts...)
	if err != nil {
		<-s.sem
		return nil, fmt.Errorf("%s: connecting to %s: %w", s.kind(), addr, classify(err))
	}
	if err := c.Login(s.opts.Username, s.opts.Password); err != nil {
		c.Quit()
		<-s.sem
		return nil, fmt.Errorf("%s: logging in to %s as %s: %w", s.kind(), addr, s.opts.Username, classify(err))
	}
	return c, nil
}

// dialFunc dials the control and data connections (with Options.Dial
// when set), each bounded by idleConn. With FTPS the control connection is
// dialled plainly (the library upgrades it with AUTH TLS) and data
// connections are wrapped in TLS that shuts down cleanly: see tlsData.
func (s *Storage) dialFunc(ctx context.Context, control string) func(network, addr string) (net.Conn, error) {
	dial := s.opts.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: s.opts.Timeout}
		dial = func(network, addr string) (net.Conn, error) {
			return d.DialContext(context.WithoutCancel(ctx), network, addr)
		}
	}
	return func(network, addr string) (net.Conn, error) {
		nc, err := dial(network, addr)
		if err != nil {
			return nil, err
		}
		nc = idle.Wrap(nc, s.opts.Timeout)
		if s.tls == nil || addr == control {
			return nc, nil
		}
		return &tlsData{Conn: tls.Client(nc, s.tls)}, nil
	}
}

// tlsData is a TLS data connection whose Close sends close_notify and
// drains what the server still sends before closing the socket. With TLS
// 1.3 the server sends session tickets after the handshake; an upload
// never reads them, and closing a socket with unread data makes the kernel
// send a reset, which vsftpd reports as "426 Failure reading network
// stream" and treats as a failed upload.
type tlsData struct {
	*tls.Conn
}

func (t *tlsData) Close() error {
	if !t.Conn.ConnectionState().HandshakeComplete {
		// Never used (the command was refused): nothing to shut down,
		// and reading would start a handshake the server will not answer.
		return t.Conn.NetConn().Close()
	}
	werr := t.Conn.CloseWrite()
	t.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, t.Conn)
	cerr := t.Conn.Close()
	if werr != nil && !errors.Is(werr, net.ErrClosed) {
		return werr
	}
	return cerr
}

// release returns c to the pool unless err says the connection is broken.
func (s *Storage) release(c *ftp.ServerConn, err error) {
	defer func() { <-s.sem }()
	if err != nil && !isReply(err) {
		c.Quit()
		return
	}
	s.mu.Lock()
	s.idle = append(s.idle, c)
	s.mu.Unlock()
}

// Close ends the idle connections.
func (s *Storage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.idle {
		c.Quit()
	}
	s.idle = nil
	return nil
}

// isReply reports whether err is a regular FTP error reply, after which
// the connection is still in a known state.
func isReply(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te)
}

func replyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// classify marks 4xx replies and a control connection the server closed
// (an idle timeout ends pooled connections that way) as transient. Other
// network errors are left to storage.IsTransient, which also knows the
// ones no retry cures (a rejected certificate, an unknown host); our own
// errors and 5xx replies are final.
func classify(err error) error {
	if err == nil {
		return nil
	}
	code := replyCode(err)
	if (code >= 400 && code < 500) || (code == 0 && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF))) {
		return storage.MarkTransient(err)
	}
	return err
}

// isDir reports whether p is a directory, by changing into it.
func isDir(c *ftp.ServerConn, p string) (bool, error) {
	err := c.ChangeDir(p)
	if err == nil {
		return true, nil
	}
	if replyCode(err) == ftp.StatusFileUnavailable {
		return false, nil
	}
	return false, err
}

// mkdirAll creates p and its parents; existing ones are fine.
func (s *Storage) mkdirAll(c *ftp.ServerConn, p string) error {
	if ok, err := isDir(c, p); err != nil || ok {
		return err
	}
	parent := path.Dir(p)
	if parent != p && parent != "." && parent != "/" {
		if err := s.mkdirAll(c, parent); err != nil {
			return err
		}
	}
	if err := c.MakeDir(p); err != nil {
		// Lost a race with another writer, or a real failure.
		if ok, derr := isDir(c, p); derr == nil && ok {
			return nil
		}
		return fmt.Errorf("creating directory %s: %w", p, err)
	}
	return nil
}

// Put streams r to a temporary file and renames it into place.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader) (err error) {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("uploading %s: %w", key, err)
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return fmt.Errorf("uploading %s: %w", key, err)
	}
	srcFailed := false
	defer func() {
		s.release(c, err)
		if err != nil {
			if !srcFailed {
				err = classify(err)
			}
			err = fmt.Errorf("uploading %s to %s: %w", key, s, err)
		}
	}()
	target := s.path(key)
	dir := path.Dir(target)
	if err := s.mkdirAll(c, dir); err != nil {
		return err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := path.Join(dir, tempPrefix+path.Base(target)+"-"+hex.EncodeToString(rnd[:]))
	// The source's own error, to tell it from the server's.
	src := readerr.New(storage.ContextReader(ctx, r))
	if err := c.Stor(tmp, src); err != nil {
		if isReply(err) || src.Err() != nil || !isNetErr(err) {
			c.Delete(tmp)
		}
		if serr := src.Err(); serr != nil {
			// The source failed, not the server: nothing to retry.
			srcFailed = true
			return fmt.Errorf("reading the stream: %w", serr)
		}
		return err
	}
	if err := ctx.Err(); err != nil {
		c.Delete(tmp)
		return err
	}
	if ok, _ := isDir(c, target); ok {
		c.Delete(tmp)
		return fmt.Errorf("a directory exists at that key")
	}
	if err := c.Rename(tmp, target); err != nil {
		c.Delete(tmp)
		return fmt.Errorf("renaming into place: %w", err)
	}
	return nil
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Size asks the server with SIZE (in binary mode, the stored byte count);
// a server without SIZE gives an error wrapping backup.ErrSizeUnknown.
func (s *Storage) Size(ctx context.Context, key string) (int64, error) {
	if err := storage.CheckKey(key); err != nil {
		return 0, err
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("sizing %s in %s: %w", key, s, err)
	}
	n, err := c.FileSize(s.path(key))
	switch {
	case err == nil:
		s.release(c, nil)
		return n, nil
	case replyCode(err) == ftp.StatusFileUnavailable:
		s.release(c, nil)
		return 0, fmt.Errorf("sizing %s in %s: %w: %w", key, s, backup.ErrNotFound, err)
	case isReply(err):
		s.release(c, nil)
		return 0, fmt.Errorf("sizing %s in %s: %w: %w", key, s, backup.ErrSizeUnknown, err)
	}
	s.release(c, err)
	return 0, fmt.Errorf("sizing %s in %s: %w", key, s, classify(err))
}

// Get streams the file with RETR; the connection is busy until Close.
func (s *Storage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := storage.CheckKey(key); err != nil {
		return nil, err
	}
	p := s.path(key)
	// A cut data connection often reads as a clean end of file: the size
	// from SIZE is what tells a cut from the end, and a cut transfer is
	// taken up again with REST at the byte reached. The first RETR is
	// tried once: retry.Wrap (the registry's) retries whole Gets.
	r, err := resume.OpenOnce(ctx, key, s.opts.Retry, func(ctx context.Context, off int64) (io.ReadCloser, int64, error) {
		c, err := s.acquire(ctx)
		if err != nil {
			return nil, 0, err
		}
		size := int64(-1)
		if off == 0 {
			n, err := c.FileSize(p)
			switch {
			case err == nil:
				size = n
			case replyCode(err) == ftp.StatusFileUnavailable:
				s.release(c, err)
				return nil, 0, fmt.Errorf("%w: %w", backup.ErrNotFound, err)
			case !isReply(err):
				s.release(c, err)
				return nil, 0, classify(err)
			}
			// Other replies: the server has no SIZE; read to the end.
		}
		resp, err := c.RetrFrom(p, uint64(off))
		if err != nil {
			s.release(c, err)
			if replyCode(err) == ftp.StatusFileUnavailable {
				return nil, 0, fmt.Errorf("%w: %w", backup.ErrNotFound, err)
			}
			return nil, 0, classify(err)
		}
		return &getReader{ctx: ctx, s: s, c: c, resp: resp}, size, nil
	})
	if err != nil {
		return nil, fmt.Errorf("downloading %s from %s: %w", key, s, err)
	}
	return r, nil
}

type getReader struct {
	ctx    context.Context
	s      *Storage
	c      *ftp.ServerConn
	resp   *ftp.Response
	err    error
	eof    bool
	closed bool
}

func (g *getReader) Read(p []byte) (int, error) {
	if err := g.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := g.resp.Read(p)
	if err == io.EOF {
		g.eof = true
	} else if err != nil {
		g.err = err
	}
	return n, err
}

func (g *getReader) Close() error {
	if g.closed {
		return nil
	}
	g.closed = true
	err := g.resp.Close()
	if !g.eof && err == nil {
		// Closed early: the server may answer 426; do not reuse a
		// connection whose state is uncertain.
		err = errors.New("transfer closed before its end")
	}
	if g.eof {
		g.s.release(g.c, err)
	} else {
		g.s.release(g.c, errors.Join(err, errors.New("abandoned transfer")))
		err = nil
	}
	if g.eof && err != nil {
		return fmt.Errorf("finishing download: %w", err)
	}
	return nil
}

// List changes into dir and lists it, so a missing dir or a file lists as
// empty (LIST itself answers success for both on some servers).
func (s *Storage) List(ctx context.Context, dir string) (names []string, err error) {
	if err := storage.CheckDir(dir); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("listing %q: %w", dir, err)
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing %q: %w", dir, err)
	}
	defer func() { s.release(c, err) }()
	ok, err := isDir(c, s.path(dir))
	if err != nil {
		return nil, fmt.Errorf("listing %q in %s: %w", dir, s, classify(err))
	}
	if !ok {
		return []string{}, nil
	}
	entries, err := c.List("")
	if err != nil {
		return nil, fmt.Errorf("listing %q in %s: %w", dir, s, classify(err))
	}
	names = make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Name == "." || e.Name == ".." || strings.HasPrefix(e.Name, tempPrefix) {
			continue
		}
		names = append(names, e.Name)
	}
	slices.Sort(names)
	return names, nil
}

// Delete removes the file, or the directory tree, at key.
func (s *Storage) Delete(ctx context.Context, key string) (err error) {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	defer func() { s.release(c, err) }()
	if err := s.removeAll(ctx, c, s.path(key)); err != nil {
		return fmt.Errorf("deleting %s from %s: %w", key, s, classify(err))
	}
	return nil
}

func (s *Storage) removeAll(ctx context.Context, c *ftp.ServerConn, p string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ok, err := isDir(c, p)
	if err != nil {
		return err
	}
	if !ok {
		err := c.Delete(p)
		if replyCode(err) == ftp.StatusFileUnavailable {
			return nil // absent
		}
		return err
	}
	entries, err := c.List("")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name == "." || e.Name == ".." {
			continue
		}
		child := path.Join(p, e.Name)
		if e.Type == ftp.EntryTypeFolder {
			if err := s.removeAll(ctx, c, child); err != nil {
				return err
			}
		} else if err := c.Delete(child); err != nil {
			return fmt.Errorf("deleting %s: %w", child, err)
		}
	}
	// Leave the directory before removing it.
	if err := c.ChangeDir(path.Dir(p)); err != nil {
		return err
	}
	if err := c.RemoveDir(p); err != nil {
		return fmt.Errorf("removing directory %s: %w", p, err)
	}
	return nil
}
