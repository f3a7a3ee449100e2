package backup

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// ErrResumeDiverged is wrapped by a payload Put that resumes an interrupted
// upload and finds that the stream it is given differs from what that
// upload stored: the stored segments belong to another stream and cannot
// be kept. The agent then starts the backup over.
var ErrResumeDiverged = errors.New("the stream differs from what the interrupted upload stored")

// UploadResume lets a payload Put (a key whose base name is "data") keep
// the segments or parts that an interrupted Put of the same key stored,
// instead of uploading them again. It travels in the context
// (WithUploadResume), so decorators pass it through unchanged.
//
// A storage that supports it compares each chunk of the stream with what
// it already holds at that position (size and MD5, as the server reports
// them): an equal chunk is not sent again, a different one makes Put fail
// with ErrResumeDiverged, and a missing one is uploaded. On failure it
// leaves what it stored in place (no abort), for the next attempt to keep,
// or for admin to remove once it is older than the grace period.
type UploadResume struct {
	mu     sync.Mutex
	tokens map[string]string
	save   func(map[string]string) error
	kept   atomic.Int64
}

// NewUploadResume starts from the tokens an earlier attempt recorded
// (nil for none); save, when not nil, is called with all tokens whenever
// one changes, and must make them durable before it returns.
func NewUploadResume(tokens map[string]string, save func(map[string]string) error) *UploadResume {
	t := map[string]string{}
	for k, v := range tokens {
		t[k] = v
	}
	return &UploadResume{tokens: t, save: save}
}

// Token returns what storage (by its String) recorded for the upload, such
// as an S3 multipart upload id; "" when nothing.
func (u *UploadResume) Token(storage string) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tokens[storage]
}

// SetToken records storage's token and saves the tokens; a storage calls it
// before it stores anything under the token.
func (u *UploadResume) SetToken(storage, token string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if token == "" {
		delete(u.tokens, storage)
	} else {
		u.tokens[storage] = token
	}
	if u.save == nil {
		return nil
	}
	c := make(map[string]string, len(u.tokens))
	for k, v := range u.tokens {
		c[k] = v
	}
	return u.save(c)
}

// Kept counts n bytes found already stored and not uploaded again.
func (u *UploadResume) Kept(n int64) { u.kept.Add(n) }

// KeptBytes is the sum of Kept.
func (u *UploadResume) KeptBytes() int64 { return u.kept.Load() }

type uploadResumeKey struct{}

// WithUploadResume returns ctx carrying u.
func WithUploadResume(ctx context.Context, u *UploadResume) context.Context {
	return context.WithValue(ctx, uploadResumeKey{}, u)
}

// UploadResumeFrom returns the UploadResume in ctx, or nil.
func UploadResumeFrom(ctx context.Context) *UploadResume {
	u, _ := ctx.Value(uploadResumeKey{}).(*UploadResume)
	return u
}
