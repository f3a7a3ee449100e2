package swift

import (
	"time"

	"freezer.dev/freezer/freezer/openstack"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/internal/idle"
	"freezer.dev/freezer/freezer/storage/retry"
)

// Auth holds the Keystone v3 settings (package openstack).
type Auth = openstack.Auth

// Options configures a Swift storage.
type Options struct {
	// Container is the --container value: "container[/prefix]".
	Container string
	Auth      Auth
	// StorageURL, when set, replaces the object-store endpoint from the
	// catalog (e.g. "http://host:8080/v1/AUTH_<project>").
	StorageURL string
	// SegmentSize is --max-segment-size; zero means 32 MiB.
	SegmentSize int
	// Parallel bounds the segments uploaded at once; zero means 4.
	Parallel int
	// Retry is the per-request retry policy; zero means retry.Default().
	Retry retry.Policy
	// RequestTimeout bounds waiting for an answer's headers; zero means
	// 2 minutes.
	RequestTimeout time.Duration
	// IdleTimeout fails a request whose connection moves no data for this
	// long (a stalled proxy); zero means idle.DefaultTimeout.
	IdleTimeout time.Duration
	// NoCreate opens without creating the container, for the actions that
	// only read or delete (a missing container lists as empty).
	NoCreate bool
}

// OptionsFrom maps upstream option names (v) and the OS_* environment
// (read through getenv, which may be nil) to Options. Options win over
// the environment, as in upstream.
func OptionsFrom(v storage.Values, getenv func(string) string) (Options, error) {
	g := func(names []string, envs ...string) string { return v.Or(getenv, names, envs...) }
	o := Options{
		Container:  v.Get("container"),
		StorageURL: g([]string{"os_storage_url"}, "OS_STORAGE_URL"),
	}
	var err error
	if o.Auth, err = openstack.AuthFrom(v, getenv); err != nil {
		return Options{}, err
	}
	if o.IdleTimeout, err = idle.Timeout(v); err != nil {
		return Options{}, err
	}
	if o.Container == "" {
		o.Container = "freezer_backups"
	}
	if o.SegmentSize, err = storage.SegmentSize(v); err != nil {
		return Options{}, err
	}
	return o, nil
}
