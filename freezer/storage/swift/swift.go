package swift

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/containers"
	"github.com/gophercloud/gophercloud/v2/openstack/objectstorage/v1/objects"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/internal/readerr"
	fos "freezer.dev/freezer/freezer/openstack"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/internal/idle"
	"freezer.dev/freezer/freezer/storage/internal/prefetch"
	"freezer.dev/freezer/freezer/storage/internal/resume"
	"freezer.dev/freezer/freezer/storage/internal/segment"
	"freezer.dev/freezer/freezer/storage/retry"
)

// Storage is a backup.Storage in one Swift container.
type Storage struct {
	provider  *gophercloud.ProviderClient
	client    *gophercloud.ServiceClient
	container string
	prefix    string
	segSize   int
	parallel  int
	policy    retry.Policy
	listPage  int // listings' page size (listPage; tests change it)
}

var _ backup.Storage = (*Storage)(nil)

// New authenticates against Keystone, finds the object-store endpoint and
// creates the container when it is missing.
func New(ctx context.Context, o Options) (*Storage, error) {
	container, prefix, err := storage.SplitRoot(o.Container)
	if err != nil {
		return nil, fmt.Errorf("swift storage: %w", err)
	}
	if o.Auth.AuthURL == "" {
		return nil, fmt.Errorf("swift storage: no auth URL (--os-auth-url or OS_AUTH_URL)")
	}
	hc, err := httpClient(o)
	if err != nil {
		return nil, fmt.Errorf("swift storage: %w", err)
	}
	pc, err := openstack.NewClient(o.Auth.AuthURL)
	if err != nil {
		return nil, fmt.Errorf("swift storage: auth URL %q: %w", o.Auth.AuthURL, err)
	}
	pc.HTTPClient = *hc
	if err := fos.Authenticate(ctx, pc, o.Auth); err != nil {
		return nil, fmt.Errorf("swift storage: %w", err)
	}
	sc, err := openstack.NewObjectStorageV1(pc, fos.EndpointOpts(o.Auth))
	if err != nil && o.StorageURL == "" {
		return nil, fmt.Errorf("swift storage: finding the object-store endpoint: %w", err)
	}
	if o.StorageURL != "" {
		sc = &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: strings.TrimRight(o.StorageURL, "/") + "/", Type: "object-store"}
	}
	s := &Storage{
		provider:  pc,
		client:    sc,
		container: container,
		prefix:    prefix,
		segSize:   o.SegmentSize,
		parallel:  o.Parallel,
		listPage:  listPage,
		policy:    o.Retry,
	}
	if s.segSize <= 0 {
		s.segSize = storage.DefaultSegmentSize
	}
	if s.parallel <= 0 {
		s.parallel = 4
	}
	if o.NoCreate {
		return s, nil
	}
	err = retry.Do(ctx, s.policy, func(ctx context.Context) error {
		return classify(containers.Create(ctx, sc, container, nil).Err)
	})
	if err != nil {
		return nil, fmt.Errorf("swift storage: creating container %q: %w", container, err)
	}
	return s, nil
}

func httpClient(o Options) (*http.Client, error) {
	tr, err := fos.TLSTransport(o.Auth, o.RequestTimeout)
	if err != nil {
		return nil, err
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = idle.DefaultTimeout
	}
	// A stalled proxy blocks the write of a request body, before the
	// response header timeout starts: the idle timeout covers that.
	tr.DialContext = idle.Dialer(o.IdleTimeout)
	tr.IdleConnTimeout = o.IdleTimeout / 2
	tr.MaxIdleConnsPerHost = 16
	return &http.Client{Transport: tr}, nil
}

// String names the storage.
func (s *Storage) String() string { return "swift:" + storage.Join(s.container, s.prefix) }

func (s *Storage) name(key string) string { return storage.Join(s.prefix, key) }

// classify marks what a retry may cure and maps 404 to ErrNotFound.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ec gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &ec) {
		switch {
		case ec.Actual == http.StatusNotFound:
			return fmt.Errorf("%w: %w", backup.ErrNotFound, err)
		case ec.Actual >= 500, ec.Actual == http.StatusRequestTimeout, ec.Actual == http.StatusTooManyRequests:
			return storage.MarkTransient(err)
		}
	}
	return err
}

// BufferBytes is the memory of one transfer: for an upload the segments
// in flight and the one being filled, for a download the chunks in flight
// and the one being read.
func (s *Storage) BufferBytes() int64 {
	return int64(s.parallel+1) * int64(max(s.segSize, downloadChunk))
}

