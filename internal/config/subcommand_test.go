package config

import (
	"errors"
	"strings"
	"testing"
)

func testCommand() *Command {
	return &Command{Prog: "freezer job-create", Args: []Arg{
		{Opt: Opt{Name: "file", Help: "Path to json file with the job"}, Required: true},
		{Opt: Opt{Name: "client", Help: "Select a client for this job"}, Short: "C", LongFirst: true, Metavar: "CLIENT_ID", Required: true},
		{Opt: Opt{Name: "format", Default: "table", Choices: []string{"json", "table"}}, Short: "f"},
		{Opt: Opt{Name: "column", Type: MultiString}, Short: "c", Metavar: "COLUMN"},
		{Opt: Opt{Name: "noindent", Type: Bool}},
	}}
}

func TestSubcommandParsesLikeArgparse(t *testing.T) {
	c := testCommand()
	p, err := c.Parse([]string{"--fi", "job.json", "-Cnode", "-c", "A", "--column=B", "-fjson", "--noindent"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.String("file") != "job.json" || p.String("client") != "node" || p.String("format") != "json" || !p.Bool("noindent") {
		t.Errorf("parsed %+v", p.vals)
	}
	if got := strings.Join(p.Strings("column"), ","); got != "A,B" {
		t.Errorf("columns %s", got)
	}
}

func TestSubcommandErrorsLikeArgparse(t *testing.T) {
	c := testCommand()
	for _, tc := range []struct {
		argv []string
		msg  string
	}{
		{[]string{"--file", "x"}, "the following arguments are required: --client/-C"},
		{[]string{}, "the following arguments are required: --file, --client/-C"},
		{[]string{"--file", "x", "-C", "n", "-f", "xml"}, "argument -f/--format: invalid choice: 'xml' (choose from 'json', 'table')"},
		{[]string{"--file", "x", "-C", "n", "extra"}, "unrecognized arguments: extra"},
		{[]string{"--file"}, "argument --file: expected one argument"},
	} {
		_, err := c.Parse(tc.argv, nil)
		var ue *UsageError
		if !errors.As(err, &ue) || ue.Msg != tc.msg {
			t.Errorf("%v: %v, want %q", tc.argv, err, tc.msg)
		}
	}
	if _, err := c.Parse([]string{"-h"}, nil); !errors.Is(err, ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestUsageWrapsLikeArgparse(t *testing.T) {
	// As python-freezerclient 5.0 prints it (argparse, 80 columns).
	want := "usage: freezer job-create [-h] --file FILE --client CLIENT_ID\n" +
		"                          [-f {json,table}] [-c COLUMN] [--noindent]\n"
	if got := testCommand().Usage(); got != want {
		t.Errorf("usage:\n%s\nwant\n%s", got, want)
	}
}

func TestSplitKnownTakesGlobalsAnywhere(t *testing.T) {
	globals := []Arg{{Opt: Opt{Name: "os-password"}, Env: "OS_PASSWORD"}, {Opt: Opt{Name: "debug", Type: Bool}}}
	env := func(k string) string { return map[string]string{"OS_PASSWORD": "fromenv"}[k] }
	p, rest, err := SplitKnown(globals, []string{"job-list", "--os-pass", "secret", "-f", "json", "--debug"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if p.String("os-password") != "secret" || !p.Bool("debug") || strings.Join(rest, " ") != "job-list -f json" {
		t.Errorf("got %v %v", p.vals, rest)
	}
	p, _, _ = SplitKnown(globals, nil, env)
	if p.String("os-password") != "fromenv" {
		t.Errorf("environment default: %q", p.String("os-password"))
	}
}
