// Package glance is the engine of the glance mode: the payload is the
// bytes of one Glance image, downloaded as they are (no files, no
// archive), and a restore uploads them into a new image with the
// original's formats, visibility, protected flag and properties, then
// checks that Glance computed the original's checksum.
//
// The layout is upstream's: the engine state (engine_metadata) is the
// JSON object {image_name, image_id, disk_format, container_format,
// visibility, length, protected}, and the backup's metadata carries the
// image record under "image".
package glance

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/openstack"
)

// Name is the engine name written in the layout and the metadata.
const Name = "glance"

// Engine implements backup.Engine for one image.
type Engine struct {
	// Client is the image v2 client.
	Client *gophercloud.ServiceClient
	// ImageID is the image a backup reads.
	ImageID string
	// Wait bounds waiting for a restored image to become active.
	Wait openstack.Wait
	// Log, when set, is told what the engine creates and deletes.
	Log func(msg string, kv ...any)

	image    json.RawMessage // the record of the image backed up
	restored string          // id of the image a restore made
}

var _ backup.Engine = (*Engine)(nil)

// Name implements backup.Engine.
func (*Engine) Name() string { return Name }

// Resource names what a backup reads, for messages and the result.
func (e *Engine) Resource() string { return "glance image " + e.ImageID }

// Image returns the record of the image the last backup read (Glance's
// JSON), which the agent stores in the backup's metadata as "image".
func (e *Engine) Image() json.RawMessage { return e.image }

// Restored is the id of the image the last restore created.
func (e *Engine) Restored() string { return e.restored }

func (e *Engine) log(msg string, kv ...any) {
	if e.Log != nil {
		e.Log(msg, kv...)
	}
}

// record is the part of an image record the engine reads.
type record struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Status          string   `json:"status"`
	DiskFormat      string   `json:"disk_format"`
	ContainerFormat string   `json:"container_format"`
	Visibility      string   `json:"visibility"`
	Protected       bool     `json:"protected"`
	Size            int64    `json:"size"`
	Checksum        string   `json:"checksum"`
	HashAlgo        string   `json:"os_hash_algo"`
	HashValue       string   `json:"os_hash_value"`
	MinDisk         int      `json:"min_disk"`
	MinRAM          int      `json:"min_ram"`
	Tags            []string `json:"tags"`
}

// Properties are the image's own properties: every string-valued key of
// its record that Glance does not manage itself.
func properties(raw map[string]any) map[string]string {
	props := map[string]string{}
	for k, v := range raw {
		s, ok := v.(string)
		if !ok || reserved[k] || strings.HasPrefix(k, "os_glance") {
			continue
		}
		props[k] = s
	}
	return props
}

var reserved = map[string]bool{
	"id": true, "name": true, "status": true, "visibility": true, "protected": true, "checksum": true,
	"os_hash_algo": true, "os_hash_value": true, "size": true, "virtual_size": true, "disk_format": true,
	"container_format": true, "min_disk": true, "min_ram": true, "owner": true, "created_at": true,
	"updated_at": true, "file": true, "schema": true, "self": true, "tags": true, "locations": true,
	"direct_url": true, "os_hidden": true, "stores": true,
}

// EngineMetadata is upstream's engine_metadata object for an image, in
// upstream's key order and spacing (Python's json.dumps), length as a
// decimal string.
func EngineMetadata(r record) []byte {
	var b bytes.Buffer
	kv := func(k string, v any, last bool) {
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(v)
		b.Write(kb)
		b.WriteString(": ")
		b.Write(vb)
		if !last {
			b.WriteString(", ")
		}
	}
	b.WriteByte('{')
	kv("image_name", r.Name, false)
	kv("image_id", r.ID, false)
	kv("disk_format", r.DiskFormat, false)
	kv("container_format", r.ContainerFormat, false)
	kv("visibility", r.Visibility, false)
	kv("length", strconv.FormatInt(r.Size, 10), false)
	kv("protected", r.Protected, true)
	b.WriteByte('}')
	return b.Bytes()
}

