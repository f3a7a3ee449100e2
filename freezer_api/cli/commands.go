package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/internal/config"
)

type kind int

const (
	plain kind = iota
	lister
	shower
)

// command is one subcommand: its arguments, and what it does. A lister
// returns rows, a shower one record; a plain command prints itself.
type command struct {
	name string
	help string
	kind kind
	args []config.Arg
	do   func(ctx context.Context, a *App, p *config.Parsed) (cols []string, rows [][]any, err error)
}

func (c *command) spec(prog string) *config.Command {
	// cliff adds the formatter options before the command's own.
	var args []config.Arg
	switch c.kind {
	case lister:
		args = listFormatArgs()
	case shower:
		args = showFormatArgs()
	}
	args = append(args, c.args...)
	return &config.Command{Prog: prog + " " + c.name, Description: c.help, Args: args}
}

func formatArg(choices []string) config.Arg {
	return config.Arg{Opt: config.Opt{Name: "format", Default: "table", Choices: choices, Help: "the output format, defaults to table"}, Short: "f", Section: "output formatters"}
}

func commonFormatArgs() []config.Arg {
	return []config.Arg{
		{Opt: config.Opt{Name: "column", Type: config.MultiString, Help: "specify the column(s) to include, can be repeated to show multiple columns"}, Short: "c", Metavar: "COLUMN", Section: "output formatters"},
		{Opt: config.Opt{Name: "noindent", Type: config.Bool, Help: "whether to disable indenting the JSON"}, Section: "json formatter"},
		{Opt: config.Opt{Name: "max-width", Type: config.Int, Default: "0", Help: "Maximum display width, <1 to disable. You can also use the CLIFF_MAX_TERM_WIDTH environment variable, but the parameter takes precedence."}, Metavar: "<integer>", Env: "CLIFF_MAX_TERM_WIDTH", Section: "table formatter"},
		{Opt: config.Opt{Name: "fit-width", Type: config.Bool, Help: "Fit the table to the display width. Implied if --max-width greater than 0. Set the environment variable CLIFF_FIT_WIDTH=1 to always enable"}, Section: "table formatter"},
		{Opt: config.Opt{Name: "print-empty", Type: config.Bool, Help: "Print empty table if there is no data to show."}, Section: "table formatter"},
	}
}

func listFormatArgs() []config.Arg {
	c := commonFormatArgs()
	a := []config.Arg{formatArg(listFormats), c[0],
		{Opt: config.Opt{Name: "quote", Default: "nonnumeric", Choices: []string{"all", "minimal", "none", "nonnumeric"}, Help: "when to include quotes, defaults to nonnumeric"}, Section: "CSV Formatter"}}
	a = append(a, c[1:]...)
	return append(a,
		config.Arg{Opt: config.Opt{Name: "sort-column", Type: config.MultiString, Help: "specify the column(s) to sort the data (columns specified first have a priority, non-existing columns are ignored), can be repeated"}, Metavar: "SORT_COLUMN", Section: "output formatters"},
		config.Arg{Opt: config.Opt{Name: "sort-ascending", Type: config.Bool, Help: "sort the column(s) in ascending order"}, Section: "output formatters", Group: "sort"},
		config.Arg{Opt: config.Opt{Name: "sort-descending", Type: config.Bool, Help: "sort the column(s) in descending order"}, Section: "output formatters", Group: "sort"},
	)
}

func showFormatArgs() []config.Arg {
	c := commonFormatArgs()
	a := []config.Arg{formatArg(showFormats), c[0], c[1],
		{Opt: config.Opt{Name: "prefix", Help: "add a prefix to all variable names"}, Section: "shell formatter"},
		{Opt: config.Opt{Name: "variable", Type: config.MultiString}, Hidden: true, Section: "shell formatter"}}
	return append(a, c[2:]...)
}

func fmtOpts(p *config.Parsed) (fmtOptions, error) {
	o := fmtOptions{Format: p.String("format"), Columns: p.Strings("column"), Quote: p.String("quote"),
		NoIndent: p.Bool("noindent"), FitWidth: p.Bool("fit-width"), PrintEmpty: p.Bool("print-empty"),
		Prefix: p.String("prefix"), SortCols: p.Strings("sort-column"), SortDesc: p.Bool("sort-descending")}
	if s := p.String("max-width"); s != "" {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return o, errorf("invalid literal for int() with base 10: %s", strRepr(s))
		}
		o.MaxWidth = n
	}
	return o, nil
}

