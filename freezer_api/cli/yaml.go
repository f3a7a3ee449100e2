package cli

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
)

// A YAML emitter for what cliff hands PyYAML's safe_dump with
// default_flow_style=False: one mapping of scalars per document (show
// commands), or a sequence of such mappings with sorted keys (list
// commands). Scalar styles and line folding follow PyYAML's emitter, so
// the text is the same byte for byte.

const yamlWidth = 80

var yamlImplicit = []*regexp.Regexp{
	regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`),
	regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`),
	regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`),
	regexp.MustCompile(`^(?:<<)$`),
	regexp.MustCompile(`^(?:~|null|Null|NULL|)$`),
	regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`),
	regexp.MustCompile(`^(?:=)$`),
}

type yamlEmitter struct {
	w          *strings.Builder
	column     int
	indent     int
	whitespace bool
	indention  bool
}

func (e *yamlEmitter) write(s string) {
	e.w.WriteString(s)
	e.column += runeLen(s)
}

func (e *yamlEmitter) indicator(s string, needWS, ws, indention bool) {
	if !e.whitespace && needWS {
		s = " " + s
	}
	e.whitespace = ws
	e.indention = e.indention && indention
	e.write(s)
}

func (e *yamlEmitter) lineBreak() {
	e.whitespace, e.indention = true, true
	e.w.WriteByte('\n')
	e.column = 0
}

func (e *yamlEmitter) writeIndent() {
	if !e.indention || e.column > e.indent || (e.column == e.indent && !e.whitespace) {
		e.lineBreak()
	}
	if e.column < e.indent {
		e.whitespace = true
		e.write(strings.Repeat(" ", e.indent-e.column))
	}
}

type yamlAnalysis struct {
	empty, multiline                                        bool
	flowPlain, blockPlain, singleQuoted, block, doubleQuote bool
}

func isBreak(r rune) bool { return r == '\n' || r == 0x85 || r == 0x2028 || r == 0x2029 }
func isWS(r rune) bool    { return r == 0 || r == ' ' || r == '\t' || r == '\r' || isBreak(r) }

func analyzeScalar(s string) yamlAnalysis {
	if s == "" {
		return yamlAnalysis{empty: true, blockPlain: true, singleQuoted: true, doubleQuote: true}
	}
	r := []rune(s)
	var blockInd, flowInd, lineBreaks, special bool
	var leadSpace, leadBreak, trailSpace, trailBreak, breakSpace, spaceBreak bool
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		blockInd, flowInd = true, true
	}
	preceded := true
	followed := len(r) == 1 || isWS(r[1])
	prevSpace, prevBreak := false, false
	for i, ch := range r {
		if i == 0 {
			if strings.ContainsRune("#,[]{}&*!|>'\"%@`", ch) {
				flowInd, blockInd = true, true
			}
			if ch == '?' || ch == ':' {
				flowInd = true
				if followed {
					blockInd = true
				}
			}
			if ch == '-' && followed {
				flowInd, blockInd = true, true
			}
		} else {
			if strings.ContainsRune(",?[]{}", ch) {
				flowInd = true
			}
			if ch == ':' {
				flowInd = true
				if followed {
					blockInd = true
				}
			}
			if ch == '#' && preceded {
				flowInd, blockInd = true, true
			}
		}
		if isBreak(ch) {
			lineBreaks = true
		}
		if !(ch == '\n' || (ch >= 0x20 && ch <= 0x7e)) {
			special = true // allow_unicode is off in safe_dump
		}
		switch {
		case ch == ' ':
			if i == 0 {
				leadSpace = true
			}
			if i == len(r)-1 {
				trailSpace = true
			}
			if prevBreak {
				breakSpace = true
			}
			prevSpace, prevBreak = true, false
		case isBreak(ch):
			if i == 0 {
				leadBreak = true
			}
			if i == len(r)-1 {
				trailBreak = true
			}
			if prevSpace {
				spaceBreak = true
			}
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
		preceded = isWS(ch)
		followed = i+2 >= len(r) || isWS(r[i+2])
	}
	a := yamlAnalysis{multiline: lineBreaks, flowPlain: true, blockPlain: true, singleQuoted: true, doubleQuote: true, block: true}
	if leadSpace || leadBreak || trailSpace || trailBreak {
		a.flowPlain, a.blockPlain = false, false
	}
	if trailSpace {
		a.block = false
	}
	if breakSpace {
		a.flowPlain, a.blockPlain, a.singleQuoted = false, false, false
	}
	if spaceBreak || special {
		a.flowPlain, a.blockPlain, a.singleQuoted, a.block = false, false, false, false
	}
	if lineBreaks {
		a.flowPlain, a.blockPlain = false, false
	}
	if flowInd {
		a.flowPlain = false
	}
	if blockInd {
		a.blockPlain = false
	}
	return a
}

