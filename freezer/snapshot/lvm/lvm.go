// Package lvm snapshots an LVM logical volume as upstream's agent does: the
// volume group and volume holding the path are found in the mount table
// (or given), `lvcreate --snapshot` makes the snapshot, it is mounted
// (xfs with nouuid,norecovery) and the backup reads the path below the
// mount; afterwards it is unmounted and removed with lvremove, retried
// while the device is still busy.
//
// This kernel has no device-mapper, so the package is tested against a
// recorded fake of the lvm2 and mount commands (tests named ...Fake...),
// never against real LVM.
package lvm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"freezer.dev/freezer/freezer/snapshot"
)

// Options are upstream's --lvm-* options.
type Options struct {
	SrcVol   string // --lvm-srcvol; "" = from the mount table
	VolGroup string // --lvm-volgroup; "" = from the device name
	SnapName string // --lvm-snapname; "" = freezer_backup_snap_<hex32>
	Perm     string // --lvm-snap-perm: "ro" (default) or "rw"
	SnapSize string // --lvm-snapsize: "1G" (default); with a %, lvcreate --extents
	DirMount string // --lvm-dirmount; "" = /var/lib/freezer/mount_<hex32>

	Runner     snapshot.Runner                      // nil = snapshot.ExecRunner
	ReadMounts func() ([]byte, error)               // nil = read /proc/mounts
	Sleep      func(context.Context, time.Duration) // nil = wait on a timer
	// RemoveAttempts bounds lvremove while the device is busy; 0 = 5.
	RemoveAttempts int
	RetryWait      time.Duration // 0 = 3s
}

// Provider implements snapshot.Provider for LVM.
type Provider struct{ o Options }

// New returns an LVM provider.
func New(o Options) *Provider {
	if o.Runner == nil {
		o.Runner = snapshot.ExecRunner{}
	}
	if o.ReadMounts == nil {
		o.ReadMounts = func() ([]byte, error) { return os.ReadFile("/proc/mounts") }
	}
	if o.Sleep == nil {
		o.Sleep = func(ctx context.Context, d time.Duration) {
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		}
	}
	if o.Perm == "" {
		o.Perm = "ro"
	}
	if o.SnapSize == "" {
		o.SnapSize = "1G"
	}
	if o.RemoveAttempts <= 0 {
		o.RemoveAttempts = 5
	}
	if o.RetryWait <= 0 {
		o.RetryWait = 3 * time.Second
	}
	return &Provider{o: o}
}

// Kind implements snapshot.Provider.
func (*Provider) Kind() string { return "lvm" }

// SplitMapperName splits a device-mapper name "vg-lv" (a "-" inside either
// name is written "--") into its volume group and logical volume.
func SplitMapperName(s string) (vg, lv string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != '-' {
			continue
		}
		if i+1 < len(s) && s[i+1] == '-' {
			i++
			continue
		}
		vg, lv = s[:i], s[i+1:]
		if vg == "" || lv == "" {
			return "", "", false
		}
		return strings.ReplaceAll(vg, "--", "-"), strings.ReplaceAll(lv, "--", "-"), true
	}
	return "", "", false
}

// volume returns the volume group and logical volume of a device path,
// /dev/mapper/<vg>-<lv> or /dev/<vg>/<lv>.
func volume(dev string) (vg, lv string, ok bool) {
	if name, found := strings.CutPrefix(dev, "/dev/mapper/"); found {
		return SplitMapperName(name)
	}
	parts := strings.Split(strings.TrimPrefix(dev, "/dev/"), "/")
	if strings.HasPrefix(dev, "/dev/") && len(parts) == 2 && parts[0] != "" && parts[1] != "" {
		return parts[0], parts[1], true
	}
	return "", "", false
}