func (c *command) run(ctx context.Context, a *App, p *config.Parsed) error {
	var fo fmtOptions
	if c.kind != plain {
		var err error
		if fo, err = fmtOpts(p); err != nil {
			return err
		}
	}
	cols, rows, err := c.do(ctx, a, p)
	if err != nil {
		return err
	}
	var w strings.Builder
	switch c.kind {
	case lister:
		err = emitList(&w, cols, rows, fo, a.warn)
	case shower:
		err = emitOne(&w, cols, rows[0], fo)
	}
	if _, werr := io.WriteString(a.Stdout, w.String()); werr != nil && errors.Is(werr, syscall.EPIPE) {
		return errBrokenPipe
	}
	return err
}

// ---------------------------------------------------------------- args

func pos(name, help string) config.Arg {
	return config.Arg{Opt: config.Opt{Name: name, Help: help}, Positional: true}
}

func fileArg(help string) config.Arg {
	return config.Arg{Opt: config.Opt{Name: "file", Help: help}, Required: true}
}

func req(name, help string) config.Arg {
	return config.Arg{Opt: config.Opt{Name: name, Help: help}, Required: true}
}

func pagingArgs() []config.Arg {
	return []config.Arg{
		{Opt: config.Opt{Name: "limit", Default: "100", Help: "Specify a limit for search query"}},
		{Opt: config.Opt{Name: "offset", Default: "0"}},
		{Opt: config.Opt{Name: "search", Help: "Define a filter for the query"}},
	}
}

// ---------------------------------------------------------------- API calls

// call sends one request; a transport failure is worded like the Python
// client's, never as a Go error chain.
func (a *App) call(ctx context.Context, method string, parts []string, slash bool, query string, body any) (int, any, []byte, error) {
	c, err := a.client(ctx)
	if err != nil {
		return 0, nil, nil, err
	}
	var raw []byte
	if body != nil {
		var b strings.Builder
		if err := pyJSON(&b, body, -1, 0); err != nil {
			return 0, nil, nil, err
		}
		raw = []byte(b.String())
	}
	status, rb, err := c.Raw(ctx, method, parts, slash, query, raw)
	if err != nil {
		u := c.URL(parts...)
		if slash {
			u += "/"
		}
		if query != "" {
			u += "?" + query
		}
		return 0, nil, nil, connError(errors.Unwrap(err), u)
	}
	var doc any
	if len(rb) > 0 {
		doc, _ = decodeJSON(rb)
	}
	return status, doc, rb, nil
}

// getDoc is a manager's get(): the document, nil for 404, an error else.
func (a *App) getDoc(ctx context.Context, res, id string) (any, error) {
	st, doc, raw, err := a.call(ctx, http.MethodGet, []string{res, id}, false, "", nil)
	switch {
	case err != nil:
		return nil, err
	case st == http.StatusOK:
		if doc == nil {
			return nil, errorf("Expecting value: line 1 column 1 (char 0)")
		}
		return doc, nil
	case st == http.StatusNotFound:
		return nil, nil
	}
	return nil, &apiError{st, raw}
}

// field is r.json()[key] after a success.
func field(doc any, key string) (any, error) {
	v, ok := get(doc, key)
	if !ok {
		return nil, errorf("%s", strRepr(key))
	}
	return v, nil
}

func (a *App) list(ctx context.Context, res string, p *config.Parsed, extra map[string]any) ([]any, error) {
	limit, err := pyInt(p.String("limit"))
	if err != nil {
		return nil, err
	}
	offset, err := pyInt(p.String("offset"))
	if err != nil {
		return nil, err
	}
	var search *Object
	if s := p.String("search"); s != "" {
		search = newObject()
		m := newObject()
		m.Set("_all", s)
		search.Set("match", []any{m})
	}
	if extra != nil {
		if search == nil {
			search = newObject()
		}
		match, _ := get(search, "match")
		ml, _ := match.([]any)
		m := newObject()
		for k, v := range extra {
			m.Set(k, v)
		}
		search.Set("match", append(ml, m))
	}
	var body any
	if search != nil {
		body = search
	}
	q := fmt.Sprintf("limit=%d&offset=%d", limit, offset)
	st, doc, raw, err := a.call(ctx, http.MethodGet, []string{res}, true, q, body)
	if err != nil {
		return nil, err
	}
	if st != http.StatusOK {
		return nil, &apiError{st, raw}
	}
	v, err := field(doc, res)
	if err != nil {
		return nil, err
	}
	l, _ := v.([]any)
	return l, nil
}

// pyInt is int(s) for a command-line string.
func pyInt(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(s), "_", ""), 10, 64)
	if err != nil {
		return 0, errorf("invalid literal for int() with base 10: %s", strRepr(s))
	}
	return n, nil
}

