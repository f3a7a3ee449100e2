// Package swift is the backup.Storage on OpenStack Swift, authenticated
// through Keystone v3 with gophercloud, in upstream's layout: the first
// element of --container is the Swift container (created when missing) and
// the rest an object-name prefix; a payload key ("…/data") is stored as
// numbered %08d segments of --max-segment-size under the sibling
// "segments/" directory followed by a zero-byte DLO manifest at the key
// whose X-Object-Manifest names "<container>/<prefix…>/segments". Other
// keys are plain objects.
//
// Segments are uploaded in parallel with bounded memory (segments in
// flight × segment size), each with its MD5 sent as ETag and checked in the
// answer, and retried with backoff on 5xx answers and network failures;
// an expired token is renewed by gophercloud's re-authentication. The
// manifest is written only after every segment is stored, so a failed
// upload never leaves a visible object. As in upstream's layout, a
// directory holds at most one payload (its segments share the directory's
// "segments/"), and listing that directory shows "segments" next to
// "data". A download cut in the middle resumes with a Range request.
//
// Rewriting an existing payload key overwrites its segments in place, so a
// failed rewrite can damage the previous content; the agent never rewrites
// a backup (each has its own timestamped directory).
package swift
