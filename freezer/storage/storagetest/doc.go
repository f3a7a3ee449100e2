// Package storagetest is the conformance suite every backup.Storage passes:
// contents, large streamed objects, exact sorted listings (with a name that
// prefixes another), missing keys, concurrent writers, deletion, failed and
// cancelled writes that leave nothing visible, and invalid keys.
//
// Backends call Run from a unit test (local) or an integration test (real
// servers) with a constructor that returns a storage on a fresh, empty root.
// Large streams come from a deterministic generator and are compared by
// hash, so the suite never holds an object in memory. RunMissingRoot checks
// a storage opened for reading only on a root that does not exist.
package storagetest
