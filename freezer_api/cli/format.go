package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"
)

// Output formats, as cliff offers them to list and show commands.
var (
	listFormats = []string{"csv", "json", "table", "value", "yaml"}
	showFormats = []string{"json", "shell", "table", "value", "yaml"}
)

// fmtOptions are cliff's formatter options.
type fmtOptions struct {
	Format     string
	Columns    []string
	Quote      string // csv: all, minimal, none, nonnumeric
	NoIndent   bool
	MaxWidth   int
	FitWidth   bool
	PrintEmpty bool
	Prefix     string // shell
	SortCols   []string
	SortDesc   bool
}

// errNotSerializable is json.dump meeting a datetime (the message is
// Python's, capital included).
var errNotSerializable error = &userError{"Object of type datetime is not JSON serializable"}

// selectColumns applies -c the way cliff does: the command's order, not
// the order given; no known name at all is an error.
func selectColumns(cols []string, want []string) ([]string, []bool, error) {
	if len(want) == 0 {
		return cols, nil, nil
	}
	var keep []string
	sel := make([]bool, len(cols))
	for i, c := range cols {
		if slices.Contains(want, c) {
			keep = append(keep, c)
			sel[i] = true
		}
	}
	if len(keep) == 0 {
		return nil, nil, errorf("No recognized column names in %s. Recognized columns are %s.", pyRepr(toAny(want), false), pyTuple(cols))
	}
	return keep, sel, nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func pyTuple(s []string) string {
	r := pyRepr(toAny(s), false)
	r = "(" + r[1:len(r)-1]
	if len(s) == 1 {
		r += ","
	}
	return r + ")"
}

func compress(row []any, sel []bool) []any {
	if sel == nil {
		return row
	}
	var out []any
	for i, v := range row {
		if sel[i] {
			out = append(out, v)
		}
	}
	return out
}

// emitList prints a lister's rows.
func emitList(w io.Writer, cols []string, rows [][]any, o fmtOptions, warn func(string)) error {
	if len(o.SortCols) > 0 {
		sortRows(cols, rows, o, warn)
	}
	cols2, sel, err := selectColumns(cols, o.Columns)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i] = compress(rows[i], sel)
	}
	cols = cols2
	switch o.Format {
	case "json":
		return jsonList(w, cols, rows, o.NoIndent)
	case "yaml":
		yamlList(w, cols, rows)
	case "value":
		for _, r := range rows {
			s := make([]string, len(r))
			for i, v := range r {
				s[i] = pyStr(v)
			}
			fmt.Fprintln(w, strings.Join(s, " "))
		}
	case "csv":
		csvList(w, cols, rows, o.Quote)
	default:
		t := &table{fields: cols, minWidth: 8}
		for i := range cols {
			t.align = append(t.align, 'l')
			if len(rows) > 0 {
				switch rows[0][i].(type) {
				case Int, Float:
					t.align[i] = 'r'
				}
			}
		}
		for _, r := range rows {
			t.addRow(r)
		}
		t.printEmpty = o.PrintEmpty
		t.fit(o.MaxWidth, o.FitWidth)
		fmt.Fprintln(w, t.String())
	}
	return nil
}

// emitOne prints a show command's fields.
func emitOne(w io.Writer, cols []string, vals []any, o fmtOptions) error {
	cols2, sel, err := selectColumns(cols, o.Columns)
	if err != nil {
		return err
	}
	cols, vals = cols2, compress(vals, sel)
	switch o.Format {
	case "json":
		return jsonOne(w, cols, vals, o.NoIndent)
	case "yaml":
		for i, c := range cols {
			yamlOne(w, c, vals[i])
		}
	case "value":
		for _, v := range vals {
			fmt.Fprintln(w, pyStr(v))
		}
	case "shell":
		for i, c := range cols {
			name := strings.NewReplacer(" ", "_", ":", "_", "-", "_").Replace(strings.ToLower(c))
			v := pyStr(vals[i])
			if s, ok := vals[i].(string); ok {
				v = strings.ReplaceAll(s, `"`, `\"`)
			}
			fmt.Fprintf(w, "%s%s=\"%s\"\n", o.Prefix, name, v)
		}
	default:
		t := &table{fields: []string{"Field", "Value"}, align: []byte{'l', 'l'}, minWidth: 16}
		for i, c := range cols {
			t.addRow([]any{c, vals[i]})
		}
		t.fit(o.MaxWidth, o.FitWidth)
		fmt.Fprintln(w, t.String())
	}
	return nil
}

