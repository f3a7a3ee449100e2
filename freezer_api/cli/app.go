package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/internal/config"
)

// Exit statuses, as cliff and argparse give them.
const (
	ExitOK    = 0
	ExitError = 1   // a command failed
	ExitUsage = 2   // the command line does not parse, or an unknown command
	ExitPipe  = 141 // output closed early
)

// App is the `freezer` program. Its fields are its whole environment, so
// tests run it in-process.
type App struct {
	Name    string // program name in messages: "freezer"
	Version string
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	// Transport, when set, carries every HTTP request (tests).
	Transport http.RoundTripper

	opts      *config.Parsed
	verbosity int
	logFile   io.Writer
	conn      *client.Client
	connErr   error
}

// userError is a failure whose message is the whole story (cliff logs
// str(exception) and exits 1).
type userError struct{ msg string }

func (e *userError) Error() string { return e.msg }

func errorf(format string, a ...any) error { return &userError{fmt.Sprintf(format, a...)} }

// apiError is an answer with a status the command did not expect; it
// prints as freezerclient's ApiClientException does.
type apiError struct {
	status int
	body   []byte
}

func (e *apiError) Error() string {
	if v, err := decodeJSON(e.body); err == nil {
		if d, ok := get(v, "description"); ok {
			return fmt.Sprintf("[*] Error %d: %s", e.status, pyStr(d))
		}
	}
	return fmt.Sprintf("[*] Error %d: %s", e.status, string(e.body))
}

func (a *App) info(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if a.verbosity >= 1 {
		fmt.Fprintln(a.Stderr, msg)
	}
	if a.logFile != nil {
		fmt.Fprintln(a.logFile, msg)
	}
}

func (a *App) warn(msg string) {
	fmt.Fprintln(a.Stderr, msg)
	if a.logFile != nil {
		fmt.Fprintln(a.logFile, msg)
	}
}

func (a *App) logError(err error) {
	a.warn(err.Error())
}

func (a *App) getenv(k string) string {
	if a.Getenv == nil {
		return os.Getenv(k)
	}
	return a.Getenv(k)
}

func (a *App) mainParser() *config.Command {
	return &config.Command{Prog: a.Name, Description: "Freezer command-line client (Go)", Args: globalArgs()}
}

// Run runs one command line and returns the exit status. A bug shows
// as one line and status 1, never as a Go stack trace.
func (a *App) Run(ctx context.Context, argv []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(a.Stderr, "internal error: %v\n", r)
			code = ExitError
		}
	}()
	return a.run(ctx, argv)
}

func (a *App) run(ctx context.Context, argv []string) int {
	if a.Name == "" {
		a.Name = "freezer"
	}
	opts, rest, err := config.SplitKnown(globalArgs(), argv, a.getenv)
	if err != nil {
		(&config.UsageError{Usage: a.mainParser().Usage(), Prog: a.Name, Msg: err.Error()}).Render(a.Stderr)
		return ExitUsage
	}
	a.opts = opts
	a.verbosity = 1 + opts.Count("verbose")
	if opts.Bool("quiet") {
		a.verbosity = 0
	}
	if f := opts.String("log-file"); f != "" {
		lf, err := os.OpenFile(f, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			a.logError(err)
			return ExitError
		}
		defer lf.Close()
		a.logFile = lf
	}
	if opts.Bool("version") {
		fmt.Fprintf(a.Stdout, "%s %s\n", a.Name, a.Version)
		return ExitOK
	}
	if v := opts.String("os-backup-api-version"); v != "2" {
		a.logError(errorf("Freezer API version not supported"))
		return ExitError
	}
	if opts.Bool("help") {
		if len(rest) == 0 {
			a.printMainHelp()
			return ExitOK
		}
		rest = append([]string{"help"}, rest...)
	}
	if len(rest) == 0 {
		// cliff would start an interactive shell; scripts never want one.
		a.printMainHelp()
		return ExitOK
	}
	cmd, args, code := a.findCommand(rest)
	if cmd == nil {
		return code
	}
	return a.runCommand(ctx, cmd, args)
}

