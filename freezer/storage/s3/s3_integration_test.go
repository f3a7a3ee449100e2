//go:build integration

package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/internal/resume"
	"freezer.dev/freezer/freezer/storage/retry"
	"freezer.dev/freezer/freezer/storage/storagetest"
	"freezer.dev/freezer/internal/testutil/testenv"
)

const testBucket = "freezer-go-storagetest"

func demoOptions(t *testing.T, container string) Options {
	env := testenv.Load(t)
	v := storage.Values{
		"container":        container,
		"endpoint":         env.Get(t, "S3_ENDPOINT"),
		"access_key":       env.Get(t, "DEMO_S3_ACCESS_KEY"),
		"secret_key":       env.Get(t, "DEMO_S3_SECRET_KEY"),
		"region":           env.Get(t, "S3_REGION"),
		"max_segment_size": "5M",
	}
	o, err := OptionsFrom(v, nil)
	if err != nil {
		t.Fatal(err)
	}
	o.Retry = retry.Policy{Attempts: 4, Base: 100 * time.Millisecond, Max: time.Second}
	return o
}

func uniq(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()) + "-" + hex.EncodeToString(b)
}

func newTest(t *testing.T, mod func(*Options)) *Storage {
	t.Helper()
	run := uniq(t)
	o := demoOptions(t, testBucket+"/"+run+"/root")
	if mod != nil {
		mod(&o)
	}
	ctx := context.Background()
	s, err := New(ctx, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		parent, err := New(ctx, demoOptions(t, testBucket+"/"+run))
		if err == nil {
			err = parent.Delete(ctx, "root")
		}
		if err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return s
}

func TestS3Conformance(t *testing.T) {
	storagetest.RunConfig(t, storagetest.Config{LargeSize: 12<<20 + 4321},
		func(t *testing.T) backup.Storage { return newTest(t, nil) })
}

// Restore, info and retention open the storage with NoCreate: a bucket
// that does not exist stays so (the credentials are still checked).
func TestS3MissingBucketNotCreated(t *testing.T) {
	storagetest.RunMissingRoot(t, func(t *testing.T) (backup.Storage, func() bool) {
		b := make([]byte, 6)
		rand.Read(b)
		o := demoOptions(t, "fzgo-missing-"+hex.EncodeToString(b)+"/prefix")
		o.NoCreate = true
		ctx := context.Background()
		s, err := New(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		exists := func() bool {
			_, err := s.core.ListObjectsV2(s.bucket, "", "", "", "/", 1)
			if err != nil && minio.ToErrorResponse(err).Code != "NoSuchBucket" {
				t.Fatalf("listing the bucket: %v", err)
			}
			return err == nil
		}
		t.Cleanup(func() {
			if exists() {
				s.core.RemoveBucket(ctx, s.bucket)
			}
		})
		return s, exists
	})
	// Wrong keys still fail at once, bucket or not.
	o := demoOptions(t, "fzgo-missing-x")
	o.NoCreate = true
	o.SecretKey = "wrong"
	if _, err := New(context.Background(), o); err == nil {
		t.Fatal("New with a wrong secret key and NoCreate succeeded")
	}
}

func pendingUploads(t *testing.T, s *Storage) int {
	ups, err := s.uploads(context.Background(), s.prefix+"/")
	if err != nil {
		t.Fatalf("listing multipart uploads: %v", err)
	}
	return len(ups)
}

// TestS3PayloadIsOneMultipartObject: a payload longer than a part is one
// object whose ETag says how many parts it was uploaded in.
func TestS3PayloadIsOneMultipartObject(t *testing.T) {
	s := newTest(t, nil)
	ctx := context.Background()
	ref := backup.Ref{Engine: "tar", Name: "hostA_bk1", L0: 1795627945, Level: 0, TS: 1795627945}
	if err := s.Put(ctx, ref.DataKey(), storagetest.Generator(3, 11<<20)); err != nil {
		t.Fatal(err)
	}
	info, err := s.core.StatObject(ctx, s.bucket, s.prefix+"/data/tar/hostA_bk1/1795627945/0_1795627945/data", minioStat())
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 11<<20 || !strings.HasSuffix(info.ETag, "-3") {
		t.Fatalf("object size %d etag %q, want %d bytes in 3 parts", info.Size, info.ETag, 11<<20)
	}
	if n := pendingUploads(t, s); n != 0 {
		t.Fatalf("%d multipart uploads left open", n)
	}
}

// failPart fails the upload of one part number at the HTTP level, as a
// server error would, every time it is tried.
type failPart struct {
	next  http.RoundTripper
	part  string
	fails atomic.Int32
}

func (f *failPart) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == f.part {
		f.fails.Add(1)
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errors.New("injected: connection reset while uploading a part")
	}
	return f.next.RoundTrip(r)
}

// TestS3FailedPartAbortsUpload: a part that keeps failing fails the Put,
// aborts the multipart upload and leaves no object.
func TestS3FailedPartAbortsUpload(t *testing.T) {
	var fp *failPart
	s := newTest(t, func(o *Options) {
		o.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
			fp = &failPart{next: rt, part: "2"}
			return fp
		}
	})
	ctx := context.Background()
	err := s.Put(ctx, "x/data", storagetest.Generator(4, 16<<20))
	if err == nil {
		t.Fatal("Put with a failing part succeeded")
	}
	if !strings.Contains(err.Error(), "segment 1") || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Errorf("error does not name the part and the retries: %v", err)
	}
	if fp.fails.Load() != 4 {
		t.Errorf("part 2 tried %d times, want 4", fp.fails.Load())
	}
	if _, err := s.Get(ctx, "x/data"); !errors.Is(err, backup.ErrNotFound) {
		t.Fatalf("Get after a failed multipart Put: %v", err)
	}
	if n := pendingUploads(t, s); n != 0 {
		t.Fatalf("%d multipart uploads left open after the failure", n)
	}
}

