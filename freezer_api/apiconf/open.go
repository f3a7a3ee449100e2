package apiconf

import (
	"context"
	"fmt"
	"time"

	"freezer.dev/freezer/internal/wait"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/store"
)

// OpenStore connects to [database] connection, retrying max_retries times
// every retry_interval (the database may start after us).
func OpenStore(ctx context.Context, s Settings, log *logrus.Entry) (*store.Store, error) {
	// Unlike SQLAlchemy, overflow connections stay open while they are in
	// use at least every few minutes: closing each one on return makes a
	// busy API reconnect to MySQL for almost every request.
	opts := store.Options{MaxOpenConns: s.MaxPoolSize + s.MaxOverflow, MaxIdleConns: s.MaxPoolSize + s.MaxOverflow,
		ConnMaxLifetime: s.RecycleTime, ConnMaxIdleTime: 5 * time.Minute,
		DriverLog: func(msg string) { log.WithField("component", "mysql").Warn(msg) }}
	for attempt := 0; ; attempt++ {
		st, err := store.Open(ctx, s.Connection.Reveal(), opts)
		if err == nil {
			return st, nil
		}
		if s.ConnectRetries >= 0 && attempt >= s.ConnectRetries {
			return nil, err
		}
		log.WithError(err).Warnf("database not reachable, retrying in %s", s.RetryInterval)
		if err := wait.Sleep(ctx, s.RetryInterval); err != nil {
			return nil, fmt.Errorf("connecting to database: %w", err)
		}
	}
}