// expect sends a request and wants one status.
func (a *App) expect(ctx context.Context, want int, method string, parts []string, slash bool, body any) (any, error) {
	st, doc, raw, err := a.call(ctx, method, parts, slash, "", body)
	if err != nil {
		return nil, err
	}
	if st != want {
		return nil, &apiError{st, raw}
	}
	return doc, nil
}

// readDoc is utils.doc_from_json_file.
func (a *App) readDoc(path string) (any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errorf("%s", pyOSError(err, path))
	}
	v, err := decodeJSON(data)
	if err != nil {
		msg := pyJSONError(data, err)
		a.warn(msg)
		return nil, errorf("Unable to load conf file. %s", msg)
	}
	return v, nil
}

// pyJSONError words a JSON syntax error as Python's json module does.
func pyJSONError(data []byte, err error) string {
	off := len(data)
	what := "Expecting value"
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = int(se.Offset) - 1
		m := se.Error()
		switch {
		case strings.Contains(m, "unexpected end"):
			return eofJSONError(data)
		case strings.Contains(m, "object key string"):
			what = "Expecting property name enclosed in double quotes"
		case strings.Contains(m, "after object key:value pair"), strings.Contains(m, "after array element"):
			what = "Expecting ',' delimiter"
		case strings.Contains(m, "after object key"):
			what = "Expecting ':' delimiter"
		case strings.Contains(m, "in string"):
			what = "Invalid control character at"
		case strings.Contains(m, "after top-level value"):
			what = "Extra data"
		}
	} else if strings.Contains(err.Error(), "extra data") {
		what = "Extra data"
		off = len(strings.TrimRight(string(data), " \t\r\n"))
		d := json.NewDecoder(strings.NewReader(string(data)))
		var x any
		if d.Decode(&x) == nil {
			off = int(d.InputOffset())
			for off < len(data) && strings.ContainsRune(" \t\r\n", rune(data[off])) {
				off++
			}
		}
	} else if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		off = len(data)
		if strings.TrimSpace(string(data)) == "" {
			off = len(strings.TrimRight(string(data), " \t\r\n"))
		}
	}
	off = max(0, min(off, len(data)))
	line := 1 + strings.Count(string(data[:off]), "\n")
	col := off - strings.LastIndex(string(data[:off]), "\n")
	return fmt.Sprintf("%s: line %d column %d (char %d)", what, line, col, off)
}

// eofJSONError words a document that ends too early: what Python's
// decoder expected next, at the end of the text.
func eofJSONError(data []byte) string {
	var stack []byte
	inString, escaped := false, false
	strStart, last := 0, byte(0)
	keyDone := false // in an object, a key was read and no ':' yet
	for i, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				last = '"'
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			inString, strStart = true, i
			keyDone = len(stack) > 0 && stack[len(stack)-1] == '{' && (last == '{' || last == ',')
		case '{', '[':
			stack = append(stack, c)
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ':':
			keyDone = false
		}
		last = c
	}
	what := "Expecting value"
	off := len(data)
	top := byte(0)
	if len(stack) > 0 {
		top = stack[len(stack)-1]
	}
	switch {
	case inString:
		what, off = "Unterminated string starting at", strStart
	case last == '{' || (last == ',' && top == '{'):
		what = "Expecting property name enclosed in double quotes"
	case last == ':' || last == '[' || last == ',' || last == 0:
		what = "Expecting value"
	case top == '{' && keyDone:
		what = "Expecting ':' delimiter"
	case top != 0:
		what = "Expecting ',' delimiter"
	}
	line := 1 + strings.Count(string(data[:off]), "\n")
	col := off - strings.LastIndex(string(data[:off]), "\n")
	return fmt.Sprintf("%s: line %d column %d (char %d)", what, line, col, off)
}

func mustObject(doc any, op string) (*Object, error) {
	o, ok := doc.(*Object)
	if !ok {
		switch op {
		case "setitem":
			if _, isList := doc.([]any); isList {
				return nil, errorf("list indices must be integers or slices, not str")
			}
			return nil, errorf("'%s' object does not support item assignment", pyTypeName(doc))
		default:
			return nil, errorf("'%s' object has no attribute 'get'", pyTypeName(doc))
		}
	}
	return o, nil
}

func one(cols []string, vals ...any) ([]string, [][]any, error) { return cols, [][]any{vals}, nil }

// ---------------------------------------------------------------- the commands

