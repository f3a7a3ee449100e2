package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_scheduler/agentrun"
	"freezer.dev/freezer/freezer_scheduler/metrics"
	"freezer.dev/freezer/freezer_scheduler/schedule"
)

// API is what the scheduler needs from freezer-api; *client.Client
// implements it.
type API interface {
	RegisterClient(ctx context.Context, info apiv2.ClientInfo) (already bool, err error)
	ActiveJobs(ctx context.Context, clientID string, allProjects bool) ([]apiv2.Job, error)
	UpdateJob(ctx context.Context, jobID string, patch apiv2.JobPatch) error
	CreateBackup(ctx context.Context, meta apiv2.BackupMetadata) (string, error)
	StartSession(ctx context.Context, sessionID, jobID string, tag int) (apiv2.SessionActionResult, error)
	EndSession(ctx context.Context, sessionID, jobID string, tag int, result string) (apiv2.SessionActionResult, error)
	GetSession(ctx context.Context, sessionID string) (*apiv2.Session, error)
}

// Capabilities are the actions, modes, storages and engines this node
// runs; jobs asking for anything else are ignored.
type Capabilities struct {
	Actions, Modes, Storages, Engines []string
}

// DefaultCapabilities are upstream's defaults, everything, and verify.
func DefaultCapabilities() Capabilities {
	return Capabilities{Actions: apiv2.KnownActions(), Modes: apiv2.SupportedModes(),
		Storages: apiv2.SupportedStorages(), Engines: apiv2.SupportedEngines()}
}

// Config holds the scheduler's settings.
type Config struct {
	ClientID string
	Hostname string
	// Interval between polls of the API; each wait is shortened or
	// lengthened by up to Jitter (a fraction) so that many nodes do not
	// poll in lockstep.
	Interval time.Duration
	Jitter   float64
	// JobsDir caches job documents (job_<key>.conf, see Scheduler.key)
	// and, in NoAPI mode, is where the jobs are read from.
	JobsDir string
	// RunDir holds the files of running actions (job file, output, exit
	// status, run record); default JobsDir/run.
	RunDir         string
	NoAPI          bool
	ConcurrentJobs int
	DisableExec    bool
	Centralized    bool
	Capabilities   Capabilities
	// MisfireGrace is how late a run may start; later runs are skipped.
	MisfireGrace time.Duration
	// SessionWait bounds how long a job waits for a session's hold-off
	// to clear before giving up on the run.
	SessionWait time.Duration
	// Location reads dates without a zone; default time.Local.
	Location *time.Location
}

func (c *Config) defaults() {
	if c.Interval <= 0 {
		c.Interval = 60 * time.Second
	}
	if c.Jitter < 0 || c.Jitter > 0.5 {
		c.Jitter = 0.1
	}
	if c.ConcurrentJobs <= 0 {
		c.ConcurrentJobs = 1
	}
	if c.MisfireGrace <= 0 {
		c.MisfireGrace = schedule.DefaultMisfireGrace
	}
	if c.SessionWait <= 0 {
		c.SessionWait = 5 * time.Minute
	}
	if c.Location == nil {
		c.Location = time.Local
	}
	if c.RunDir == "" && c.JobsDir != "" {
		c.RunDir = filepath.Join(c.JobsDir, "run")
	}
}

// Scheduler runs the jobs of one node.
type Scheduler struct {
	cfg     Config
	api     API // nil in no-api mode
	agent   *agentrun.Runner
	clock   Clock
	rand    func() float64
	log     *logrus.Entry
	metrics *metrics.Metrics
	forProj func(projectID string) API

	mu     sync.Mutex
	jobs   map[string]*job
	slots  chan struct{}
	wake   chan struct{}
	runs   sync.WaitGroup
	runCtx context.Context
}

// Deps are the scheduler's collaborators.
type Deps struct {
	API     API // nil for no-api mode
	Agent   *agentrun.Runner
	Clock   Clock          // default RealClock
	Rand    func() float64 // uniform in [0,1); default a fixed 0.5 (no jitter)
	Log     *logrus.Entry
	Metrics *metrics.Metrics // may be nil
	// ForProject, in centralized mode, returns the API for a job's own
	// project (PATCHes, backups and sessions go there, as upstream's
	// per-job client does); nil means the scheduler's project.
	ForProject func(projectID string) API
}

