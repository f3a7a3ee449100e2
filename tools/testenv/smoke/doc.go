// Package smoke holds the integration smoke tests of the test environment
// that tools/testenv/up.sh starts: each proves, by content and not only by
// status code, that one real service on loopback works for our Go clients
// (Keystone through gophercloud, Swift with segmented objects, S3 through
// s3api, SFTP, FTP and FTPS, MariaDB) and that Swift keeps tenants apart.
//
// The tests carry the `integration` build tag and fail, never skip, when the
// environment is missing. Pattern, the deterministic seekable byte source
// they upload, is an ordinary type with its own unit test.
package smoke
