package server

import (
	"net/http"

	"github.com/gorilla/mux"

	"freezer.dev/freezer/freezer_api/apiv2"
)

func (s *Server) addSessions(r *mux.Router) {
	const coll, item = "/v2/{project_id}/sessions", "/v2/{project_id}/sessions/{session_id}"
	r.Methods("GET").Path(v2Prefix + "/sessions").HandlerFunc(s.route(coll, "sessions:get_all", s.listSessions))
	r.Methods("POST").Path(v2Prefix + "/sessions").HandlerFunc(s.route(coll, "sessions:create", s.createSession))
	r.Methods("GET").Path(v2Prefix + "/sessions/{session_id}").HandlerFunc(s.route(item, "sessions:get", s.getSession))
	r.Methods("PATCH").Path(v2Prefix + "/sessions/{session_id}").HandlerFunc(s.route(item, "sessions:update", s.patchSession))
	r.Methods("POST").Path(v2Prefix + "/sessions/{session_id}").HandlerFunc(s.route(item, "sessions:replace", s.replaceSession))
	r.Methods("DELETE").Path(v2Prefix + "/sessions/{session_id}").HandlerFunc(s.route(item, "sessions:delete", s.deleteSession))
	r.Methods("POST").Path(v2Prefix + "/sessions/{session_id}/action").HandlerFunc(s.route(item+"/action", "sessions:action:create", s.sessionAction))
	r.Methods("PUT").Path(v2Prefix + "/sessions/{session_id}/jobs/{job_id}").HandlerFunc(s.route(item+"/jobs/{job_id}", "sessions:job:add", s.addSessionJob))
	r.Methods("DELETE").Path(v2Prefix + "/sessions/{session_id}/jobs/{job_id}").HandlerFunc(s.route(item+"/jobs/{job_id}", "sessions:job:remove", s.removeSessionJob))
}

// sessionBody validates a full session document (create, replace). A
// "jobs" member is ignored unless it is an object (the tempest plugin
// posts a list).
func sessionBody(r *http.Request) (apiv2.SessionPatch, error) {
	var p apiv2.SessionPatch
	m, _, err := decodeObject(r)
	if err != nil {
		return p, err
	}
	if err := sessionSchema.validate(m); err != nil {
		return p, err
	}
	if _, ok := m["jobs"].(map[string]any); !ok {
		delete(m, "jobs")
	}
	for _, k := range []string{"session_id", "project_id", "user_id", "last_start", "_version", "session_name"} {
		delete(m, k)
	}
	err = into(m, &p)
	return p, err
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, c *call) error {
	page, err := s.parsePage(r)
	if err != nil {
		return err
	}
	f, err := parseSearch(r)
	if err != nil {
		return err
	}
	list, err := s.cfg.Store.ListSessions(r.Context(), c.scope, f, page)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiv2.SessionList{Sessions: list})
	return nil
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := sessionBody(r)
	if err != nil {
		return err
	}
	id, err := s.cfg.Store.CreateSession(r.Context(), c.scope, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv2.SessionCreated{SessionID: id})
	return nil
}

func (s *Server) replaceSession(w http.ResponseWriter, r *http.Request, c *call) error {
	id := c.vars["session_id"]
	if err := checkPathID(id); err != nil {
		return err
	}
	p, err := sessionBody(r)
	if err != nil {
		return err
	}
	v, err := s.cfg.Store.ReplaceSession(r.Context(), c.scope, id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv2.SessionUpdated{SessionID: id, Version: v})
	return nil
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := s.cfg.Store.GetSession(r.Context(), c.scope, c.vars["session_id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) patchSession(w http.ResponseWriter, r *http.Request, c *call) error {
	m, _, err := decodeObject(r)
	if err != nil {
		return err
	}
	for _, k := range []string{"session_id", "user_id", "project_id"} {
		delete(m, k)
	}
	if err := sessionPatchSch.validate(m); err != nil {
		return err
	}
	for _, k := range []string{"last_start", "_version", "session_name"} {
		delete(m, k)
	}
	var p apiv2.SessionPatch
	if err := into(m, &p); err != nil {
		return err
	}
	id := c.vars["session_id"]
	v, err := s.cfg.Store.PatchSession(r.Context(), c.scope, id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiv2.SessionUpdated{SessionID: id, Version: v})
	return nil
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Store.DeleteSession(r.Context(), c.scope, c.vars["session_id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) sessionAction(w http.ResponseWriter, r *http.Request, c *call) error {
	m, _, err := decodeObject(r)
	if err != nil {
		return err
	}
	if len(m) != 1 {
		return badRequest("Bad Action Method")
	}
	sid := c.vars["session_id"]
	var res string
	var tag int
	switch {
	case m["start"] != nil:
		body, ok := m["start"].(map[string]any)
		if !ok {
			return badRequest("'start' is not of type 'object'")
		}
		if err := sessionStartSch.validate(body); err != nil {
			return err
		}
		var st apiv2.SessionStart
		if err := into(body, &st); err != nil {
			return err
		}
		res, tag, err = s.cfg.Store.SessionStart(r.Context(), c.scope, sid, st.JobID, int(st.CurrentTag))
	case m["end"] != nil:
		body, ok := m["end"].(map[string]any)
		if !ok {
			return badRequest("'end' is not of type 'object'")
		}
		if err := sessionEndSch.validate(body); err != nil {
			return err
		}
		var en apiv2.SessionEnd
		if err := into(body, &en); err != nil {
			return err
		}
		res, tag, err = s.cfg.Store.SessionEnd(r.Context(), c.scope, sid, en.JobID, en.Result)
	default:
		return badRequest("Bad Action Method")
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, apiv2.SessionActionResult{Result: res, SessionTag: tag})
	return nil
}

func (s *Server) addSessionJob(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Store.AddJobToSession(r.Context(), c.scope, c.vars["session_id"], c.vars["job_id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) removeSessionJob(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Store.RemoveJobFromSession(r.Context(), c.scope, c.vars["session_id"], c.vars["job_id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
