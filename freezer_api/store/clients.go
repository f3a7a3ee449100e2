package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// clientRow is a registered freezer-scheduler: clients.doc holds the
// ClientInfo JSON; client_id, hostname and is_central are copied to
// columns for lookups. (project_id, client_id) is unique: re-registering
// updates the row.
type clientRow struct {
	Seq       int64  `db:"seq"`
	ID        string `db:"id"`
	ProjectID string `db:"project_id"`
	UserID    string `db:"user_id"`
	ClientID  string `db:"client_id"`
	Hostname  string `db:"hostname"`
	IsCentral bool   `db:"is_central"`
	Doc       string `db:"doc"`
	Version   int    `db:"version"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

func (r clientRow) doc() (apiv2.Client, error) {
	var info apiv2.ClientInfo
	if err := json.Unmarshal([]byte(r.Doc), &info); err != nil {
		return apiv2.Client{}, fmt.Errorf("decoding client %s: %w", r.ClientID, err)
	}
	info.ClientID, info.UUID, info.IsCentral = r.ClientID, r.ID, r.IsCentral
	return apiv2.Client{ProjectID: r.ProjectID, UserID: r.UserID, Client: info}, nil
}

// RegisterClient registers a scheduler, or updates the description and
// capabilities of the project's client with the same client_id. A central
// client_id registered by another project is a KindExists error.
//
// The capabilities are kept as sent: a client that sends none is answered
// with none, as upstream does; the job checks assume every capability then
// (fillCapabilities).
func (s *Store) RegisterClient(ctx context.Context, sc Scope, info apiv2.ClientInfo) (string, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.now().Unix()
		var own clientRow
		err := tx.GetContext(ctx, &own, "SELECT * FROM clients WHERE project_id = ? AND client_id = ?"+s.forUpdate(), sc.ProjectID, info.ClientID)
		switch {
		case err == nil:
			old, err := own.doc()
			if err != nil {
				return err
			}
			upd := old.Client
			upd.Description = info.Description
			upd.SupportedActions, upd.SupportedModes = info.SupportedActions, info.SupportedModes
			upd.SupportedStorages, upd.SupportedEngines = info.SupportedStorages, info.SupportedEngines
			b, _ := json.Marshal(upd)
			if _, err := tx.ExecContext(ctx, "UPDATE clients SET doc = ?, version = version + 1, updated_at = ? WHERE seq = ?", string(b), now, own.Seq); err != nil {
				return fmt.Errorf("updating client: %w", err)
			}
			own.Doc = string(b)
			d, _ := own.doc()
			return writeTerms(ctx, tx, "client_terms", own.Seq, d)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("looking up client: %w", err)
		}
		var n int
		if err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM clients WHERE is_central = ? AND client_id = ? AND project_id <> ?", true, info.ClientID, sc.ProjectID); err != nil {
			return fmt.Errorf("looking up central clients: %w", err)
		}
		if n > 0 {
			return errf(KindExists, "Client %s is already registered by another project", info.ClientID)
		}
		if info.UUID == "" {
			info.UUID = s.newID()
		}
		b, _ := json.Marshal(info)
		res, err := tx.ExecContext(ctx, `INSERT INTO clients (id, project_id, user_id, client_id, hostname, is_central, doc, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, info.UUID, sc.ProjectID, sc.UserID, info.ClientID, info.Hostname, info.IsCentral, string(b), now, now)
		if err != nil {
			if isDuplicate(err) {
				// Registered concurrently: the next attempt updates it.
				return fmt.Errorf("%w: client %s registered concurrently", errRetry, info.ClientID)
			}
			return fmt.Errorf("inserting client: %w", err)
		}
		seq, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("reading client seq: %w", err)
		}
		row := clientRow{Seq: seq, ID: info.UUID, ProjectID: sc.ProjectID, UserID: sc.UserID, ClientID: info.ClientID, IsCentral: info.IsCentral, Doc: string(b)}
		d, err := row.doc()
		if err != nil {
			return err
		}
		return writeTerms(ctx, tx, "client_terms", seq, d)
	})
	return info.ClientID, err
}

// fillCapabilities gives a client that announced no capabilities the
// ones every agent has, for checking the actions of its jobs.
func fillCapabilities(info *apiv2.ClientInfo) {
	if info.SupportedActions == nil {
		info.SupportedActions = apiv2.SupportedActions()
	}
	if info.SupportedModes == nil {
		info.SupportedModes = apiv2.SupportedModes()
	}
	if info.SupportedStorages == nil {
		info.SupportedStorages = apiv2.SupportedStorages()
	}
	if info.SupportedEngines == nil {
		info.SupportedEngines = apiv2.SupportedEngines()
	}
}

// findClient returns the project's client with that client_id, else a
// central client of any project, else sql.ErrNoRows.
func (s *Store) findClient(ctx context.Context, q sqlx.QueryerContext, projectID, clientID string) (clientRow, error) {
	var r clientRow
	err := sqlx.GetContext(ctx, q, &r, "SELECT * FROM clients WHERE client_id = ? AND project_id = ?", clientID, projectID)
	if errors.Is(err, sql.ErrNoRows) {
		err = sqlx.GetContext(ctx, q, &r, "SELECT * FROM clients WHERE client_id = ? AND is_central = ? ORDER BY seq LIMIT 1", clientID, true)
	}
	return r, err
}

// GetClient returns the project's client, or a central client, with that
// client_id.
func (s *Store) GetClient(ctx context.Context, sc Scope, clientID string) (apiv2.Client, error) {
	r, err := s.findClient(ctx, s.db, sc.ProjectID, clientID)
	if errors.Is(err, sql.ErrNoRows) {
		return apiv2.Client{}, errf(KindNotFound, "Client not found with ID %s", clientID)
	}
	if err != nil {
		return apiv2.Client{}, fmt.Errorf("reading client: %w", err)
	}
	return r.doc()
}

// ListClients lists the project's clients and every central client.
func (s *Store) ListClients(ctx context.Context, sc Scope, f Filter, p Page) ([]apiv2.Client, error) {
	w, args := f.where("client_terms", nil)
	ps, pargs := p.sql()
	q := "SELECT d.* FROM clients d WHERE (d.project_id = ? OR d.is_central = ?)" + w + ps
	all := append([]any{sc.ProjectID, true}, append(args, pargs...)...)
	var rows []clientRow
	if err := s.db.SelectContext(ctx, &rows, q, all...); err != nil {
		return nil, fmt.Errorf("listing clients: %w", err)
	}
	out := make([]apiv2.Client, 0, len(rows))
	for _, r := range rows {
		d, err := r.doc()
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// DeleteClient removes the project's client. A central client of another
// project is KindForbidden; a missing one is not an error (DELETE is
// idempotent, as upstream).
func (s *Store) DeleteClient(ctx context.Context, sc Scope, clientID string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		r, err := s.findClient(ctx, tx, sc.ProjectID, clientID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading client: %w", err)
		}
		if r.ProjectID != sc.ProjectID {
			return errf(KindForbidden, "Client %s belongs to another project", clientID)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM clients WHERE seq = ?", r.Seq); err != nil {
			return fmt.Errorf("deleting client: %w", err)
		}
		return deleteTerms(ctx, tx, "client_terms", r.Seq)
	})
}
