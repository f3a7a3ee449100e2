// Package btrfs snapshots a btrfs subvolume: the subvolume holding the path
// to back up is snapshotted (read-only) into a .freezer-snapshots
// directory at its root, the backup reads the snapshot, and the snapshot is
// deleted afterwards.
package btrfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"freezer.dev/freezer/freezer/snapshot"
)

// superMagic is BTRFS_SUPER_MAGIC, statfs's f_type on btrfs.
const superMagic = 0x9123683E

// rootIno is the inode number of every subvolume's root directory
// (BTRFS_FIRST_FREE_OBJECTID).
const rootIno = 256

// SnapDir is the directory, at the root of the snapshotted subvolume, that
// holds its snapshots while they live.
const SnapDir = ".freezer-snapshots"

// Options configure the provider.
type Options struct {
	// Name is the snapshot's name; "" = snapshot.NewName().
	Name   string
	Runner snapshot.Runner // nil = snapshot.ExecRunner
}

// Provider implements snapshot.Provider for btrfs.
type Provider struct{ o Options }

// New returns a btrfs provider.
func New(o Options) *Provider {
	if o.Runner == nil {
		o.Runner = snapshot.ExecRunner{}
	}
	return &Provider{o: o}
}

// Kind implements snapshot.Provider.
func (*Provider) Kind() string { return "btrfs" }

// Plan implements snapshot.Provider: path must be on btrfs; its subvolume
// is the nearest directory at or above it whose inode is a subvolume root.
func (p *Provider) Plan(ctx context.Context, path string) (snapshot.Record, error) {
	magic, err := fsMagic(path)
	if err != nil {
		return snapshot.Record{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	if magic != superMagic {
		return snapshot.Record{}, fmt.Errorf("%s is not on a btrfs file system: %w", path, snapshot.ErrNotApplicable)
	}
	dir := path
	if fi, err := os.Stat(path); err != nil {
		return snapshot.Record{}, err
	} else if !fi.IsDir() {
		dir = filepath.Dir(path)
	}
	sub := ""
	for d := dir; ; d = filepath.Dir(d) {
		ino, err := inode(d, true)
		if err != nil {
			return snapshot.Record{}, fmt.Errorf("stat %s: %w", d, err)
		}
		if ino == rootIno {
			sub = d
			break
		}
		if d == "/" {
			break
		}
	}
	if sub == "" {
		return snapshot.Record{}, fmt.Errorf("no btrfs subvolume root above %s: %w", path, snapshot.ErrNotApplicable)
	}
	rel, err := filepath.Rel(sub, path)
	if err != nil {
		return snapshot.Record{}, err
	}
	name := p.o.Name
	if name == "" {
		name = snapshot.NewName()
	}
	snap := filepath.Join(sub, SnapDir, name)
	return snapshot.Record{
		Name:         name,
		Source:       path,
		Origin:       sub,
		SnapshotPath: snap,
		BackupPath:   filepath.Join(snap, rel),
		FSType:       "btrfs",
	}, nil
}

// Create implements snapshot.Provider. The snapshot is taken writable,
// the snapshot directory's own (empty) copy is removed from it so a backup
// of the whole subvolume does not show it, and then it is made read-only.
func (p *Provider) Create(ctx context.Context, rec snapshot.Record) error {
	if err := os.MkdirAll(filepath.Dir(rec.SnapshotPath), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(rec.SnapshotPath), err)
	}
	if _, err := p.o.Runner.Run(ctx, "btrfs", "subvolume", "snapshot", rec.Origin, rec.SnapshotPath); err != nil {
		return err
	}
	if err := removeEmptyTree(filepath.Join(rec.SnapshotPath, SnapDir)); err != nil {
		return err
	}
	_, err := p.o.Runner.Run(ctx, "btrfs", "property", "set", "-ts", rec.SnapshotPath, "ro", "true")
	return err
}

// removeEmptyTree removes dir, whose entries are the empty directories
// that stand for nested subvolumes inside a snapshot; anything else is left
// and reported.
func removeEmptyTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("clearing %s inside the snapshot: %w", SnapDir, err)
		}
	}
	return os.Remove(dir)
}

// Remove implements snapshot.Provider. It deletes only a subvolume at
// rec.SnapshotPath whose name is rec.Name, inside a SnapDir.
func (p *Provider) Remove(ctx context.Context, rec snapshot.Record) error {
	if filepath.Base(rec.SnapshotPath) != rec.Name || filepath.Base(filepath.Dir(rec.SnapshotPath)) != SnapDir {
		return fmt.Errorf("refusing to delete %s: not a freezer snapshot path", rec.SnapshotPath)
	}
	ino, err := inode(rec.SnapshotPath, false)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case ino != rootIno:
		// Create failed between mkdir and the snapshot, or a stray
		// directory: not a subvolume, so nothing of ours.
		if err := os.Remove(rec.SnapshotPath); err != nil {
			return fmt.Errorf("%s is not a subvolume: %w", rec.SnapshotPath, err)
		}
	default:
		if out, err := p.o.Runner.Run(ctx, "btrfs", "subvolume", "delete", rec.SnapshotPath); err != nil {
			if !strings.Contains(string(out), "No such file") {
				return err
			}
		}
	}
	os.Remove(filepath.Dir(rec.SnapshotPath)) // only when empty: other runs may have theirs there
	return nil
}
