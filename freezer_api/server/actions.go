package server

import (
	"net/http"

	"github.com/gorilla/mux"

	"freezer.dev/freezer/freezer_api/apiv2"
)

func (s *Server) addActions(r *mux.Router) {
	const coll, item = "/v2/{project_id}/actions", "/v2/{project_id}/actions/{action_id}"
	r.Methods("GET").Path(v2Prefix + "/actions").HandlerFunc(s.route(coll, "actions:get_all", s.listActions))
	r.Methods("POST").Path(v2Prefix + "/actions").HandlerFunc(s.route(coll, "actions:create", s.createAction))
	r.Methods("GET").Path(v2Prefix + "/actions/{action_id}").HandlerFunc(s.route(item, "actions:get", s.getAction))
	r.Methods("PATCH").Path(v2Prefix + "/actions/{action_id}").HandlerFunc(s.route(item, "actions:update", s.patchAction))
	r.Methods("POST").Path(v2Prefix + "/actions/{action_id}").HandlerFunc(s.route(item, "actions:replace", s.replaceAction))
	r.Methods("DELETE").Path(v2Prefix + "/actions/{action_id}").HandlerFunc(s.route(item, "actions:delete", s.deleteAction))
}

func actionBody(r *http.Request) (apiv2.Action, error) {
	var a apiv2.Action
	m, _, err := decodeObject(r)
	if err != nil {
		return a, err
	}
	if err := actionSchema.validate(m); err != nil {
		return a, err
	}
	delete(m, "project_id")
	delete(m, "user_id")
	err = into(m, &a)
	return a, err
}

func (s *Server) listActions(w http.ResponseWriter, r *http.Request, c *call) error {
	page, err := s.parsePage(r)
	if err != nil {
		return err
	}
	f, err := parseSearch(r)
	if err != nil {
		return err
	}
	list, err := s.cfg.Store.ListActions(r.Context(), c.scope, f, page)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiv2.ActionList{Actions: list})
	return nil
}

func (s *Server) createAction(w http.ResponseWriter, r *http.Request, c *call) error {
	a, err := actionBody(r)
	if err != nil {
		return err
	}
	id, err := s.cfg.Store.CreateAction(r.Context(), c.scope, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv2.ActionCreated{ActionID: id})
	return nil
}

func (s *Server) replaceAction(w http.ResponseWriter, r *http.Request, c *call) error {
	id := c.vars["action_id"]
	if err := checkPathID(id); err != nil {
		return err
	}
	a, err := actionBody(r)
	if err != nil {
		return err
	}
	v, err := s.cfg.Store.ReplaceAction(r.Context(), c.scope, id, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv2.ActionUpdated{ActionID: id, Version: v})
	return nil
}

func (s *Server) getAction(w http.ResponseWriter, r *http.Request, c *call) error {
	a, err := s.cfg.Store.GetAction(r.Context(), c.scope, c.vars["action_id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) patchAction(w http.ResponseWriter, r *http.Request, c *call) error {
	m, _, err := decodeObject(r)
	if err != nil {
		return err
	}
	for _, k := range []string{"action_id", "user_id", "project_id"} {
		delete(m, k)
	}
	if err := actionPatchSch.validate(m); err != nil {
		return err
	}
	var p apiv2.ActionPatch
	if err := into(m, &p); err != nil {
		return err
	}
	id := c.vars["action_id"]
	v, err := s.cfg.Store.PatchAction(r.Context(), c.scope, id, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiv2.ActionUpdated{ActionID: id, Version: v})
	return nil
}

func (s *Server) deleteAction(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Store.DeleteAction(r.Context(), c.scope, c.vars["action_id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