func (a *App) commands() map[string]*command {
	cmds := []*command{
		// Clients.
		{name: "client-list", help: "List of clients registered in the api", kind: lister, args: pagingArgs(), do: clientList},
		{name: "client-show", help: "Show a single client", kind: shower, args: []config.Arg{pos("client_id", "ID of the client")}, do: clientShow},
		{name: "client-register", help: "Register a new client", args: []config.Arg{fileArg("Path to json file with the client")}, do: clientRegister},
		{name: "client-delete", help: "Delete a client from the api", args: []config.Arg{pos("client_id", "ID of the client")}, do: deleter("clients", "Client", "client_id")},
		// Jobs.
		{name: "job-list", help: "List all the jobs for your user", kind: lister, args: append(pagingArgs(),
			config.Arg{Opt: config.Opt{Name: "client", Help: "Get jobs for a specific client"}, Short: "C", LongFirst: true, Metavar: "CLIENT_ID"}), do: jobList},
		{name: "job-show", help: "Show a single job", kind: shower, args: []config.Arg{pos("job_id", "ID of the job")}, do: jobShow},
		{name: "job-get", help: "Download a job as a json file", args: []config.Arg{pos("job_id", "ID of the job"),
			{Opt: config.Opt{Name: "no-format", Type: config.Bool, Help: "Return a job in json without pretty print"}}}, do: jobGet},
		{name: "job-create", help: "Create a new job from a file, or from options for the common cases", args: jobCreateArgs(), do: jobCreate},
		{name: "job-update", help: "Update a job from a file", args: []config.Arg{pos("job_id", "ID of the job"), pos("file", "Path to json file with the job")}, do: updater("jobs", "Job", "job_id")},
		{name: "job-delete", help: "Delete a job from the api", args: []config.Arg{pos("job_id", "ID of the job")}, do: deleter("jobs", "Job", "job_id")},
		{name: "job-start", help: "Send a start signal for a job", args: []config.Arg{pos("job_id", "ID of the job")}, do: jobEvent("start", "Start")},
		{name: "job-stop", help: "Send a stop signal for a job", args: []config.Arg{pos("job_id", "ID of the job")}, do: jobEvent("stop", "Stop")},
		{name: "job-abort", help: "Abort a running job", args: []config.Arg{pos("job_id", "ID of the job")}, do: jobEvent("abort", "Abort")},
		// Actions.
		{name: "action-list", help: "List all actions for your user", kind: lister, args: pagingArgs(), do: actionList},
		{name: "action-show", help: "Show a single action ", kind: shower, args: []config.Arg{pos("action_id", "ID of the action")}, do: actionShow},
		{name: "action-create", help: "Create an action from a file", args: []config.Arg{fileArg("Path to json file with the action")}, do: creator("actions", "Action", "action_id", true)},
		{name: "action-update", help: "Update an action from a file", args: []config.Arg{pos("action_id", "ID of the session"), pos("file", "Path to json file with the action")}, do: updater("actions", "Action", "action_id")},
		{name: "action-delete", help: "Delete an action from the api", args: []config.Arg{pos("action_id", "ID of the action")}, do: deleter("actions", "Action", "action_id")},
		// Sessions.
		{name: "session-list", help: "List all the sessions for your user", kind: lister, args: pagingArgs(), do: sessionList},
		{name: "session-show", help: "Show a single session", kind: shower, args: []config.Arg{pos("session_id", "ID of the session")}, do: sessionShow},
		{name: "session-create", help: "Create a session from a file", args: []config.Arg{fileArg("Path to json file with the job")}, do: creator("sessions", "Session", "session_id", true)},
		{name: "session-update", help: "Update a session from a file", args: []config.Arg{pos("session_id", "ID of the session"), pos("file", "Path to json file with the session")}, do: updater("sessions", "Session", "session_id")},
		{name: "session-delete", help: "Delete a session", args: []config.Arg{pos("session_id", "ID of the session")}, do: sessionDelete},
		{name: "session-add-job", help: "Add a job to a session", args: []config.Arg{req("session-id", "ID of the session"), req("job-id", "ID of the job to add")}, do: sessionAddJob},
		{name: "session-remove-job", help: "Remove a job from a session", args: []config.Arg{req("session-id", "ID of the session"), req("job-id", "ID of the job to add")}, do: sessionRemoveJob},
		{name: "session-start", help: "Start a session", args: []config.Arg{req("session-id", "ID of the session"), req("job-id", "ID of the job"), req("job-tag", "Job tag value")}, do: sessionStart},
		{name: "session-end", help: "End a job's run in a session, with its result", args: []config.Arg{req("session-id", "ID of the session"), req("job-id", "ID of the job"), req("job-tag", "Job tag value"),
			{Opt: config.Opt{Name: "result", Default: "success", Choices: []string{"success", "fail", "aborted"}, Help: "Result of the job's run"}}}, do: sessionEnd},
		// Backups.
		{name: "backup-list", help: "List all backups for your user", kind: lister, args: pagingArgs(), do: backupList},
		{name: "backup-show", help: "Show the metadata of a single backup", kind: shower, args: []config.Arg{pos("backup_uuid", "ID of the backup")}, do: backupShow},
		{name: "backup-create", help: "Create an backup from a file", args: []config.Arg{fileArg("Path to json file with the backup")}, do: creator("backups", "Backup", "backup_id", false)},
		{name: "backup-delete", help: "Delete a backup from the api", args: []config.Arg{pos("backup_uuid", "UUID of the backup")}, do: deleter("backups", "Backup", "backup_uuid")},
		// The program itself.
		{name: "help", help: "print detailed help for another command", args: []config.Arg{{Opt: config.Opt{Name: "cmd", Type: config.MultiString, Help: "name of the command"}, Positional: true, Hidden: true}}, do: helpCmd},
		{name: "complete", help: "print bash or zsh completion command", args: []config.Arg{
			{Opt: config.Opt{Name: "name", Default: "freezer", Help: "Command name to support with command completion"}, Metavar: "<command_name>"},
			{Opt: config.Opt{Name: "shell", Default: "bash", Choices: []string{"bash", "zsh", "none"}, Help: "Shell being used. Use none for data only (default: bash)"}, Metavar: "<shell>"}}, do: completeCmd},
		{name: "version", help: "Show the client version and the API versions the server offers", kind: shower, do: versionCmd},
	}
	m := make(map[string]*command, len(cmds))
	for _, c := range cmds {
		m[c.name] = c
	}
	return m
}

