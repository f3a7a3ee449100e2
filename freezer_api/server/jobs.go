package server

import (
	"context"
	"net/http"
	"slices"

	"github.com/gorilla/mux"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/auth"
)

func (s *Server) addJobs(r *mux.Router) {
	const coll, item = "/v2/{project_id}/jobs", "/v2/{project_id}/jobs/{job_id}"
	r.Methods("GET").Path(v2Prefix + "/jobs").HandlerFunc(s.route(coll, "jobs:get_all", s.listJobs))
	r.Methods("POST").Path(v2Prefix + "/jobs").HandlerFunc(s.route(coll, "jobs:create", s.createJob))
	r.Methods("GET").Path(v2Prefix + "/jobs/{job_id}").HandlerFunc(s.route(item, "jobs:get", s.getJob))
	r.Methods("PATCH").Path(v2Prefix + "/jobs/{job_id}").HandlerFunc(s.route(item, "jobs:update", s.patchJob))
	r.Methods("POST").Path(v2Prefix + "/jobs/{job_id}").HandlerFunc(s.route(item, "jobs:create", s.replaceJob))
	r.Methods("DELETE").Path(v2Prefix + "/jobs/{job_id}").HandlerFunc(s.route(item, "jobs:delete", s.deleteJob))
	r.Methods("POST").Path(v2Prefix + "/jobs/{job_id}/event").HandlerFunc(s.route(item+"/event", "jobs:event:create", s.jobEvent))
}

// expandActionDefaults copies each action_defaults key into every
// job_actions[i].freezer_action that lacks it, then drops action_defaults.
func expandActionDefaults(m map[string]any) error {
	raw, ok := m["action_defaults"]
	if !ok {
		return nil
	}
	delete(m, "action_defaults")
	defs, ok := raw.(map[string]any)
	if !ok {
		return badRequest("action_defaults should be a dictionary")
	}
	list, _ := m["job_actions"].([]any)
	for _, e := range list {
		entry, ok := e.(map[string]any)
		if !ok {
			continue
		}
		fa, ok := entry["freezer_action"].(map[string]any)
		if !ok {
			continue
		}
		for k, v := range defs {
			if _, has := fa[k]; !has {
				fa[k] = v
			}
		}
	}
	return nil
}

// jobBody validates a job document for create/replace and converts it.
// project_id, user_id and user_credentials in the body are ignored: the
// owner is always the URL project and the token user.
func jobBody(r *http.Request) (apiv2.Job, error) {
	var j apiv2.Job
	m, _, err := decodeObject(r)
	if err != nil {
		return j, err
	}
	if err := expandActionDefaults(m); err != nil {
		return j, err
	}
	if v, ok := m["job_schedule"]; !ok || v == nil {
		m["job_schedule"] = map[string]any{}
	}
	// A Go client marshals an empty slice field as null.
	if v, ok := m["job_actions"]; ok && v == nil {
		m["job_actions"] = []any{}
	}
	if err := jobSchema.validate(m); err != nil {
		return j, err
	}
	if err := checkJobActions(m); err != nil {
		return j, err
	}
	for _, k := range []string{"project_id", "user_id", "user_credentials", "_version", "session_name"} {
		delete(m, k)
	}
	if err := into(m, &j); err != nil {
		return j, err
	}
	return j, nil
}

// checkJobActions requires each entry to reference an action or describe
// one (upstream answered 500 for both omissions).
func checkJobActions(m map[string]any) error {
	list, _ := m["job_actions"].([]any)
	for _, e := range list {
		entry := e.(map[string]any)
		_, hasID := entry["action_id"]
		_, hasFA := entry["freezer_action"]
		if !hasID && !hasFA {
			return badRequest("'freezer_action' is a required property")
		}
	}
	return nil
}