// Plan implements snapshot.Provider.
func (p *Provider) Plan(ctx context.Context, path string) (snapshot.Record, error) {
	o := p.o
	if o.Perm != "ro" && o.Perm != "rw" {
		return snapshot.Record{}, fmt.Errorf("--lvm-snap-perm %q: want ro or rw", o.Perm)
	}
	b, err := o.ReadMounts()
	if err != nil {
		return snapshot.Record{}, fmt.Errorf("reading the mount table: %w", err)
	}
	m, ok := snapshot.FindMount(snapshot.ParseMounts(b), path)
	if !ok {
		return snapshot.Record{}, fmt.Errorf("no mount holds %s: %w", path, snapshot.ErrNotApplicable)
	}
	src := o.SrcVol
	if src == "" {
		src = m.Device
	}
	vg, lv, ok := volume(src)
	if !ok {
		return snapshot.Record{}, fmt.Errorf("%s is mounted from %s (%s), not an LVM logical volume; give --lvm-srcvol and --lvm-volgroup if it is one: %w", m.Dir, src, m.FSType, snapshot.ErrNotApplicable)
	}
	if o.VolGroup != "" {
		vg = o.VolGroup
	}
	origin := src
	if o.SrcVol == "" {
		origin = "/dev/" + vg + "/" + lv
	}
	name := o.SnapName
	if name == "" {
		name = snapshot.NewName()
	}
	dir := o.DirMount
	if dir == "" {
		var r [16]byte
		rand.Read(r[:])
		dir = "/var/lib/freezer/mount_" + hex.EncodeToString(r[:])
	}
	rel, err := filepath.Rel(m.Dir, path)
	if err != nil {
		return snapshot.Record{}, err
	}
	return snapshot.Record{
		Name:         name,
		Source:       path,
		Origin:       origin,
		Device:       "/dev/" + vg + "/" + name,
		SnapshotPath: dir,
		BackupPath:   filepath.Join(dir, rel),
		FSType:       m.FSType,
		Size:         o.SnapSize,
		Permission:   o.Perm,
	}, nil
}

// Create implements snapshot.Provider: lvcreate, mkdir, mount.
func (p *Provider) Create(ctx context.Context, rec snapshot.Record) error {
	sizeFlag := "--size"
	if strings.Contains(rec.Size, "%") {
		sizeFlag = "--extents"
	}
	perm := "r"
	if rec.Permission == "rw" {
		perm = "rw"
	}
	if _, err := p.o.Runner.Run(ctx, "lvcreate", sizeFlag, rec.Size, "--snapshot", "--permission", perm, "--name", rec.Name, rec.Origin); err != nil {
		return err
	}
	if err := os.MkdirAll(rec.SnapshotPath, 0o700); err != nil {
		return fmt.Errorf("creating the mount directory: %w", err)
	}
	opts := rec.Permission
	if rec.FSType == "xfs" {
		// The snapshot has the origin's UUID, and its log may be dirty.
		opts = "nouuid," + opts + ",norecovery"
	}
	_, err := p.o.Runner.Run(ctx, "mount", "-o", opts, rec.Device, rec.SnapshotPath)
	return err
}

// Remove implements snapshot.Provider: umount (when mounted), rmdir, then
// lvremove, retried while the volume is in use.
func (p *Provider) Remove(ctx context.Context, rec snapshot.Record) error {
	b, err := p.o.ReadMounts()
	if err != nil {
		return fmt.Errorf("reading the mount table: %w", err)
	}
	for _, m := range snapshot.ParseMounts(b) {
		if m.Dir == rec.SnapshotPath {
			if _, err := p.o.Runner.Run(ctx, "umount", "-l", "-f", rec.SnapshotPath); err != nil {
				return err
			}
			break
		}
	}
	if err := os.Remove(rec.SnapshotPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the mount directory: %w", err)
	}
	var last error
	for i := 0; i < p.o.RemoveAttempts; i++ {
		if i > 0 {
			p.o.Sleep(ctx, p.o.RetryWait)
		}
		out, err := p.o.Runner.Run(ctx, "lvremove", "-f", rec.Device)
		if err == nil {
			return nil
		}
		s := string(out)
		if strings.Contains(s, "Failed to find") || strings.Contains(s, "not found") {
			return nil // never created, or already removed
		}
		last = err
		if !strings.Contains(s, "in use") && !strings.Contains(s, "open") {
			return err
		}
	}
	return fmt.Errorf("lvremove: %s still in use after %d attempts: %w", rec.Device, p.o.RemoveAttempts, last)
}
