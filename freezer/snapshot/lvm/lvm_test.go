package lvm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"freezer.dev/freezer/freezer/snapshot"
)

// fakeLVM records the lvm2 and mount commands and plays a mount table:
// there is no device-mapper in this kernel, so nothing here runs LVM.
type fakeLVM struct {
	calls  []string
	mounts []string
	// fail makes the call whose text starts with the key fail with the
	// value as its output, as many times as listed.
	fail map[string][]string
}

func (f *fakeLVM) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	c := strings.Join(append([]string{name}, args...), " ")
	f.calls = append(f.calls, c)
	for k, outs := range f.fail {
		if strings.HasPrefix(c, k) && len(outs) > 0 {
			f.fail[k] = outs[1:]
			return []byte(outs[0]), errors.New("exit status 5")
		}
	}
	switch name {
	case "mount":
		f.mounts = append(f.mounts, args[len(args)-2]+" "+args[len(args)-1]+" ext4 ro 0 0")
	case "umount":
		dir := args[len(args)-1]
		for i, m := range f.mounts {
			if strings.Fields(m)[1] == dir {
				f.mounts = append(f.mounts[:i], f.mounts[i+1:]...)
				break
			}
		}
	}
	return nil, nil
}

func (f *fakeLVM) readMounts() ([]byte, error) { return []byte(strings.Join(f.mounts, "\n")), nil }

func newFake(fstype string) *fakeLVM {
	return &fakeLVM{mounts: []string{
		"/dev/sda1 / ext4 rw 0 0",
		"/dev/mapper/my--vg-data--lv /var/lib/mysql " + fstype + " rw,relatime 0 0",
	}, fail: map[string][]string{}}
}

func setup(t *testing.T, f *fakeLVM, o Options) (*snapshot.Manager, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	o.Runner, o.ReadMounts = f, f.readMounts
	o.SnapName, o.DirMount = "snap1", dir
	o.Sleep = func(context.Context, time.Duration) {}
	return &snapshot.Manager{Journal: filepath.Join(t.TempDir(), "journal"), Providers: []snapshot.Provider{New(o)}}, dir
}

func journalEmpty(t *testing.T, m *snapshot.Manager) {
	t.Helper()
	ents, _ := os.ReadDir(m.Journal)
	if len(ents) != 0 {
		t.Errorf("journal still holds %d entries", len(ents))
	}
}

func TestSplitMapperName(t *testing.T) {
	for in, want := range map[string][2]string{
		"vg-lv":           {"vg", "lv"},
		"my--vg-data--lv": {"my-vg", "data-lv"},
		"vg0-root":        {"vg0", "root"},
		"a--b--c-d":       {"a-b-c", "d"},
		"vg-lv-with-dash": {"vg", "lv-with-dash"},
	} {
		vg, lv, ok := SplitMapperName(in)
		if !ok || vg != want[0] || lv != want[1] {
			t.Errorf("SplitMapperName(%q) = %q %q %v, want %v", in, vg, lv, ok, want)
		}
	}
	for _, in := range []string{"novg", "-lv", "vg-"} {
		if _, _, ok := SplitMapperName(in); ok {
			t.Errorf("SplitMapperName(%q) ok", in)
		}
	}
}

func TestFakeLVMSnapshotCommands(t *testing.T) {
	for _, tc := range []struct {
		name, fstype string
		o            Options
		want         []string
	}{
		{"ext4 defaults", "ext4", Options{}, []string{
			"lvcreate --size 1G --snapshot --permission r --name snap1 /dev/my-vg/data-lv",
			"mount -o ro /dev/my-vg/snap1 MNT",
			"umount -l -f MNT",
			"lvremove -f /dev/my-vg/snap1",
		}},
		{"xfs extents rw", "xfs", Options{SnapSize: "80%FREE", Perm: "rw"}, []string{
			"lvcreate --extents 80%FREE --snapshot --permission rw --name snap1 /dev/my-vg/data-lv",
			"mount -o nouuid,rw,norecovery /dev/my-vg/snap1 MNT",
			"umount -l -f MNT",
			"lvremove -f /dev/my-vg/snap1",
		}},
		{"given volume", "ext4", Options{SrcVol: "/dev/vg9/lv9", VolGroup: "vg9"}, []string{
			"lvcreate --size 1G --snapshot --permission r --name snap1 /dev/vg9/lv9",
			"mount -o ro /dev/vg9/snap1 MNT",
			"umount -l -f MNT",
			"lvremove -f /dev/vg9/snap1",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(tc.fstype)
			m, dir := setup(t, f, tc.o)
			s, err := m.Take(context.Background(), "lvm", "/var/lib/mysql/db1")
			if err != nil {
				t.Fatal(err)
			}
			if s.Path() != filepath.Join(dir, "db1") {
				t.Errorf("Path = %s, want %s/db1", s.Path(), dir)
			}
			if err := s.Remove(context.Background()); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.ReplaceAll(w, "MNT", dir))
			}
			if !reflect.DeepEqual(f.calls, want) {
				t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("mount directory left: %v", err)
			}
			journalEmpty(t, m)
		})
	}
}

