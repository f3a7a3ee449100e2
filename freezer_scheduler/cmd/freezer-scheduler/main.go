// Command freezer-scheduler runs freezer jobs on a node: it registers the
// node with freezer-api, polls its jobs and runs their actions through
// freezer-agent on schedule.
//
//	freezer-scheduler [options] start|stop|restart|status|reload
//
// "start" daemonizes unless --no-daemon is given (the systemd way: run in
// the foreground, SIGTERM stops, SIGHUP reloads the configuration) or the
// Windows service control manager started it (Stop stops, paramchange
// reloads).
package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/freezer_scheduler/agentrun"
	"freezer.dev/freezer/freezer_scheduler/daemon"
	"freezer.dev/freezer/freezer_scheduler/metrics"
	"freezer.dev/freezer/freezer_scheduler/options"
	"freezer.dev/freezer/freezer_scheduler/scheduler"
	"freezer.dev/freezer/internal/config"
	"freezer.dev/freezer/internal/logging"
	"freezer.dev/freezer/internal/version"
)

// Exit statuses: upstream uses os.EX_* codes.
const (
	exitOK         = 0
	exitFailure    = 1
	exitUsage      = 2
	exitNotRunning = 3 // LSB "program is not running" for status
	exitData       = 65
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	home, _ := os.UserHomeDir()
	p, err := options.Parse(args, os.Getenv, home)
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-scheduler:", err)
		if errors.Is(err, options.ErrUsage) {
			fmt.Fprintln(os.Stderr, "usage: freezer-scheduler [options] {start,stop,restart,status,reload} (see --help)")
			return exitUsage
		}
		return exitData
	}
	if p.Help {
		fmt.Print(options.Usage())
		return exitOK
	}
	if p.Version {
		fmt.Println(version.String())
		return exitOK
	}
	if p.PrintSample {
		if err := config.WriteSample(os.Stdout, options.Schema()); err != nil {
			fmt.Fprintln(os.Stderr, "freezer-scheduler:", err)
			return exitFailure
		}
		return exitOK
	}
	pf := daemon.PidFile{Path: p.PidFile(home), Name: "freezer-scheduler"}
	switch p.Action {
	case "status":
		if pid := pf.Running(); pid != 0 {
			fmt.Printf("Running with pid: %d\n", pid)
			return exitOK
		}
		fmt.Println("Not Running")
		return exitNotRunning
	case "stop":
		return stop(pf)
	case "reload":
		pid, err := pf.Signal(syscall.SIGHUP)
		if err != nil {
			fmt.Fprintln(os.Stderr, "freezer-scheduler:", err)
			return exitFailure
		}
		if pid == 0 {
			fmt.Println("Not Running")
			return exitNotRunning
		}
		fmt.Printf("Reload requested, pid: %d\n", pid)
		return exitOK
	case "restart":
		if rc := stop(pf); rc == exitFailure {
			return rc
		}
	}
	// start (or the start half of restart)
	if p.Values.Bool(options.GroupScheduler, "no_daemon") || os.Getenv(daemon.EnvDaemonized) != "" || isService() {
		if os.Getenv(daemon.EnvDaemonized) == "" {
			fmt.Println("Freezer Scheduler running in no-daemon mode")
		}
		return foreground(args, p, pf, home)
	}
	if pid := pf.Running(); pid != 0 {
		fmt.Printf("freezer daemon is already running, pid: %d\n", pid)
		return exitOK
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-scheduler:", err)
		return exitFailure
	}
	startArgs := replaceAction(args, "start")
	pid, err := daemon.Spawn(self, startArgs, pf, pf.Path+".log", 15*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-scheduler:", err)
		return exitFailure
	}
	fmt.Printf("freezer daemon started, pid: %d\n", pid)
	return exitOK
}

func replaceAction(args []string, action string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		if a == "restart" {
			out[i] = action
		}
	}
	return out
}

func stop(pf daemon.PidFile) int {
	pid, err := pf.Stop(2 * time.Minute)
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-scheduler:", err)
		return exitFailure
	}
	if pid == 0 {
		fmt.Println("Not Running")
		return exitNotRunning
	}
	fmt.Printf("Stopped pid: %d\n", pid)
	return exitOK
}

