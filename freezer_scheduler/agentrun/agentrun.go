package agentrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Limits on what is kept of the agent's output; the metadata JSON is small
// and only the end of stderr explains a failure.
const (
	maxStdout     = 4 << 20
	maxStderrTail = 16 << 10
)

// DefaultAbortGrace is how long an aborted agent gets between SIGTERM and
// SIGKILL.
const DefaultAbortGrace = 3 * time.Second

// Runner starts agent processes.
type Runner struct {
	// AgentPath is the freezer-agent executable.
	AgentPath string
	// Env is the complete environment of the agent (os.Environ() plus the
	// OS_* variables built from the scheduler's service_auth options).
	Env []string
	// TempDir holds the temporary job files; "" means os.TempDir().
	TempDir string
	// AbortGrace is the SIGTERM to SIGKILL delay; 0 means DefaultAbortGrace.
	AbortGrace time.Duration
}

// Result is what one agent run produced.
type Result struct {
	ExitCode int
	// Aborted is set when the run was stopped through Abort or a cancelled
	// context, whatever the exit status.
	Aborted bool
	// Signaled is set when the agent died of a signal we did not send.
	Signaled bool
	// Stdout is the agent's standard output (the --metadata-out JSON).
	Stdout []byte
	// StderrTail is the last part of the agent's standard error.
	StderrTail string
}

// Success reports whether the agent exited 0 and was not aborted.
func (r Result) Success() bool { return r.ExitCode == 0 && !r.Aborted && !r.Signaled }

// Process is a running agent.
type Process struct {
	cmd      *exec.Cmd
	cfgPath  string
	grace    time.Duration
	stdout   *capped
	stderr   *tail
	done     chan struct{}
	result   Result
	mu       sync.Mutex
	aborted  bool
	waitErr  error
	abortOne sync.Once
}

// Pid is the agent's process id (also its process group id).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Start writes the job file for action and starts the agent. Cancelling ctx
// aborts the run like Abort does.
func (r *Runner) Start(ctx context.Context, action map[string]any) (*Process, error) {
	if r.AgentPath == "" {
		return nil, errors.New("starting agent: no freezer-agent path configured")
	}
	cfg, err := r.writeJobFile(action)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(r.AgentPath, "--metadata-out", "-", "--config", cfg)
	cmd.Env = r.Env
	// Its own process group, so that abort reaches the agent's children
	// (tar, gzip, openssl, ssh) as well.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &Process{cmd: cmd, cfgPath: cfg, grace: r.AbortGrace, done: make(chan struct{}),
		stdout: &capped{max: maxStdout}, stderr: &tail{max: maxStderrTail}}
	if p.grace <= 0 {
		p.grace = DefaultAbortGrace
	}
	cmd.Stdout = p.stdout
	cmd.Stderr = p.stderr
	// A grandchild that outlives the agent must not keep Wait blocked on
	// the output pipes forever.
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		os.Remove(cfg)
		return nil, fmt.Errorf("starting %s: %w", r.AgentPath, err)
	}
	go p.wait()
	go func() {
		select {
		case <-ctx.Done():
			p.Abort()
		case <-p.done:
		}
	}()
	return p, nil
}

func (p *Process) wait() {
	err := p.cmd.Wait()
	os.Remove(p.cfgPath)
	p.mu.Lock()
	p.waitErr = err
	p.result.Aborted = p.aborted
	p.mu.Unlock()
	p.result.Stdout = p.stdout.buf.Bytes()
	p.result.StderrTail = p.stderr.String()
	p.result.ExitCode = p.cmd.ProcessState.ExitCode()
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		// Python's subprocess reports -signal; keep that convention.
		p.result.ExitCode = -int(ws.Signal())
		p.result.Signaled = !p.result.Aborted
	}
	close(p.done)
}

// Wait blocks until the agent has exited and returns its result.
func (p *Process) Wait() Result {
	<-p.done
	return p.result
}

// Done is closed when the agent has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Abort stops the agent's process group: SIGTERM, then SIGKILL if it is
// still there after the grace period. It returns at once; Wait reports the
// outcome. Calling it more than once is harmless.
func (p *Process) Abort() {
	p.abortOne.Do(func() {
		p.mu.Lock()
		p.aborted = true
		p.mu.Unlock()
		pgid := p.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		go func() {
			t := time.NewTimer(p.grace)
			defer t.Stop()
			select {
			case <-p.done:
				// The leader is gone; children that ignored TERM go too.
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
			case <-t.C:
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
			}
		}()
	})
}

func (r *Runner) writeJobFile(action map[string]any) (string, error) {
	dir := r.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	// CreateTemp makes the file 0600: it can hold passwords and keys.
	f, err := os.CreateTemp(dir, "freezer-job-*.ini")
	if err != nil {
		return "", fmt.Errorf("creating the agent job file: %w", err)
	}
	if err := WriteINI(f, action); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the agent job file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("writing the agent job file: %w", err)
	}
	return filepath.Clean(f.Name()), nil
}

// WriteINI writes action as the agent's job INI: one [action] section with
// a `key = value` line per non-null entry, in sorted key order. Values are
// spelled as upstream's str() spells them (True/False, integers without a
// decimal point); objects and arrays are written as JSON. Newlines in a
// value become indented continuation lines, as configparser writes them.
func WriteINI(w io.Writer, action map[string]any) error {
	keys := make([]string, 0, len(action))
	for k, v := range action {
		if v == nil {
			continue
		}
		if strings.ContainsAny(k, "=:\n[]") || strings.TrimSpace(k) == "" {
			return fmt.Errorf("invalid freezer_action key %q", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("[action]\n")
	for _, k := range keys {
		v, err := iniValue(action[k])
		if err != nil {
			return fmt.Errorf("freezer_action %s: %w", k, err)
		}
		v = strings.ReplaceAll(v, "\r\n", "\n")
		v = strings.ReplaceAll(v, "\n", "\n\t")
		fmt.Fprintf(&b, "%s = %s\n", k, v)
	}
	b.WriteString("\n")
	_, err := w.Write(b.Bytes())
	return err
}

func iniValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		if x {
			return "True", nil
		}
		return "False", nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10), nil
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case json.Number:
		return x.String(), nil
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return "", err
		}
		return string(b), nil
	}
}

// capped keeps the first max bytes written and discards the rest.
type capped struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.buf.Len(); room > 0 {
		if len(p) > room {
			c.buf.Write(p[:room])
			c.truncated = true
		} else {
			c.buf.Write(p)
		}
	} else if len(p) > 0 {
		c.truncated = true
	}
	return len(p), nil
}

// tail keeps the last max bytes written.
type tail struct {
	buf []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string { return string(t.buf) }
