package cli

// This file runs the glance mode: it finds the images an action names,
// then runs the agent once per image under <backup name>/<image id>, as
// upstream lays them out, with a project's list object beside them.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/sirupsen/logrus"

	"freezer.dev/freezer/freezer/agent"
	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/engine/glance"
	"freezer.dev/freezer/freezer/openstack"
	"freezer.dev/freezer/freezer/storage"
)

// ProjectListKey is the object, at the storage's root, that lists the
// image ids of a project backup (upstream's name).
func ProjectListKey(projectID string) string { return "project_glance_" + projectID }

// ProjectList is the content of the project's list object, a JSON list
// of image ids spaced as upstream's (Python's json.dumps) writes it.
func ProjectList(ids []string) []byte {
	q := make([]string, len(ids))
	for i, id := range ids {
		b, _ := json.Marshal(id)
		q[i] = string(b)
	}
	return []byte("[" + strings.Join(q, ", ") + "]")
}

// maxProjectList bounds a project's list object: 16 MiB is some 400,000
// image ids.
const maxProjectList = 16 << 20

// glanceTarget is what the glance options select.
type glanceTarget struct {
	id, name, filter, project string
}

func (t glanceTarget) empty() bool {
	return t.id == "" && t.name == "" && t.filter == "" && t.project == ""
}

func runGlance(ctx context.Context, s *settings, a *agent.Agent, o agent.Options, getenv func(string) string, log *logrus.Entry) (*agent.Result, error) {
	t := glanceTarget{id: s.str("glance_image_id"), name: s.str("glance_image_name"), filter: s.str("glance_image_name_filter"), project: s.str("project_id")}
	if o.Action == agent.ActionInfo {
		return glanceInfo(ctx, a, o, t)
	}
	if t.empty() {
		return nil, withUsage(errors.New("--mode glance needs --glance-image-id, --glance-image-name, --glance-image-name-filter or --project-id"))
	}
	specs, err := s.storageSpecs(getenv)
	if err != nil {
		return nil, err
	}
	auth, err := openstack.AuthFrom(storage.Values(specs[0].Options), getenv)
	if err != nil {
		return nil, withUsage(err)
	}
	idle := openstack.DefaultIdleTimeout
	if v := s.int("idle_timeout"); v > 0 {
		idle = time.Duration(v) * time.Second
	}
	tr, err := openstack.IdleTransport(auth, 0, idle)
	if err != nil {
		return nil, withUsage(err)
	}
	client, err := openstack.NewImage(ctx, auth, &http.Client{Transport: tr})
	if err != nil {
		return nil, fmt.Errorf("glance mode: %w", err)
	}
	ids, err := glanceImages(ctx, client, a.Storage, t, o.Action)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, agent.NotFound(fmt.Errorf("glance mode: no image matches"))
	}
	var results []map[string]any
	var done []string
	var errs []error
	for _, id := range ids {
		eng := &glance.Engine{Client: client, ImageID: id, Log: func(msg string, kv ...any) {
			log.WithFields(fields(kv)).Info(msg)
		}}
		a.Engine = eng
		oi := o
		oi.BackupName = path.Join(o.BackupName, id)
		res, err := a.Run(ctx, oi)
		if err != nil {
			errs = append(errs, fmt.Errorf("image %s: %w", id, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		done = append(done, id)
		m := map[string]any{}
		if res != nil && res.Metadata != nil {
			m = res.Metadata
		}
		m["glance_image_id"] = id
		if r := eng.Restored(); r != "" {
			m["restored_image_id"] = r
		}
		results = append(results, m)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if o.Action == agent.ActionBackup && t.project != "" && t.id == "" && !o.DryRun {
		// Written last: it lists only images whose backups exist.
		if err := a.Storage.Put(ctx, ProjectListKey(t.project), bytes.NewReader(ProjectList(done))); err != nil {
			return nil, fmt.Errorf("storing the image list of project %s: %w", t.project, err)
		}
	}
	if len(results) == 1 {
		return &agent.Result{Metadata: results[0]}, nil
	}
	return &agent.Result{Metadata: map[string]any{"action": o.Action, "backup_media": agent.ModeGlance, "images": results}}, nil
}

// glanceInfo lists glance backups, whose names are two levels deep
// (<hostname>_<backup name>/<image id>): the image's, the backup name's,
// or every one.
func glanceInfo(ctx context.Context, a *agent.Agent, o agent.Options, t glanceTarget) (*agent.Result, error) {
	a.Engine = &glance.Engine{}
	var names []string // <hbn>/<image id>
	if o.BackupName != "" && t.id != "" {
		names = []string{o.HostBackupName() + "/" + t.id}
	} else {
		hbns := []string{o.HostBackupName()}
		if o.BackupName == "" {
			var err error
			if hbns, err = a.Storage.List(ctx, "metadata/"+glance.Name); err != nil {
				return nil, err
			}
		}
		for _, hbn := range hbns {
			ids, err := a.Storage.List(ctx, "metadata/"+glance.Name+"/"+hbn)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				names = append(names, hbn+"/"+id)
			}
		}
	}
	res := &agent.Result{Backups: []agent.BackupInfo{}}
	for _, n := range names {
		host, bn, ok := strings.Cut(n, "_")
		if !ok {
			continue // not a name this layout makes
		}
		oi := o
		oi.Hostname, oi.BackupName = host, bn
		r, err := a.Run(ctx, oi)
		if err != nil {
			return nil, err
		}
		res.Backups = append(res.Backups, r.Backups...)
	}
	return res, nil
}

func fields(kv []any) logrus.Fields {
	f := logrus.Fields{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return f
}

// glanceImages lists the ids an action applies to: the image id; the
// images of that name; a project's images (for a restore: the ids its list
// object names); every visible image; less those whose name contains the
// filter.
func glanceImages(ctx context.Context, c *gophercloud.ServiceClient, st backup.Storage, t glanceTarget, action string) ([]string, error) {
	if t.id != "" {
		return []string{t.id}, nil
	}
	if t.project != "" && action != agent.ActionBackup && t.name == "" {
		rc, err := st.Get(ctx, ProjectListKey(t.project))
		if err != nil {
			if errors.Is(err, backup.ErrNotFound) {
				return nil, agent.NotFound(fmt.Errorf("no image list of project %s in %s", t.project, st))
			}
			return nil, err
		}
		defer rc.Close()
		// A list of image ids; the limit keeps a damaged or hostile
		// object from taking the agent's memory.
		b, err := io.ReadAll(io.LimitReader(rc, maxProjectList+1))
		if err != nil {
			return nil, err
		}
		if len(b) > maxProjectList {
			return nil, fmt.Errorf("%s: larger than %d bytes, not an image list", ProjectListKey(t.project), maxProjectList)
		}
		var ids []string
		if err := json.Unmarshal(bytes.TrimSpace(b), &ids); err != nil {
			return nil, fmt.Errorf("%s: %w", ProjectListKey(t.project), err)
		}
		return ids, nil
	}
	opts := images.ListOpts{Name: t.name, Owner: t.project, Limit: 100}
	var ids []string
	err := openstack.Wait{}.Until(ctx, "listing glance images", func(ctx context.Context) (bool, error) {
		ids = nil
		pages, err := images.List(c, opts).AllPages(ctx)
		if err != nil {
			return false, err
		}
		all, err := images.ExtractImages(pages)
		if err != nil {
			return false, err
		}
		for _, im := range all {
			if t.filter != "" && strings.Contains(im.Name, t.filter) {
				continue
			}
			ids = append(ids, im.ID)
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing glance images: %w", err)
	}
	return ids, nil
}