// ---------------------------------------------------------------- generic

func deleter(res, what, arg string) func(context.Context, *App, *config.Parsed) ([]string, [][]any, error) {
	return func(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
		id := p.String(arg)
		if _, err := a.expect(ctx, http.StatusNoContent, http.MethodDelete, []string{res, id}, false, nil); err != nil {
			return nil, nil, err
		}
		a.info("%s %s deleted", what, id)
		return nil, nil, nil
	}
}

func updater(res, what, arg string) func(context.Context, *App, *config.Parsed) ([]string, [][]any, error) {
	return func(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
		doc, err := a.readDoc(p.String("file"))
		if err != nil {
			return nil, nil, err
		}
		id := p.String(arg)
		out, err := a.expect(ctx, http.StatusOK, http.MethodPatch, []string{res, id}, false, doc)
		if err != nil {
			return nil, nil, err
		}
		if _, err := field(out, "version"); err != nil {
			return nil, nil, err
		}
		a.info("%s %s updated", what, id)
		return nil, nil, nil
	}
}

// creator posts a file; withID posts to <res>/<doc id> when the document
// names its id, as the Python managers do.
func creator(res, what, idKey string, withID bool) func(context.Context, *App, *config.Parsed) ([]string, [][]any, error) {
	return func(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
		doc, err := a.readDoc(p.String("file"))
		if err != nil {
			return nil, nil, err
		}
		parts := []string{res}
		if withID {
			o, err := mustObject(doc, "get")
			if err != nil {
				return nil, nil, err
			}
			if id, ok := o.Get(idKey); ok && pyTruthy(id) {
				parts = append(parts, pyStr(id))
			}
		}
		id, err := a.create(ctx, parts, doc, idKey)
		if err != nil {
			return nil, nil, err
		}
		a.info("%s %s created", what, id)
		return nil, nil, nil
	}
}

func (a *App) create(ctx context.Context, parts []string, doc any, idKey string) (string, error) {
	out, err := a.expect(ctx, http.StatusCreated, http.MethodPost, parts, len(parts) == 1, doc)
	if err != nil {
		return "", err
	}
	id, err := field(out, idKey)
	if err != nil {
		return "", err
	}
	return pyStr(id), nil
}

func pyTruthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case string:
		return t != ""
	case bool:
		return t
	case Int:
		return t != 0
	case Float:
		return t != 0
	case []any:
		return len(t) > 0
	case *Object:
		return len(t.Keys) > 0
	}
	return true
}

// ---------------------------------------------------------------- clients

