package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// BackupInfo describes one committed backup for info and admin.
type BackupInfo struct {
	HostBackupName   string `json:"hostname_backup_name"`
	Engine           string `json:"engine_name"`
	Level            int    `json:"level"`
	LevelZero        int64  `json:"level_zero_timestamp"`
	TimeStamp        int64  `json:"time_stamp"`
	Time             string `json:"time"`      // UTC, RFC 3339
	Size             int64  `json:"data_size"` // stored bytes; -1 = not recorded (upstream backups)
	Compression      string `json:"compression"`
	Encrypted        bool   `json:"encrypted"`
	EncryptionFormat string `json:"encryption_format,omitempty"`
	Error            string `json:"error,omitempty"` // metadata unreadable
}

func infoOf(r backup.Ref) BackupInfo {
	return BackupInfo{
		HostBackupName: r.Name,
		Engine:         r.Engine,
		Level:          r.Level,
		LevelZero:      r.L0,
		TimeStamp:      r.TS,
		Time:           time.Unix(r.TS, 0).UTC().Format(time.RFC3339),
		Size:           -1,
	}
}

// describe reads a backup's metadata into its BackupInfo; an unreadable
// metadata object is reported in the row, not as a failure of the listing.
func (a *Agent) describe(ctx context.Context, r backup.Ref) BackupInfo {
	bi := infoOf(r)
	md, err := a.readMetadata(ctx, r)
	if err != nil {
		bi.Error = err.Error()
		return bi
	}
	bi.Compression = md.Compression
	bi.Encrypted = md.Encryption
	if md.Encryption {
		bi.EncryptionFormat = md.EncryptionFormat
		if bi.EncryptionFormat == "" {
			bi.EncryptionFormat = "openssl"
		}
	}
	if md.DataSize > 0 {
		bi.Size = md.DataSize
	}
	return bi
}

// info lists the committed backups of --backup-name (on --hostname), or of
// every name of the engine when no backup name is given.
func (a *Agent) info(ctx context.Context, o Options) (*Result, error) {
	if a.Storage == nil {
		return nil, errors.New("info: agent has no storage")
	}
	engine := o.Engine
	if a.Engine != nil {
		engine = a.Engine.Name()
	}
	var names []string
	if o.BackupName != "" {
		names = []string{o.HostBackupName()}
	} else {
		all, err := a.Storage.List(ctx, "metadata/"+engine)
		if err != nil {
			return nil, fmt.Errorf("listing backup names on %s: %w", a.Storage, err)
		}
		names = all
	}
	res := &Result{Backups: []BackupInfo{}}
	for _, n := range names {
		refs, err := a.listRefs(ctx, engine, n)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			res.Backups = append(res.Backups, a.describe(ctx, r))
		}
	}
	return res, nil
}
