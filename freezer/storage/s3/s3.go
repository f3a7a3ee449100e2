package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/internal/idle"
	"freezer.dev/freezer/freezer/storage/internal/resume"
	"freezer.dev/freezer/freezer/storage/internal/segment"
	"freezer.dev/freezer/freezer/storage/retry"
	"freezer.dev/freezer/internal/tlsconf"
)

// MinPartSize is S3's smallest allowed part (except the last).
const MinPartSize = 5 << 20

// Options configures an S3 storage.
type Options struct {
	// Container is "bucket[/prefix]".
	Container string
	// Endpoint is the service URL, e.g. "http://127.0.0.1:8080".
	Endpoint             string
	AccessKey, SecretKey string
	// Region defaults to us-east-1.
	Region   string
	Insecure bool
	CACert   string
	// SegmentSize is the part size (--max-segment-size), at least 5 MiB.
	SegmentSize int
	// Parallel bounds the parts uploaded at once; zero means 4.
	Parallel int
	Retry    retry.Policy
	// WrapTransport, when set, wraps the HTTP transport (instrumentation,
	// fault injection in tests).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// NoCreate opens without creating the bucket, for the actions that
	// only read or delete (a missing bucket lists as empty).
	NoCreate bool
	// IdleTimeout fails a request whose connection moves no data for this
	// long (a stalled server); zero means idle.DefaultTimeout.
	IdleTimeout time.Duration
}

// OptionsFrom maps upstream's --access-key/--secret-key/--endpoint (with
// the ACCESS_KEY, SECRET_KEY and ENDPOINT fallbacks) and --container.
func OptionsFrom(v storage.Values, getenv func(string) string) (Options, error) {
	o := Options{
		Container: v.Get("container"),
		Endpoint:  v.Or(getenv, []string{"endpoint"}, "ENDPOINT"),
		AccessKey: v.Or(getenv, []string{"access_key"}, "ACCESS_KEY"),
		SecretKey: v.Or(getenv, []string{"secret_key"}, "SECRET_KEY"),
		Region:    v.Or(getenv, []string{"region", "os_region_name"}, "AWS_DEFAULT_REGION"),
		CACert:    v.Get("cacert", "os_cacert"),
	}
	var err error
	if o.IdleTimeout, err = idle.Timeout(v); err != nil {
		return Options{}, err
	}
	if o.Insecure, err = storage.Bool(v.Get("insecure"), false); err != nil {
		return Options{}, fmt.Errorf("option insecure: %w", err)
	}
	if o.SegmentSize, err = storage.SegmentSize(v); err != nil {
		return Options{}, err
	}
	return o, nil
}

// Storage is a backup.Storage in one bucket.
type Storage struct {
	core     minio.Core
	bucket   string
	prefix   string
	endpoint string
	partSize int
	parallel int
	policy   retry.Policy
}

var _ backup.Storage = (*Storage)(nil)