func (a *App) printMainHelp() {
	w := a.Stdout
	io.WriteString(w, a.mainParser().Help())
	io.WriteString(w, "\nCommands:\n")
	cmds := a.commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s  %s\n", n, cmds[n].help)
	}
}

// findCommand is cliff's lookup: an exact name or a unique prefix of one;
// else the closest names and status 2.
func (a *App) findCommand(argv []string) (*command, []string, int) {
	cmds := a.commands()
	name := argv[0]
	if strings.HasPrefix(name, "-") {
		a.logError(errorf("Unknown command %s", pyRepr(toAny(argv), false)))
		return nil, nil, ExitUsage
	}
	if c, ok := cmds[name]; ok {
		return c, argv[1:], 0
	}
	var cand []string
	for n := range cmds {
		if strings.HasPrefix(n, name) {
			cand = append(cand, n)
		}
	}
	if len(cand) == 1 {
		return cmds[cand[0]], argv[1:], 0
	}
	matches := a.fuzzy(name)
	if len(matches) == 0 {
		a.logError(errorf("Unknown command %s", pyRepr(toAny(argv), false)))
		return nil, nil, ExitUsage
	}
	fmt.Fprintf(a.Stdout, "%s: '%s' is not a %s command. See '%s --help'.\n", a.Name, strings.Join(argv, " "), a.Name, a.Name)
	fmt.Fprintln(a.Stdout, "Did you mean one of these?")
	for _, m := range matches {
		fmt.Fprintf(a.Stdout, "  %s\n", m)
	}
	return nil, nil, ExitUsage
}

func (a *App) fuzzy(name string) []string {
	type cand struct {
		d int
		n string
	}
	var all []cand
	for n := range a.commands() {
		if strings.HasPrefix(n, name) {
			all = append(all, cand{0, n})
			continue
		}
		all = append(all, cand{damerauLevenshtein(name, n) + 1, n})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].d != all[j].d {
			return all[i].d < all[j].d
		}
		return all[i].n < all[j].n
	})
	var out []string
	best := 0
	for _, c := range all {
		if c.d > best {
			if best != 0 {
				break
			}
			best = c.d
		}
		out = append(out, c.n)
	}
	return out
}

// damerauLevenshtein is git's (and cliff's) weighted edit distance:
// swap 0, substitution 2, insertion 1, deletion 3.
func damerauLevenshtein(s1, s2 string) int {
	const w, s, ad, d = 0, 2, 1, 3
	if s1 == s2 {
		return 0
	}
	a, b := []rune(s1), []rune(s2)
	if len(a) == 0 {
		return len(b) * ad
	}
	if len(b) == 0 {
		return len(a) * d
	}
	row1 := make([]int, len(b)+1)
	for i := range row1 {
		row1[i] = i * ad
	}
	row2 := append([]int(nil), row1...)
	row0 := append([]int(nil), row1...)
	for i := range a {
		row2[0] = (i + 1) * d
		for j := range b {
			sub := row1[j]
			if a[i] != b[j] {
				sub += s
			}
			p := min(sub, row2[j]+ad, row1[j+1]+d)
			if i > 0 && j > 0 && a[i-1] == b[j] && a[i] == b[j-1] {
				p = min(p, row0[j-1]+w)
			}
			row2[j+1] = p
		}
		row0, row1, row2 = row1, row2, row0
	}
	return row1[len(b)]
}

func (a *App) runCommand(ctx context.Context, c *command, argv []string) int {
	spec := c.spec(a.Name)
	p, err := spec.Parse(argv, a.getenv)
	if errors.Is(err, config.ErrHelp) {
		io.WriteString(a.Stdout, spec.Help())
		return ExitOK
	}
	var ue *config.UsageError
	if errors.As(err, &ue) {
		ue.Render(a.Stderr)
		return ExitUsage
	}
	if err != nil {
		a.logError(err)
		return ExitError
	}
	if err := c.run(ctx, a, p); err != nil {
		if errors.Is(err, errBrokenPipe) {
			return ExitPipe
		}
		if errors.As(err, &ue) {
			ue.Render(a.Stderr)
			return ExitUsage
		}
		a.logError(err)
		return ExitError
	}
	return ExitOK
}

var errBrokenPipe = errors.New("broken pipe")
