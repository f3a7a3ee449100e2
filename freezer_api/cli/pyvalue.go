package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The Python client prints what json.loads gives it: dicts in the
// server's key order, ints apart from floats. Values here keep both, so
// that str(), repr() and pprint come out the same.

// Object is a JSON object with its keys in document order.
type Object struct {
	Keys []string
	Vals map[string]any
}

// Get returns the value of key and whether it is present.
func (o *Object) Get(key string) (any, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.Vals[key]
	return v, ok
}

// Set adds or replaces key, keeping a new key last.
func (o *Object) Set(key string, v any) {
	if _, ok := o.Vals[key]; !ok {
		o.Keys = append(o.Keys, key)
	}
	o.Vals[key] = v
}

// MarshalJSON writes the object in its key order.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.Keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.Vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Int and Float are JSON numbers as Python reads them.
type (
	Int   int64
	Float float64
)

// DateTime is a value the Python client builds with
// datetime.fromtimestamp (backup-list's "Created at"): printed in local
// time, and not serialisable to JSON.
type DateTime time.Time

func newObject() *Object { return &Object{Vals: map[string]any{}} }

// decodeJSON reads one JSON document into Object, []any, string, Int,
// Float, bool and nil.
func decodeJSON(data []byte) (any, error) {
	// A first pass finds syntax errors with their offsets.
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("extra data after the document")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.Set(k, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return o, nil
		case '[':
			l := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return l, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		s := t.String()
		if !strings.ContainsAny(s, ".eE") {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil {
				return Int(n), nil
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, err
		}
		return Float(f), nil
	default:
		return tok, nil // string, bool, nil
	}
}

// get walks nested objects: get(job, "job_schedule", "status").
func get(v any, path ...string) (any, bool) {
	for _, k := range path {
		o, ok := v.(*Object)
		if !ok {
			return nil, false
		}
		if v, ok = o.Get(k); !ok {
			return nil, false
		}
	}
	return v, true
}

// getOr is dict.get(key, default) along a path; a missing object on the
// way gives the default, as `.get('x', {}).get('y', d)` does.
func getOr(v any, def any, path ...string) any {
	if r, ok := get(v, path...); ok {
		return r
	}
	return def
}

// pyTypeName is type(v).__name__.
func pyTypeName(v any) string {
	switch v.(type) {
	case *Object:
		return "dict"
	case []any:
		return "list"
	case string:
		return "str"
	case Int:
		return "int"
	case Float:
		return "float"
	case bool:
		return "bool"
	case nil:
		return "NoneType"
	}
	return "object"
}

// pyStr is Python's str(v).
func pyStr(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case DateTime:
		return time.Time(t).Local().Format("2006-01-02 15:04:05")
	}
	return pyRepr(v, false)
}

// pyRepr is repr(v); sorted gives pprint's safe repr (dict keys sorted).
func pyRepr(v any, sorted bool) string {
	var b strings.Builder
	writeRepr(&b, v, sorted)
	return b.String()
}

func writeRepr(b *strings.Builder, v any, sorted bool) {
	switch t := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		if t {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case Int:
		b.WriteString(strconv.FormatInt(int64(t), 10))
	case Float:
		b.WriteString(floatRepr(float64(t)))
	case string:
		b.WriteString(strRepr(t))
	case DateTime:
		tm := time.Time(t).Local()
		fmt.Fprintf(b, "datetime.datetime(%d, %d, %d, %d, %d", tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute())
		if tm.Second() != 0 {
			fmt.Fprintf(b, ", %d", tm.Second())
		}
		b.WriteByte(')')
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, e, sorted)
		}
		b.WriteByte(']')
	case *Object:
		b.WriteByte('{')
		for i, k := range objectKeys(t, sorted) {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strRepr(k))
			b.WriteString(": ")
			writeRepr(b, t.Vals[k], sorted)
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, t)
	}
}