func (e *Engine) get(ctx context.Context, id string) (record, json.RawMessage, error) {
	var raw json.RawMessage
	err := openstack.Wait{Timeout: 2 * time.Minute}.Until(ctx, "reading image "+id, func(ctx context.Context) (bool, error) {
		r := images.Get(ctx, e.Client, id)
		if r.Err != nil {
			return false, r.Err
		}
		b, err := json.Marshal(r.Body)
		raw = b
		return err == nil, err
	})
	if err != nil {
		if openstack.NotFound(err) {
			return record{}, nil, fmt.Errorf("%w: glance image %s", backup.ErrNotFound, id)
		}
		return record{}, nil, fmt.Errorf("reading glance image %s: %w", id, err)
	}
	var rec record
	if err := json.Unmarshal(raw, &rec); err != nil {
		return record{}, nil, fmt.Errorf("glance image %s: %w", id, err)
	}
	return rec, raw, nil
}

func newHash(algo string) hash.Hash {
	switch algo {
	case "sha512":
		return sha512.New()
	case "sha256":
		return sha256.New()
	}
	return nil
}

// Backup implements backup.Engine: it streams the image's bytes to out
// and checks them against the size and checksums Glance recorded.
func (e *Engine) Backup(ctx context.Context, req backup.BackupRequest, out io.Writer) (backup.Stats, error) {
	var st backup.Stats
	if e.Client == nil || e.ImageID == "" {
		return st, errors.New("glance engine: no image to back up")
	}
	rec, raw, err := e.get(ctx, e.ImageID)
	if err != nil {
		return st, err
	}
	if rec.Status != "active" {
		return st, fmt.Errorf("glance image %s is %s, not active: nothing to download", rec.ID, rec.Status)
	}
	e.image = raw
	dl := imagedata.Download(ctx, e.Client, rec.ID)
	if dl.Err != nil {
		return st, fmt.Errorf("downloading glance image %s: %w", rec.ID, dl.Err)
	}
	body, err := dl.Extract()
	if err != nil {
		return st, fmt.Errorf("downloading glance image %s: %w", rec.ID, err)
	}
	defer body.Close()
	sum := md5.New()
	ws := []io.Writer{out, sum}
	h := newHash(rec.HashAlgo)
	if h != nil {
		ws = append(ws, h)
	}
	n, err := io.Copy(io.MultiWriter(ws...), body)
	st.Files, st.Bytes = 1, n
	if err != nil {
		return st, fmt.Errorf("downloading glance image %s: %w", rec.ID, err)
	}
	if n != rec.Size {
		return st, fmt.Errorf("glance image %s: downloaded %d bytes, Glance says %d", rec.ID, n, rec.Size)
	}
	if rec.Checksum != "" && hex.EncodeToString(sum.Sum(nil)) != rec.Checksum {
		return st, fmt.Errorf("glance image %s: downloaded bytes do not match its checksum %s", rec.ID, rec.Checksum)
	}
	if h != nil && rec.HashValue != "" && hex.EncodeToString(h.Sum(nil)) != rec.HashValue {
		return st, fmt.Errorf("glance image %s: downloaded bytes do not match its %s", rec.ID, rec.HashAlgo)
	}
	if req.State != nil {
		if _, err := req.State.Write(EngineMetadata(rec)); err != nil {
			return st, fmt.Errorf("writing the engine state: %w", err)
		}
	}
	return st, nil
}

// RestoredName is the name of the image a restore creates, upstream's.
func RestoredName(name, id string) string {
	if name == "" {
		name = id
	}
	return "Restore: " + name
}