// New connects and creates the bucket when it is missing.
func New(ctx context.Context, o Options) (*Storage, error) {
	if o.Endpoint == "" || o.AccessKey == "" || o.SecretKey == "" {
		return nil, fmt.Errorf("s3 storage: --endpoint, --access-key and --secret-key (or ENDPOINT, ACCESS_KEY, SECRET_KEY) are all required")
	}
	bucket, prefix, err := storage.SplitRoot(o.Container)
	if err != nil {
		return nil, fmt.Errorf("s3 storage: %w", err)
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("s3 storage: endpoint %q: want http(s)://host[:port]", o.Endpoint)
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = storage.DefaultSegmentSize
	}
	if o.SegmentSize < MinPartSize {
		return nil, fmt.Errorf("s3 storage: max-segment-size %d is below S3's minimum part size of 5 MiB", o.SegmentSize)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 2 * time.Minute
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = idle.DefaultTimeout
	}
	tr.DialContext = idle.Dialer(o.IdleTimeout)
	tr.IdleConnTimeout = o.IdleTimeout / 2
	tc, err := tlsconf.Config(tlsconf.Options{CAFile: o.CACert, Insecure: o.Insecure})
	if err != nil {
		return nil, fmt.Errorf("s3 storage: %w", err)
	}
	tr.TLSClientConfig = tc
	var rt http.RoundTripper = tr
	if o.WrapTransport != nil {
		rt = o.WrapTransport(rt)
	}
	cl, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(o.AccessKey, o.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Transport:    rt,
		Region:       o.Region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   1, // retries are ours, per part, with our policy
	})
	if err != nil {
		return nil, fmt.Errorf("s3 storage: %w", err)
	}
	s := &Storage{
		core:     minio.Core{Client: cl},
		bucket:   bucket,
		prefix:   prefix,
		endpoint: u.Host,
		partSize: o.SegmentSize,
		parallel: o.Parallel,
		policy:   o.Retry,
	}
	if s.parallel <= 0 {
		s.parallel = 4
	}
	// A one-key listing rather than HEAD: s3api answers HEAD with a
	// chunked terminator that net/http then logs as an unsolicited
	// response.
	err = retry.Do(ctx, s.policy, func(ctx context.Context) error {
		err := s.list(ctx, "", false, 1, func(string) bool { return false })
		if err == nil {
			return nil
		}
		var resp minio.ErrorResponse
		if !errors.As(err, &resp) || resp.Code != "NoSuchBucket" {
			return err // classified by list
		}
		if o.NoCreate {
			return nil
		}
		err = cl.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: o.Region})
		if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" {
			return nil
		}
		return classify(err)
	})
	if err != nil {
		return nil, fmt.Errorf("s3 storage: bucket %q at %s: %w", bucket, o.Endpoint, err)
	}
	return s, nil
}

// String names the storage.
func (s *Storage) String() string { return "s3:" + storage.Join(s.bucket, s.prefix) }

func (s *Storage) name(key string) string { return storage.Join(s.prefix, key) }

func classify(err error) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.Code == "NoSuchKey":
		return fmt.Errorf("%w: %w", backup.ErrNotFound, err)
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests,
		resp.Code == "SlowDown", resp.Code == "InternalError", resp.Code == "RequestTimeout":
		return storage.MarkTransient(err)
	}
	return err
}

// BufferBytes is the part memory of one upload: the parts in flight and
// the one being filled.
func (s *Storage) BufferBytes() int64 { return int64(s.parallel+1) * int64(s.partSize) }

