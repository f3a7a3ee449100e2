//go:build integration

package main

// The glance mode against the test environment's real Glance (Debian's
// glance-api with its file store, started here with up.sh glance): images
// backed up to local storage and to Swift and restored as new images, a
// project's images with a name filter, the objects compared with
// upstream's layout one by one, and failures in the middle of a download
// and of a restore.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/applicationcredentials"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/trusts"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"

	gos "github.com/gophercloud/gophercloud/v2/openstack"

	"freezer.dev/freezer/freezer/openstack"
	"freezer.dev/freezer/internal/testutil/testenv"
)

// glanceImageMB is the size of the big image (FREEZER_GLANCE_IMAGE_MB;
// 1024 for the 1 GiB run).
func glanceImageMB(t *testing.T) int64 {
	if v := os.Getenv("FREEZER_GLANCE_IMAGE_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("FREEZER_GLANCE_IMAGE_MB=%q", v)
		}
		return n
	}
	return 256
}

func startGlance(t *testing.T) {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	up := filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "tools", "testenv", "up.sh")
	if b, err := exec.Command("bash", up, "glance").CombinedOutput(); err != nil {
		t.Fatalf("starting Glance: %v\n%s", err, b)
	}
}

type glanceEnv struct {
	e       *testenv.Env
	auth    openstack.Auth
	osEnv   []string
	img     *gophercloud.ServiceClient
	project string
}

// newGlanceEnv starts Glance and returns the demo user's identity; with
// fresh, scoped to a new project of its own (removed afterwards), so that
// a project backup sees only the test's images.
func newGlanceEnv(t *testing.T, fresh bool) *glanceEnv {
	startGlance(t)
	e := testenv.Load(t)
	ctx := context.Background()
	g := &glanceEnv{e: e, auth: openstack.Auth{
		AuthURL: e.Get(t, "OS_AUTH_URL"), Username: e.Get(t, "DEMO_OS_USERNAME"), Password: e.Get(t, "DEMO_OS_PASSWORD"),
		ProjectName: e.Get(t, "DEMO_OS_PROJECT_NAME"), UserDomainName: "Default", ProjectDomainName: "Default",
		Region: e.Get(t, "OS_REGION_NAME"),
	}}
	if fresh {
		admin, err := openstack.NewProvider(ctx, openstack.Auth{AuthURL: g.auth.AuthURL, Username: e.Get(t, "ADMIN_OS_USERNAME"),
			Password: e.Get(t, "ADMIN_OS_PASSWORD"), ProjectName: e.Get(t, "ADMIN_OS_PROJECT_NAME")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ks, err := gos.NewIdentityV3(admin, gophercloud.EndpointOpts{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := projects.Create(ctx, ks, projects.CreateOpts{Name: fmt.Sprintf("glance-it-%x", time.Now().UnixNano()), DomainID: "default"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { projects.Delete(context.Background(), ks, p.ID) })
		u, err := users.Get(ctx, ks, e.Get(t, "DEMO_OS_USER_ID")).Extract()
		if err != nil {
			t.Fatal(err)
		}
		rp, err := roles.List(ks, roles.ListOpts{Name: "member"}).AllPages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rs, _ := roles.ExtractRoles(rp)
		if len(rs) != 1 {
			t.Fatalf("role member: %v", rs)
		}
		if err := roles.Assign(ctx, ks, rs[0].ID, roles.AssignOpts{UserID: u.ID, ProjectID: p.ID}).ExtractErr(); err != nil {
			t.Fatal(err)
		}
		g.auth.ProjectName, g.auth.ProjectID = "", p.ID
	}
	var err error
	if g.img, err = openstack.NewImage(ctx, g.auth, nil); err != nil {
		t.Fatal(err)
	}
	cr, ok := g.img.ProviderClient.GetAuthResult().(tokens.CreateResult)
	if !ok {
		t.Fatalf("auth result %T", g.img.ProviderClient.GetAuthResult())
	}
	pr, err := cr.ExtractProject()
	if err != nil || pr == nil {
		t.Fatalf("token project: %v", err)
	}
	g.project = pr.ID
	g.osEnv = []string{"OS_AUTH_URL=" + g.auth.AuthURL, "OS_USERNAME=" + g.auth.Username, "OS_PASSWORD=" + g.auth.Password,
		"OS_USER_DOMAIN_NAME=Default", "OS_PROJECT_DOMAIN_NAME=Default", "OS_REGION_NAME=" + g.auth.Region}
	if fresh {
		g.osEnv = append(g.osEnv, "OS_PROJECT_ID="+g.project)
	} else {
		g.osEnv = append(g.osEnv, "OS_PROJECT_NAME="+g.auth.ProjectName)
	}
	return g
}

// randomReader is n bytes of seeded random data, made as it is read.
func randomReader(seed uint64, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1}), n)
}

// createImage uploads an image and removes it (unprotected) at the end.
func (g *glanceEnv) createImage(t *testing.T, name string, size int64, opts images.CreateOpts) *images.Image {
	t.Helper()
	ctx := context.Background()
	opts.Name = name
	if opts.DiskFormat == "" {
		opts.DiskFormat, opts.ContainerFormat = "raw", "bare"
	}
	img, err := images.Create(ctx, g.img, opts).Extract()
	if err != nil {
		t.Fatal(err)
	}
	g.cleanup(t, img.ID)
	if err := imagedata.Upload(ctx, g.img, img.ID, randomReader(uint64(len(name))+uint64(size), size)).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	img, err = images.Get(ctx, g.img, img.ID).Extract()
	if err != nil || img.Status != "active" {
		t.Fatalf("image %v: %v", img, err)
	}
	if opts.Protected != nil && *opts.Protected {
		// Protected only once uploaded, as a restore does.
		if img, err = images.Update(ctx, g.img, img.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: true}}).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

func (g *glanceEnv) cleanup(t *testing.T, id string) {
	t.Cleanup(func() {
		ctx := context.Background()
		images.Update(ctx, g.img, id, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: false}})
		images.Delete(ctx, g.img, id)
	})
}