// Restore implements backup.Engine: it creates an image with the recorded
// formats, visibility and properties, uploads the payload into it, waits
// until it is active, checks Glance's checksum against the original's,
// and only then sets the protected flag. On any failure the new image is
// deleted.
func (e *Engine) Restore(ctx context.Context, req backup.RestoreRequest, in io.Reader) (st backup.Stats, err error) {
	if req.DryRun {
		n, err := io.Copy(io.Discard, in)
		if req.List != nil {
			fmt.Fprintf(req.List, "glance image of %d bytes\n", n)
		}
		st.Bytes = n
		return st, err
	}
	if e.Client == nil {
		return st, errors.New("glance engine: no image client")
	}
	if len(req.Metadata.Image) == 0 {
		return st, fmt.Errorf("%w: the backup's metadata has no image record", backup.ErrCorrupt)
	}
	var rec record
	var raw map[string]any
	if err := json.Unmarshal(req.Metadata.Image, &rec); err != nil {
		return st, fmt.Errorf("%w: image record: %v", backup.ErrCorrupt, err)
	}
	json.Unmarshal(req.Metadata.Image, &raw)
	if rec.DiskFormat == "" {
		rec.DiskFormat = "raw"
	}
	if rec.ContainerFormat == "" {
		rec.ContainerFormat = "bare"
	}
	opts := images.CreateOpts{
		Name:            RestoredName(rec.Name, rec.ID),
		DiskFormat:      rec.DiskFormat,
		ContainerFormat: rec.ContainerFormat,
		MinDisk:         rec.MinDisk,
		MinRAM:          rec.MinRAM,
		Tags:            rec.Tags,
		Properties:      properties(raw),
	}
	if rec.Visibility != "" {
		v := images.ImageVisibility(rec.Visibility)
		opts.Visibility = &v
	}
	img, err := images.Create(ctx, e.Client, opts).Extract()
	if err != nil {
		return st, fmt.Errorf("creating the glance image: %w", err)
	}
	e.log("created glance image", "image", img.ID, "name", opts.Name)
	defer func() {
		if err == nil {
			e.restored = img.ID
			return
		}
		// A half-restored image must not look like a restored one.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if derr := images.Delete(dctx, e.Client, img.ID).ExtractErr(); derr != nil && !openstack.NotFound(derr) {
			err = fmt.Errorf("%w (and deleting the incomplete image %s failed: %v)", err, img.ID, derr)
			return
		}
		e.log("deleted incomplete glance image", "image", img.ID)
	}()

	sum := md5.New()
	counted := &countReader{r: io.TeeReader(in, sum)}
	if err := imagedata.Upload(ctx, e.Client, img.ID, counted).ExtractErr(); err != nil {
		return st, fmt.Errorf("uploading into glance image %s: %w", img.ID, err)
	}
	st.Files, st.Bytes = 1, counted.n
	if req.Verify != nil {
		if err := req.Verify(); err != nil {
			return st, err
		}
	}
	if rec.Size > 0 && counted.n != rec.Size {
		return st, fmt.Errorf("%w: the backup holds %d bytes, the image had %d", backup.ErrCorrupt, counted.n, rec.Size)
	}
	var now record
	err = e.Wait.Until(ctx, "glance image "+img.ID+" active", func(ctx context.Context) (bool, error) {
		r, _, err := e.get(ctx, img.ID)
		if err != nil {
			return false, err
		}
		switch r.Status {
		case "killed", "deleted", "deactivated":
			return false, fmt.Errorf("glance image %s became %s", img.ID, r.Status)
		}
		now = r
		return r.Status == "active", nil
	})
	if err != nil {
		return st, err
	}
	if rec.Checksum != "" && now.Checksum != rec.Checksum {
		return st, fmt.Errorf("%w: restored image %s has checksum %s, the original had %s", backup.ErrCorrupt, img.ID, now.Checksum, rec.Checksum)
	}
	if rec.HashValue != "" && now.HashAlgo == rec.HashAlgo && now.HashValue != rec.HashValue {
		return st, fmt.Errorf("%w: restored image %s has %s %s, the original had %s", backup.ErrCorrupt, img.ID, now.HashAlgo, now.HashValue, rec.HashValue)
	}
	if rec.Protected {
		// Last: a protected image cannot be deleted after a failure.
		if _, err := images.Update(ctx, e.Client, img.ID, images.UpdateOpts{images.ReplaceImageProtected{NewProtected: true}}).Extract(); err != nil {
			return st, fmt.Errorf("protecting glance image %s: %w", img.ID, err)
		}
	}
	e.log("restored glance image", "image", img.ID, "from", rec.ID, "checksum", now.Checksum)
	return st, nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
