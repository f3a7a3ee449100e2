// Package s3 is the backup.Storage on an S3-compatible object store
// (minio-go, path-style requests, SigV4), in upstream's layout: --container
// is "bucket[/prefix]" (the bucket is created when missing) and each key is
// one object "<prefix>/<key>".
//
// A stream longer than --max-segment-size is stored as ONE object through
// a multipart upload whose parts are max-segment-size chunks, uploaded in
// parallel with bounded memory and retried one by one; if a part still
// fails the upload is aborted and Put fails, so nothing is visible (upstream
// swallowed that failure and went on to write metadata). Listings use the
// prefix "<dir>/" and the delimiter "/", so "host_b1" never matches
// "host_b10" (upstream listed with the bare prefix).
package s3