// Put stores r as one object: a single PUT when it fits in one part, else
// a multipart upload that is aborted on any failure.
func (s *Storage) Put(ctx context.Context, key string, r io.Reader) error {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("uploading %s: %w", key, err)
	}
	name := s.name(key)
	var (
		uploadID string
		mu       sync.Mutex
		parts    []minio.CompletePart
		stored   map[int]minio.ObjectPart
	)
	rs := backup.UploadResumeFrom(ctx)
	if !storage.IsPayloadKey(key) {
		rs = nil
	}
	if rs != nil {
		if id := rs.Token(s.String()); id != "" {
			got, err := s.storedParts(ctx, name, id)
			switch {
			case errors.Is(err, backup.ErrNotFound):
				// Aborted since (admin, or a lifecycle rule): start anew.
			case err != nil:
				return fmt.Errorf("uploading %s to %s: listing the parts of the interrupted upload: %w", key, s, err)
			default:
				uploadID, stored = id, got
			}
		}
	}
	plan := segment.Plan{
		Size:     s.partSize,
		Parallel: s.parallel,
		Single: func(ctx context.Context, b []byte) error {
			md5sum, shaHex := sums(b)
			return retry.Do(ctx, s.policy, func(ctx context.Context) error {
				_, err := s.core.PutObject(ctx, s.bucket, name, bytes.NewReader(b), int64(len(b)),
					md5sum, shaHex, minio.PutObjectOptions{ContentType: "application/octet-stream", DisableContentSha256: true})
				return classify(err)
			})
		},
		Begin: func(ctx context.Context) error {
			if uploadID != "" {
				return nil // resuming
			}
			err := retry.Do(ctx, s.policy, func(ctx context.Context) error {
				id, err := s.core.NewMultipartUpload(ctx, s.bucket, name, minio.PutObjectOptions{ContentType: "application/octet-stream"})
				uploadID = id
				return classify(err)
			})
			if err == nil && rs != nil {
				// Recorded before any part is stored, so that a kill at any
				// later point leaves an upload the next run can find.
				if err = rs.SetToken(s.String(), uploadID); err != nil {
					err = fmt.Errorf("recording the multipart upload: %w", err)
				}
			}
			return err
		},
		Part: func(ctx context.Context, i int, b []byte) error {
			md5sum, shaHex := sums(b)
			if p, ok := stored[i+1]; ok {
				m := md5.Sum(b)
				if p.Size == int64(len(b)) && strings.EqualFold(strings.Trim(p.ETag, `"`), hex.EncodeToString(m[:])) {
					rs.Kept(int64(len(b)))
					mu.Lock()
					parts = append(parts, minio.CompletePart{PartNumber: i + 1, ETag: p.ETag})
					mu.Unlock()
					return nil
				}
				return fmt.Errorf("part %d: %w", i+1, backup.ErrResumeDiverged)
			}
			var part minio.ObjectPart
			err := retry.Do(ctx, s.policy, func(ctx context.Context) error {
				var err error
				part, err = s.core.PutObjectPart(ctx, s.bucket, name, uploadID, i+1, bytes.NewReader(b), int64(len(b)),
					minio.PutObjectPartOptions{Md5Base64: md5sum, Sha256Hex: shaHex, DisableContentSha256: true})
				return classify(err)
			})
			if err != nil {
				return err
			}
			mu.Lock()
			parts = append(parts, minio.CompletePart{PartNumber: i + 1, ETag: part.ETag})
			mu.Unlock()
			return nil
		},
	}
	res, err := plan.Run(ctx, storage.ContextReader(ctx, r))
	if err == nil && !res.Single {
		if len(parts) == 0 {
			// Exactly zero bytes after Begin cannot happen (Single takes
			// short streams), but never complete an empty upload.
			err = fmt.Errorf("no parts uploaded")
		} else {
			slices.SortFunc(parts, func(a, b minio.CompletePart) int { return a.PartNumber - b.PartNumber })
			err = retry.Do(ctx, s.policy, func(ctx context.Context) error {
				_, err := s.core.CompleteMultipartUpload(ctx, s.bucket, name, uploadID, parts, minio.PutObjectOptions{})
				return classify(err)
			})
			if err != nil {
				err = fmt.Errorf("completing the multipart upload: %w", err)
			}
		}
	}
	if err != nil {
		if uploadID != "" && (rs == nil || errors.Is(err, backup.ErrResumeDiverged)) {
			// A resumable upload keeps its parts for the next attempt;
			// admin aborts it once it is older than the grace period.
			// The caller's context may be what failed; aborting must still
			// happen so the parts do not linger.
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			if aerr := s.core.AbortMultipartUpload(actx, s.bucket, name, uploadID); aerr != nil {
				err = fmt.Errorf("%w (and aborting the multipart upload failed: %v)", err, aerr)
			}
			cancel()
		}
		return fmt.Errorf("uploading %s to %s: %w", key, s, err)
	}
	return nil
}

// sums are the Content-MD5 (checked by the server) and the SHA-256 signed
// into the request: a plain SigV4 payload signature, because s3api (and
// other S3 look-alikes) refuse minio-go's aws-chunked streaming signature.
func sums(b []byte) (md5b64, shaHex string) {
	m := md5.Sum(b)
	h := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(m[:]), hex.EncodeToString(h[:])
}