func TestFakeLVMNotApplicable(t *testing.T) {
	f := newFake("ext4")
	m, _ := setup(t, f, Options{})
	_, err := m.Take(context.Background(), "lvm", "/home/x")
	if !errors.Is(err, snapshot.ErrNotApplicable) || !strings.Contains(err.Error(), "/dev/sda1") {
		t.Fatalf("err = %v, want ErrNotApplicable naming /dev/sda1", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("ran %v", f.calls)
	}
	journalEmpty(t, m)
}

// Every failure while creating leaves nothing behind: what was made is
// removed, in reverse order, and the journal entry with it.
func TestFakeLVMCleanupOnCreateFailure(t *testing.T) {
	for _, tc := range []struct {
		failing string
		want    []string
	}{
		{"lvcreate", []string{
			"lvcreate --size 1G --snapshot --permission r --name snap1 /dev/my-vg/data-lv",
			"lvremove -f /dev/my-vg/snap1",
		}},
		{"mount", []string{
			"lvcreate --size 1G --snapshot --permission r --name snap1 /dev/my-vg/data-lv",
			"mount -o ro /dev/my-vg/snap1 MNT",
			"lvremove -f /dev/my-vg/snap1",
		}},
	} {
		t.Run(tc.failing, func(t *testing.T) {
			f := newFake("ext4")
			f.fail[tc.failing] = []string{"  something failed"}
			if tc.failing == "lvcreate" {
				f.fail["lvremove"] = []string{`  Failed to find logical volume "my-vg/snap1"`}
			}
			m, dir := setup(t, f, Options{})
			if _, err := m.Take(context.Background(), "lvm", "/var/lib/mysql"); err == nil {
				t.Fatal("Take succeeded")
			}
			var want []string
			for _, w := range tc.want {
				want = append(want, strings.ReplaceAll(w, "MNT", dir))
			}
			if !reflect.DeepEqual(f.calls, want) {
				t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(f.calls, "\n"), strings.Join(want, "\n"))
			}
			journalEmpty(t, m)
		})
	}
}

func TestFakeLVMRemoveRetriesWhileBusy(t *testing.T) {
	f := newFake("ext4")
	busy := `  Logical volume my-vg/snap1 contains a filesystem in use.`
	f.fail["lvremove"] = []string{busy, busy}
	m, dir := setup(t, f, Options{})
	s, err := m.Take(context.Background(), "lvm", "/var/lib/mysql")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, "lvremove") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("lvremove ran %d times, want 3: %v", n, f.calls)
	}
	_ = dir
	journalEmpty(t, m)

	// Busy for good: the error says so and the journal keeps the entry,
	// so the next run tries again.
	f = newFake("ext4")
	f.fail["lvremove"] = []string{busy, busy, busy, busy, busy}
	m, _ = setup(t, f, Options{})
	s, err = m.Take(context.Background(), "lvm", "/var/lib/mysql")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(context.Background()); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Remove = %v, want still in use", err)
	}
	if ents, _ := os.ReadDir(m.Journal); len(ents) != 1 {
		t.Errorf("journal has %d entries, want 1", len(ents))
	}
}

// A run killed while it held a snapshot leaves a journal entry; the next
// run's Recover unmounts and removes the snapshot.
func TestFakeLVMRecoverAfterCrash(t *testing.T) {
	f := newFake("ext4")
	m, dir := setup(t, f, Options{})
	rec, err := m.Providers[0].Plan(context.Background(), "/var/lib/mysql")
	if err != nil {
		t.Fatal(err)
	}
	rec.Kind = "lvm"
	if err := m.Providers[0].Create(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	// What a crashed run leaves: the entry, no lock holder.
	os.MkdirAll(m.Journal, 0o700)
	writeEntry(t, m.Journal, rec)
	f.calls = nil
	got, err := m.Recover(context.Background())
	if err != nil || len(got) != 1 {
		t.Fatalf("Recover = %v, %v", got, err)
	}
	want := []string{"umount -l -f " + dir, "lvremove -f /dev/my-vg/snap1"}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("commands %v, want %v", f.calls, want)
	}
	journalEmpty(t, m)
}

// When the cleanup itself fails (umount refuses), the journal keeps the
// entry and the next run's Recover finishes the job.
func TestFakeLVMFailedCleanupIsRetriedByTheNextRun(t *testing.T) {
	f := newFake("xfs")
	f.fail["umount"] = []string{"umount: target is busy"}
	m, dir := setup(t, f, Options{})
	s, err := m.Take(context.Background(), "lvm", "/var/lib/mysql")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(context.Background()); err == nil {
		t.Fatal("Remove succeeded")
	}
	if ents, _ := os.ReadDir(m.Journal); len(ents) != 1 {
		t.Fatalf("journal has %d entries, want 1", len(ents))
	}
	// The owner is gone (its lock with it); a new run recovers.
	s.Release()
	f.calls = nil
	got, err := m.Recover(context.Background())
	if err != nil || len(got) != 1 {
		t.Fatalf("Recover = %v, %v", got, err)
	}
	want := []string{"umount -l -f " + dir, "lvremove -f /dev/my-vg/snap1"}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("commands %v, want %v", f.calls, want)
	}
	journalEmpty(t, m)
}
