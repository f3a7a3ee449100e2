package server

import (
	"net/http"

	"github.com/gorilla/mux"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/auth"
)

func (s *Server) addBackups(r *mux.Router) {
	const coll, item = "/v2/{project_id}/backups", "/v2/{project_id}/backups/{backup_id}"
	r.Methods("GET").Path(v2Prefix + "/backups").HandlerFunc(s.route(coll, "backups:get_all", s.listBackups))
	r.Methods("POST").Path(v2Prefix + "/backups").HandlerFunc(s.route(coll, "backups:create", s.createBackup))
	r.Methods("GET").Path(v2Prefix + "/backups/{backup_id}").HandlerFunc(s.route(item, "backups:get", s.getBackup))
	r.Methods("PATCH").Path(v2Prefix + "/backups/{backup_id}").HandlerFunc(s.route(item, "backups:update", s.patchBackup))
	r.Methods("DELETE").Path(v2Prefix + "/backups/{backup_id}").HandlerFunc(s.route(item, "backups:delete", s.deleteBackup))
}

func authCreds(c *call) auth.Creds { return auth.CredsOf(c.id) }

func badDataFormat() error { return badRequest("Bad Data Format") }

func (s *Server) listBackups(w http.ResponseWriter, r *http.Request, c *call) error {
	page, err := s.parsePage(r)
	if err != nil {
		return err
	}
	f, err := parseSearch(r)
	if err != nil {
		return err
	}
	list, err := s.cfg.Store.ListBackups(r.Context(), c.scope, f, page)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiv2.BackupList{Backups: list})
	return nil
}

// createBackup stores the posted metadata: container, hostname and
// backup_name are required non-empty strings; "status" is taken out of it.
func (s *Server) createBackup(w http.ResponseWriter, r *http.Request, c *call) error {
	m, _, err := decodeObject(r)
	if err != nil {
		return err
	}
	for _, k := range []string{"container", "hostname", "backup_name"} {
		if v, ok := m[k].(string); !ok || v == "" {
			return badDataFormat()
		}
	}
	status := apiv2.BackupAvailable
	if v, ok := m["status"]; ok {
		sv, isStr := v.(string)
		if !isStr || !contains(apiv2.BackupStatuses(), sv) {
			return badDataFormat()
		}
		status = sv
		delete(m, "status")
	}
	id, err := s.cfg.Store.CreateBackup(r.Context(), c.scope, status, apiv2.BackupMetadata(m))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, apiv2.BackupCreated{BackupID: id})
	return nil
}

func (s *Server) getBackup(w http.ResponseWriter, r *http.Request, c *call) error {
	b, err := s.cfg.Store.GetBackup(r.Context(), c.scope, c.vars["backup_id"])
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) patchBackup(w http.ResponseWriter, r *http.Request, c *call) error {
	m, _, err := decodeObject(r)
	if err != nil {
		return err
	}
	for _, k := range []string{"user_id", "backup_id", "project_id"} {
		delete(m, k)
	}
	if err := backupPatchSch.validate(m); err != nil {
		return err
	}
	var p apiv2.BackupPatch
	if err := into(map[string]any{"status": m["status"], "backup_metadata": m["backup_metadata"]}, &p); err != nil {
		return err
	}
	if p.Status == nil && p.BackupMetadata == nil {
		return badRequest("Nothing to update: expected 'status' or 'backup_metadata'")
	}
	b, err := s.cfg.Store.PatchBackup(r.Context(), c.scope, c.vars["backup_id"], p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) deleteBackup(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := s.cfg.Store.DeleteBackup(r.Context(), c.scope, c.vars["backup_id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