func clientList(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	l, err := a.list(ctx, "clients", p, nil)
	if err != nil {
		return nil, nil, err
	}
	if len(l) == 0 {
		l = []any{newObject()}
	}
	cols := []string{"Client ID", "uuid", "hostname", "description"}
	var rows [][]any
	for _, c := range l {
		rows = append(rows, []any{getOr(c, "", "client", "client_id"), getOr(c, "", "client", "uuid"),
			getOr(c, "", "client", "hostname"), getOr(c, "", "client", "description")})
	}
	return cols, rows, nil
}

func clientShow(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	c, err := a.getDoc(ctx, "clients", p.String("client_id"))
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, nil, errorf("Client not found")
	}
	return one([]string{"Client ID", "Client UUID", "hostname", "description"},
		getOr(c, nil, "client", "client_id"), getOr(c, nil, "client", "uuid"), getOr(c, nil, "client", "hostname"), getOr(c, "", "client", "description"))
}

func clientRegister(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	doc, err := a.readDoc(p.String("file"))
	if err != nil {
		return nil, nil, err
	}
	id, err := a.create(ctx, []string{"clients"}, doc, "client_id")
	if err != nil {
		return nil, nil, err
	}
	a.info("Client %s registered", id)
	return nil, nil, nil
}

// ---------------------------------------------------------------- jobs

func jobList(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	var extra map[string]any
	if c := p.String("client"); c != "" {
		extra = map[string]any{"client_id": c}
	}
	l, err := a.list(ctx, "jobs", p, extra)
	if err != nil {
		return nil, nil, err
	}
	cols := []string{"Job ID", "Description", "# Actions", "Result", "Status", "Event", "Session ID"}
	if len(l) == 0 {
		return cols, [][]any{{"", "", "", "", "", "", ""}}, nil
	}
	var rows [][]any
	for _, j := range l {
		n := any(Int(0))
		switch acts := getOr(j, []any{}, "job_actions").(type) {
		case []any:
			n = Int(len(acts))
		case *Object:
			n = Int(len(acts.Keys))
		case string:
			n = Int(runeLen(acts))
		}
		rows = append(rows, []any{getOr(j, nil, "job_id"), getOr(j, nil, "description"), n,
			getOr(j, "", "job_schedule", "result"), getOr(j, "", "job_schedule", "status"),
			getOr(j, "", "job_schedule", "event"), getOr(j, "", "session_id")})
	}
	return cols, rows, nil
}

func jobShow(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	j, err := a.getDoc(ctx, "jobs", p.String("job_id"))
	if err != nil {
		return nil, nil, err
	}
	if j == nil {
		return nil, nil, errorf("Job not found")
	}
	s := func(k string) any { return getOr(j, "", "job_schedule", k) }
	return one([]string{"Job ID", "Client ID", "User ID", "Session ID", "Description", "Actions", "Start Date", "End Date",
		"Interval", "Status", "Result", "Current pid", "Event"},
		getOr(j, nil, "job_id"), getOr(j, nil, "client_id"), getOr(j, nil, "user_id"), getOr(j, "", "session_id"),
		getOr(j, nil, "description"), pformat(getOr(j, nil, "job_actions")), s("schedule_start_date"), s("schedule_end_date"),
		s("schedule_interval"), s("status"), s("result"), s("current_pid"), s("event"))
}

func jobGet(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	j, err := a.getDoc(ctx, "jobs", p.String("job_id"))
	if err != nil {
		return nil, nil, err
	}
	if j == nil {
		return nil, nil, errorf("Job not found")
	}
	if p.Bool("no-format") {
		fmt.Fprintln(a.Stdout, pyRepr(j, false))
	} else {
		fmt.Fprintln(a.Stdout, pformat(j))
	}
	return nil, nil, nil
}

func jobEvent(event, word string) func(context.Context, *App, *config.Parsed) ([]string, [][]any, error) {
	return func(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
		id := p.String("job_id")
		body := newObject()
		body.Set(event, nil)
		if _, err := a.expect(ctx, http.StatusAccepted, http.MethodPost, []string{"jobs", id, "event"}, false, body); err != nil {
			return nil, nil, err
		}
		a.info("%s request sent for job %s", word, id)
		return nil, nil, nil
	}
}

// ---------------------------------------------------------------- actions

func actionList(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	l, err := a.list(ctx, "actions", p, nil)
	if err != nil {
		return nil, nil, err
	}
	cols := []string{"Action ID", "Name", "Action", "Path to Backup or Restore", "Mode", "Storage", "snapshot"}
	if len(l) == 0 {
		return cols, [][]any{{"", "", "", "", "", "", ""}}, nil
	}
	var rows [][]any
	for _, x := range l {
		f := func(k string, d any) any { return getOr(x, d, "freezer_action", k) }
		rows = append(rows, []any{getOr(x, nil, "action_id"), f("backup_name", ""), f("action", "backup"),
			f("path_to_backup", ""), f("mode", "fs"), f("storage", "swift"), f("snapshot", "False")})
	}
	return cols, rows, nil
}

