package options

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"freezer.dev/freezer/freezer_api/client"
	"freezer.dev/freezer/freezer_scheduler/scheduler"
	"freezer.dev/freezer/internal/tlsconf"
)

// Scheduler returns the scheduler settings. clientID is the resolved
// client id (see ClientID).
func (p *Parsed) Scheduler(clientID, hostname string) scheduler.Config {
	v := p.Values
	g := GroupScheduler
	return scheduler.Config{
		ClientID:       clientID,
		Hostname:       hostname,
		Interval:       time.Duration(v.Int(g, "interval")) * time.Second,
		Jitter:         v.Float(g, "poll_jitter"),
		JobsDir:        v.String(g, "jobs_dir"),
		RunDir:         v.String(g, "run_dir"),
		NoAPI:          v.Bool(g, "no_api"),
		ConcurrentJobs: v.Int(g, "concurrent_jobs"),
		DisableExec:    v.Bool(g, "disable_exec"),
		Centralized:    v.Bool(g, "centralized_scheduler"),
		MisfireGrace:   time.Duration(v.Int(g, "misfire_grace_time")) * time.Second,
		SessionWait:    time.Duration(v.Int(g, "session_wait")) * time.Second,
		Capabilities: scheduler.Capabilities{
			Actions:  v.List(GroupCapabilities, "supported_actions"),
			Modes:    v.List(GroupCapabilities, "supported_modes"),
			Storages: v.List(GroupCapabilities, "supported_storages"),
			Engines:  v.List(GroupCapabilities, "supported_engines"),
		},
	}
}

// ClientID is the configured client id, or upstream's default
// "<project_id>_<hostname>".
func (p *Parsed) ClientID(projectID, hostname string) string {
	if id := p.Values.String(GroupScheduler, "client_id"); id != "" {
		return id
	}
	if projectID == "" {
		return hostname
	}
	return projectID + "_" + hostname
}

// Auth returns the Keystone and endpoint settings of [service_auth].
func (p *Parsed) Auth() (client.AuthOptions, error) {
	v := p.Values
	a := func(n string) string { return v.String(GroupServiceAuth, n) }
	o := client.AuthOptions{
		AuthURL: a("os_auth_url"), Username: a("os_username"), Password: a("os_password"), Token: a("os_token"),
		ProjectID: a("os_project_id"), ProjectName: a("os_project_name"),
		ProjectDomainID: a("os_project_domain_id"), ProjectDomainName: a("os_project_domain_name"),
		UserDomainID: a("os_user_domain_id"), UserDomainName: a("os_user_domain_name"),
		RegionName: a("os_region_name"), Interface: a("os_endpoint_type"), Endpoint: a("os_backup_url"),
	}
	hc, err := p.HTTPClient()
	if err != nil {
		return o, err
	}
	o.HTTPClient = hc
	return o, nil
}

// HTTPClient honours insecure and os_cacert.
func (p *Parsed) HTTPClient() (*http.Client, error) {
	insecure := p.Values.Bool(GroupScheduler, "insecure")
	cafile := p.Values.String(GroupServiceAuth, "os_cacert")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tc, err := tlsconf.Config(tlsconf.Options{CAFile: cafile, Insecure: insecure})
	if err != nil {
		return nil, fmt.Errorf("os_cacert: %w", err)
	}
	tr.TLSClientConfig = tc
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}, nil
}

// AgentEnv is the agent's environment: ours plus the [service_auth]
// options as OS_* variables (so the agent authenticates like the
// scheduler), and OS_INSECURE when insecure is set.
func (p *Parsed) AgentEnv(base []string) []string {
	env := map[string]string{}
	var order []string
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, o := range osAuth {
		if v := p.Values.String(GroupServiceAuth, o.name); v != "" {
			set(o.env, v)
		}
	}
	if p.Values.Bool(GroupScheduler, "insecure") {
		set("OS_INSECURE", "True")
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+env[k])
	}
	return out
}

// AgentPath finds freezer-agent: the configured path, else next to the
// scheduler's own executable, else on PATH, under the platform's name for
// it (AgentName).
func (p *Parsed) AgentPath(self string, lookPath func(string) (string, error)) (string, error) {
	return p.agentPath(runtime.GOOS, self, lookPath)
}

// agentPath is AgentPath for the platform goos, so that each platform's
// lookup can be tested on any.
func (p *Parsed) agentPath(goos, self string, lookPath func(string) (string, error)) (string, error) {
	if ap := p.Values.String(GroupScheduler, "agent_path"); ap != "" {
		return ap, nil
	}
	name := AgentName(goos)
	if self != "" {
		if cand := filepath.Join(filepath.Dir(self), name); isExecutable(goos, cand) {
			return cand, nil
		}
	}
	ap, err := lookPath(name)
	if err != nil {
		return "", fmt.Errorf("finding %s (set [scheduler] agent_path): %w", name, err)
	}
	return ap, nil
}

// AgentName is freezer-agent's file name on goos: Windows runs only files
// with an executable suffix, and the build names the agent so.
func AgentName(goos string) string {
	if goos == "windows" {
		return "freezer-agent.exe"
	}
	return "freezer-agent"
}

// isExecutable tells whether path is a regular file goos would run.
// Windows has no execute bit (Go reports its files as 0666 or 0444): the
// suffix in the name is what makes it a program there.
func isExecutable(goos, path string) bool {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	return goos == "windows" || st.Mode()&0o111 != 0
}

// PidFile is the configured pid file or upstream's
// <tmpdir>/freezer_sched_<home dir name>.pid.
func (p *Parsed) PidFile(home string) string {
	if pf := p.Values.String(GroupScheduler, "pid_file"); pf != "" {
		return pf
	}
	return filepath.Join(os.TempDir(), "freezer_sched_"+filepath.Base(home)+".pid")
}