// imageIDs lists the ids of the images the user sees in its project.
func (g *glanceEnv) imageIDs(t *testing.T) []string {
	t.Helper()
	pages, err := images.List(g.img, images.ListOpts{Owner: g.project}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	all, err := images.ExtractImages(pages)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, im := range all {
		ids = append(ids, im.ID)
	}
	sort.Strings(ids)
	return ids
}

// restoredImage finds the image a restore of src made, and removes it at
// the end.
func (g *glanceEnv) restoredImage(t *testing.T, before []string, src *images.Image) *images.Image {
	t.Helper()
	var found []*images.Image
	for _, id := range g.imageIDs(t) {
		if slices.Contains(before, id) {
			continue
		}
		g.cleanup(t, id)
		im, err := images.Get(context.Background(), g.img, id).Extract()
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, im)
	}
	if len(found) != 1 {
		t.Fatalf("%d new images after the restore, want 1", len(found))
	}
	return found[0]
}

func (g *glanceEnv) agent(t *testing.T, args ...string) string {
	t.Helper()
	return runWithEnv(t, g.osEnv, args...)
}

func (g *glanceEnv) agentFails(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append(args, "--nosync", "--log-file", filepath.Join(t.TempDir(), "log"))...)
	cmd.Env = append([]string{"HOME=" + t.TempDir()}, g.osEnv...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("freezer-agent %v succeeded\n%s", args, out)
	}
	return string(out)
}

// sameImage checks what a restore must keep: bytes (checksum, hash,
// size), formats, visibility, protected flag and the image's properties.
func sameImage(t *testing.T, got, want *images.Image) {
	t.Helper()
	if got.Checksum != want.Checksum || got.Properties["os_hash_value"] != want.Properties["os_hash_value"] || want.Properties["os_hash_value"] == nil || got.SizeBytes != want.SizeBytes {
		t.Errorf("restored bytes: checksum %s size %d, want %s size %d", got.Checksum, got.SizeBytes, want.Checksum, want.SizeBytes)
	}
	if got.DiskFormat != want.DiskFormat || got.ContainerFormat != want.ContainerFormat || got.Visibility != want.Visibility || got.Protected != want.Protected {
		t.Errorf("restored %s/%s %s protected=%v, want %s/%s %s protected=%v", got.DiskFormat, got.ContainerFormat, got.Visibility, got.Protected,
			want.DiskFormat, want.ContainerFormat, want.Visibility, want.Protected)
	}
	if got.Name != "Restore: "+want.Name {
		t.Errorf("restored name %q", got.Name)
	}
	for k, v := range want.Properties {
		if strings.HasPrefix(k, "os_") || k == "stores" {
			continue
		}
		if fmt.Sprint(got.Properties[k]) != fmt.Sprint(v) {
			t.Errorf("property %s = %v, want %v", k, got.Properties[k], v)
		}
	}
}