// New builds a scheduler.
func New(cfg Config, d Deps) (*Scheduler, error) {
	cfg.defaults()
	if d.Agent == nil {
		return nil, errors.New("creating scheduler: no agent runner")
	}
	if d.API == nil && !cfg.NoAPI {
		return nil, errors.New("creating scheduler: no API client and not in no-api mode")
	}
	if cfg.RunDir == "" {
		return nil, errors.New("creating scheduler: no jobs directory")
	}
	if d.Clock == nil {
		d.Clock = RealClock{}
	}
	if d.Rand == nil {
		d.Rand = func() float64 { return 0.5 }
	}
	if d.Log == nil {
		l := logrus.New()
		l.SetOutput(os.Stderr)
		d.Log = logrus.NewEntry(l)
	}
	return &Scheduler{cfg: cfg, api: d.API, agent: d.Agent, clock: d.Clock, rand: d.Rand, log: d.Log,
		metrics: d.Metrics, forProj: d.ForProject, jobs: map[string]*job{}, slots: make(chan struct{}, cfg.ConcurrentJobs),
		wake: make(chan struct{}, 1)}, nil
}

// Reconfigure applies settings that can change without a restart (SIGHUP):
// the poll interval and jitter, capabilities, disable-exec, the misfire
// grace and the session wait.
func (s *Scheduler) Reconfigure(c Config) {
	c.defaults()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Interval, s.cfg.Jitter = c.Interval, c.Jitter
	s.cfg.Capabilities = c.Capabilities
	s.cfg.DisableExec = c.DisableExec
	s.cfg.MisfireGrace, s.cfg.SessionWait = c.MisfireGrace, c.SessionWait
	s.log.Info("configuration reloaded")
	s.kick()
}

func (s *Scheduler) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run registers the node, then polls and runs jobs until ctx is cancelled.
// On cancellation it stops starting runs, aborts the running agents
// cleanly (their result is "aborted"), reports that, and returns once every
// run has ended.
func (s *Scheduler) Run(ctx context.Context) error {
	for _, d := range []string{s.cfg.JobsDir, s.cfg.RunDir} {
		if d == "" {
			continue
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("creating %s: %w", d, err)
		}
	}
	if err := agentrun.RunDir(s.cfg.RunDir); err != nil {
		return err
	}
	s.mu.Lock()
	s.runCtx = ctx
	s.mu.Unlock()
	if s.api != nil {
		s.register(ctx)
	} else if err := s.loadLocalJobs(ctx); err != nil {
		return err
	}
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		s.pollLoop(ctx)
	}()
	s.dispatchLoop(ctx)
	<-pollDone
	s.runs.Wait()
	return nil
}

func (s *Scheduler) register(ctx context.Context) {
	info := apiv2.ClientInfo{
		ClientID: s.cfg.ClientID, Hostname: s.cfg.Hostname, IsCentral: s.cfg.Centralized,
		Description: "freezer-scheduler on " + s.cfg.Hostname,
		// Only values the API's client schema knows (upstream's): an
		// agent's extra mode or engine (postgresql, stream) would make
		// upstream's API (master checks these lists against enums) refuse
		// the registration. Jobs are still matched
		// against the full lists.
		SupportedActions:  known(s.cfg.Capabilities.Actions, apiv2.SupportedActions()),
		SupportedModes:    known(s.cfg.Capabilities.Modes, apiv2.SupportedModes()),
		SupportedStorages: known(s.cfg.Capabilities.Storages, apiv2.SupportedStorages()),
		SupportedEngines:  known(s.cfg.Capabilities.Engines, apiv2.SupportedEngines()),
	}
	already, err := s.api.RegisterClient(ctx, info)
	switch {
	case err != nil:
		// Upstream logs and carries on; polling still works if an
		// earlier run registered the client.
		s.log.WithError(err).Error("client registration failed")
	case already:
		s.log.WithField("client_id", s.cfg.ClientID).Info("client already registered")
	default:
		s.log.WithField("client_id", s.cfg.ClientID).Info("client registered")
	}
}

// pollLoop polls at once and then every interval, with jitter.
func (s *Scheduler) pollLoop(ctx context.Context) {
	if s.api == nil {
		<-ctx.Done()
		return
	}
	for {
		s.Poll(ctx)
		s.mu.Lock()
		iv, jit := s.cfg.Interval, s.cfg.Jitter
		s.mu.Unlock()
		wait := time.Duration(float64(iv) * (1 + jit*(2*s.rand()-1)))
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(wait):
		}
	}
}

