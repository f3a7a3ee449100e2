package logging

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// The system's sockets: syslog(3)'s and journald's native protocol.
const (
	syslogSocket  = "/dev/log"
	journalSocket = "/run/systemd/journal/socket"
)

var facilities = []string{"KERN", "USER", "MAIL", "DAEMON", "AUTH", "SYSLOG", "LPR", "NEWS", "UUCP", "CRON", "AUTHPRIV", "FTP",
	"", "", "", "", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7"}

// Facility returns the syslog facility code of name, spelled as oslo.log
// accepts it: LOG_LOCAL0 or local0, in any case; "" is LOG_USER.
func Facility(name string) (int, error) {
	if name == "" {
		return 1, nil
	}
	n := strings.TrimPrefix(strings.ToUpper(name), "LOG_")
	var valid []string
	for code, f := range facilities {
		if f == "" {
			continue
		}
		if f == n {
			return code, nil
		}
		valid = append(valid, "'LOG_"+f+"'")
	}
	return 0, fmt.Errorf("syslog_log_facility %q: syslog facility must be one of: %s", name, strings.Join(valid, ", "))
}

// severity is the syslog severity of a level, as oslo.log maps them.
func severity(l logrus.Level) int {
	switch l {
	case logrus.PanicLevel, logrus.FatalLevel:
		return 2
	case logrus.ErrorLevel:
		return 3
	case logrus.WarnLevel:
		return 4
	case logrus.InfoLevel:
		return 6
	}
	return 7
}

// datagramConn sends datagrams to a unix socket, dialling on first use and
// again after a failure, so that a syslog or journald restart loses only
// the lines sent while it was down and a missing socket never stops the
// program (as with syslog(3)).
type datagramConn struct {
	mu   sync.Mutex
	addr string
	conn *net.UnixConn
}

func (d *datagramConn) send(b []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: d.addr, Net: "unixgram"})
		if err != nil {
			return err
		}
		d.conn = c
	}
	if _, err := d.conn.Write(b); err != nil {
		d.conn.Close()
		d.conn = nil
		return err
	}
	return nil
}

// Close closes the socket.
func (d *datagramConn) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return nil
	}
	err := d.conn.Close()
	d.conn = nil
	return err
}

// syslogHook sends each entry to syslog as syslog(3) does without
// LOG_PID: "<PRI>Mmm dd hh:mm:ss ident: line".
type syslogHook struct {
	datagramConn
	ident    string
	facility int
	format   logrus.Formatter
}

func (*syslogHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h *syslogHook) Fire(e *logrus.Entry) error {
	line, err := h.format.Format(e)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<%d>%s %s: ", h.facility*8+severity(e.Level), time.Now().Format(time.Stamp), h.ident)
	b.Write(bytes.TrimRight(line, "\n"))
	h.send(b.Bytes()) // like syslog(3): a line syslog cannot take is lost, the program goes on
	return nil
}

// journal sends each entry to journald in its native protocol: MESSAGE,
// PRIORITY, SYSLOG_IDENTIFIER, SYSLOG_FACILITY, LOGGER_LEVEL and every
// field of the entry (request_id, job_id, ...) upper-cased, as oslo.log's
// journal handler sends its context fields.
type journal struct {
	datagramConn
	ident    string
	facility int
	format   logrus.Formatter
}

func (*journal) Levels() []logrus.Level { return logrus.AllLevels }

func (j *journal) Fire(e *logrus.Entry) error {
	line, err := j.format.Format(e)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	field := func(k, v string) {
		if !strings.Contains(v, "\n") {
			b.WriteString(k + "=" + v + "\n")
			return
		}
		// A value with a newline is sent as the name, a newline, its
		// length as 64-bit little endian, the value and a newline.
		b.WriteString(k + "\n")
		binary.Write(&b, binary.LittleEndian, uint64(len(v)))
		b.WriteString(v + "\n")
	}
	field("MESSAGE", strings.TrimRight(string(line), "\n"))
	field("PRIORITY", fmt.Sprint(severity(e.Level)))
	field("SYSLOG_IDENTIFIER", j.ident)
	field("SYSLOG_FACILITY", fmt.Sprint(j.facility))
	field("SYSLOG_PID", fmt.Sprint(os.Getpid()))
	field("LOGGER_LEVEL", strings.ToUpper(e.Level.String()))
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if name := journalField(k); name != "" {
			field(name, fmt.Sprint(e.Data[k]))
		}
	}
	j.send(b.Bytes()) // a line the journal cannot take is lost, the program goes on
	return nil
}

// journalField turns a logrus field name into a journal field name: upper
// case letters, digits and underscores, not starting with an underscore
// (those are journald's own) or a digit; "" if nothing is left.
func journalField(k string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(k) {
		switch {
		case r >= 'A' && r <= 'Z', r == '_', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	s := strings.TrimLeft(b.String(), "_0123456789")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}
