package server

import (
	"net/http"

	"github.com/gorilla/mux"

	"freezer.dev/freezer/freezer_api/apiv2"
)

func (s *Server) addClients(r *mux.Router) {
	const coll, item = "/v2/{project_id}/clients", "/v2/{project_id}/clients/{client_id}"
	r.Methods("GET").Path(v2Prefix + "/clients").HandlerFunc(s.route(coll, "clients:get_all", s.listClients))
	r.Methods("POST").Path(v2Prefix + "/clients").HandlerFunc(s.route(coll, "clients:create", s.registerClient))
	r.Methods("GET").Path(v2Prefix + "/clients/{client_id}").HandlerFunc(s.route(item, "clients:get", s.getClient))
	r.Methods("DELETE").Path(v2Prefix + "/clients/{client_id}").HandlerFunc(s.route(item, "clients:delete", s.deleteClient))
}

func (s *Server) listClients(w http.ResponseWriter, r *http.Request, c *call) error {
	page, err := s.parsePage(r)
	if err != nil {
		return err
	}
	f, err := parseSearch(r)
	if err != nil {
		return err
	}
	list, err := s.cfg.Store.ListClients(r.Context(), c.scope, f, page)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiv2.ClientList{Clients: list})
	return nil
}

func (s *Server) registerClient(w http.ResponseWriter, r *http.Request, c *call) error {
	m, _, err := decodeObject(r)
	if err != nil {
		return err
	}
	if err := clientSchema.validate(m); err != nil {
		return err
	}
	var info apiv2.ClientInfo
	if err := into(m, &info); err != nil {
		return err
	}
	// Upstream checks create_central with an empty target: only a role
	// (admin, service) can grant it, never project membership.
	if info.IsCentral && !s.cfg.Policy.Enforce("clients:create_central", authCreds(c), map[string]string{}) {
		return forbidden()
	}
	id, err := s.cfg.Store.RegisterClient(r.Context(), c.scope, info)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv2.ClientCreated{ClientID: id})
	return nil
}

func (s *Server) getClient(w http.ResponseWriter, r *http.Request, c *call) error {
	d, err := s.cfg.Store.GetClient(r.Context(), c.scope, c.vars["client_id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) deleteClient(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Store.DeleteClient(r.Context(), c.scope, c.vars["client_id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