// sortRows is cliff's --sort-column: stable sorts from the last column
// named to the first, None last; mixed types are not sorted.
func sortRows(cols []string, rows [][]any, o fmtOptions, warn func(string)) {
	var idx []int
	for _, c := range o.SortCols {
		if i := slices.Index(cols, c); i >= 0 {
			idx = append(idx, i)
		}
	}
	for k := len(idx) - 1; k >= 0; k-- {
		i := idx[k]
		ok := true
		var kind string
		for _, r := range rows {
			if r[i] == nil {
				continue
			}
			t := sortKind(r[i])
			if kind == "" {
				kind = t
			} else if t != kind || t == "other" {
				ok = false
			}
		}
		if !ok {
			warn(fmt.Sprintf("Could not sort on field '%s'; unsortable types", cols[i]))
			continue
		}
		slices.SortStableFunc(rows, func(a, b []any) int {
			c := compareSort(a[i], b[i])
			if o.SortDesc {
				c = -c
			}
			return c
		})
	}
}

func sortKind(v any) string {
	switch v.(type) {
	case Int, Float, bool:
		return "num"
	case string:
		return "str"
	}
	return "other"
}

func num(v any) float64 {
	switch t := v.(type) {
	case Int:
		return float64(t)
	case Float:
		return float64(t)
	case bool:
		if t {
			return 1
		}
	}
	return 0
}

func compareSort(a, b any) int {
	if (a == nil) != (b == nil) {
		if a == nil {
			return 1
		}
		return -1
	}
	if a == nil {
		return 0
	}
	if sa, ok := a.(string); ok {
		return strings.Compare(sa, b.(string))
	}
	x, y := num(a), num(b)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// ---------------------------------------------------------------- json

// pyJSON is json.dumps of one value (ensure_ascii, Python's separators).
func pyJSON(b *strings.Builder, v any, indent int, level int) error {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case Int, Float:
		s := pyRepr(t, false)
		switch s {
		case "inf":
			s = "Infinity"
		case "-inf":
			s = "-Infinity"
		case "nan":
			s = "NaN"
		}
		b.WriteString(s)
	case string:
		jsonString(b, t)
	case DateTime:
		return errNotSerializable
	case []any:
		if len(t) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range t {
			sepNL(b, i > 0, indent, level+1)
			if err := pyJSON(b, e, indent, level+1); err != nil {
				return err
			}
		}
		closeNL(b, indent, level)
		b.WriteByte(']')
	case *Object:
		if len(t.Keys) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, k := range t.Keys {
			sepNL(b, i > 0, indent, level+1)
			jsonString(b, k)
			b.WriteString(": ")
			if err := pyJSON(b, t.Vals[k], indent, level+1); err != nil {
				return err
			}
		}
		closeNL(b, indent, level)
		b.WriteByte('}')
	}
	return nil
}

func sepNL(b *strings.Builder, notFirst bool, indent, level int) {
	if indent < 0 {
		if notFirst {
			b.WriteString(", ")
		}
		return
	}
	if notFirst {
		b.WriteByte(',')
	}
	b.WriteString("\n" + strings.Repeat(" ", indent*level))
}

func closeNL(b *strings.Builder, indent, level int) {
	if indent >= 0 {
		b.WriteString("\n" + strings.Repeat(" ", indent*level))
	}
}

func jsonString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}

func rowObject(cols []string, vals []any) *Object {
	o := newObject()
	for i, c := range cols {
		o.Set(c, vals[i])
	}
	return o
}

// jsonList writes what json.dump writes before it fails, as the Python
// client leaves a partial document when a value cannot be serialised.
func jsonList(w io.Writer, cols []string, rows [][]any, noIndent bool) error {
	items := make([]any, len(rows))
	for i, r := range rows {
		items[i] = rowObject(cols, r)
	}
	return writeJSON(w, items, noIndent)
}

func jsonOne(w io.Writer, cols []string, vals []any, noIndent bool) error {
	return writeJSON(w, rowObject(cols, vals), noIndent)
}

