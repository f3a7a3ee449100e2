package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// ContentEntry is one path of a backup's merged contents, as --action list
// reports it.
type ContentEntry struct {
	Path     string    `json:"path"`
	Type     string    `json:"type"` // file, dir, symlink, hardlink, char, block, fifo
	Size     int64     `json:"size"`
	Mode     string    `json:"mode"` // octal permission bits, e.g. "0644"
	Owner    string    `json:"owner"`
	Group    string    `json:"group"`
	MTime    time.Time `json:"mtime"`
	Linkname string    `json:"linkname,omitempty"`
	Level    int       `json:"level"` // the level this version comes from
}

var entryTypes = map[byte]string{'-': "file", 'd': "dir", 'l': "symlink", 'h': "hardlink", 'c': "char", 'b': "block", 'p': "fifo"}

// contents is the merged view of a chain as its levels are read.
type contents struct {
	entries  map[string]ContentEntry
	children map[string]map[string]bool
}

func (c *contents) add(e backup.Entry, level int) {
	if e.Path != "" {
		owner, group := e.Uname, e.Gname
		if owner == "" {
			owner = fmt.Sprint(e.Uid)
		}
		if group == "" {
			group = fmt.Sprint(e.Gid)
		}
		if old, ok := c.entries[e.Path]; ok && old.Type == "dir" && e.Type != 'd' {
			c.remove(e.Path) // a directory replaced by a file takes its subtree
		}
		c.entries[e.Path] = ContentEntry{Path: e.Path, Type: entryTypes[e.Type], Size: e.Size, Mode: fmt.Sprintf("%04o", e.Mode&0o7777),
			Owner: owner, Group: group, MTime: e.ModTime.UTC(), Linkname: e.Linkname, Level: level}
		parent, base := splitPath(e.Path)
		if c.children[parent] == nil {
			c.children[parent] = map[string]bool{}
		}
		c.children[parent][base] = true
	}
	if e.Listing != nil {
		// What the directory no longer lists is deleted, as a restore's
		// purge deletes it.
		keep := make(map[string]bool, len(e.Listing))
		for _, n := range e.Listing {
			keep[n] = true
		}
		for n := range c.children[e.Path] {
			if !keep[n] {
				c.remove(join(e.Path, n))
			}
		}
	}
}

func (c *contents) remove(p string) {
	for n := range c.children[p] {
		c.remove(join(p, n))
	}
	delete(c.children, p)
	delete(c.entries, p)
	parent, base := splitPath(p)
	delete(c.children[parent], base)
}

func splitPath(p string) (string, string) {
	dir, base := path.Split(p)
	if dir != "" {
		dir = dir[:len(dir)-1]
	}
	return dir, base
}

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

// list reports the contents of the backup a restore at
// o.RestoreFromDate would give: every level of its chain read (and
// checked, as a restore checks it) in order, later levels replacing and
// deleting what earlier ones hold. o.ListGlob filters the paths.
func (a *Agent) list(ctx context.Context, o Options) (*Result, error) {
	if a.Storage == nil || a.Engine == nil || a.Codecs == nil {
		return nil, errors.New("list: agent is missing a storage, engine or codecs")
	}
	if o.ListGlob != "" {
		if _, err := path.Match(o.ListGlob, ""); err != nil {
			return nil, usagef("--list-glob %q: %v", o.ListGlob, err)
		}
	}
	levels, err := a.planLevels(ctx, o)
	if err != nil {
		return nil, err
	}
	c := &contents{entries: map[string]ContentEntry{}, children: map[string]map[string]bool{}}
	for _, l := range levels {
		level := l.ref.Level
		visit := func(e backup.Entry) error { c.add(e, level); return nil }
		if _, _, err := a.restoreLevelVisit(ctx, l, visit); err != nil {
			return nil, fmt.Errorf("listing %s: %w", l.ref, err)
		}
	}
	res := &Result{Contents: []ContentEntry{}}
	for p, e := range c.entries {
		if o.ListGlob != "" {
			if ok, _ := path.Match(o.ListGlob, p); !ok {
				continue
			}
		}
		res.Contents = append(res.Contents, e)
	}
	sort.Slice(res.Contents, func(i, j int) bool { return res.Contents[i].Path < res.Contents[j].Path })
	return res, nil
}

// restoreLevelVisit reads one level in dry-run mode, handing its members
// to visit.
func (a *Agent) restoreLevelVisit(ctx context.Context, l chainLevel, visit func(backup.Entry) error) (backup.Stats, int64, error) {
	return a.restoreLevelReq(ctx, l, "", true, io.Discard, visit, nil, nil)
}
