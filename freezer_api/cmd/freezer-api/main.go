// Command freezer-api serves the Freezer v2 REST API.
//
//	freezer-api [--config-file F]... [--config-dir D]... [options]
//	freezer-api --print-sample-config
//	freezer-api --print-policy
//
// Every option of freezer-api.conf may be given on the command line
// (--bind-port, --api-max-limit); see --help.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/apiconf"
	"freezer.dev/freezer/freezer_api/auth"
	"freezer.dev/freezer/freezer_api/jobcache"
	"freezer.dev/freezer/freezer_api/server"
	"freezer.dev/freezer/freezer_api/store"
	"freezer.dev/freezer/internal/config"
	"freezer.dev/freezer/internal/logging"
	"freezer.dev/freezer/internal/version"
)

func main() {
	tuneGC(os.LookupEnv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// GC defaults of the API, used unless GOGC or GOMEMLIMIT are set.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 64 << 20
)

// tuneGC: the API's live heap is a few MiB, so with Go's default (GOGC=100)
// it collects every few MiB allocated, about a tenth of its CPU under load.
// The heap may grow to five times the live data instead, with a soft limit
// of 64 MiB past which the collector works harder rather than letting it
// grow (peak RSS at 200 concurrent job lists: 71 MiB, was 40 MiB; the
// target is < 150 MiB). GOGC and GOMEMLIMIT in the environment keep their
// usual meaning and turn this off.
func tuneGC(lookup func(string) (string, bool)) {
	if _, set := lookup("GOGC"); set {
		return
	}
	if _, set := lookup("GOMEMLIMIT"); set {
		return
	}
	debug.SetGCPercent(defaultGCPercent)
	debug.SetMemoryLimit(defaultMemoryLimit)
}

// run is main without the process: it returns the exit code, and calls
// ready with the listening address once requests are served.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready func(addr string)) int {
	cl := apiconf.APICommandLine()
	a, rest, err := apiconf.ParseArgs(cl, args)
	if err != nil || len(rest) > 0 {
		if err == nil {
			err = fmt.Errorf("unexpected argument %q", rest[0])
		}
		fmt.Fprintf(stderr, "freezer-api: %v\nusage: %s\n(see freezer-api --help)\n", err, apiconf.APIHelp.Usage)
		return 2
	}
	switch o := a.Overrides; {
	case o.Bool("", "help"):
		if err := config.WriteHelp(stdout, apiconf.APIHelp, cl); err != nil {
			return 1
		}
		return 0
	case o.Bool("", "version"):
		fmt.Fprintln(stdout, version.Version)
		return 0
	case o.Bool("", "print_policy"):
		if err := auth.WriteSample(stdout); err != nil {
			fmt.Fprintf(stderr, "freezer-api: %v\n", err)
			return 1
		}
		return 0
	case o.Bool("", "print_sample_config"):
		if err := config.WriteSample(stdout, apiconf.Schema()); err != nil {
			fmt.Fprintf(stderr, "freezer-api: %v\n", err)
			return 1
		}
		return 0
	}
	s, err := apiconf.Load(a)
	if err != nil {
		fmt.Fprintf(stderr, "freezer-api: loading configuration: %v\n", err)
		return 2
	}
	logger, err := logging.Setup("freezer-api", s.Log, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "freezer-api: %v\n", err)
		return 2
	}
	defer logger.Close()
	log := logger.WithField("component", "freezer-api")
	for _, o := range s.NoEffect {
		log.WithFields(logrus.Fields{"option": o.Where(), "reason": o.NoEffect}).Warn("option accepted but has no effect")
	}
	if err := serve(ctx, s, log, ready); err != nil {
		log.WithError(err).Error("freezer-api stopped")
		return 1
	}
	return 0
}

func serve(ctx context.Context, s apiconf.Settings, log *logrus.Entry, ready func(string)) error {
	log.WithFields(logrus.Fields{"version": version.Version, "config_files": s.ConfigFiles}).Info("starting freezer-api")
	st, err := apiconf.OpenStore(ctx, s, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := checkSchema(ctx, st, log); err != nil {
		return err
	}
	authn, err := authenticator(ctx, s, log)
	if err != nil {
		return err
	}
	pol, err := auth.LoadPolicy(s.PolicyFile)
	if err != nil {
		return err
	}
	for _, w := range pol.Warnings {
		log.Warn(w)
	}
	var trusts server.TrustConfig
	if k, ok := authn.(*auth.Keystone); ok {
		trusts = server.TrustConfig{Manager: k, Enabled: s.Trusts.Enabled, Enforce: s.Trusts.Enforce, Roles: s.Trusts.Roles}
	}
	h := server.New(server.Config{
		Trusts: trusts,
		Store:  jobcache.New(st, jobcache.Options{Bytes: s.JobCacheMiB << 20}),
		Auth:   authn, Policy: pol, Logger: log,
		MaxBodyBytes: s.MaxBodyBytes, MaxLimit: s.MaxLimit,
		HealthcheckDisableFile: s.HealthcheckFile, WWWAuthenticate: s.Keystone.WWWAuthenticateURI,
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(s.BindHost, strconv.Itoa(s.BindPort)))
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.WithField("address", ln.Addr().String()).Info("serving the Freezer v2 API")
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.WithField("timeout", s.ShutdownTimeout.String()).Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), s.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// checkSchema refuses to serve on an outdated schema, except that an
// empty embedded SQLite database is created on the spot so that the quick
// start needs no `freezer-manage db sync`.
func checkSchema(ctx context.Context, st *store.Store, log *logrus.Entry) error {
	cur, err := st.Version(ctx)
	if err != nil {
		return err
	}
	latest, err := st.LatestVersion()
	if err != nil {
		return err
	}
	switch {
	case cur == latest:
		return nil
	case cur == 0 && st.Dialect() == store.SQLite:
		applied, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		log.WithField("versions", applied).Info("created the SQLite database schema")
		return nil
	case cur > latest:
		return fmt.Errorf("database schema version %d is newer than this freezer-api (%d)", cur, latest)
	}
	return fmt.Errorf("database schema version %d is older than %d: run `freezer-manage db sync`", cur, latest)
}

func authenticator(ctx context.Context, s apiconf.Settings, log *logrus.Entry) (auth.Authenticator, error) {
	if s.AuthStrategy == "noauth" {
		log.WithFields(logrus.Fields{"project_id": s.NoAuth.ProjectID, "user_id": s.NoAuth.UserID,
			"roles": s.NoAuth.Roles, "trust_headers": s.NoAuth.TrustHeaders}).
			Warn("INSECURE: [api] auth_strategy = noauth: every request is accepted without a token. Use only for a local quick start or tests.")
		return auth.NoAuth{ProjectID: s.NoAuth.ProjectID, UserID: s.NoAuth.UserID, Roles: s.NoAuth.Roles, TrustHeaders: s.NoAuth.TrustHeaders}, nil
	}
	k := s.Keystone
	return auth.NewKeystone(ctx, auth.KeystoneConfig{
		TLS:     k.TLS,
		AuthURL: k.AuthURL, Username: k.Username, Password: k.Password.Reveal(), ProjectName: k.ProjectName,
		UserDomainName: k.UserDomainName, ProjectDomainName: k.ProjectDomainName, RegionName: k.RegionName,
		UserDomainID: k.UserDomainID, ProjectDomainID: k.ProjectDomainID,
		CacheTime: k.CacheTime,
	})
}