// scalar writes one scalar (a mapping key when simpleKey).
func (e *yamlEmitter) scalar(v any, simpleKey bool) {
	text, isStr := "", false
	switch t := v.(type) {
	case nil:
		text = "null"
	case bool:
		text = "false"
		if t {
			text = "true"
		}
	case Int:
		text = pyRepr(t, false)
	case Float:
		text = strings.ToLower(pyRepr(t, false))
		switch text {
		case "inf":
			text = ".inf"
		case "-inf":
			text = "-.inf"
		case "nan":
			text = ".nan"
		default:
			if !strings.Contains(text, ".") && strings.Contains(text, "e") {
				text = strings.Replace(text, "e", ".0e", 1)
			}
		}
	case DateTime:
		text = time.Time(t).Local().Format("2006-01-02 15:04:05")
	case string:
		text, isStr = t, true
	default:
		text, isStr = pyStr(t), true
	}
	if !isStr {
		e.plain(text, !simpleKey)
		return
	}
	a := analyzeScalar(text)
	implicit := true
	for _, re := range yamlImplicit {
		if re.MatchString(text) {
			implicit = false
			break
		}
	}
	switch {
	case implicit && !(simpleKey && (a.empty || a.multiline)) && a.blockPlain:
		e.plain(text, !simpleKey)
	case a.singleQuoted && !(simpleKey && a.multiline):
		e.singleQuoted(text, !simpleKey)
	default:
		e.doubleQuoted(text, !simpleKey)
	}
}

func (e *yamlEmitter) plain(text string, split bool) {
	if text == "" {
		return
	}
	if !e.whitespace {
		e.write(" ")
	}
	e.whitespace, e.indention = false, false
	r := []rune(text)
	spaces, breaks := false, false
	start := 0
	for end := 0; end <= len(r); end++ {
		var ch rune = -1
		if end < len(r) {
			ch = r[end]
		}
		switch {
		case spaces:
			if ch != ' ' {
				if start+1 == end && e.column > yamlWidth && split {
					e.writeIndent()
					e.whitespace, e.indention = false, false
				} else {
					e.write(string(r[start:end]))
				}
				start = end
			}
		case breaks:
			if ch == -1 || !isBreak(ch) {
				if r[start] == '\n' {
					e.lineBreak()
				}
				for range r[start:end] {
					e.lineBreak()
				}
				e.writeIndent()
				e.whitespace, e.indention = false, false
				start = end
			}
		default:
			if ch == -1 || ch == ' ' || isBreak(ch) {
				e.write(string(r[start:end]))
				start = end
			}
		}
		if ch != -1 {
			spaces, breaks = ch == ' ', isBreak(ch)
		}
	}
}

