package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// A term is one key of a document with the canonical form of the value it
// has there. Upstream looks a search key up recursively anywhere in the
// document (its last occurrence wins, an accident of its implementation);
// docTerms does the lookup once at write time and keeps the shallowest
// occurrence, so that a nested option cannot shadow a top-level field.
type term struct {
	k  string
	v  string
	sv *string // lower-cased string value for free-text search, nil for non-strings
}

const (
	maxTermKey   = 190 // bytes; the key column is VARCHAR(191)
	maxTermValue = 190 // bytes; the value column is VARCHAR(200)
	maxFreeText  = 255 // characters kept for free-text search
)

// termKey bounds a key to the column width.
func termKey(k string) string {
	if len(k) <= maxTermKey {
		return k
	}
	return "h:" + hash(k)
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// canonical returns the comparison form of a decoded JSON value (decoded
// with UseNumber). Equal values in the Python sense (1 == 1.0, dicts with
// the same items) get the same form; values of different JSON types never
// do ("1" != 1).
func canonical(v any) string {
	var enc string
	switch x := v.(type) {
	case nil:
		return "z"
	case bool:
		if x {
			return "b:1"
		}
		return "b:0"
	case json.Number:
		enc = "n:" + canonicalNumber(string(x))
	case float64:
		enc = "n:" + canonicalNumber(strconv.FormatFloat(x, 'g', -1, 64))
	case string:
		enc = "s:" + x
	default:
		return "h:" + hash(string(canonicalJSON(v)))
	}
	if len(enc) > maxTermValue {
		return "h:" + hash(enc)
	}
	return enc
}

// canonicalNumber maps integral numbers to their integer digits (so 1,
// 1.0 and 1e0 agree) and other numbers to Go's shortest float form.
func canonicalNumber(lit string) string {
	if i, ok := new(big.Int).SetString(lit, 10); ok {
		return i.String()
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return lit
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e18 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// canonicalJSON renders a value with sorted keys and canonical numbers.
func canonicalJSON(v any) []byte {
	var b bytes.Buffer
	writeCanonical(&b, v)
	return b.Bytes()
}

func writeCanonical(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteByte(':')
			writeCanonical(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case json.Number:
		b.WriteString(canonicalNumber(string(x)))
	case float64:
		b.WriteString(canonicalNumber(strconv.FormatFloat(x, 'g', -1, 64)))
	default:
		vb, _ := json.Marshal(x)
		b.Write(vb)
	}
}

func freeText(s string) *string {
	s = strings.ToLower(s)
	if utf8.RuneCountInString(s) > maxFreeText {
		r := []rune(s)
		s = string(r[:maxFreeText])
	}
	return &s
}

// docTerms computes the terms of a marshalled document.
func docTerms(doc []byte) ([]term, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	w := &termWalker{dec: dec, seen: map[string]int{}, byKey: map[string]term{}}
	if _, err := w.value(); err != nil {
		return nil, fmt.Errorf("indexing document: %w", err)
	}
	out := make([]term, 0, len(w.byKey))
	for _, t := range w.byKey {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].k < out[j].k })
	return out, nil
}

type termWalker struct {
	dec   *json.Decoder
	byKey map[string]term
	seen  map[string]int // key -> depth of the occurrence kept
	depth int
}

// value reads one JSON value, records the terms of the objects inside it
// and returns it decoded.
func (w *termWalker) value() (any, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	w.depth++
	defer func() { w.depth-- }()
	if w.depth > 64 {
		return nil, fmt.Errorf("document nested deeper than 64 levels")
	}
	switch d {
	case '{':
		obj := map[string]any{}
		for w.dec.More() {
			kt, err := w.dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			v, err := w.value()
			if err != nil {
				return nil, err
			}
			obj[k] = v
			// The shallowest occurrence of a key wins (the first one in
			// document order among equals), so {"status": ...} on a job
			// means job_schedule.status even if an action has a "status"
			// option.
			tk := termKey(k)
			if d, ok := w.seen[tk]; ok && d <= w.depth {
				continue
			}
			w.seen[tk] = w.depth
			t := term{k: tk, v: canonical(v)}
			if s, ok := v.(string); ok {
				t.sv = freeText(s)
			}
			w.byKey[tk] = t
		}
		if _, err := w.dec.Token(); err != nil {
			return nil, err
		}
		return obj, nil
	case '[':
		arr := []any{}
		for w.dec.More() {
			v, err := w.value()
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		if _, err := w.dec.Token(); err != nil {
			return nil, err
		}
		return arr, nil
	}
	return nil, fmt.Errorf("unexpected delimiter %v", d)
}

// writeTerms replaces the terms of one document.
func writeTerms(ctx context.Context, tx *sqlx.Tx, table string, seq int64, doc any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encoding document for the search index: %w", err)
	}
	terms, err := docTerms(b)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE doc_seq = ?", seq); err != nil {
		return fmt.Errorf("clearing search terms: %w", err)
	}
	const batch = 100
	for start := 0; start < len(terms); start += batch {
		end := min(start+batch, len(terms))
		var q strings.Builder
		q.WriteString("INSERT INTO " + table + " (doc_seq, k, v, sv) VALUES ")
		args := make([]any, 0, 4*(end-start))
		for i, t := range terms[start:end] {
			if i > 0 {
				q.WriteString(",")
			}
			q.WriteString("(?,?,?,?)")
			args = append(args, seq, t.k, t.v, t.sv)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("writing search terms: %w", err)
		}
	}
	return nil
}

func deleteTerms(ctx context.Context, tx *sqlx.Tx, table string, seq int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE doc_seq = ?", seq); err != nil {
		return fmt.Errorf("deleting search terms: %w", err)
	}
	return nil
}
