package store

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// FuzzDocTerms: any JSON document is indexed without error (up to the
// nesting limit), deterministically, and every term fits its column.
func FuzzDocTerms(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":{"a":1},"b":[{"c":"x"}]}`, `{"k":"` + strings.Repeat("é", 200) + `"}`, `{"` + strings.Repeat("k", 300) + `":null}`, `[1,{"x":1e999}]`, `{"n":-0.0,"m":12345678901234567890}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) {
			return
		}
		terms, err := docTerms(doc)
		if err != nil {
			if strings.Contains(err.Error(), "nested deeper") {
				return
			}
			t.Fatalf("%q: %v", doc, err)
		}
		again, _ := docTerms(doc)
		if len(again) != len(terms) {
			t.Fatal("not deterministic")
		}
		for i, tm := range terms {
			if again[i] != tm && (again[i].k != tm.k || again[i].v != tm.v) {
				t.Fatal("not deterministic")
			}
			if len(tm.k) > maxTermKey && !strings.HasPrefix(tm.k, "h:") || utf8.RuneCountInString(tm.k) > 191 {
				t.Fatalf("key %q too long", tm.k)
			}
			if utf8.RuneCountInString(tm.v) > 200 {
				t.Fatalf("value %q too long", tm.v)
			}
			if tm.sv != nil && utf8.RuneCountInString(*tm.sv) > 255 {
				t.Fatalf("free text too long")
			}
		}
	})
}

// FuzzParseSearch: any search body parses into conditions that fit the
// term columns.
func FuzzParseSearch(f *testing.F) {
	f.Add([]byte(`{"match":[{"_all":"[{\"a\":1}]"},{"b":[1]}],"match_not":[{"_all":"x"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var s apiv2.Search
		if json.Unmarshal(body, &s) != nil {
			return
		}
		flt := ParseSearch(s)
		for _, c := range append(flt.Match, flt.MatchNot...) {
			if utf8.RuneCountInString(c.Key) > 191 || utf8.RuneCountInString(c.Value) > 200 {
				t.Fatalf("condition too wide: %+v", c)
			}
		}
		w, args := flt.where("job_terms", jobStatusColumns)
		if strings.Count(w, "?") != len(args) {
			t.Fatalf("placeholders %d, args %d", strings.Count(w, "?"), len(args))
		}
	})
}
