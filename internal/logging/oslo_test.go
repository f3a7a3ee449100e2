package logging

import (
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/internal/config"
)

func setup(t *testing.T, o Oslo) (stdout, stderr *bytes.Buffer, log func(msg string)) {
	t.Helper()
	stdout, stderr = new(bytes.Buffer), new(bytes.Buffer)
	l, err := Setup("freezer-test", o, stdout, stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return stdout, stderr, func(msg string) { l.WithField("request_id", "req-1").Warn(msg) }
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestOsloDestinations(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name           string
		o              Oslo
		file           string // the log file, relative to dir
		stdout, stderr bool
	}{
		{name: "nothing: standard output", stdout: true},
		{name: "log_file", o: Oslo{LogFile: filepath.Join(dir, "a.log")}, file: "a.log"},
		{name: "log_dir and log_file", o: Oslo{LogDir: dir, LogFile: "b.log"}, file: "b.log"},
		{name: "log_dir and an absolute log_file", o: Oslo{LogDir: "/nonexistent", LogFile: filepath.Join(dir, "c.log")}, file: "c.log"},
		{name: "log_dir alone: <program>.log", o: Oslo{LogDir: dir}, file: "freezer-test.log"},
		{name: "use_stderr", o: Oslo{UseStderr: true}, stderr: true},
		{name: "use_stderr and a file", o: Oslo{UseStderr: true, LogDir: dir, LogFile: "d.log"}, file: "d.log", stderr: true},
		{name: "use_journal replaces standard output", o: Oslo{UseJournal: true, journalAddr: filepath.Join(dir, "nojournal")}},
		{name: "use_syslog does not", o: Oslo{UseSyslog: true, syslogAddr: filepath.Join(dir, "nosyslog")}, stdout: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, log := setup(t, c.o)
			msg := "hello " + c.name
			log(msg)
			if got := strings.Contains(stdout.String(), msg); got != c.stdout {
				t.Errorf("standard output has the line: %v, want %v (%q)", got, c.stdout, stdout)
			}
			if got := strings.Contains(stderr.String(), msg); got != c.stderr {
				t.Errorf("standard error has the line: %v, want %v (%q)", got, c.stderr, stderr)
			}
			if c.file != "" {
				if s := readFile(t, filepath.Join(dir, c.file)); !strings.Contains(s, msg) {
					t.Errorf("%s lacks the line: %q", c.file, s)
				}
			}
		})
	}
}

func TestOsloDebugAndJSON(t *testing.T) {
	stdout, _, _ := setup(t, Oslo{})
	l, _ := Setup("p", Oslo{}, stdout, nil)
	l.Debug("hidden")
	l, _ = Setup("p", Oslo{Debug: true, UseJSON: true}, stdout, nil)
	l.Debug("shown")
	if s := stdout.String(); strings.Contains(s, "hidden") || !strings.Contains(s, `"msg":"shown"`) {
		t.Fatalf("debug or use_json not honoured: %q", s)
	}
}

func TestOsloDateFormat(t *testing.T) {
	stdout, _, log := setup(t, Oslo{})
	log("default")
	if !regexp.MustCompile(`time="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"`).MatchString(stdout.String()) {
		t.Errorf("default date format is not oslo's %%Y-%%m-%%d %%H:%%M:%%S: %q", stdout)
	}
	stdout, _, log = setup(t, Oslo{DateFormat: "%d/%m/%Y %H.%M"})
	log("custom")
	if !regexp.MustCompile(`time="\d\d/\d\d/\d{4} \d\d\.\d\d"`).MatchString(stdout.String()) {
		t.Errorf("log_date_format not honoured: %q", stdout)
	}
	if _, err := Setup("p", Oslo{DateFormat: "%Q"}, nil, nil); err == nil {
		t.Error("an invalid log_date_format was accepted")
	}
}

// listen opens a unixgram socket like the one syslogd or journald offers.
func listen(t *testing.T) (string, func() []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sock")
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: p, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return p, func() []byte {
		t.Helper()
		buf := make([]byte, 65536)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		return buf[:n]
	}
}

