package agentrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Limits on what is read back of the agent's output: the metadata JSON is
// small and only the end of stderr explains a failure.
const (
	maxStdout     = 4 << 20
	maxStderrTail = 16 << 10
)

// DefaultAbortGrace is how long an aborted agent gets between SIGTERM and
// SIGKILL.
const DefaultAbortGrace = 3 * time.Second

// wrapper runs the agent and writes its exit status next to its output, so
// that the status survives the scheduler. $0 is the rc file, $1.. the agent
// command line.
const wrapper = `rc="$0"; "$@"; s=$?; echo $s > "$rc.tmp" && mv "$rc.tmp" "$rc"; exit $s`

// Runner starts agent processes.
type Runner struct {
	// AgentPath is the freezer-agent executable.
	AgentPath string
	// Env is the complete environment of the agent (os.Environ() plus the
	// OS_* variables built from the scheduler's service_auth options).
	Env []string
	// AbortGrace is the SIGTERM to SIGKILL delay; 0 means DefaultAbortGrace.
	AbortGrace time.Duration
	// Shell runs the wrapper; "" means /bin/sh. Unused on Windows, where
	// the agent runs without a wrapper.
	Shell string
	// MaxRun bounds one agent run: past it the run is stopped like Abort
	// does and its Result is TimedOut. Zero means no bound.
	MaxRun time.Duration
}

// Files are the paths of one run: Base + ".ini", ".out", ".err", ".rc".
type Files struct{ Base string }

// INI is the agent's job file (removed when the run ends).
func (f Files) INI() string { return f.Base + ".ini" }

// Out receives the agent's stdout (the metadata JSON).
func (f Files) Out() string { return f.Base + ".out" }

// Err receives the agent's stderr.
func (f Files) Err() string { return f.Base + ".err" }

// RC receives the agent's exit status once it has exited.
func (f Files) RC() string { return f.Base + ".rc" }

// Remove deletes every file of the run.
func (f Files) Remove() {
	for _, p := range []string{f.INI(), f.Out(), f.Err(), f.RC(), f.RC() + ".tmp"} {
		os.Remove(p)
	}
}

// Result is what one agent run produced.
type Result struct {
	ExitCode int
	// Aborted is set when the run was stopped through Abort or a cancelled
	// context, whatever the exit status.
	Aborted bool
	// Lost is set for an adopted run whose exit status was never written
	// (the agent was killed together with its wrapper).
	Lost bool
	// TimedOut is set when the run was stopped because it ran longer than
	// Runner.MaxRun; Aborted is not set then, the run failed.
	TimedOut bool
	// Stdout is the agent's standard output (the --metadata-out JSON).
	Stdout []byte
	// StderrTail is the last part of the agent's standard error.
	StderrTail string
}

// Success reports whether the agent exited 0 and was neither aborted nor
// timed out.
func (r Result) Success() bool { return r.ExitCode == 0 && !r.Aborted && !r.Lost && !r.TimedOut }

// Process is a running agent, started by us or adopted.
type Process struct {
	pid      int
	files    Files
	grace    time.Duration
	done     chan struct{}
	result   Result
	mu       sync.Mutex
	aborted  bool
	timedOut bool
	abortOne sync.Once
}

// Pid is the wrapper's process id (on Windows, the agent's), which is
// also the process group id.
func (p *Process) Pid() int { return p.pid }

// Files are the run's files.
func (p *Process) Files() Files { return p.files }

// Start writes the job file for action at files.INI() and starts the agent.
// The directory of files.Base must exist. Cancelling ctx aborts the run
// like Abort does.
func (r *Runner) Start(ctx context.Context, files Files, action map[string]any) (*Process, error) {
	return r.StartEnv(ctx, files, action, r.Env)
}

// StartEnv is Start with an environment for this run only (a job acting
// through a Keystone trust gets OS_TRUST_ID instead of the project scope).
func (r *Runner) StartEnv(ctx context.Context, files Files, action map[string]any, env []string) (*Process, error) {
	if r.AgentPath == "" {
		return nil, errors.New("starting agent: no freezer-agent path configured")
	}
	files.Remove()
	if err := writeJobFile(files.INI(), action); err != nil {
		return nil, err
	}
	out, err := os.OpenFile(files.Out(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		files.Remove()
		return nil, fmt.Errorf("creating the agent output file: %w", err)
	}
	defer out.Close()
	errf, err := os.OpenFile(files.Err(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		files.Remove()
		return nil, fmt.Errorf("creating the agent error file: %w", err)
	}
	defer errf.Close()
	cmd := r.command(files, "--metadata-out", "-", "--config", files.INI())
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, errf
	if _, err := os.Stat(r.AgentPath); err != nil {
		files.Remove()
		return nil, fmt.Errorf("starting agent: %w", err)
	}
	if err := cmd.Start(); err != nil {
		files.Remove()
		return nil, fmt.Errorf("starting %s: %w", r.AgentPath, err)
	}
	p := newProcess(cmd.Process.Pid, files, r.AbortGrace)
	go func() {
		err := cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			// Python's subprocess reports -signal; keep the convention.
			code = -int(ws.Signal())
		} else if err != nil && code == 0 {
			code = -1
		}
		if !wrapperWritesRC {
			_ = writeRC(files.RC(), code)
		}
		p.finish(code, false)
	}()
	go p.watchContext(ctx, r.MaxRun)
	return p, nil
}

func newProcess(pid int, files Files, grace time.Duration) *Process {
	if grace <= 0 {
		grace = DefaultAbortGrace
	}
	return &Process{pid: pid, files: files, grace: grace, done: make(chan struct{})}
}

func (p *Process) watchContext(ctx context.Context, maxRun time.Duration) {
	var timeout <-chan time.Time
	if maxRun > 0 {
		t := time.NewTimer(maxRun)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		p.Abort()
	case <-timeout:
		p.mu.Lock()
		p.timedOut = true
		p.mu.Unlock()
		p.stop()
	case <-p.done:
	}
}

// finish reads the run's files and publishes the result. For our own child,
// code is its exit status; for an adopted one, the rc file says.
func (p *Process) finish(code int, adopted bool) {
	os.Remove(p.files.INI())
	res := Result{ExitCode: code}
	if b, err := os.ReadFile(p.files.RC()); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && (adopted || code >= 0) {
			res.ExitCode = v
		}
	} else if adopted {
		res.Lost, res.ExitCode = true, -1
	}
	res.Stdout = readHead(p.files.Out(), maxStdout)
	res.StderrTail = readTail(p.files.Err(), maxStderrTail)
	p.mu.Lock()
	res.Aborted = p.aborted && !p.timedOut
	res.TimedOut = p.timedOut
	p.result = res
	p.mu.Unlock()
	close(p.done)
}