// Put stores a payload key as segments plus a DLO manifest, and any other
// key as one object.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader) error {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("uploading %s: %w", key, err)
	}
	r = storage.ContextReader(ctx, r)
	if storage.IsPayloadKey(key) {
		if err := s.putSegmented(ctx, key, r); err != nil {
			return fmt.Errorf("uploading %s to %s: %w", key, s, err)
		}
		return nil
	}
	if err := s.putPlain(ctx, key, r); err != nil {
		return fmt.Errorf("uploading %s to %s: %w", key, s, err)
	}
	return nil
}

// segmentsDir is the object-name prefix of a payload's segments.
func (s *Storage) segmentsDir(key string) string {
	return path.Join(path.Dir(s.name(key)), "segments")
}

func (s *Storage) putSegmented(ctx context.Context, key string, r io.Reader) error {
	segDir := s.segmentsDir(key)
	rs := backup.UploadResumeFrom(ctx)
	var stored map[string]objects.Object
	if rs != nil {
		// Segment names depend only on the key and the position, so what
		// an interrupted attempt stored is found by listing.
		var err error
		if stored, err = s.storedSegments(ctx, segDir); err != nil {
			return fmt.Errorf("listing the segments of an interrupted upload: %w", err)
		}
	}
	plan := segment.Plan{
		Size:     s.segSize,
		Parallel: s.parallel,
		Part: func(ctx context.Context, i int, b []byte) error {
			name := fmt.Sprintf("%s/%08d", segDir, i)
			if o, ok := stored[name]; ok {
				sum := md5.Sum(b)
				if o.Bytes == int64(len(b)) && strings.EqualFold(o.Hash, hex.EncodeToString(sum[:])) {
					rs.Kept(int64(len(b)))
					return nil
				}
				return fmt.Errorf("segment %s: %w", name, backup.ErrResumeDiverged)
			}
			return s.putObject(ctx, name, b, "")
		},
	}
	res, err := plan.Run(ctx, r)
	if err != nil {
		return err
	}
	// Segments left by an earlier, longer attempt at this key would be
	// picked up by the manifest's prefix: remove them first.
	if err := s.deleteStaleSegments(ctx, segDir, res.Parts); err != nil {
		return err
	}
	if err := s.putObject(ctx, s.name(key), nil, s.container+"/"+segDir); err != nil {
		return fmt.Errorf("writing the manifest: %w", err)
	}
	if err := s.checkLength(ctx, key, res.Bytes); err != nil {
		// The manifest is readable at key already: a Put that fails must
		// leave nothing partial visible, also when ctx is what failed.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if derr := s.deleteObject(dctx, s.name(key)); derr != nil {
			return fmt.Errorf("%w (and deleting the manifest failed: %v)", err, derr)
		}
		return err
	}
	return nil
}

// putObject uploads b (in memory, so retryable) with its MD5 as ETag and
// checks the ETag of the answer; manifest makes it a DLO manifest.
func (s *Storage) putObject(ctx context.Context, name string, b []byte, manifest string) error {
	sum := md5.Sum(b)
	etag := hex.EncodeToString(sum[:])
	return retry.Do(ctx, s.policy, func(ctx context.Context) error {
		res := objects.Create(ctx, s.client, s.container, name, objects.CreateOpts{
			Content:        bytes.NewReader(b),
			ContentLength:  int64(len(b)),
			ContentType:    "application/octet-stream",
			ETag:           etag,
			ObjectManifest: manifest,
		})
		if res.Err != nil {
			return classify(res.Err)
		}
		if got := strings.Trim(res.Header.Get("Etag"), `"`); got != "" && got != etag {
			return storage.MarkTransient(fmt.Errorf("object %s: server ETag %s, sent %s", name, got, etag))
		}
		return nil
	})
}