func actionShow(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	x, err := a.getDoc(ctx, "actions", p.String("action_id"))
	if err != nil {
		return nil, nil, err
	}
	if x == nil {
		return nil, nil, errorf("Action not found")
	}
	f := func(k string, d any) any { return getOr(x, d, "freezer_action", k) }
	return one([]string{"Action ID", "Name", "Action", "Mode", "Path to Backup or Restore", "Storage", "Snapshot", "Container",
		"Log_file", "Remove_older_than", "Max_retries_interval", "Max_retries", "User_id", "Project_id"},
		getOr(x, nil, "action_id"), f("backup_name", ""), f("action", "backup"), f("mode", "fs"), f("path_to_backup", ""),
		f("storage", "swift"), f("snapshot", "False"), f("container", ""), f("log_file", ""), f("remove_older_than", "365"),
		getOr(x, "6", "max_retries_interval"), getOr(x, "5", "max_retries"), getOr(x, "", "user_id"), getOr(x, "", "project_id"))
}

// ---------------------------------------------------------------- sessions

func sessionList(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	l, err := a.list(ctx, "sessions", p, nil)
	if err != nil {
		return nil, nil, err
	}
	if len(l) == 0 {
		l = []any{newObject()}
	}
	var rows [][]any
	for _, s := range l {
		n := any("")
		if pyTruthy(getOr(s, nil, "session_id")) {
			switch jobs := getOr(s, []any{}, "jobs").(type) {
			case *Object:
				n = Int(len(jobs.Keys))
			case []any:
				n = Int(len(jobs))
			default:
				n = Int(0)
			}
		}
		rows = append(rows, []any{getOr(s, "", "session_id"), getOr(s, "", "description"), getOr(s, "", "status"), getOr(s, "", "result"), n})
	}
	return []string{"Session ID", "Description", "Status", "Result", "# Jobs"}, rows, nil
}

func sessionShow(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	s, err := a.getDoc(ctx, "sessions", p.String("session_id"))
	if err != nil {
		return nil, nil, err
	}
	if s == nil {
		return nil, nil, errorf("Session not found")
	}
	g := func(k string) any { return getOr(s, nil, k) }
	return one([]string{"Session ID", "Session tag", "Description", "Status", "Result", "Jobs", "Hold off", "Schedule",
		"Last start", "Time start", "Time end", "Project id", "User id"},
		g("session_id"), g("session_tag"), g("description"), g("status"), g("result"), pformat(g("jobs")), g("hold_off"),
		pformat(g("schedule")), g("last_start"), g("time_start"), g("time_end"), g("project_id"), g("user_id"))
}

func (a *App) sessionMustExist(ctx context.Context, id, verb string) error {
	s, err := a.getDoc(ctx, "sessions", id)
	if err != nil {
		return err
	}
	if s == nil {
		a.info("Unable to %s specified session.", verb)
		return errorf("Session not found")
	}
	return nil
}

func sessionDelete(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	id := p.String("session_id")
	if err := a.sessionMustExist(ctx, id, "delete"); err != nil {
		return nil, nil, err
	}
	if _, err := a.expect(ctx, http.StatusNoContent, http.MethodDelete, []string{"sessions", id}, false, nil); err != nil {
		return nil, nil, err
	}
	a.info("Session %s deleted", id)
	return nil, nil, nil
}

func sessionAddJob(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	sid, jid := p.String("session-id"), p.String("job-id")
	if _, err := a.expect(ctx, http.StatusNoContent, http.MethodPut, []string{"sessions", sid, "jobs", jid}, false, nil); err != nil {
		return nil, nil, err
	}
	a.info("Job %s added correctly to session %s", jid, sid)
	return nil, nil, nil
}

// sessionRemoveJob tries five times, as the Python manager does (the old
// API failed the first removal now and then).
func sessionRemoveJob(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	sid, jid := p.String("session-id"), p.String("job-id")
	var err error
	for range 5 {
		if _, err = a.expect(ctx, http.StatusNoContent, http.MethodDelete, []string{"sessions", sid, "jobs", jid}, false, nil); err == nil {
			a.info("Job %s removed correctly from session %s", jid, sid)
			return nil, nil, nil
		}
		var ae *apiError
		if !errors.As(err, &ae) {
			return nil, nil, err
		}
	}
	if strings.Contains(err.Error(), "Additional properties are not allowed") {
		return nil, nil, nil
	}
	return nil, nil, err
}