// Adopt re-attaches to a run started by an earlier scheduler process. If
// pid is no longer that run's wrapper, the run is over and its result comes
// from its files at once.
func Adopt(pid int, files Files, grace time.Duration) *Process {
	p := newProcess(pid, files, grace)
	go func() {
		for IsRun(pid, files) {
			time.Sleep(250 * time.Millisecond)
		}
		p.finish(-1, true)
	}()
	return p
}

// IsRun reports whether pid is alive and is the agent run with these
// files (and not some process that reused the pid).
func IsRun(pid int, files Files) bool {
	if pid <= 0 {
		return false
	}
	return isRun(pid, files)
}

// Wait blocks until the agent has exited and returns its result.
func (p *Process) Wait() Result {
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.result
}

// Done is closed when the agent has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Abort stops the agent's process group: SIGTERM (on Windows, CTRL_BREAK),
// then SIGKILL (taskkill /T /F) if it is still there after the grace
// period. It returns at once; Wait reports the outcome. Calling it more
// than once is harmless.
func (p *Process) Abort() {
	p.mu.Lock()
	p.aborted = true
	p.mu.Unlock()
	p.stop()
}

// stop sends SIGTERM to the run's process group, then SIGKILL after the
// grace period.
func (p *Process) stop() {
	p.abortOne.Do(func() {
		pgid := p.pid
		terminate(pgid, false)
		go func() {
			t := time.NewTimer(p.grace)
			defer t.Stop()
			select {
			case <-p.done:
				if !killTreeAfterExit {
					return
				}
			case <-t.C:
			}
			// Children that ignored TERM go too.
			terminate(pgid, true)
		}()
	})
}

// writeRC records an exit status as the wrapper does: through a temporary
// file, so that a reader never sees half of it.
func writeRC(path string, code int) error {
	if err := os.WriteFile(path+".tmp", []byte(strconv.Itoa(code)+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

func readHead(path string, limit int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, limit))
	return b
}

func readTail(path string, limit int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > limit {
		_, _ = f.Seek(st.Size()-limit, io.SeekStart)
	}
	b, _ := io.ReadAll(io.LimitReader(f, limit))
	return string(b)
}

func writeJobFile(path string, action map[string]any) error {
	// 0600 and O_EXCL: the file can hold passwords and keys.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("creating the agent job file: %w", err)
	}
	if err := WriteINI(f, action); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("writing the agent job file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("writing the agent job file: %w", err)
	}
	return nil
}

// WriteINI writes action as the agent's job INI: one [action] section with
// a `key = value` line per non-null entry, in sorted key order. Values are
// spelled as upstream's str() spells them (True/False, integers without a
// decimal point); objects and arrays are written as JSON. Newlines in a
// value become indented continuation lines, as configparser writes them.
//
// Every "%" is written as "%%": the agent reads the file with configparser's
// %-interpolation, so a value is passed unchanged whatever "%", "%%" or
// "%(name)s" it holds. (Upstream's scheduler refuses a value with a lone "%"
// and lets the agent expand "%%" and "%(name)s".)
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
	var b strings.Builder
	b.WriteString("[action]\n")
	for _, k := range keys {
		v, err := iniValue(action[k])
		if err != nil {
			return fmt.Errorf("freezer_action %s: %w", k, err)
		}
		v = strings.ReplaceAll(v, "%", "%%")
		v = strings.ReplaceAll(v, "\r\n", "\n")
		v = strings.ReplaceAll(v, "\n", "\n\t")
		fmt.Fprintf(&b, "%s = %s\n", k, v)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
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

// RunDir makes sure dir exists and is private to the scheduler's user.
func RunDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating run directory: %w", err)
	}
	return os.Chmod(filepath.Clean(dir), 0o700)
}
