package cli

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"freezer.dev/freezer/internal/config"
)

// jobFlags are job-create's options for the common cases, beyond the
// Python client's --file: one agent action and a schedule. Each becomes
// the freezer_action key of the same name (dashes to underscores).
var jobFlags = []struct{ name, help string }{
	{"action", "Agent action: backup, restore, info, admin or exec"},
	{"mode", "Backup mode (fs, mysql, mongo, ...)"},
	{"path-to-backup", "Path to back up"},
	{"backup-name", "Name of the backup"},
	{"container", "Container or directory in the storage"},
	{"storage", "Storage: swift, local, s3, ssh, ftp, ftps"},
	{"engine-name", "Backup engine (tar, rsync)"},
	{"restore-abs-path", "Where a restore writes"},
	{"restore-from-date", "Restore the backup current at this date"},
	{"remove-older-than", "Remove backups older than this many days (admin)"},
	{"max-level", "Incremental level at which a new full backup is taken"},
	{"always-level", "Always take backups at this level"},
	{"command", "Command of an exec action"},
}

func jobCreateArgs() []config.Arg {
	args := []config.Arg{
		{Opt: config.Opt{Name: "file", Help: "Path to json file with the job (required unless --action is given)"}, Required: true, RequiredUnless: "action"},
		{Opt: config.Opt{Name: "client", Help: "Select a client for this job"}, Short: "C", LongFirst: true, Metavar: "CLIENT_ID", Required: true},
	}
	for _, f := range jobFlags {
		args = append(args, config.Arg{Opt: config.Opt{Name: f.name, Help: f.help}, Section: "job from options", NotInUsage: true})
	}
	return append(args,
		config.Arg{Opt: config.Opt{Name: "option", Type: config.MultiString, Help: "Any other freezer_action key, as KEY=VALUE; repeatable"}, Metavar: "KEY=VALUE", Section: "job from options", NotInUsage: true},
		config.Arg{Opt: config.Opt{Name: "max-retries", Help: "Retries of the action"}, Section: "job from options", NotInUsage: true},
		config.Arg{Opt: config.Opt{Name: "max-retries-interval", Help: "Seconds between retries"}, Section: "job from options", NotInUsage: true},
		config.Arg{Opt: config.Opt{Name: "description", Help: "Description of the job"}, Section: "job from options", NotInUsage: true},
		config.Arg{Opt: config.Opt{Name: "schedule-interval", Help: `Run every interval ("2 hours", "1 days", "continuous")`}, Section: "job from options", NotInUsage: true},
		config.Arg{Opt: config.Opt{Name: "schedule-start-date", Help: "First run (ISO date)"}, Section: "job from options", NotInUsage: true},
		config.Arg{Opt: config.Opt{Name: "schedule-end-date", Help: "No run after (ISO date)"}, Section: "job from options", NotInUsage: true},
		config.Arg{Opt: config.Opt{Name: "schedule-date", Help: "Run once at this date (ISO)"}, Section: "job from options", NotInUsage: true},
	)
}

// scalarValue reads a flag's value as the JSON a person would have
// written: numbers and booleans as such, the rest as text.
func scalarValue(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return Int(n)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && strings.ContainsAny(s, ".eE") {
		return Float(f)
	}
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false":
		return false
	}
	return s
}

func jobFromFlags(p *config.Parsed, doc *Object) error {
	fa := newObject()
	for _, f := range jobFlags {
		if v := p.String(f.name); v != "" {
			key := strings.ReplaceAll(f.name, "-", "_")
			switch f.name {
			case "max-level", "always-level", "remove-older-than":
				fa.Set(key, scalarValue(v))
			default:
				fa.Set(key, v) // names and paths stay text, even "2024"
			}
		}
	}
	for _, kv := range p.Strings("option") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return errorf("--option %s: expected KEY=VALUE", kv)
		}
		fa.Set(strings.ReplaceAll(k, "-", "_"), scalarValue(v))
	}
	if len(fa.Keys) > 0 {
		act := newObject()
		act.Set("freezer_action", fa)
		for _, n := range []string{"max-retries", "max-retries-interval"} {
			if v := p.String(n); v != "" {
				act.Set(strings.ReplaceAll(n, "-", "_"), scalarValue(v))
			}
		}
		doc.Set("job_actions", []any{act})
	}
	if d := p.String("description"); d != "" {
		doc.Set("description", d)
	}
	sched, _ := getOr(doc, nil, "job_schedule").(*Object)
	for _, n := range []string{"schedule-interval", "schedule-start-date", "schedule-end-date", "schedule-date"} {
		if v := p.String(n); v != "" {
			if sched == nil {
				sched = newObject()
			}
			sched.Set(strings.ReplaceAll(n, "-", "_"), v)
		}
	}
	if sched != nil {
		doc.Set("job_schedule", sched)
	}
	return nil
}

func jobCreate(ctx context.Context, a *App, p *config.Parsed) ([]string, [][]any, error) {
	var doc *Object
	if f := p.String("file"); f != "" {
		v, err := a.readDoc(f)
		if err != nil {
			return nil, nil, err
		}
		if doc, err = mustObject(v, "setitem"); err != nil {
			return nil, nil, err
		}
	} else {
		doc = newObject()
	}
	if err := jobFromFlags(p, doc); err != nil {
		return nil, nil, err
	}
	doc.Set("client_id", p.String("client"))
	parts := []string{"jobs"}
	if id, ok := doc.Get("job_id"); ok && pyTruthy(id) {
		parts = append(parts, pyStr(id))
	}
	out, err := a.expect(ctx, http.StatusCreated, http.MethodPost, parts, len(parts) == 1, doc)
	if err != nil {
		return nil, nil, err
	}
	id, err := field(out, "job_id")
	if err != nil {
		return nil, nil, err
	}
	a.info("Job %s created", pyStr(id))
	return nil, nil, nil
}