// appendJobs appends the jobs as the caller may see them. Trust ids
// (user_credentials) are shown only to the central scheduler (admin or
// service) and to the trustor, never to other readers of the project
// (upstream's leak). Unless the caller is the central scheduler, as
// upstream does, so is the process id of a job that runs on a central
// client of another project. Only jobs with a process id need the
// central-client lookup, so most reads make none.
func (s *Server) appendJobs(ctx context.Context, b []byte, c *call, jobs []apiv2.JobView) ([]byte, error) {
	central := s.allowed("jobs:get_all_projects", c)
	hide := make([]bool, len(jobs))
	if !central {
		running := map[string][]string{} // project → client ids of jobs with a pid
		for _, j := range jobs {
			if j.CurrentPID != 0 && !slices.Contains(running[j.ProjectID], j.ClientID) {
				running[j.ProjectID] = append(running[j.ProjectID], j.ClientID)
			}
		}
		for project, clients := range running {
			elsewhere, err := s.cfg.Store.CentralElsewhere(ctx, project, clients)
			if err != nil {
				return nil, err
			}
			for i, j := range jobs {
				hide[i] = hide[i] || (j.ProjectID == project && elsewhere[j.ClientID])
			}
		}
	}
	for i := range jobs {
		if i > 0 {
			b = append(b, ',')
		}
		// The trustor sees its own trust, as on upstream master: clients
		// check that a job carries it and that a second job reuses it.
		uc := jobs[i].Credentials
		creds := central || (uc != nil && uc.TrustorUserID != "" && uc.TrustorUserID == c.id.UserID)
		var err error
		if b, err = jobs[i].AppendJSON(b, hide[i], creds); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, c *call) error {
	page, err := s.parsePage(r)
	if err != nil {
		return err
	}
	allProjects, err := parseBool(r, "all_projects")
	if err != nil {
		return err
	}
	f, err := parseSearch(r)
	if err != nil {
		return err
	}
	project := c.scope.ProjectID
	if allProjects && s.allowed("jobs:get_all_projects", c) {
		project = ""
	}
	jobs, err := s.cfg.Store.ListJobViews(r.Context(), project, f, page)
	if err != nil {
		return err
	}
	// The envelope of apiv2.JobList, around documents encoded already.
	n := 16
	for i := range jobs {
		n += jobs[i].SizeHint() + 1
	}
	b, err := s.appendJobs(r.Context(), append(s.answerBuf(n), `{"jobs":[`...), c, jobs)
	if err != nil {
		return err
	}
	b = append(b, "]}"...)
	writeRawJSON(w, http.StatusOK, b)
	s.doneWith(b)
	return nil
}

// withTrust attaches user_credentials to a job that a central scheduler
// will run: a trust from the caller to the service user on the job's
// project (upstream: when [centralized_scheduler] enabled and the client is
// central, or enforce_trusts).
func (s *Server) withTrust(r *http.Request, c *call, j *apiv2.Job) error {
	tc := s.cfg.Trusts
	if tc.Manager == nil || !tc.Enabled {
		return nil
	}
	if !tc.Enforce {
		cl, err := s.cfg.Store.GetClient(r.Context(), c.scope, j.ClientID)
		if err != nil || !cl.Client.IsCentral {
			return nil // an unknown client is the store's 422
		}
	}
	id, err := tc.Manager.EnsureTrust(r.Context(), auth.TrustRequest{
		CallerToken: r.Header.Get("X-Auth-Token"), Trustor: c.id, ProjectID: c.scope.ProjectID, Roles: tc.Roles})
	if err != nil {
		logFrom(r.Context()).WithError(err).Warn("could not obtain a trust for a central scheduler")
		return &apiError{Status: http.StatusUnprocessableEntity, Title: "Missing required credentials",
			Description: "Could not create a trust for the central scheduler."}
	}
	j.UserCredentials = &apiv2.UserCredentials{TrustID: id, TrustorUserID: c.id.UserID}
	return nil
}

func (s *Server) createJob(w http.ResponseWriter, r *http.Request, c *call) error {
	j, err := jobBody(r)
	if err != nil {
		return err
	}
	if err := s.withTrust(r, c, &j); err != nil {
		return err
	}
	id, err := s.cfg.Store.CreateJob(r.Context(), c.scope, j)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv2.JobCreated{JobID: id})
	return nil
}