// Get opens the object at key; a transfer cut in the middle resumes with
// a Range request.
func (s *Storage) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := storage.CheckKey(key); err != nil {
		return nil, err
	}
	var etag string
	r, err := resume.Open(ctx, key, s.policy, func(ctx context.Context, off int64) (io.ReadCloser, int64, error) {
		var opts minio.GetObjectOptions
		if off > 0 {
			if err := opts.SetRange(off, 0); err != nil {
				return nil, 0, err
			}
			// Never splice two versions of an object.
			if etag != "" {
				if err := opts.SetMatchETag(etag); err != nil {
					return nil, 0, err
				}
			}
		}
		rc, info, _, err := s.core.GetObject(ctx, s.bucket, s.name(key), opts)
		if err != nil {
			return nil, 0, classify(err)
		}
		if off == 0 {
			etag = info.ETag
			return rc, info.Size, nil
		}
		return rc, -1, nil
	})
	if err != nil {
		return nil, fmt.Errorf("downloading %s from %s: %w", key, s, err)
	}
	return r, nil
}

// Size is the object's Content-Length from a HEAD (StatObject); a
// multipart object's is its whole length.
func (s *Storage) Size(ctx context.Context, key string) (int64, error) {
	if err := storage.CheckKey(key); err != nil {
		return 0, err
	}
	info, err := s.core.StatObject(ctx, s.bucket, s.name(key), minio.StatObjectOptions{})
	if err != nil {
		return 0, fmt.Errorf("sizing %s in %s: %w", key, s, classify(err))
	}
	return info.Size, nil
}

// List lists under "<dir>/" with delimiter "/".
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
		// Delimited: a "directory" comes as its common prefix, which
		// ends in "/".
		return s.list(ctx, p, false, 0, func(key string) bool {
			out = append(out, strings.TrimSuffix(strings.TrimPrefix(key, p), "/"))
			return true
		})
	})
	if errors.Is(err, backup.ErrNotFound) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %q in %s: %w", dir, s, err)
	}
	names := out[:0]
	for _, n := range out {
		if n != "" && !strings.Contains(n, "/") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// list passes the keys under prefix to fn, in pages of maxKeys (zero: the
// server's default), until fn returns false. Without recursive it lists
// with delimiter "/" and passes common prefixes (ending in "/") too. It
// runs under ctx, unlike minio.Core's ListObjectsV2, whose requests a
// cancelled caller cannot stop.
func (s *Storage) list(ctx context.Context, prefix string, recursive bool, maxKeys int, fn func(key string) bool) error {
	opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: recursive, MaxKeys: maxKeys}
	for o := range s.core.ListObjectsIter(ctx, s.bucket, opts) {
		if o.Err != nil {
			return classify(o.Err)
		}
		if !fn(o.Key) {
			return nil
		}
	}
	// The iterator ends quietly when ctx is done: a listing cut short must
	// not pass for a complete one.
	return ctx.Err()
}

// Delete removes the object at key and every object below "<key>/".
func (s *Storage) Delete(ctx context.Context, key string) error {
	if err := storage.CheckKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("deleting %s: %w", key, err)
	}
	names := []string{s.name(key)}
	p := s.name(key) + "/"
	err := retry.Do(ctx, s.policy, func(ctx context.Context) error {
		names = names[:1]
		return s.list(ctx, p, true, 0, func(key string) bool {
			names = append(names, key)
			return true
		})
	})
	if err != nil && !errors.Is(err, backup.ErrNotFound) {
		return fmt.Errorf("deleting %s from %s: listing: %w", key, s, err)
	}
	for _, n := range names {
		err := retry.Do(ctx, s.policy, func(ctx context.Context) error {
			return classify(s.core.RemoveObject(ctx, s.bucket, n, minio.RemoveObjectOptions{}))
		})
		if err != nil && !errors.Is(err, backup.ErrNotFound) {
			return fmt.Errorf("deleting %s from %s: %w", n, s, err)
		}
	}
	return nil
}