func (e *yamlEmitter) singleQuoted(text string, split bool) {
	e.indicator("'", true, false, false)
	r := []rune(text)
	spaces, breaks := false, false
	start := 0
	for end := 0; end <= len(r); end++ {
		var ch rune = -1
		if end < len(r) {
			ch = r[end]
		}
		switch {
		case spaces:
			if ch == -1 || ch != ' ' {
				if start+1 == end && e.column > yamlWidth && split && start != 0 && end != len(r) {
					e.writeIndent()
				} else {
					e.write(string(r[start:end]))
				}
				start = end
			}
		case breaks:
			if ch == -1 || !isBreak(ch) {
				if r[start] == '\n' {
					e.lineBreak()
				}
				for range r[start:end] {
					e.lineBreak()
				}
				e.writeIndent()
				start = end
			}
		default:
			if ch == -1 || ch == ' ' || isBreak(ch) || ch == '\'' {
				if start < end {
					e.write(string(r[start:end]))
					start = end
				}
			}
		}
		if ch == '\'' {
			e.write("''")
			start = end + 1
		}
		if ch != -1 {
			spaces, breaks = ch == ' ', isBreak(ch)
		}
	}
	e.indicator("'", false, false, false)
}

var yamlEscapes = map[rune]string{0: "0", 7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r", 27: "e",
	'"': "\"", '\\': "\\", 0x85: "N", 0xa0: "_", 0x2028: "L", 0x2029: "P"}

func (e *yamlEmitter) doubleQuoted(text string, split bool) {
	e.indicator("\"", true, false, false)
	r := []rune(text)
	start := 0
	for end := 0; end <= len(r); end++ {
		var ch rune = -1
		if end < len(r) {
			ch = r[end]
		}
		if ch == -1 || ch == '"' || ch == '\\' || ch == 0x85 || ch == 0x2028 || ch == 0x2029 || ch == 0xfeff || !(ch >= 0x20 && ch <= 0x7e) {
			if start < end {
				e.write(string(r[start:end]))
				start = end
			}
			if ch != -1 {
				var data string
				if esc, ok := yamlEscapes[ch]; ok {
					data = "\\" + esc
				} else if ch <= 0xff {
					data = fmt.Sprintf("\\x%02X", ch)
				} else if ch <= 0xffff {
					data = fmt.Sprintf("\\u%04X", ch)
				} else {
					data = fmt.Sprintf("\\U%08X", ch)
				}
				e.write(data)
				start = end + 1
			}
		}
		if end > 0 && end < len(r)-1 && (ch == ' ' || start >= end) && e.column+(end-start) > yamlWidth && split {
			data := "\\"
			if start < end {
				data = string(r[start:end]) + "\\"
				start = end
			}
			e.write(data)
			e.writeIndent()
			e.whitespace, e.indention = false, false
			if r[start] == ' ' {
				e.write("\\")
			}
		}
	}
	e.indicator("\"", false, false, false)
}

// mapping writes the entries of one block mapping whose items sit at
// indent; first tells whether the cursor already stands on its line.
func (e *yamlEmitter) mapping(keys []string, vals map[string]any, indent int) {
	for _, k := range keys {
		e.indent = indent
		e.writeIndent()
		e.indent = indent + 2
		e.scalar(k, true)
		e.indicator(":", false, false, false)
		e.scalar(vals[k], false)
	}
}

// yamlOne is safe_dump({key: value}).
func yamlOne(w io.Writer, key string, v any) {
	var b strings.Builder
	e := &yamlEmitter{w: &b, whitespace: true, indention: true}
	e.mapping([]string{key}, map[string]any{key: v}, 0)
	b.WriteByte('\n')
	io.WriteString(w, b.String())
}

// yamlList is safe_dump(list of {column: value}), keys sorted.
func yamlList(w io.Writer, cols []string, rows [][]any) {
	var b strings.Builder
	if len(rows) == 0 {
		io.WriteString(w, "[]\n")
		return
	}
	e := &yamlEmitter{w: &b, whitespace: true, indention: true}
	keys := append([]string(nil), cols...)
	sort.Strings(keys)
	for _, r := range rows {
		e.indent = 0
		e.writeIndent()
		e.indicator("-", true, false, true)
		vals := map[string]any{}
		for i, c := range cols {
			vals[c] = r[i]
		}
		if len(keys) == 0 {
			e.write(" {}")
			continue
		}
		e.mapping(keys, vals, 2)
	}
	b.WriteByte('\n')
	io.WriteString(w, b.String())
}