func writeJSON(w io.Writer, v any, noIndent bool) error {
	var b strings.Builder
	indent := 2
	if noIndent {
		indent = -1
	}
	if err := pyJSON(&b, v, indent, 0); err != nil {
		io.WriteString(w, b.String())
		return err
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// ---------------------------------------------------------------- csv

func csvList(w io.Writer, cols []string, rows [][]any, quote string) {
	if quote == "" {
		quote = "nonnumeric"
	}
	writeRow := func(r []any) {
		f := make([]string, len(r))
		for i, v := range r {
			f[i] = csvField(v, quote)
		}
		io.WriteString(w, strings.Join(f, ",")+"\n")
	}
	writeRow(toAny(cols))
	for _, r := range rows {
		writeRow(r)
	}
}

func csvField(v any, quote string) string {
	s := pyStr(v)
	if v == nil {
		s = ""
	}
	numeric := false
	switch v.(type) {
	case Int, Float, bool:
		numeric = true
	}
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	switch quote {
	case "all":
		return q(s)
	case "nonnumeric":
		if numeric {
			return s
		}
		return q(s)
	case "none":
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, ",", `\,`, "\n", "\\\n", "\r", "\\\r")
		return r.Replace(s)
	default: // minimal
		if strings.ContainsAny(s, ",\"\r\n") {
			return q(s)
		}
		return s
	}
}

// ---------------------------------------------------------------- table

// table is the part of prettytable cliff uses: a bordered grid, a header
// aligned like its column, cells wrapped with textwrap when a column has
// a maximum width.
type table struct {
	fields     []string
	align      []byte
	rows       [][]string
	maxWidth   map[int]int
	minWidth   int
	printEmpty bool
}

func (t *table) addRow(r []any) {
	s := make([]string, len(r))
	for i, v := range r {
		str := pyStr(v)
		if _, ok := v.(string); ok {
			str = strings.ReplaceAll(strings.ReplaceAll(str, "\r\n", "\n"), "\r", " ")
		}
		s[i] = str
	}
	t.rows = append(t.rows, s)
}

// cellWidth is prettytable's _get_size width: the widest line.
func cellWidth(s string) int {
	w := 0
	for _, l := range strings.Split(s, "\n") {
		if n := textWidth(l); n > w {
			w = n
		}
	}
	return w
}

// textWidth counts terminal columns: East Asian wide characters take two.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r >= 0x1100 && (r <= 0x115f || r == 0x2329 || r == 0x232a ||
			(r >= 0x2e80 && r <= 0xa4cf && r != 0x303f) || (r >= 0xac00 && r <= 0xd7a3) ||
			(r >= 0xf900 && r <= 0xfaff) || (r >= 0xfe30 && r <= 0xfe6f) || (r >= 0xff00 && r <= 0xff60) ||
			(r >= 0xffe0 && r <= 0xffe6) || (r >= 0x1f300 && r <= 0x1f64f) || (r >= 0x20000 && r <= 0x3fffd)):
			n += 2
		default:
			n++
		}
	}
	return n
}

func (t *table) widths() []int {
	w := make([]int, len(t.fields))
	for i, f := range t.fields {
		w[i] = cellWidth(f)
	}
	for _, r := range t.rows {
		for i, c := range r {
			cw := cellWidth(c)
			if m, ok := t.maxWidth[i]; ok && cw > m {
				cw = m
			}
			if cw > w[i] {
				w[i] = cw
			}
		}
	}
	return w
}

func justify(s string, width int, align byte) string {
	pad := width - textWidth(s)
	if pad <= 0 {
		return s
	}
	if align == 'r' {
		return strings.Repeat(" ", pad) + s
	}
	return s + strings.Repeat(" ", pad)
}

func (t *table) String() string {
	if len(t.rows) == 0 && !t.printEmpty {
		return ""
	}
	w := t.widths()
	var b strings.Builder
	hr := "+"
	for _, n := range w {
		hr += strings.Repeat("-", n+2) + "+"
	}
	b.WriteString(hr + "\n|")
	for i, f := range t.fields {
		if textWidth(f) > w[i] {
			f = string([]rune(f)[:w[i]])
		}
		b.WriteString(" " + justify(f, w[i], t.align[i]) + " |")
	}
	b.WriteString("\n" + hr)
	for _, r := range t.rows {
		cells := make([][]string, len(r))
		height := 0
		for i, c := range r {
			var lines []string
			for _, l := range strings.Split(c, "\n") {
				if textWidth(l) > w[i] {
					lines = append(lines, textwrap(l, w[i])...)
				} else {
					lines = append(lines, l)
				}
			}
			cells[i] = lines
			height = max(height, len(lines))
		}
		for y := 0; y < height; y++ {
			b.WriteString("\n|")
			for i := range r {
				l := ""
				if y < len(cells[i]) {
					l = cells[i][y]
				}
				b.WriteString(" " + justify(l, w[i], t.align[i]) + " |")
			}
		}
	}
	if len(t.rows) > 0 {
		b.WriteString("\n" + hr)
	}
	return b.String()
}