func objectKeys(o *Object, sorted bool) []string {
	if !sorted {
		return o.Keys
	}
	k := append([]string(nil), o.Keys...)
	sort.Strings(k) // byte order of UTF-8 is code point order, as Python sorts
	return k
}

// floatRepr is Python's repr of a float: the shortest round-tripping
// digits, scientific notation below 1e-4 and from 1e16.
func floatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exps, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(exps)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// strRepr is repr() of a str: single quotes unless the text has one and
// no double quote; printable characters stay as they are.
func strRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case !unicode.IsPrint(r) || r == utf8.RuneError:
			switch {
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

// pformat is pprint.pformat(v): width 80, indent 1, dict keys sorted.
func pformat(v any) string {
	var b strings.Builder
	ppFormat(&b, v, 0, 0, 1)
	return b.String()
}

const ppWidth = 80

func ppFormat(b *strings.Builder, v any, indent, allowance, level int) {
	rep := pyRepr(v, true)
	if runeLen(rep) <= ppWidth-indent-allowance {
		b.WriteString(rep)
		return
	}
	switch t := v.(type) {
	case *Object:
		b.WriteByte('{')
		keys := objectKeys(t, true)
		ind := indent + 1
		for i, k := range keys {
			last := i == len(keys)-1
			kr := strRepr(k)
			b.WriteString(kr)
			b.WriteString(": ")
			al := 1
			if last {
				al = allowance + 1
			}
			ppFormat(b, t.Vals[k], ind+runeLen(kr)+2, al, level+1)
			if !last {
				b.WriteString(",\n" + strings.Repeat(" ", ind))
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		ind := indent + 1
		for i, e := range t {
			last := i == len(t)-1
			if i > 0 {
				b.WriteString(",\n" + strings.Repeat(" ", ind))
			}
			al := 1
			if last {
				al = allowance + 1
			}
			ppFormat(b, e, ind, al, level+1)
		}
		b.WriteByte(']')
	case string:
		ppString(b, t, indent, allowance, level)
	default:
		b.WriteString(rep)
	}
}

var wordSpace = regexp.MustCompile(`\S*\s*`)

// ppString is pprint's _pprint_str: a long string becomes adjacent
// literals split at whitespace, in parentheses at the top level.
func ppString(b *strings.Builder, s string, indent, allowance, level int) {
	if s == "" {
		b.WriteString(strRepr(s))
		return
	}
	lines := splitLinesKeepEnds(s)
	if level == 1 {
		indent++
		allowance++
	}
	maxWidth := ppWidth - indent
	maxWidth1 := maxWidth
	var chunks []string
	var rep string
	for i, line := range lines {
		rep = strRepr(line)
		if i == len(lines)-1 {
			maxWidth1 -= allowance
		}
		if runeLen(rep) <= maxWidth1 {
			chunks = append(chunks, rep)
			continue
		}
		parts := wordSpace.FindAllString(line, -1)
		if len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		maxWidth2 := maxWidth
		current := ""
		for j, part := range parts {
			candidate := current + part
			if j == len(parts)-1 && i == len(lines)-1 {
				maxWidth2 -= allowance
			}
			if runeLen(strRepr(candidate)) > maxWidth2 {
				if current != "" {
					chunks = append(chunks, strRepr(current))
				}
				current = part
			} else {
				current = candidate
			}
		}
		if current != "" {
			chunks = append(chunks, strRepr(current))
		}
	}
	if len(chunks) == 1 {
		b.WriteString(rep)
		return
	}
	if level == 1 {
		b.WriteByte('(')
	}
	for i, c := range chunks {
		if i > 0 {
			b.WriteString("\n" + strings.Repeat(" ", indent))
		}
		b.WriteString(c)
	}
	if level == 1 {
		b.WriteByte(')')
	}
}

// splitLinesKeepEnds is str.splitlines(True) for the usual line ends.
func splitLinesKeepEnds(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n':
			out = append(out, s[start:i+1])
			start = i + 1
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			out = append(out, s[start:i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}
