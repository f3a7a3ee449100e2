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

// backupRow is a backup's metadata as the agent uploaded it (JSON), with
// its status and job_id as columns.
type backupRow struct {
	Seq       int64  `db:"seq"`
	ID        string `db:"id"`
	ProjectID string `db:"project_id"`
	UserID    string `db:"user_id"`
	Status    string `db:"status"`
	JobID     string `db:"job_id"`
	Metadata  string `db:"metadata"`
	Version   int    `db:"version"`
	CreatedAt int64  `db:"created_at"`
	UpdatedAt int64  `db:"updated_at"`
}

func (r backupRow) doc() (apiv2.Backup, error) {
	m := apiv2.BackupMetadata{}
	dec := json.NewDecoder(bytesReader(r.Metadata))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return apiv2.Backup{}, fmt.Errorf("decoding backup %s: %w", r.ID, err)
	}
	return apiv2.Backup{BackupID: r.ID, ProjectID: r.ProjectID, UserID: r.UserID, Status: r.Status, BackupMetadata: m}, nil
}

func (r *backupRow) setMetadata(m apiv2.BackupMetadata) {
	if m == nil {
		m = apiv2.BackupMetadata{}
	}
	b, _ := json.Marshal(m)
	r.Metadata = string(b)
	// The column only speeds up lookups by job; an id that cannot be a
	// job id is not indexed (MySQL would refuse the row).
	r.JobID = m.String("job_id")
	if len(r.JobID) > 64 {
		r.JobID = ""
	}
}

// CreateBackup stores a backup's metadata under a new id.
func (s *Store) CreateBackup(ctx context.Context, sc Scope, status string, m apiv2.BackupMetadata) (string, error) {
	id := s.newID()
	if status == "" {
		status = apiv2.BackupAvailable
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.now().Unix()
		r := backupRow{ID: id, ProjectID: sc.ProjectID, UserID: sc.UserID, Status: status, Version: 1, CreatedAt: now, UpdatedAt: now}
		r.setMetadata(m)
		res, err := tx.NamedExecContext(ctx, `INSERT INTO backups (id, project_id, user_id, status, job_id, metadata, version, created_at, updated_at)
			VALUES (:id, :project_id, :user_id, :status, :job_id, :metadata, :version, :created_at, :updated_at)`, r)
		if err != nil {
			return fmt.Errorf("inserting backup: %w", err)
		}
		if r.Seq, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("reading backup seq: %w", err)
		}
		d, err := r.doc()
		if err != nil {
			return err
		}
		return writeTerms(ctx, tx, "backup_terms", r.Seq, d)
	})
	return id, err
}

// GetBackup returns one backup of the project.
func (s *Store) GetBackup(ctx context.Context, sc Scope, id string) (apiv2.Backup, error) {
	var r backupRow
	err := s.db.GetContext(ctx, &r, "SELECT * FROM backups WHERE project_id = ? AND id = ?", sc.ProjectID, id)
	if errors.Is(err, sql.ErrNoRows) {
		return apiv2.Backup{}, errf(KindNotFound, "Backup not registered with ID %s", id)
	}
	if err != nil {
		return apiv2.Backup{}, fmt.Errorf("reading backup: %w", err)
	}
	return r.doc()
}

// ListBackups lists the project's backups.
func (s *Store) ListBackups(ctx context.Context, sc Scope, f Filter, p Page) ([]apiv2.Backup, error) {
	return listProjectDocs[backupRow, apiv2.Backup](ctx, s, "backups", "backup_terms", sc, f, p)
}

// PatchBackup sets the status and merges backup_metadata key by key, and
// returns the updated backup.
func (s *Store) PatchBackup(ctx context.Context, sc Scope, id string, p apiv2.BackupPatch) (apiv2.Backup, error) {
	var out apiv2.Backup
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var r backupRow
		err := tx.GetContext(ctx, &r, "SELECT * FROM backups WHERE project_id = ? AND id = ?"+s.forUpdate(), sc.ProjectID, id)
		if errors.Is(err, sql.ErrNoRows) {
			return errf(KindNotFound, "Backup not registered with ID %s", id)
		}
		if err != nil {
			return fmt.Errorf("reading backup: %w", err)
		}
		d, err := r.doc()
		if err != nil {
			return err
		}
		if p.Status != nil {
			r.Status = *p.Status
		}
		for k, v := range p.BackupMetadata {
			d.BackupMetadata[k] = v
		}
		r.setMetadata(d.BackupMetadata)
		r.Version++
		r.UpdatedAt = s.now().Unix()
		if _, err := tx.NamedExecContext(ctx, `UPDATE backups SET status = :status, job_id = :job_id, metadata = :metadata,
			version = :version, updated_at = :updated_at WHERE seq = :seq`, r); err != nil {
			return fmt.Errorf("updating backup: %w", err)
		}
		if out, err = r.doc(); err != nil {
			return err
		}
		return writeTerms(ctx, tx, "backup_terms", r.Seq, out)
	})
	return out, err
}

// DeleteBackup removes a backup's metadata; a missing one is not an error.
func (s *Store) DeleteBackup(ctx context.Context, sc Scope, id string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var seq int64
		err := tx.GetContext(ctx, &seq, "SELECT seq FROM backups WHERE project_id = ? AND id = ?", sc.ProjectID, id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading backup: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM backups WHERE seq = ?", seq); err != nil {
			return fmt.Errorf("deleting backup: %w", err)
		}
		return deleteTerms(ctx, tx, "backup_terms", seq)
	})
}

// ImportBackup creates the backup as it is, with that id, unless the
// project has it; it reports whether it did.
func (s *Store) ImportBackup(ctx context.Context, sc Scope, id, status string, m apiv2.BackupMetadata) (bool, error) {
	created := false
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.GetContext(ctx, &n, "SELECT COUNT(*) FROM backups WHERE project_id = ? AND id = ?", sc.ProjectID, id); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		now := s.now().Unix()
		r := backupRow{ID: id, ProjectID: sc.ProjectID, UserID: sc.UserID, Status: status, Version: 1, CreatedAt: now, UpdatedAt: now}
		r.setMetadata(m)
		res, err := tx.NamedExecContext(ctx, `INSERT INTO backups (id, project_id, user_id, status, job_id, metadata, version, created_at, updated_at)
			VALUES (:id, :project_id, :user_id, :status, :job_id, :metadata, :version, :created_at, :updated_at)`, r)
		if err != nil {
			return fmt.Errorf("inserting backup: %w", err)
		}
		if r.Seq, err = res.LastInsertId(); err != nil {
			return err
		}
		d, err := r.doc()
		if err != nil {
			return err
		}
		created = true
		return writeTerms(ctx, tx, "backup_terms", r.Seq, d)
	})
	return created, err
}