// putPlain uploads a non-payload key: in memory with a checked ETag and
// retries when it fits in one segment, else streamed with the MD5
// computed on the way and compared with the server's ETag afterwards.
func (s *Storage) putPlain(ctx context.Context, key string, r io.Reader) error {
	name := s.name(key)
	buf := make([]byte, 0, 64<<10)
	head := io.LimitReader(r, int64(s.segSize))
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), s.segSize))
		}
		n, err := head.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if len(buf) < s.segSize {
		return s.putObject(ctx, name, buf, "")
	}
	h := md5.New()
	// net/http reports a body read failure as its own error, unwrapped.
	body := readerr.New(io.TeeReader(io.MultiReader(bytes.NewReader(buf), r), h))
	res := objects.Create(ctx, s.client, s.container, name, objects.CreateOpts{
		Content:     body,
		ContentType: "application/octet-stream",
		NoETag:      true,
	})
	if err := body.Err(); err != nil {
		// Swift stores only complete chunked bodies, so nothing is left.
		return fmt.Errorf("reading the stream: %w", err)
	}
	if res.Err != nil {
		return classify(res.Err)
	}
	if got := strings.Trim(res.Header.Get("Etag"), `"`); got != hex.EncodeToString(h.Sum(nil)) {
		_ = s.deleteObject(ctx, name)
		return fmt.Errorf("object %s: server ETag %s does not match the data sent", name, got)
	}
	return nil
}

// checkLength reads the manifest back: Swift sums the segments it lists,
// so a wrong length means a segment went missing.
func (s *Storage) checkLength(ctx context.Context, key string, want int64) error {
	return retry.Do(ctx, s.policy, func(ctx context.Context) error {
		res := objects.Get(ctx, s.client, s.container, s.name(key), nil)
		if res.Err != nil {
			return classify(res.Err)
		}
		h, err := res.Extract()
		if err != nil {
			return fmt.Errorf("reading the manifest's headers: %w", err)
		}
		if h.ContentLength != want {
			return storage.MarkTransient(fmt.Errorf("manifest %s lists %d bytes, uploaded %d", key, h.ContentLength, want))
		}
		return nil
	})
}