// Poll fetches the node's active jobs once and applies them.
func (s *Scheduler) Poll(ctx context.Context) {
	if s.api == nil {
		return
	}
	s.mu.Lock()
	timeout := maxDur(s.cfg.Interval, 30*time.Second)
	s.mu.Unlock()
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	docs, err := s.api.ActiveJobs(pctx, s.cfg.ClientID, s.cfg.Centralized)
	s.metrics.Polled(err)
	if err != nil {
		if ctx.Err() == nil {
			s.log.WithError(err).Error("polling jobs failed")
		}
		return
	}
	docs = s.filter(docs)
	s.cacheJobs(docs)
	s.apply(ctx, docs)
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func (s *Scheduler) filter(docs []apiv2.Job) []apiv2.Job {
	s.mu.Lock()
	caps := s.cfg.Capabilities
	s.mu.Unlock()
	out := docs[:0:0]
	for _, d := range docs {
		if d.JobID == "" {
			continue
		}
		if s.cfg.Centralized && (d.UserCredentials == nil || d.UserCredentials.TrustID == "") {
			s.log.WithField("job_id", d.JobID).Error("job ignored: no trust_id in centralized mode")
			continue
		}
		if why := caps.unsupported(d); why != "" {
			s.log.WithField("job_id", d.JobID).Debugf("job ignored: %s", why)
			continue
		}
		out = append(out, d)
	}
	return out
}

func (c Capabilities) unsupported(d apiv2.Job) string {
	for _, a := range d.JobActions {
		fa := a.FreezerAction
		for _, chk := range []struct {
			key  string
			list []string
		}{{"action", c.Actions}, {"mode", c.Modes}, {"storage", c.Storages}, {"engine_name", c.Engines}} {
			v := fa.String(chk.key)
			if v != "" && !contains(chk.list, v) {
				return fmt.Sprintf("%s %q is not supported here", chk.key, v)
			}
		}
	}
	return ""
}

// known returns the values of list that are in schema.
func known(list, schema []string) []string {
	var out []string
	for _, v := range list {
		if contains(schema, v) {
			out = append(out, v)
		}
	}
	return out
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// cacheJobs writes each job document to JobsDir/job_<key>.conf (key is
// the job id, as upstream, or its centralized form), atomically so that a
// reader never sees half a file.
func (s *Scheduler) cacheJobs(docs []apiv2.Job) {
	if s.cfg.JobsDir == "" {
		return
	}
	for _, d := range docs {
		k := s.key(d)
		if strings.ContainsAny(k, `/\`) || k == "." || k == ".." {
			continue
		}
		b, err := json.MarshalIndent(d, "", "    ")
		if err != nil {
			continue
		}
		p := filepath.Join(s.cfg.JobsDir, "job_"+k+".conf")
		tmp := p + ".tmp"
		// One err for both steps: a failed write or rename is logged,
		// not lost in an inner scope.
		err = os.WriteFile(tmp, b, 0o600)
		if err == nil {
			err = os.Rename(tmp, p)
		}
		if err != nil {
			s.log.WithError(err).WithField("job_id", d.JobID).Warn("caching job document failed")
		}
	}
}

// loadLocalJobs reads the *.conf JSON job files of JobsDir (no-api mode).
func (s *Scheduler) loadLocalJobs(ctx context.Context) error {
	docs, err := ReadJobFiles(s.cfg.JobsDir)
	if err != nil {
		return err
	}
	s.apply(ctx, s.filter(docs))
	return nil
}

// ReadJobFiles reads every *.conf file of dir (or dir itself if it is a
// file) as a JSON job document. Jobs without an id get one derived from the
// file name, so that they stay the same job across restarts.
func ReadJobFiles(dir string) ([]apiv2.Job, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading job files: %w", err)
	}
	files := []string{dir}
	if st.IsDir() {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("reading job files: %w", err)
		}
		files = files[:0]
		for _, e := range ents {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".conf") {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
		sort.Strings(files)
	}
	var out []apiv2.Job
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading job file: %w", err)
		}
		var d apiv2.Job
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("reading job file %s: %w", f, err)
		}
		if d.JobID == "" {
			d.JobID = strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		}
		out = append(out, d)
	}
	return out, nil
}

// key identifies a job on this node: in Scheduler.jobs, and in the names of
// its run record, agent files and cached document. A job id is unique only
// within its project (the API takes a client-chosen job_id), so in
// centralized mode, where the jobs of every project are polled, the key
// also holds the project: "<job_id>@<project_id>", both query-escaped, so
// that it has no path separator and no two jobs share it. Otherwise it is
// the job id, as before, so that an upgraded node still finds its run
// records and cached jobs.
func (s *Scheduler) key(d apiv2.Job) string {
	if !s.cfg.Centralized {
		return d.JobID
	}
	return url.QueryEscape(d.JobID) + "@" + url.QueryEscape(d.ProjectID)
}

// apiFor is the API for the job's project: the scheduler's own, or in
// centralized mode the job's.
func (s *Scheduler) apiFor(d apiv2.Job) API {
	if s.cfg.Centralized && s.forProj != nil && d.ProjectID != "" {
		return s.forProj(d.ProjectID)
	}
	return s.api
}