// foreground runs the scheduler in this process until SIGTERM/SIGINT.
func foreground(args []string, p *options.Parsed, pf daemon.PidFile, home string) int {
	logger, err := logging.Setup("freezer-scheduler", logging.FromValues(p.Values, options.GroupDefault), os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "freezer-scheduler:", err)
		return exitFailure
	}
	defer logger.Close()
	log := logger.WithField("component", "freezer-scheduler")
	for _, o := range p.NoEffect() {
		log.WithFields(logrus.Fields{"option": o.Where(), "reason": o.NoEffect}).Warn("option accepted but has no effect")
	}
	if err := pf.Acquire(); err != nil {
		log.WithError(err).Error("not starting")
		return exitFailure
	}
	defer pf.Release()
	log = log.WithField("pid", os.Getpid())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	defer serveControls(sigs)() // a Windows service's Stop comes as SIGTERM

	s, err := build(ctx, p, log, sigs, cancel)
	if err != nil {
		log.WithError(err).Error("freezer-scheduler cannot start")
		return exitFailure
	}
	if s == nil { // stopped while still connecting
		return exitOK
	}
	go func() {
		for sig := range sigs {
			switch sig {
			case syscall.SIGHUP:
				// Reopen the log file first, so that logrotate's
				// "kill -HUP" starts a fresh file.
				if err := logger.Reopen(); err != nil {
					log.WithError(err).Error("reopening the log file")
				}
				reload(args, home, s, log)
			default:
				log.WithField("signal", sig.String()).Info("stopping: aborting running actions")
				cancel()
			}
		}
	}()
	log.WithField("version", version.String()).Info("freezer-scheduler started")
	if err := s.Run(ctx); err != nil {
		log.WithError(err).Error("freezer-scheduler failed")
		return exitFailure
	}
	log.Info("freezer-scheduler stopped")
	return exitOK
}

// build connects to the API (retrying while it is unreachable, as upstream's
// no-daemon loop restarts after a fatal error) and assembles the scheduler.
func build(ctx context.Context, p *options.Parsed, log *logrus.Entry, sigs chan os.Signal, cancel func()) (*scheduler.Scheduler, error) {
	hostname, _ := os.Hostname()
	self, _ := os.Executable()
	agentPath, err := p.AgentPath(self, exec.LookPath)
	if err != nil {
		return nil, err
	}
	noAPI := p.Values.Bool(options.GroupScheduler, "no_api")
	if p.Values.Bool(options.GroupScheduler, "enable_v1_api") {
		log.Warn("enable_v1_api is set but the v1 API is not supported; using v2")
	}
	var api scheduler.API
	var forProject func(string) scheduler.API
	projectID := p.Values.String(options.GroupServiceAuth, "os_project_id")
	if !noAPI {
		auth, err := p.Auth()
		if err != nil {
			return nil, err
		}
		var c *client.Client
		for delay := 2 * time.Second; ; delay = min(delay*2, time.Minute) {
			c, err = client.Authenticate(ctx, auth)
			if err == nil {
				break
			}
			log.WithError(err).Errorf("connecting to freezer-api failed; retrying in %s", delay)
			select {
			case sig := <-sigs:
				if sig != syscall.SIGHUP {
					cancel()
					return nil, nil
				}
			case <-time.After(delay):
			}
		}
		api = c
		forProject = func(p string) scheduler.API { return c.ForProject(p) }
		projectID = c.ProjectID()
		log.WithField("endpoint", c.Endpoint()).WithField("project_id", projectID).Info("using freezer-api")
	}
	cfg := p.Scheduler(p.ClientID(projectID, hostname), hostname)
	var m *metrics.Metrics
	if addr := p.Values.String(options.GroupScheduler, "metrics_listen"); addr != "" {
		m = metrics.New()
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("listening for metrics on %s: %w", addr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", m)
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		go func() { <-ctx.Done(); _ = srv.Close() }()
		log.WithField("listen", ln.Addr().String()).Info("serving metrics")
	}
	runner := &agentrun.Runner{AgentPath: agentPath, Env: p.AgentEnv(os.Environ()),
		MaxRun: time.Duration(p.Values.Int(options.GroupScheduler, "run_timeout")) * time.Second}
	cfg.Capabilities = agentCapabilities(ctx, runner, p, cfg.Capabilities, log) // capabilities.go
	log.WithField("agent", agentPath).WithField("client_id", cfg.ClientID).Info("scheduler configured")
	return scheduler.New(cfg, scheduler.Deps{API: api, Agent: runner, Log: log, Metrics: m,
		Rand: rand.Float64, ForProject: forProject})
}

// reload re-reads the configuration (SIGHUP) and applies what can change
// without a restart.
func reload(args []string, home string, s *scheduler.Scheduler, log *logrus.Entry) {
	p, err := options.Parse(args, os.Getenv, home)
	if err != nil {
		log.WithError(err).Error("reload failed: keeping the current configuration")
		return
	}
	if p.Values.Bool("", "debug") {
		log.Logger.SetLevel(logrus.DebugLevel)
	} else {
		log.Logger.SetLevel(logrus.InfoLevel)
	}
	cfg := p.Scheduler("", "")
	self, _ := os.Executable()
	if agentPath, err := p.AgentPath(self, exec.LookPath); err == nil {
		r := &agentrun.Runner{AgentPath: agentPath, Env: p.AgentEnv(os.Environ())}
		cfg.Capabilities = agentCapabilities(context.Background(), r, p, cfg.Capabilities, log)
	}
	s.Reconfigure(cfg)
}
