package logging

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestContextCarriesFields(t *testing.T) {
	var buf bytes.Buffer
	e, closeFn, err := New("freezer-api", Options{Output: &buf})
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	ctx := With(context.Background(), e.WithField("request_id", "req-1"))
	From(ctx).Info("hello")
	out := buf.String()
	for _, want := range []string{"component=freezer-api", "request_id=req-1", "msg=hello"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line %q lacks %q", out, want)
		}
	}
	From(context.Background()).Info("discarded without panicking")
}

func TestQuietDropsInfo(t *testing.T) {
	var buf bytes.Buffer
	e, _, _ := New("agent", Options{Output: &buf, Quiet: true})
	e.Info("no")
	e.Warn("yes")
	if strings.Contains(buf.String(), "msg=no") || !strings.Contains(buf.String(), "msg=yes") {
		t.Fatalf("quiet filtering wrong: %q", buf.String())
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := Secret("hunter2")
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %#v", s, s, s)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret leaked: %q", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal lost the value")
	}
}
