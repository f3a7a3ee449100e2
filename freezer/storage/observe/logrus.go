package observe

import (
	"github.com/sirupsen/logrus"
)

// LogTo returns a Log hook writing each finished call to e: failures as
// warnings, the rest at debug level, with the storage, operation, key,
// bytes and duration as fields.
func LogTo(e *logrus.Entry) func(Event) {
	return func(ev Event) {
		l := e.WithFields(logrus.Fields{
			"storage":  ev.Storage,
			"op":       string(ev.Op),
			"key":      ev.Key,
			"bytes":    ev.Bytes,
			"duration": ev.Duration.String(),
		})
		if ev.Err != nil {
			l.WithError(ev.Err).Warn("storage call failed")
			return
		}
		l.Debug("storage call")
	}
}