// Size is the Content-Length of a HEAD of the object; for a segmented
// payload the proxy answers the manifest's HEAD with the sum of the
// segments it lists, so a lost segment shows as a short payload.
func (s *Storage) Size(ctx context.Context, key string) (int64, error) {
	if err := storage.CheckKey(key); err != nil {
		return 0, err
	}
	var n int64
	err := retry.Do(ctx, s.policy, func(ctx context.Context) error {
		res := objects.Get(ctx, s.client, s.container, s.name(key), nil)
		if res.Err != nil {
			return classify(res.Err)
		}
		h, err := res.Extract()
		if err != nil {
			return fmt.Errorf("reading the headers: %w", err)
		}
		n = h.ContentLength
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sizing %s in %s: %w", key, s, err)
	}
	return n, nil
}

// storedSegments lists the segments under segDir with their sizes and
// MD5s, by object name.
func (s *Storage) storedSegments(ctx context.Context, segDir string) (map[string]objects.Object, error) {
	out := map[string]objects.Object{}
	err := retry.Do(ctx, s.policy, func(ctx context.Context) error {
		clear(out)
		return s.eachListing(ctx, s.container, objects.ListOpts{Prefix: segDir + "/"}, func(o objects.Object) {
			out[o.Name] = o
		})
	})
	if errors.Is(err, backup.ErrNotFound) {
		return out, nil
	}
	return out, err
}

func (s *Storage) deleteStaleSegments(ctx context.Context, segDir string, keep int) error {
	names, err := s.listAll(ctx, segDir+"/")
	if err != nil {
		return fmt.Errorf("listing old segments: %w", err)
	}
	var stale []string
	for _, n := range names {
		i, err := strconv.Atoi(strings.TrimPrefix(n, segDir+"/"))
		if err != nil || i >= keep {
			stale = append(stale, n)
		}
	}
	return s.deleteObjects(ctx, stale)
}

// Get downloads key; for a payload Swift joins the segments itself. A
// transfer cut in the middle is resumed with a Range request from where it
// stopped, within the retry policy, so a long restore survives a proxy
// restart.
func (s *Storage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := storage.CheckKey(key); err != nil {
		return nil, err
	}
	if storage.IsPayloadKey(key) {
		r, err := s.getSegments(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("downloading %s from %s: %w", key, s, err)
		}
		if r != nil {
			return r, nil
		}
	}
	r, err := resume.Open(ctx, key, s.policy, func(ctx context.Context, off int64) (io.ReadCloser, int64, error) {
		var opts objects.DownloadOpts
		if off > 0 {
			opts.Range = "bytes=" + strconv.FormatInt(off, 10) + "-"
		}
		res := objects.Download(ctx, s.client, s.container, s.name(key), opts)
		if res.Err != nil {
			return nil, 0, classify(res.Err)
		}
		size := int64(-1)
		if off > 0 {
			cr := res.Header.Get("Content-Range")
			if !strings.HasPrefix(cr, "bytes "+strconv.FormatInt(off, 10)+"-") {
				res.Body.Close()
				return nil, 0, fmt.Errorf("resuming at byte %d: server answered Content-Range %q", off, cr)
			}
		} else if cl, err := strconv.ParseInt(res.Header.Get("Content-Length"), 10, 64); err == nil {
			size = cl
		}
		return res.Body, size, nil
	})
	if err != nil {
		return nil, fmt.Errorf("downloading %s from %s: %w", key, s, err)
	}
	return r, nil
}

// downloadChunk is the size of one ranged GET when a payload's segments
// are fetched in parallel.
const downloadChunk = 8 << 20

// getSegments reads a DLO payload (ours or the Python agent's) the way the
// proxy would assemble it — every object under the manifest's prefix, in
// name order — but fetches the segments itself, several ranged GETs at a
// time, and checks each segment's MD5 against the listing, unless the
// caller checks the whole stream itself (backup.CallerChecksum). It
// returns nil and no error when the object is not a DLO manifest.
func (s *Storage) getSegments(ctx context.Context, key string) (io.ReadCloser, error) {
	var manifest string
	err := retry.Do(ctx, s.policy, func(ctx context.Context) error {
		res := objects.Get(ctx, s.client, s.container, s.name(key), manifestItself{})
		if res.Err != nil {
			return classify(res.Err)
		}
		manifest = res.Header.Get("X-Object-Manifest")
		return nil
	})
	if err != nil || manifest == "" {
		return nil, err
	}
	segContainer, segPrefix, ok := strings.Cut(manifest, "/")
	if !ok || segContainer == "" {
		return nil, fmt.Errorf("manifest of %s: X-Object-Manifest %q is not container/prefix", key, manifest)
	}
	if c, err := url.PathUnescape(segContainer); err == nil {
		segContainer = c
	}
	if p, err := url.PathUnescape(segPrefix); err == nil {
		segPrefix = p
	}
	checkParts := !backup.CallerChecksum(ctx)
	var parts []prefetch.Part
	err = retry.Do(ctx, s.policy, func(ctx context.Context) error {
		parts = parts[:0]
		return s.eachListing(ctx, segContainer, objects.ListOpts{Prefix: segPrefix}, func(o objects.Object) {
			p := prefetch.Part{Name: o.Name, Size: o.Bytes}
			if checkParts {
				p.MD5 = o.Hash
			}
			parts = append(parts, p)
		})
	})
	if err != nil {
		return nil, fmt.Errorf("listing the segments of %s: %w", key, err)
	}
	// The listing is in byte order of names, as the proxy assembles a DLO;
	// sort anyway rather than trust every server's pagination.
	slices.SortFunc(parts, func(a, b prefetch.Part) int { return strings.Compare(a.Name, b.Name) })
	fetch := func(ctx context.Context, name string, off int64, dst []byte) error {
		res := objects.Download(ctx, s.client, segContainer, name, objects.DownloadOpts{
			Range: fmt.Sprintf("bytes=%d-%d", off, off+int64(len(dst))-1),
		})
		if res.Err != nil {
			return classify(res.Err)
		}
		defer res.Body.Close()
		// A server that ignored the range would send the whole segment:
		// only the answer for these exact bytes is accepted.
		want := fmt.Sprintf("bytes %d-%d/", off, off+int64(len(dst))-1)
		if cr := res.Header.Get("Content-Range"); !strings.HasPrefix(cr, want) &&
			!(off == 0 && cr == "" && res.Header.Get("Content-Length") == strconv.Itoa(len(dst))) {
			return fmt.Errorf("segment %s: asked for %s, server answered Content-Range %q", name, strings.TrimSuffix(want, "/"), cr)
		}
		if _, err := io.ReadFull(res.Body, dst); err != nil {
			// Cut mid-body, or the segment is shorter than listed.
			return storage.MarkTransient(fmt.Errorf("reading segment %s at byte %d: %w", name, off, err))
		}
		return nil
	}
	return prefetch.Open(ctx, parts, fetch, prefetch.Options{ChunkSize: downloadChunk, Parallel: s.parallel, Policy: s.policy}), nil
}

// manifestItself asks a HEAD for the manifest object's own headers
// (multipart-manifest=get): otherwise the proxy's DLO middleware lists
// every segment to sum their sizes, a container listing per thousand
// segments that getSegments makes anyway.
type manifestItself struct{}

func (manifestItself) ToObjectGetParams() (map[string]string, string, error) {
	return nil, "?multipart-manifest=get", nil
}

// listPage is the page size asked of container listings, so that a page
// shorter than it is known to be the last: gophercloud's pager otherwise
// asks for one more, empty page after every listing (three requests per
// restore). Swift refuses a limit above its container_listing_limit
// (10,000 by default) with 412; eachListing then pages the server's way.
const listPage = 1000

// eachListing passes every entry of a container listing with opts to fn,
// page by page; errors are classified.
func (s *Storage) eachListing(ctx context.Context, container string, opts objects.ListOpts, fn func(objects.Object)) error {
	list := func(limit int) error {
		opts.Limit = limit
		return objects.List(s.client, container, opts).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
			infos, err := objects.ExtractInfo(page)
			if err != nil {
				return false, err
			}
			for _, o := range infos {
				fn(o)
			}
			return limit == 0 || len(infos) >= limit, nil
		})
	}
	err := list(s.listPage)
	if gophercloud.ResponseCodeIs(err, http.StatusPreconditionFailed) {
		// The limit was refused with the first page: fn has seen nothing.
		err = list(0)
	}
	return classify(err)
}