func TestOsloSyslog(t *testing.T) {
	for _, c := range []struct {
		facility string
		pri      int
	}{{"", 1*8 + 4}, {"LOG_LOCAL3", 19*8 + 4}, {"daemon", 3*8 + 4}} {
		addr, read := listen(t)
		stdout, _, log := setup(t, Oslo{UseSyslog: true, SyslogFacility: c.facility, syslogAddr: addr})
		log("to syslog")
		got := string(read())
		re := regexp.MustCompile(`^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d freezer-test: time=.*level=warning msg="to syslog" request_id=req-1$`)
		m := re.FindStringSubmatch(got)
		if m == nil || m[1] != strconv.Itoa(c.pri) {
			t.Errorf("facility %q: datagram %q, want priority %d in syslog(3)'s format", c.facility, got, c.pri)
		}
		if !strings.Contains(stdout.String(), "to syslog") {
			t.Errorf("use_syslog stopped the standard output log")
		}
	}
	if _, err := Setup("p", Oslo{UseSyslog: true, SyslogFacility: "LOG_NOPE"}, nil, nil); err == nil || !strings.Contains(err.Error(), "LOG_LOCAL7") {
		t.Errorf("an unknown facility: %v", err)
	}
}

func TestOsloSyslogMissingSocket(t *testing.T) {
	stdout, _, log := setup(t, Oslo{UseSyslog: true, syslogAddr: filepath.Join(t.TempDir(), "none")})
	log("goes on")
	if !strings.Contains(stdout.String(), "goes on") {
		t.Fatal("a missing syslog socket stopped the log")
	}
}

// parseJournal decodes a native journal protocol datagram.
func parseJournal(t *testing.T, b []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			t.Fatalf("unterminated field %q", b)
		}
		line := string(b[:nl])
		b = b[nl+1:]
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
			continue
		}
		n := binary.LittleEndian.Uint64(b[:8])
		out[line] = string(b[8 : 8+n])
		if b[8+n] != '\n' {
			t.Fatalf("binary field %s not followed by a newline", line)
		}
		b = b[9+n:]
	}
	return out
}

func TestOsloJournal(t *testing.T) {
	addr, read := listen(t)
	stdout, _, _ := setup(t, Oslo{})
	l, err := Setup("freezer-test", Oslo{UseJournal: true, SyslogFacility: "local0", journalAddr: addr}, stdout, stdout)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.WithFields(map[string]any{"request_id": "req-1", "job-id": "j1", "_private": "x"}).Error("two\nlines")
	f := parseJournal(t, read())
	want := map[string]string{"PRIORITY": "3", "SYSLOG_IDENTIFIER": "freezer-test", "SYSLOG_FACILITY": "16",
		"REQUEST_ID": "req-1", "JOB_ID": "j1", "PRIVATE": "x", "LOGGER_LEVEL": "ERROR"}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s=%q, want %q (all: %q)", k, f[k], v, f)
		}
	}
	if !strings.Contains(f["MESSAGE"], `msg="two\nlines"`) {
		t.Errorf("MESSAGE=%q", f["MESSAGE"])
	}
	if stdout.Len() != 0 {
		t.Errorf("use_journal alone still logs to standard output: %q", stdout)
	}
}

func TestOsloOptsAndFromValues(t *testing.T) {
	s := Opts("DEFAULT", "Logging")
	ini, err := config.ParseINI(strings.NewReader("[DEFAULT]\nlogdir = /var/log/kolla/freezer\nuse_stderr = true\nuse_syslog = yes\nsyslog_log_facility = LOG_LOCAL1\nuse_journal = 1\nlog_date_format = %H\nwatch_log_file = true\n"), "test.conf")
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Bind(ini)
	if err != nil {
		t.Fatal(err)
	}
	o := FromValues(v, "DEFAULT")
	want := Oslo{LogDir: "/var/log/kolla/freezer", UseStderr: true, UseSyslog: true, SyslogFacility: "LOG_LOCAL1", UseJournal: true, DateFormat: "%H"}
	if o != want {
		t.Errorf("FromValues = %+v, want %+v", o, want)
	}
	if ne := v.NoEffect(s); len(ne) != 1 || ne[0].Name != "watch_log_file" {
		t.Errorf("NoEffect = %v, want watch_log_file only", ne)
	}
}

func TestOsloReopen(t *testing.T) {
	dir := t.TempDir()
	l, err := Setup("p", Oslo{LogDir: dir}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("one")
	if err := os.Rename(filepath.Join(dir, "p.log"), filepath.Join(dir, "p.log.1")); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Info("two")
	if s := readFile(t, filepath.Join(dir, "p.log")); !strings.Contains(s, "two") || strings.Contains(s, "one") {
		t.Errorf("after Reopen the file holds %q", s)
	}
}
