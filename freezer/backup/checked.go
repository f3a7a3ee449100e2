package backup

import "context"

type callerChecksumKey struct{}

// WithCallerChecksum marks ctx for Storage.Get calls whose caller checks
// the whole stream against a checksum of its own: the agent does when the
// metadata has data_sha256. A backend may then skip per-part checks that
// would only repeat it. Swift's segment MD5s are a fifth of a restore's
// CPU and, for such a payload, catch nothing the SHA-256 does not; they
// also catch nothing earlier, since a segment's bytes are handed on before
// its last byte arrives. Nothing else may be skipped.
func WithCallerChecksum(ctx context.Context) context.Context {
	return context.WithValue(ctx, callerChecksumKey{}, true)
}

// CallerChecksum reports whether ctx was marked by WithCallerChecksum.
func CallerChecksum(ctx context.Context) bool {
	v, _ := ctx.Value(callerChecksumKey{}).(bool)
	return v
}