func sessionAction(ctx context.Context, a *App, sid, verb string, body *Object) error {
	if err := a.sessionMustExist(ctx, sid, verb); err != nil {
		return err
	}
	_, err := a.expect(ctx, http.StatusAccepted, http.MethodPost, []string{"sessions", sid, "action"}, false, body)
	return err
}

func sessionStart(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	sid := p.String("session-id")
	st := newObject()
	st.Set("job_id", p.String("job-id"))
	st.Set("current_tag", p.String("job-tag"))
	body := newObject()
	body.Set("start", st)
	if err := sessionAction(ctx, a, sid, "start", body); err != nil {
		return nil, nil, err
	}
	a.info("Session %s start requested", sid)
	return nil, nil, nil
}

func sessionEnd(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	sid := p.String("session-id")
	tag, err := pyInt(p.String("job-tag"))
	if err != nil {
		return nil, nil, err
	}
	end := newObject()
	end.Set("job_id", p.String("job-id"))
	end.Set("current_tag", Int(tag))
	end.Set("result", p.String("result"))
	body := newObject()
	body.Set("end", end)
	if err := sessionAction(ctx, a, sid, "end", body); err != nil {
		return nil, nil, err
	}
	a.info("Session %s end requested", sid)
	return nil, nil, nil
}

// ---------------------------------------------------------------- backups

func backupList(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	l, err := a.list(ctx, "backups", p, nil)
	if err != nil {
		return nil, nil, err
	}
	if len(l) == 0 {
		l = []any{newObject()}
	}
	slices.SortStableFunc(l, func(x, y any) int {
		return compareSort(getOr(x, "", "backup_metadata", "time_stamp"), getOr(y, "", "backup_metadata", "time_stamp"))
	})
	var rows [][]any
	for _, b := range l {
		created := any("")
		if md, ok := get(b, "backup_metadata"); ok && pyTruthy(md) {
			ts := getOr(md, "", "time_stamp")
			var n int64
			switch t := ts.(type) {
			case Int:
				n = int64(t)
			case Float:
				n = int64(t)
			default:
				if n, err = pyInt(pyStr(t)); err != nil {
					return nil, nil, err
				}
			}
			created = DateTime(time.Unix(n, 0))
		}
		rows = append(rows, []any{getOr(b, "", "backup_id"), getOr(b, "", "backup_uuid"), getOr(b, "", "backup_metadata", "hostname"),
			getOr(b, "", "backup_metadata", "path_to_backup"), created, getOr(b, "", "backup_metadata", "curr_backup_level")})
	}
	return []string{"Backup ID", "Backup UUID", "Hostname", "Path", "Created at", "Level"}, rows, nil
}

func backupShow(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	b, err := a.getDoc(ctx, "backups", p.String("backup_uuid"))
	if err != nil {
		return nil, nil, err
	}
	if b == nil {
		return nil, nil, errorf("Backup not found")
	}
	return one([]string{"Backup ID", "Project ID", "User ID", "User name", "Metadata"},
		getOr(b, nil, "backup_uuid"), getOr(b, nil, "project_id"), getOr(b, nil, "user_id"), getOr(b, nil, "user_name"),
		pformat(getOr(b, nil, "backup_metadata")))
}

// ---------------------------------------------------------------- help, version

func helpCmd(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	names := p.Strings("cmd")
	if len(names) == 0 {
		a.printMainHelp()
		return nil, nil, nil
	}
	c, _, code := a.findCommand(names)
	if c == nil {
		if code == ExitUsage {
			return nil, nil, errorf("Unknown command %s", pyRepr(toAny(names), false))
		}
		return nil, nil, nil
	}
	io.WriteString(a.Stdout, c.spec(a.Name).Help())
	return nil, nil, nil
}

func versionCmd(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	c, err := a.client(ctx)
	if err != nil {
		return nil, nil, err
	}
	cols := []string{"Client version", "API endpoint", "API versions"}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Endpoint()+"/", nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	hc := a.httpClient(nil)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, connError(err, req.URL.String())
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var vs struct {
		Versions []struct{ ID, Status string } `json:"versions"`
	}
	if err := json.Unmarshal(body, &vs); err != nil {
		return nil, nil, &apiError{resp.StatusCode, body}
	}
	var list []string
	for _, v := range vs.Versions {
		list = append(list, v.ID+" ("+v.Status+")")
	}
	return one(cols, a.Version, c.Endpoint(), strings.Join(list, ", "))
}

var _ = client.ServiceType