// List lists with delimiter "/" under "<dir>/", so "host_b1" never
// matches "host_b10".
func (s *Storage) List(ctx context.Context, dir string) ([]string, error) {
	if err := storage.CheckDir(dir); err != nil {
		return nil, err
	}
	p := s.name(dir)
	if p != "" {
		p += "/"
	}
	var out []string
	err := retry.Do(ctx, s.policy, func(ctx context.Context) error {
		out = out[:0]
		return s.eachListing(ctx, s.container, objects.ListOpts{Prefix: p, Delimiter: "/"}, func(o objects.Object) {
			n := o.Name
			if o.Subdir != "" {
				n = strings.TrimSuffix(o.Subdir, "/")
			}
			n = strings.TrimPrefix(n, p)
			if n != "" && !strings.Contains(n, "/") {
				out = append(out, n)
			}
		})
	})
	if errors.Is(err, backup.ErrNotFound) {
		// The container itself is gone: nothing below it exists.
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %q in %s: %w", dir, s, err)
	}
	// Swift sorts "a/" (as a subdir) by its slash; sort the bare names.
	slices.Sort(out)
	return slices.Compact(out), nil
}

// listAll lists every object name under prefix, without a delimiter.
func (s *Storage) listAll(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	err := retry.Do(ctx, s.policy, func(ctx context.Context) error {
		out = out[:0]
		return s.eachListing(ctx, s.container, objects.ListOpts{Prefix: prefix}, func(o objects.Object) {
			out = append(out, o.Name)
		})
	})
	if errors.Is(err, backup.ErrNotFound) {
		return nil, nil
	}
	return out, err
}

// Delete removes the object at key (first, so a payload disappears at
// once), then everything below key, and for a payload its segments.
func (s *Storage) Delete(ctx context.Context, key string) error {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	name := s.name(key)
	if err := s.deleteObject(ctx, name); err != nil {
		return fmt.Errorf("deleting %s from %s: %w", key, s, err)
	}
	below, err := s.listAll(ctx, name+"/")
	if err != nil {
		return fmt.Errorf("deleting %s from %s: listing: %w", key, s, err)
	}
	if storage.IsPayloadKey(key) {
		segs, err := s.listAll(ctx, s.segmentsDir(key)+"/")
		if err != nil {
			return fmt.Errorf("deleting %s from %s: listing segments: %w", key, s, err)
		}
		below = append(below, segs...)
	}
	if err := s.deleteObjects(ctx, below); err != nil {
		return fmt.Errorf("deleting %s from %s: %w", key, s, err)
	}
	return nil
}

func (s *Storage) deleteObject(ctx context.Context, name string) error {
	err := retry.Do(ctx, s.policy, func(ctx context.Context) error {
		return classify(objects.Delete(ctx, s.client, s.container, name, nil).Err)
	})
	if errors.Is(err, backup.ErrNotFound) {
		return nil
	}
	return err
}

// deleteObjects deletes names with bounded parallelism.
func (s *Storage) deleteObjects(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return nil
	}
	sem := make(chan struct{}, 8)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for _, n := range names {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.deleteObject(ctx, n); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("deleting object %s: %w", n, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// ResumesUploads: a payload Put keeps the segments an interrupted Put of
// the same key stored (see backup.UploadResume).
func (s *Storage) ResumesUploads() bool { return true }