// fit is cliff's _assign_max_widths: when the table is wider than
// maxWidth, the columns wider than an even share are narrowed.
func (t *table) fit(maxWidth int, fitWidth bool) {
	if maxWidth <= 0 {
		return // fitting to a terminal is not done: output is for scripts
	}
	_ = fitWidth
	first := strings.SplitN(t.String(), "\n", 2)[0]
	if first == "" || len(first) <= maxWidth {
		return
	}
	n := len(t.fields)
	usable := max(0, maxWidth-1-3*n)
	optimal := 0
	if n > 0 {
		optimal = max(0, usable/n)
	}
	w := t.widths()
	var shrink []int
	remaining := usable
	for i := range t.fields {
		if w[i] <= optimal {
			remaining -= w[i]
		} else {
			shrink = append(shrink, i)
		}
	}
	if len(shrink) == 0 {
		return
	}
	t.maxWidth = map[int]int{}
	to := remaining / len(shrink)
	for _, i := range shrink[:len(shrink)-1] {
		t.maxWidth[i] = max(t.minWidth, to)
		remaining -= to
	}
	t.maxWidth[shrink[len(shrink)-1]] = max(t.minWidth, remaining)
}

// textwrap is Python's textwrap.wrap(text, width) with its defaults:
// whitespace becomes spaces, words split after hyphens between letters,
// words longer than a line are broken.
func textwrap(text string, width int) []string {
	text = strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\v', '\f', '\r':
			return ' '
		}
		return r
	}, text)
	chunks := wrapChunks(text)
	var lines []string
	for len(chunks) > 0 {
		var cur []string
		curLen := 0
		if strings.TrimSpace(chunks[0]) == "" && len(lines) > 0 {
			chunks = chunks[1:]
		}
		for len(chunks) > 0 {
			l := utf8.RuneCountInString(chunks[0])
			if curLen+l <= width {
				cur = append(cur, chunks[0])
				curLen += l
				chunks = chunks[1:]
			} else {
				break
			}
		}
		if len(chunks) > 0 && utf8.RuneCountInString(chunks[0]) > width {
			space := width - curLen
			if width < 1 {
				space = 1
			}
			space = max(space, 1)
			c := []rune(chunks[0])
			end := space
			if len(c) > space {
				if h := strings.LastIndex(string(c[:space]), "-"); h > 0 && strings.Trim(string(c[:h]), "-") != "" {
					end = utf8.RuneCountInString(string(c[:space])[:h]) + 1
				}
			}
			cur = append(cur, string(c[:end]))
			chunks[0] = string(c[end:])
		}
		if len(cur) > 0 && strings.TrimSpace(cur[len(cur)-1]) == "" {
			cur = cur[:len(cur)-1]
		}
		if len(cur) > 0 {
			lines = append(lines, strings.Join(cur, ""))
		}
	}
	return lines
}

// wrapChunks splits text into runs of spaces and words; a word splits
// after a hyphen that has letters on both sides (textwrap's wordsep_re,
// without its em-dash cases).
func wrapChunks(text string) []string {
	var chunks []string
	r := []rune(text)
	isLetter := func(c rune) bool { return c != '_' && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c > 0x7f) }
	for i := 0; i < len(r); {
		j := i
		if r[i] == ' ' {
			for j < len(r) && r[j] == ' ' {
				j++
			}
			chunks = append(chunks, string(r[i:j]))
			i = j
			continue
		}
		for j < len(r) && r[j] != ' ' {
			if r[j] == '-' && j >= 2 && isLetter(r[j-1]) && isLetter(r[j-2]) && j+1 < len(r) && isLetter(r[j+1]) {
				j++
				break
			}
			j++
		}
		chunks = append(chunks, string(r[i:j]))
		i = j
	}
	return chunks
}
