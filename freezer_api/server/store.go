package server

import (
	"context"
	"database/sql"

	"freezer.dev/freezer/freezer_api/apiv2"
	"freezer.dev/freezer/freezer_api/jobcache"
	"freezer.dev/freezer/freezer_api/store"
)

// Store is what the handlers need of the database: a store.Store wrapped
// by jobcache.Store implements it. Errors a client caused are
// *store.Error (writeError maps their Kind to a status); store.Unavailable
// tells a database that cannot be reached (503). A write is committed, or
// has changed nothing, when its method returns.
type Store interface {
	Ping(ctx context.Context) error
	Stats() sql.DBStats
	JobCacheStats() jobcache.Stats

	// ListJobViews and GetJobView answer job reads rendered: never older
	// than the last write committed before the call. CentralElsewhere is
	// asked only for jobs that show a process id.
	ListJobViews(ctx context.Context, projectID string, f store.Filter, p store.Page) ([]apiv2.JobView, error)
	GetJobView(ctx context.Context, sc store.Scope, id string) (apiv2.JobView, error)
	CentralElsewhere(ctx context.Context, projectID string, clientIDs []string) (map[string]bool, error)
	CreateJob(ctx context.Context, sc store.Scope, j apiv2.Job) (string, error)
	ReplaceJob(ctx context.Context, sc store.Scope, id string, j apiv2.Job) (int, error)
	PatchJob(ctx context.Context, sc store.Scope, id string, p apiv2.JobPatch) (int, error)
	JobEvent(ctx context.Context, sc store.Scope, id, event string) (string, error)
	DeleteJob(ctx context.Context, sc store.Scope, id string) (string, error)

	ListActions(ctx context.Context, sc store.Scope, f store.Filter, p store.Page) ([]apiv2.Action, error)
	GetAction(ctx context.Context, sc store.Scope, id string) (apiv2.Action, error)
	CreateAction(ctx context.Context, sc store.Scope, a apiv2.Action) (string, error)
	ReplaceAction(ctx context.Context, sc store.Scope, id string, a apiv2.Action) (int, error)
	PatchAction(ctx context.Context, sc store.Scope, id string, p apiv2.ActionPatch) (int, error)
	DeleteAction(ctx context.Context, sc store.Scope, id string) error

	ListSessions(ctx context.Context, sc store.Scope, f store.Filter, p store.Page) ([]apiv2.Session, error)
	GetSession(ctx context.Context, sc store.Scope, id string) (apiv2.Session, error)
	CreateSession(ctx context.Context, sc store.Scope, p apiv2.SessionPatch) (string, error)
	ReplaceSession(ctx context.Context, sc store.Scope, id string, p apiv2.SessionPatch) (int, error)
	PatchSession(ctx context.Context, sc store.Scope, id string, p apiv2.SessionPatch) (int, error)
	DeleteSession(ctx context.Context, sc store.Scope, id string) error
	AddJobToSession(ctx context.Context, sc store.Scope, sessionID, jobID string) error
	RemoveJobFromSession(ctx context.Context, sc store.Scope, sessionID, jobID string) error
	SessionStart(ctx context.Context, sc store.Scope, sessionID, jobID string, tag int) (string, int, error)
	SessionEnd(ctx context.Context, sc store.Scope, sessionID, jobID, jobResult string) (string, int, error)

	ListClients(ctx context.Context, sc store.Scope, f store.Filter, p store.Page) ([]apiv2.Client, error)
	GetClient(ctx context.Context, sc store.Scope, clientID string) (apiv2.Client, error)
	RegisterClient(ctx context.Context, sc store.Scope, info apiv2.ClientInfo) (string, error)
	DeleteClient(ctx context.Context, sc store.Scope, clientID string) error

	ListBackups(ctx context.Context, sc store.Scope, f store.Filter, p store.Page) ([]apiv2.Backup, error)
	GetBackup(ctx context.Context, sc store.Scope, id string) (apiv2.Backup, error)
	CreateBackup(ctx context.Context, sc store.Scope, status string, m apiv2.BackupMetadata) (string, error)
	PatchBackup(ctx context.Context, sc store.Scope, id string, p apiv2.BackupPatch) (apiv2.Backup, error)
	DeleteBackup(ctx context.Context, sc store.Scope, id string) error
}

var _ Store = (*jobcache.Store)(nil)
