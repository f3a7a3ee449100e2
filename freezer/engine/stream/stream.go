// Package stream is the engine of the hot-backup modes: the payload is
// the standard output of a backup command (mariadb-backup --stream=xbstream,
// pg_basebackup -Ft -D -), and a restore feeds it to a restore command
// (mbstream -x, tar -x) run in the restore directory, then runs the
// finishing commands (mariadb-backup --prepare). Each backup is a full one:
// the engine keeps no state between levels.
package stream

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"freezer.dev/freezer/freezer/backup"
)

// Name is the engine name written in the layout and the metadata.
const Name = "stream"

// Command is one external command.
type Command struct {
	Path string
	Args []string
	Env  []string // added to the agent's environment
	// Done, when set, is called once the command has ended (to remove
	// its temporary files).
	Done func()
}

func (c Command) String() string { return strings.Join(append([]string{c.Path}, c.Args...), " ") }

// Options configure the engine.
type Options struct {
	// Backup runs the backup command; its standard output is the payload.
	Backup func(ctx context.Context, path string) (Command, error)
	// Restore returns the command that reads the payload on its standard
	// input and writes it into dir, and the commands run after it in
	// order (each must succeed).
	Restore func(ctx context.Context, dir string) (extract Command, after []Command, err error)
	// StderrLine, when set, sees each line the backup command writes to
	// its standard error as it arrives (to time locks, say).
	StderrLine func(line string)
	// Stats, when set, is asked after a backup for facts to add to the
	// backup's result.
	Stats func() map[string]any
}

// Engine implements backup.Engine.
type Engine struct{ o Options }

// New returns a stream engine.
func New(o Options) *Engine { return &Engine{o: o} }

// Name implements backup.Engine.
func (*Engine) Name() string { return Name }

// ResultStats returns the facts Options.Stats reports.
func (e *Engine) ResultStats() map[string]any {
	if e.o.Stats == nil {
		return nil
	}
	return e.o.Stats()
}

// tail keeps the last lines a command wrote to standard error, for the
// error message.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) add(l string) {
	t.mu.Lock()
	t.lines = append(t.lines, l)
	if len(t.lines) > 8 {
		t.lines = t.lines[1:]
	}
	t.mu.Unlock()
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n")
}

func command(ctx context.Context, c Command) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.Path, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	return cmd
}

// Backup implements backup.Engine: it runs the backup command and copies
// its standard output to out. The command failing fails the backup.
func (e *Engine) Backup(ctx context.Context, req backup.BackupRequest, out io.Writer) (backup.Stats, error) {
	var st backup.Stats
	if e.o.Backup == nil {
		return st, errors.New("stream engine: no backup command for this mode")
	}
	c, err := e.o.Backup(ctx, req.Path)
	if err != nil {
		return st, err
	}
	if c.Done != nil {
		defer c.Done()
	}
	cmd := command(ctx, c)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return st, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return st, err
	}
	if err := cmd.Start(); err != nil {
		return st, fmt.Errorf("starting %s: %w", c.Path, err)
	}
	var errTail tail
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			l := sc.Text()
			errTail.add(l)
			if e.o.StderrLine != nil {
				e.o.StderrLine(l)
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	n, cerr := io.Copy(out, stdout)
	if cerr != nil {
		cmd.Process.Kill()
	}
	<-done
	werr := cmd.Wait()
	st.Files, st.Bytes = 1, n
	if req.State != nil {
		// No state: every backup is complete in itself.
		req.State.Write(nil)
	}
	switch {
	case ctx.Err() != nil:
		return st, ctx.Err()
	case cerr != nil:
		return st, fmt.Errorf("storing the output of %s: %w", c.Path, cerr)
	case werr != nil:
		return st, fmt.Errorf("%s: %w: %s", c, werr, errTail.String())
	}
	return st, nil
}

// Restore implements backup.Engine: the restore command reads the payload
// on its standard input in req.Dir, then the finishing commands run.
func (e *Engine) Restore(ctx context.Context, req backup.RestoreRequest, in io.Reader) (backup.Stats, error) {
	var st backup.Stats
	if req.DryRun {
		n, err := io.Copy(io.Discard, in)
		if req.List != nil {
			fmt.Fprintf(req.List, "stream of %d bytes\n", n)
		}
		st.Bytes = n
		return st, err
	}
	if e.o.Restore == nil {
		return st, errors.New("stream engine: no restore command for this mode (give --mode)")
	}
	extract, after, err := e.o.Restore(ctx, req.Dir)
	if err != nil {
		return st, err
	}
	cmd := command(ctx, extract)
	cmd.Dir = req.Dir
	counted := &countReader{r: in}
	cmd.Stdin = counted
	var outb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outb, &outb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		return st, fmt.Errorf("%s: %w: %s", extract, err, lastLines(outb.String()))
	}
	// The command may stop before EOF (a truncated or foreign stream): the
	// rest must still be read so the agent's integrity checks see it all.
	if _, err := io.Copy(io.Discard, counted); err != nil {
		return st, err
	}
	st.Files, st.Bytes = 1, counted.n
	for _, c := range after {
		cmd := command(ctx, c)
		cmd.Dir = req.Dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return st, fmt.Errorf("%s: %w: %s", c, err, lastLines(string(out)))
		}
	}
	return st, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func lastLines(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	if len(ls) > 8 {
		ls = ls[len(ls)-8:]
	}
	return strings.Join(ls, "\n")
}