// pythonJSON is what Python's json.dumps writes for v (upstream's
// serialiser), for a byte-exact comparison.
func pythonJSON(t *testing.T, v any) string {
	t.Helper()
	b, _ := json.Marshal(v)
	out, err := exec.Command("/usr/bin/python3", "-c", "import json,sys,collections; print(json.dumps(json.loads(sys.argv[1], object_pairs_hook=collections.OrderedDict)), end='')", string(b)).Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// upstreamEngineMetadata is upstream's engine_metadata for img, built by
// Python from the keys upstream writes, in its order.
func upstreamEngineMetadata(t *testing.T, img *images.Image) string {
	type kv struct {
		k string
		v any
	}
	pairs := []kv{{"image_name", img.Name}, {"image_id", img.ID}, {"disk_format", img.DiskFormat}, {"container_format", img.ContainerFormat},
		{"visibility", string(img.Visibility)}, {"length", strconv.FormatInt(img.SizeBytes, 10)}, {"protected", img.Protected}}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(p.k)
		vb, _ := json.Marshal(p.v)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return pythonJSON(t, json.RawMessage(b.Bytes()))
}

// checkLayout compares the objects of one image backup with upstream's
// layout object by object: exactly data, engine_metadata and metadata
// under <hbn>/<image id>, engine_metadata byte for byte as upstream
// writes it, and the metadata naming the engine and holding the image.
func checkLayout(t *testing.T, names []string, read func(string) []byte, hbn string, img *images.Image) {
	t.Helper()
	var ts string
	for _, n := range names {
		if strings.HasPrefix(n, "metadata/glance/"+hbn+"/"+img.ID+"/") {
			parts := strings.Split(n, "/")
			ts = parts[len(parts)-3]
		}
	}
	if ts == "" {
		t.Fatalf("no metadata object for %s in %v", img.ID, names)
	}
	lvl := ts + "/0_" + ts
	want := []string{
		"data/glance/" + hbn + "/" + img.ID + "/" + lvl + "/data",
		"data/glance/" + hbn + "/" + img.ID + "/" + lvl + "/engine_metadata",
		"metadata/glance/" + hbn + "/" + img.ID + "/" + lvl + "/metadata",
	}
	var got []string
	for _, n := range names {
		if strings.Contains(n, "/"+img.ID+"/") && !strings.Contains(n, "/segments/") {
			got = append(got, n)
		}
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("objects of %s:\n%s\nwant\n%s", img.ID, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if em, up := string(read(want[1])), upstreamEngineMetadata(t, img); em != up {
		t.Errorf("engine_metadata\n%s\nupstream's\n%s", em, up)
	}
	var md struct {
		EngineName string         `json:"engine_name"`
		Encryption *bool          `json:"encryption"`
		Image      map[string]any `json:"image"`
	}
	raw := read(want[2])
	if err := json.Unmarshal(bytes.SplitN(raw, []byte("\n"), 2)[0], &md); err != nil {
		t.Fatalf("metadata %s: %v", raw, err)
	}
	if md.EngineName != "glance" || md.Encryption == nil || md.Image["id"] != img.ID || md.Image["checksum"] != img.Checksum {
		t.Errorf("metadata %s", raw)
	}
}

func localObjects(t *testing.T, root string) ([]string, func(string) []byte) {
	var names []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			r, _ := filepath.Rel(root, p)
			names = append(names, r)
		}
		return nil
	})
	return names, func(n string) []byte {
		b, err := os.ReadFile(filepath.Join(root, n))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func (g *glanceEnv) swiftObjects(t *testing.T, container, prefix string) ([]string, func(string) []byte) {
	ctx := context.Background()
	pc, err := openstack.NewProvider(ctx, g.auth, nil)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := gos.NewObjectStorageV1(pc, openstack.EndpointOpts(g.auth))
	if err != nil {
		t.Fatal(err)
	}
	pages, err := objects.List(sc, container, objects.ListOpts{Prefix: prefix + "/"}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := objects.ExtractNames(pages)
	var names []string
	for _, n := range all {
		names = append(names, strings.TrimPrefix(n, prefix+"/"))
	}
	return names, func(n string) []byte {
		r := objects.Download(ctx, sc, container, prefix+"/"+n, nil)
		b, err := r.ExtractContent()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// TestGlanceImageBackupRestoreLocalAndSwift: one big random image
// (FREEZER_GLANCE_IMAGE_MB, 256 MiB by default) backed up to local
// storage and to Swift, each restored as a new image that must have the
// original's bytes, formats, visibility, protected flag and properties.
func TestGlanceImageBackupRestoreLocalAndSwift(t *testing.T) {
	g := newGlanceEnv(t, false)
	size := glanceImageMB(t) << 20
	run := fmt.Sprintf("%x", time.Now().UnixNano())
	vis := images.ImageVisibilityShared
	protected := true
	src := g.createImage(t, "glance-it-big-"+run, size, images.CreateOpts{DiskFormat: "qcow2", ContainerFormat: "bare", Visibility: &vis,
		Protected: &protected, Properties: map[string]string{"hw_disk_bus": "scsi", "freezer_test": run}})
	for _, st := range []string{"local", "swift"} {
		t.Run(st, func(t *testing.T) {
			var where []string
			var objs func() ([]string, func(string) []byte)
			switch st {
			case "local":
				dir := filepath.Join(t.TempDir(), "store")
				where = []string{"--storage", "local", "--container", dir}
				objs = func() ([]string, func(string) []byte) { return localObjects(t, dir) }
			case "swift":
				c := "glance-it-" + run
				where = []string{"--storage", "swift", "--container", c + "/pfx", "--max-segment-size", "33554432"}
				objs = func() ([]string, func(string) []byte) { return g.swiftObjects(t, c, "pfx") }
			}
			common := append([]string{"--mode", "glance", "--glance-image-id", src.ID, "--backup-name", "img", "--hostname", "h", "--compression", "zstd"}, where...)
			start := time.Now()
			g.agent(t, append([]string{"--action", "backup"}, common...)...)
			t.Logf("%s: backup of %d MiB took %s", st, size>>20, time.Since(start).Round(time.Millisecond))
			names, read := objs()
			checkLayout(t, names, read, "h_img", src)
			before := g.imageIDs(t)
			start = time.Now()
			g.agent(t, append([]string{"--action", "restore"}, common...)...)
			t.Logf("%s: restore took %s", st, time.Since(start).Round(time.Millisecond))
			sameImage(t, g.restoredImage(t, before, src), src)
		})
	}
}

// TestGlanceProjectBackupWithNameFilter: the five images of a project
// whose names do not contain the filter are backed up, each under
// <hbn>/<id>, the project's list object names exactly them (spaced as
// upstream's), and a restore of the project brings each back.
func TestGlanceProjectBackupWithNameFilter(t *testing.T) {
	g := newGlanceEnv(t, true)
	run := fmt.Sprintf("%x", time.Now().UnixNano())
	var keep []*images.Image
	for i := 0; i < 5; i++ {
		keep = append(keep, g.createImage(t, fmt.Sprintf("keep-%s-%d", run, i), int64(1<<20+i*4099), images.CreateOpts{}))
	}
	for i := 0; i < 2; i++ {
		g.createImage(t, fmt.Sprintf("scratch-%s-%d", run, i), 4096, images.CreateOpts{})
	}
	dir := filepath.Join(t.TempDir(), "store")
	pass := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pass, []byte("glance secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Encrypted: the image bytes themselves (upstream left them in clear).
	common := []string{"--mode", "glance", "--project-id", g.project, "--backup-name", "proj", "--hostname", "h", "--storage", "local", "--container", dir,
		"--encrypt-pass-file", pass}
	g.agent(t, append([]string{"--action", "backup", "--glance-image-name-filter", "scratch-"}, common...)...)
	names, read := localObjects(t, dir)
	var ids []string
	for _, im := range keep {
		ids = append(ids, im.ID)
		checkLayout(t, names, read, "h_proj", im)
	}
	var listed []string
	raw := read("project_glance_" + g.project)
	if err := json.Unmarshal(raw, &listed); err != nil {
		t.Fatalf("list object %s: %v", raw, err)
	}
	sort.Strings(ids)
	if sort.Strings(listed); !slices.Equal(listed, ids) {
		t.Fatalf("list object names %v, want %v", listed, ids)
	}
	var anyIDs []any
	for _, id := range listed {
		anyIDs = append(anyIDs, id)
	}
	if up := pythonJSON(t, anyIDs); len(up) != len(raw) {
		t.Errorf("list object %s, upstream's spacing %s", raw, up)
	}
	if got := len(names); got != 5*3+1 {
		t.Errorf("%d objects, want 16 (3 per image and the list): %v", got, names)
	}
	for _, im := range keep {
		head := make([]byte, 64)
		io.ReadFull(randomReader(uint64(len(im.Name))+uint64(im.SizeBytes), im.SizeBytes), head)
		for _, n := range names {
			if strings.Contains(n, im.ID) && strings.HasSuffix(n, "/data") && bytes.Contains(read(n), head) {
				t.Errorf("%s holds the image in clear", n)
			}
		}
	}
	before := g.imageIDs(t)
	g.agent(t, append([]string{"--action", "restore"}, common...)...)
	after := g.imageIDs(t)
	if len(after) != len(before)+5 {
		t.Fatalf("%d images after the project restore, want %d", len(after), len(before)+5)
	}
	byName := map[string]*images.Image{}
	for _, id := range after {
		if !slices.Contains(before, id) {
			g.cleanup(t, id)
			im, err := images.Get(context.Background(), g.img, id).Extract()
			if err != nil {
				t.Fatal(err)
			}
			byName[im.Name] = im
		}
	}
	for _, im := range keep {
		r := byName["Restore: "+im.Name]
		if r == nil {
			t.Errorf("image %s not restored", im.Name)
			continue
		}
		sameImage(t, r, im)
	}
}

// TestGlanceFailureMidDownload: the image's file in Glance's store is cut
// while the agent downloads it (Glance then ends the response short), so
// the backup fails, and nothing is listed, no data object is visible and
// no image was made. Then a restore whose stored payload is cut fails the
// same way and deletes the image it had created.
func TestGlanceFailureMidDownload(t *testing.T) {
	g := newGlanceEnv(t, false)
	run := fmt.Sprintf("%x", time.Now().UnixNano())
	src := g.createImage(t, "glance-it-cut-"+run, 64<<20, images.CreateOpts{})
	storeFile := filepath.Join(testenv.Root(), "glance", "images", src.ID)
	if _, err := os.Stat(storeFile); err != nil {
		t.Fatalf("the image's file in Glance's store: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "store")
	common := []string{"--mode", "glance", "--glance-image-id", src.ID, "--backup-name", "cut", "--hostname", "h", "--storage", "local", "--container", dir}

	// First a good backup, kept aside for the restore failure below.
	good := filepath.Join(t.TempDir(), "good")
	g.agent(t, append([]string{"--action", "backup", "--container", good}, common[:len(common)-2]...)...)

	before := g.imageIDs(t)
	// The storage is throttled so the download is still running when the
	// file is cut.
	cmd := exec.Command(binary, append([]string{"--action", "backup", "--upload-limit", "8M", "--idle-timeout", "5", "--nosync", "--log-file", filepath.Join(t.TempDir(), "log")}, common...)...)
	cmd.Env = append([]string{"HOME=" + t.TempDir()}, g.osEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if err := os.Truncate(storeFile, 8<<20); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("backup of a cut image succeeded:\n%s", out.String())
	}
	t.Logf("backup failed as it should: %s", lastLine(out.String()))
	names, _ := localObjects(t, dir)
	for _, n := range names {
		if strings.HasPrefix(n, "metadata/") || strings.HasSuffix(n, "/data") {
			t.Errorf("left after the failed backup: %s", n)
		}
	}
	info := g.agent(t, "--action", "info", "--mode", "glance", "--storage", "local", "--container", dir, "--metadata-out", "-")
	if strings.Contains(info, src.ID) {
		t.Errorf("info lists the failed backup: %s", info)
	}
	if after := g.imageIDs(t); !slices.Equal(after, before) {
		t.Errorf("images before %v, after the failed backup %v", before, after)
	}

	if info := g.agent(t, "--action", "info", "--mode", "glance", "--storage", "local", "--container", good, "--metadata-out", "-"); !strings.Contains(info, "h_cut/"+src.ID) {
		t.Errorf("info does not list the good backup: %s", info)
	}

	// Restore from a payload cut in the middle: the image it made must go.
	gnames, _ := localObjects(t, good)
	for _, n := range gnames {
		if strings.HasSuffix(n, "/data") {
			if err := os.Truncate(filepath.Join(good, n), 20<<20); err != nil {
				t.Fatal(err)
			}
		}
	}
	msg := g.agentFails(t, append([]string{"--action", "restore", "--container", good}, common[:len(common)-2]...)...)
	t.Logf("restore failed as it should: %s", lastLine(msg))
	if after := g.imageIDs(t); !slices.Equal(after, before) {
		t.Errorf("images before %v, after the failed restore %v", before, after)
	}
}

func lastLine(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	return ls[len(ls)-1]
}

// TestGlanceAuthMethods: the same image backed up with each Keystone
// method the agent offers besides a password: an application credential
// of the demo user, a token, and a trust from demo to the other user
// (--os-trust-id), each through the OS_* variables only.
func TestGlanceAuthMethods(t *testing.T) {
	g := newGlanceEnv(t, false)
	ctx := context.Background()
	src := g.createImage(t, fmt.Sprintf("glance-it-auth-%x", time.Now().UnixNano()), 1<<20, images.CreateOpts{})
	ks, err := gos.NewIdentityV3(g.img.ProviderClient, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	demoID, otherID := g.e.Get(t, "DEMO_OS_USER_ID"), g.e.Get(t, "OTHER_OS_USER_ID")
	ac, err := applicationcredentials.Create(ctx, ks, demoID, applicationcredentials.CreateOpts{Name: fmt.Sprintf("glance-it-%x", time.Now().UnixNano())}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { applicationcredentials.Delete(context.Background(), ks, demoID, ac.ID) })
	tr, err := trusts.Create(ctx, ks, trusts.CreateOpts{TrusteeUserID: otherID, TrustorUserID: demoID, ProjectID: g.project,
		Roles: []trusts.Role{{Name: "member"}}}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { trusts.Delete(context.Background(), ks, tr.ID) })
	base := []string{"OS_AUTH_URL=" + g.auth.AuthURL, "OS_REGION_NAME=" + g.auth.Region, "OS_INTERFACE=public"}
	cases := map[string][]string{
		"application-credential": {"OS_APPLICATION_CREDENTIAL_ID=" + ac.ID, "OS_APPLICATION_CREDENTIAL_SECRET=" + ac.Secret},
		"token":                  {"OS_TOKEN=" + g.img.ProviderClient.Token(), "OS_PROJECT_ID=" + g.project},
		"trust": {"OS_USERNAME=" + g.e.Get(t, "OTHER_OS_USERNAME"), "OS_PASSWORD=" + g.e.Get(t, "OTHER_OS_PASSWORD"),
			"OS_USER_DOMAIN_NAME=Default", "OS_TRUST_ID=" + tr.ID},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			runWithEnv(t, append(append([]string{}, base...), env...), "--action", "backup", "--mode", "glance", "--glance-image-id", src.ID,
				"--backup-name", "auth", "--hostname", "h", "--storage", "local", "--container", dir)
			names, read := localObjects(t, dir)
			checkLayout(t, names, read, "h_auth", src)
		})
	}
}