// storedParts lists the parts of multipart upload id of object name; a
// missing upload gives ErrNotFound.
func (s *Storage) storedParts(ctx context.Context, name, id string) (map[int]minio.ObjectPart, error) {
	out := map[int]minio.ObjectPart{}
	err := retry.Do(ctx, s.policy, func(ctx context.Context) error {
		clear(out)
		marker := 0
		for {
			res, err := s.core.ListObjectParts(ctx, s.bucket, name, id, marker, 1000)
			if err != nil {
				if minio.ToErrorResponse(err).Code == "NoSuchUpload" {
					return fmt.Errorf("%w: %w", backup.ErrNotFound, err)
				}
				return classify(err)
			}
			for _, p := range res.ObjectParts {
				out[p.PartNumber] = p
			}
			if !res.IsTruncated || res.NextPartNumberMarker <= marker {
				return nil
			}
			marker = res.NextPartNumberMarker
		}
	})
	return out, err
}

// AbortStale aborts the multipart uploads under this storage's prefix that
// were started before cutoff: what a killed agent leaves behind. They are
// invisible to Get and List but still hold their parts. It returns how
// many were aborted.
func (s *Storage) AbortStale(ctx context.Context, cutoff time.Time) (int, error) {
	return s.AbortStaleUnder(ctx, "", cutoff)
}

// AbortStaleUnder is AbortStale for the uploads of keys below dir only.
func (s *Storage) AbortStaleUnder(ctx context.Context, dir string, cutoff time.Time) (int, error) {
	p := s.name(dir)
	if p != "" {
		p += "/"
	}
	uploads, err := s.uploads(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("listing multipart uploads in %s: %w", s, err)
	}
	aborted := 0
	for _, u := range uploads {
		if !u.Initiated.Before(cutoff) {
			continue
		}
		if err := s.core.AbortMultipartUpload(ctx, s.bucket, u.Key, u.UploadID); err != nil && !errors.Is(classify(err), backup.ErrNotFound) {
			return aborted, fmt.Errorf("aborting the upload of %s in %s: %w", u.Key, s, err)
		}
		aborted++
	}
	return aborted, nil
}

// IncompleteUploadsUnder counts the multipart uploads of keys below dir
// that were neither completed nor aborted.
func (s *Storage) IncompleteUploadsUnder(ctx context.Context, dir string) (int, error) {
	p := s.name(dir)
	if p != "" {
		p += "/"
	}
	uploads, err := s.uploads(ctx, p)
	if err != nil {
		return 0, fmt.Errorf("listing multipart uploads in %s: %w", s, err)
	}
	return len(uploads), nil
}

// uploads lists the multipart uploads under prefix. It walks the tree with
// the "/" delimiter because Swift's s3api answers a listing with an empty
// delimiter (which minio-go always sends) with no uploads at all.
func (s *Storage) uploads(ctx context.Context, prefix string) ([]minio.ObjectMultipartInfo, error) {
	var out []minio.ObjectMultipartInfo
	keyMarker, idMarker := "", ""
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, err := s.core.ListMultipartUploads(ctx, s.bucket, prefix, keyMarker, idMarker, "/", 1000)
		if err != nil {
			return nil, classify(err)
		}
		out = append(out, res.Uploads...)
		for _, cp := range res.CommonPrefixes {
			if cp.Prefix == "" || cp.Prefix == prefix {
				continue
			}
			sub, err := s.uploads(ctx, cp.Prefix)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		}
		if !res.IsTruncated {
			return out, nil
		}
		keyMarker, idMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
}

// ResumesUploads: a payload Put continues the multipart upload an
// interrupted Put of the same key started (see backup.UploadResume).
func (s *Storage) ResumesUploads() bool { return true }