func (s *Server) replaceJob(w http.ResponseWriter, r *http.Request, c *call) error {
	id := c.vars["job_id"]
	if err := checkPathID(id); err != nil {
		return err
	}
	j, err := jobBody(r)
	if err != nil {
		return err
	}
	if err := s.withTrust(r, c, &j); err != nil {
		return err
	}
	v, err := s.cfg.Store.ReplaceJob(r.Context(), c.scope, id, j)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv2.JobUpdated{JobID: id, Version: v})
	return nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request, c *call) error {
	j, err := s.cfg.Store.GetJobView(r.Context(), c.scope, c.vars["job_id"])
	if err != nil {
		return err
	}
	b, err := s.appendJobs(r.Context(), s.answerBuf(j.SizeHint()), c, []apiv2.JobView{j})
	if err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, b)
	s.doneWith(b)
	return nil
}

func (s *Server) patchJob(w http.ResponseWriter, r *http.Request, c *call) error {
	m, _, err := decodeObject(r)
	if err != nil {
		return err
	}
	// Never from a body: the owner, the id and the trust.
	for _, k := range []string{"user_id", "job_id", "user_credentials", "project_id"} {
		delete(m, k)
	}
	if err := expandActionDefaults(m); err != nil {
		return err
	}
	if err := jobPatchSchema.validate(m); err != nil {
		return err
	}
	if err := checkJobActions(m); err != nil {
		return err
	}
	delete(m, "_version")
	delete(m, "session_name")
	var p apiv2.JobPatch
	if err := into(m, &p); err != nil {
		return err
	}
	if _, ok := m["job_actions"]; ok && p.JobActions == nil {
		p.JobActions = []apiv2.Action{}
	}
	id := c.vars["job_id"]
	v, err := s.cfg.Store.PatchJob(r.Context(), c.scope, id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiv2.JobUpdated{JobID: id, Version: v})
	return nil
}

func (s *Server) deleteJob(w http.ResponseWriter, r *http.Request, c *call) error {
	orphan, err := s.cfg.Store.DeleteJob(r.Context(), c.scope, c.vars["job_id"])
	if err != nil {
		return err
	}
	if orphan != "" && s.cfg.Trusts.Manager != nil {
		// No job uses the trust any more; a failure is only logged, as
		// upstream does: the job is gone either way.
		if err := s.cfg.Trusts.Manager.DeleteTrust(r.Context(), r.Header.Get("X-Auth-Token"), orphan); err != nil {
			logFrom(r.Context()).WithError(err).Warn("could not delete an unused trust")
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) jobEvent(w http.ResponseWriter, r *http.Request, c *call) error {
	m, _, err := decodeObject(r)
	if err != nil {
		if ae, ok := err.(*apiError); ok && ae.Description == "Missing request body" {
			return badRequest("Bad event request format")
		}
		return err
	}
	if len(m) != 1 {
		return badRequest("Bad event request format")
	}
	var event string
	for k := range m {
		event = k
	}
	switch event {
	case apiv2.EventStart, apiv2.EventStop, apiv2.EventAbort:
	default:
		return badRequest("Bad Action Method")
	}
	res, err := s.cfg.Store.JobEvent(r.Context(), c.scope, c.vars["job_id"], event)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, apiv2.EventResult{Result: res})
	return nil
}

// checkPathID applies the id rules of bodies to ids chosen in the path
// (create-or-replace routes).
func checkPathID(id string) error {
	if len(id) > maxIDLen || !idPattern.MatchString(id) {
		return badRequest("'" + id + "' does not match '^[\\w-]+$' or is longer than 64 characters")
	}
	return nil
}
