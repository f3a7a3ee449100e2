package agent

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strconv"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// admin applies retention to --backup-name: backups older than the cutoff
// go unless a newer backup needs them (backup.Retention). Metadata is
// deleted before data, so an interrupted admin run leaves unreferenced data
// (collected by a later run), never a listed backup without its payload.
func (a *Agent) admin(ctx context.Context, o Options) (*Result, error) {
	if a.Storage == nil {
		return nil, errors.New("admin: agent has no storage")
	}
	now := a.now()
	cutoff := o.RemoveFromDate
	if o.HaveRemoveOlder {
		cutoff = now.Add(-time.Duration(o.RemoveOlderThan * 24 * float64(time.Hour)))
	}
	engine := o.Engine
	if a.Engine != nil {
		engine = a.Engine.Name()
	}
	name := o.HostBackupName()
	existing, err := a.listRefs(ctx, engine, name)
	if err != nil {
		return nil, err
	}
	plan := backup.Retention(existing, cutoff)
	log := a.log().WithFields(map[string]any{"backup_name": name, "cutoff": cutoff.UTC().Format(time.RFC3339)})
	res := &Result{Removed: []BackupInfo{}}
	for _, r := range plan.Remove {
		res.Removed = append(res.Removed, a.describe(ctx, r))
	}
	if o.DryRun {
		log.WithField("count", len(plan.Remove)).Info("dry run: would remove backups")
		return res, nil
	}
	whole := map[int64]bool{}
	for _, l0 := range plan.WholeChains {
		whole[l0] = true
	}
	for _, r := range plan.Remove {
		if whole[r.L0] {
			continue
		}
		if err := a.Storage.Delete(ctx, r.MetadataDir()); err != nil {
			return res, fmt.Errorf("removing backup %s: %w", r, err)
		}
		if err := a.Storage.Delete(ctx, r.DataDir()); err != nil {
			return res, fmt.Errorf("removing the data of backup %s: %w", r, err)
		}
		log.WithField("backup", r.String()).Info("removed backup")
	}
	for _, l0 := range plan.WholeChains {
		if err := a.Storage.Delete(ctx, backup.ChainDir(engine, name, l0)); err != nil {
			return res, fmt.Errorf("removing chain %s/%d: %w", name, l0, err)
		}
		if err := a.Storage.Delete(ctx, path.Join("data", engine, name, strconv.FormatInt(l0, 10))); err != nil {
			return res, fmt.Errorf("removing the data of chain %s/%d: %w", name, l0, err)
		}
		log.WithField("chain", l0).Info("removed chain")
	}
	// What backups that never completed left: kept for the grace period,
	// as such a backup may still be running, or be resumed by the next
	// run of its job.
	grace := now.Add(-time.Duration(o.AbandonedUploadGrace * 24 * float64(time.Hour)))
	if err := a.collectOrphans(ctx, engine, name, existing, grace); err != nil {
		return res, err
	}
	n, err := backup.AbortStaleUnder(ctx, a.Storage, path.Join("data", engine, name), grace)
	if n > 0 {
		log.WithField("count", n).Info("aborted incomplete uploads of backups that never completed")
	}
	if err != nil {
		return res, fmt.Errorf("aborting incomplete uploads of %s: %w", name, err)
	}
	return res, nil
}

// collectOrphans deletes payload directories that have no metadata (runs
// that never committed, whatever they stored: a payload, Swift's
// segments) when they started before grace. Upstream never collects them.
func (a *Agent) collectOrphans(ctx context.Context, engine, name string, committed []backup.Ref, grace time.Time) error {
	limit := grace.Unix()
	known := map[string]bool{}
	for _, r := range committed {
		known[r.DataDir()] = true
	}
	root := path.Join("data", engine, name)
	l0s, err := a.Storage.List(ctx, root)
	if err != nil {
		return fmt.Errorf("listing data of %s: %w", name, err)
	}
	for _, s := range l0s {
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			continue
		}
		dirs, err := a.Storage.List(ctx, path.Join(root, s))
		if err != nil {
			return fmt.Errorf("listing data of %s/%s: %w", name, s, err)
		}
		for _, d := range dirs {
			_, ts, err := backup.ParseLevelDir(d)
			if err != nil || ts > limit {
				continue
			}
			dd := path.Join(root, s, d)
			if known[dd] {
				continue
			}
			// Check again right before deleting: a commit may have landed.
			md, err := a.Storage.List(ctx, path.Join("metadata", engine, name, s, d))
			if err != nil {
				return fmt.Errorf("checking %s: %w", dd, err)
			}
			if len(md) > 0 {
				continue
			}
			if err := a.Storage.Delete(ctx, dd); err != nil {
				return fmt.Errorf("removing orphan data %s: %w", dd, err)
			}
			a.log().WithField("path", dd).Info("removed data of a backup that was never committed")
		}
		// A chain directory left empty goes too.
		if rest, err := a.Storage.List(ctx, path.Join(root, s)); err == nil && len(rest) == 0 {
			a.Storage.Delete(ctx, path.Join(root, s))
		}
	}
	return nil
}