func TestS3WrongSecret(t *testing.T) {
	o := demoOptions(t, testBucket)
	o.SecretKey = "wrong"
	if _, err := New(context.Background(), o); err == nil {
		t.Fatal("New with a wrong secret succeeded")
	}
}

// cutGet cuts the body of the first full-object GET after n bytes, as a
// dropped connection would.
type cutGet struct {
	next http.RoundTripper
	n    int64
	done atomic.Bool
}

func (c *cutGet) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err != nil || r.Method != http.MethodGet || r.Header.Get("Range") != "" || !strings.Contains(r.URL.Path, "/r/data") || c.done.Swap(true) {
		return resp, err
	}
	resp.Body = &cutBody{rc: resp.Body, left: c.n}
	return resp, nil
}

type cutBody struct {
	rc   io.ReadCloser
	left int64
}

func (c *cutBody) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *cutBody) Close() error { return c.rc.Close() }

// TestS3DownloadResumes: a download cut in the middle continues with a
// Range request and yields exactly the object.
func TestS3DownloadResumes(t *testing.T) {
	cg := &cutGet{n: 3 << 20}
	s := newTest(t, func(o *Options) {
		o.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { cg.next = rt; return cg }
	})
	ctx := context.Background()
	size := int64(12 << 20)
	if err := s.Put(ctx, "r/data", storagetest.Generator(6, size)); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "r/data")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, n, err := storagetest.HashOf(rc)
	want, _, _ := storagetest.HashOf(storagetest.Generator(6, size))
	if err != nil || n != size || got != want {
		t.Fatalf("read %d bytes, hash ok %v, %v", n, got == want, err)
	}
	if !cg.done.Load() || rc.(*resume.Reader).Resumes != 1 {
		t.Fatalf("the cut was not exercised (cut %v, resumes %d)", cg.done.Load(), rc.(*resume.Reader).Resumes)
	}
}

// TestS3AbortStale: an upload abandoned by a dead writer (begun, parts
// sent, never completed) is found and aborted.
func TestS3AbortStale(t *testing.T) {
	s := newTest(t, nil)
	ctx := context.Background()
	if _, err := s.core.NewMultipartUpload(ctx, s.bucket, s.prefix+"/x/data", minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := pendingUploads(t, s); n != 1 {
		t.Fatalf("%d pending uploads, want 1", n)
	}
	if n, err := s.AbortStale(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("AbortStale with an old cutoff aborted %d, %v", n, err)
	}
	n, err := s.AbortStale(ctx, time.Now().Add(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("AbortStale aborted %d, %v; want 1", n, err)
	}
	if n := pendingUploads(t, s); n != 0 {
		t.Fatalf("%d pending uploads left", n)
	}
}

// TestS3ResumesUploads: see storagetest.RunResume; the interrupted
// uploads stay incomplete (not aborted) for the next attempt.
func TestS3ResumesUploads(t *testing.T) {
	s := newTest(t, func(o *Options) { o.SegmentSize = MinPartSize; o.Parallel = 2 })
	storagetest.RunResume(t, s, MinPartSize)
	if n, err := s.IncompleteUploadsUnder(context.Background(), "data"); err != nil || n != 0 {
		// The diverged one is aborted; the resumed one completed.
		t.Fatalf("%d incomplete uploads left (%v)", n, err)
	}
}
