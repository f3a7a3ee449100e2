package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"freezer.dev/freezer/freezer/backup"
)

// LevelCheck is what verify found for one level of a chain.
type LevelCheck struct {
	Backup string `json:"backup"`
	Level  int    `json:"level"`
	OK     bool   `json:"ok"`
	// Object is the key of the first damaged or missing object.
	Object string `json:"object,omitempty"`
	// Offset is how many stored bytes of Object had been read when the
	// damage was found: the damage is at or before it (a whole-stream
	// checksum only fails at the end; read-ahead runs a few chunks
	// ahead of the decoders). -1 when Object is missing.
	Offset int64 `json:"offset"`
	// Bytes is the payload bytes read (with --verify-read-data).
	Bytes int64  `json:"bytes"`
	Error string `json:"error,omitempty"`
}

// verify reads the chain a restore at o.RestoreFromDate would apply and
// checks it as the restore would (stored size and SHA-256, authentication
// tags, decoders, every archive member's structure) without writing
// anything. Without o.VerifyReadData it only checks that every object is
// there (its size is not known without reading it). Damage is reported per level and makes the error ErrIntegrity;
// a failing storage stops it with an ordinary error.
func (a *Agent) verify(ctx context.Context, o Options) (*Result, error) {
	if a.Storage == nil || a.Engine == nil || a.Codecs == nil {
		return nil, errors.New("verify: agent is missing a storage, engine or codecs")
	}
	levels, err := a.planLevels(ctx, o)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	var damaged []string
	for _, l := range levels {
		c := LevelCheck{Backup: l.ref.String(), Level: l.ref.Level, OK: true}
		var err error
		if o.VerifyReadData {
			_, c.Bytes, err = a.restoreLevel(ctx, l, "", true, io.Discard, nil)
			if err == nil {
				err = a.readWhole(ctx, l.ref.EngineMetadataKey())
				if err != nil {
					c.Object = l.ref.EngineMetadataKey()
				}
			} else {
				c.Object, c.Offset = l.ref.DataKey(), c.Bytes
			}
		} else {
			c.Object, c.Offset, err = a.checkPresent(ctx, l)
		}
		if err != nil {
			if !errors.Is(err, ErrIntegrity) {
				return res, fmt.Errorf("verifying %s: %w", l.ref, err)
			}
			c.OK, c.Error = false, err.Error()
			damaged = append(damaged, fmt.Sprintf("level %d (%s at byte %d)", l.ref.Level, c.Object, c.Offset))
		} else {
			c.Object, c.Offset = "", 0
		}
		a.log().WithFields(map[string]any{"backup": c.Backup, "ok": c.OK, "object": c.Object, "offset": c.Offset}).Info("verified level")
		res.Verified = append(res.Verified, c)
	}
	if len(damaged) > 0 {
		return res, withKind(ErrIntegrity, fmt.Errorf("verify %s: %d of %d levels damaged: %s", o.HostBackupName(), len(damaged), len(levels), strings.Join(damaged, ", ")))
	}
	return res, nil
}

// readWhole reads key to its end; a missing object is an integrity error.
func (a *Agent) readWhole(ctx context.Context, key string) error {
	rc, err := a.Storage.Get(ctx, key)
	if err != nil {
		if errors.Is(err, backup.ErrNotFound) {
			return withKind(ErrIntegrity, fmt.Errorf("%s is missing: %w", key, err))
		}
		return err
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return fmt.Errorf("reading %s: %w", key, err)
	}
	return nil
}

// checkPresent checks that a level's payload and engine state exist,
// reading none of their bytes. When the storage can tell sizes and the
// metadata records the payload's size, the payload's stored size must match
// it: a truncated upload or a damaged copy is caught without a download.
func (a *Agent) checkPresent(ctx context.Context, l chainLevel) (string, int64, error) {
	for _, key := range []string{l.ref.DataKey(), l.ref.EngineMetadataKey()} {
		rc, err := a.Storage.Get(ctx, key)
		if errors.Is(err, backup.ErrNotFound) {
			return key, -1, withKind(ErrIntegrity, fmt.Errorf("%s is missing: %w", key, err))
		}
		if err != nil {
			return key, -1, err
		}
		rc.Close()
	}
	if l.md.DataSize <= 0 {
		return "", 0, nil
	}
	key := l.ref.DataKey()
	n, err := backup.SizeOf(ctx, a.Storage, key)
	switch {
	case errors.Is(err, backup.ErrSizeUnknown):
		return "", 0, nil
	case errors.Is(err, backup.ErrNotFound):
		return key, -1, withKind(ErrIntegrity, fmt.Errorf("%s is missing: %w", key, err))
	case errors.Is(err, backup.ErrSizeMismatch):
		return key, -1, withKind(ErrIntegrity, err)
	case err != nil:
		return key, -1, err
	case n != l.md.DataSize:
		return key, n, withKind(ErrIntegrity, fmt.Errorf("%s is %d bytes, metadata says %d", key, n, l.md.DataSize))
	}
	return "", 0, nil
}
