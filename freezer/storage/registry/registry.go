package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/ftp"
	"freezer.dev/freezer/freezer/storage/local"
	"freezer.dev/freezer/freezer/storage/multi"
	"freezer.dev/freezer/freezer/storage/ratelimit"
	"freezer.dev/freezer/freezer/storage/retry"
	"freezer.dev/freezer/freezer/storage/s3"
	"freezer.dev/freezer/freezer/storage/ssh"
	"freezer.dev/freezer/freezer/storage/swift"
)

// Env is what constructors may take from the process; the registry never
// reads the environment itself.
type Env struct {
	// Getenv reads OS_* and the S3 fallbacks (ACCESS_KEY, SECRET_KEY,
	// ENDPOINT); nil reads nothing.
	Getenv func(string) string
	// Home is the user's home directory, for the ~/.ssh defaults.
	Home string
	// Retry is the retry policy of every backend (per Swift segment or S3
	// part, per call for ssh and ftp); zero means retry.Default(). Its
	// OnRetry hook is where the agent logs retries.
	Retry retry.Policy
	// ReadOnly opens every storage without creating its root (directory,
	// container or bucket): restore, info and retention only read and
	// delete, and a mistyped --container must not leave an empty one.
	ReadOnly bool
}

// Constructor builds one storage from its option values.
type Constructor func(ctx context.Context, v storage.Values, env Env) (backup.Storage, error)

// Constructors is the table of storage names.
func Constructors() map[string]Constructor {
	return map[string]Constructor{
		"local": func(_ context.Context, v storage.Values, env Env) (backup.Storage, error) {
			return local.New(local.Options{Root: v.Get("container"), NoCreate: env.ReadOnly})
		},
		"swift": func(ctx context.Context, v storage.Values, env Env) (backup.Storage, error) {
			o, err := swift.OptionsFrom(v, env.Getenv)
			if err != nil {
				return nil, err
			}
			o.Retry = env.Retry
			o.NoCreate = env.ReadOnly
			return swift.New(ctx, o)
		},
		"s3": func(ctx context.Context, v storage.Values, env Env) (backup.Storage, error) {
			o, err := s3.OptionsFrom(v, env.Getenv)
			if err != nil {
				return nil, err
			}
			o.Retry = env.Retry
			o.NoCreate = env.ReadOnly
			return s3.New(ctx, o)
		},
		"ssh": func(ctx context.Context, v storage.Values, env Env) (backup.Storage, error) {
			o, err := ssh.OptionsFrom(v, env.Home)
			if err != nil {
				return nil, err
			}
			o.NoCreate = env.ReadOnly
			st, err := ssh.New(ctx, o)
			if err != nil {
				return nil, err
			}
			// A dropped SSH connection is redialled on the next call.
			return retry.Wrap(st, env.Retry), nil
		},
		"ftp":  ftpConstructor(false),
		"ftps": ftpConstructor(true),
	}
}

func ftpConstructor(tls bool) Constructor {
	return func(ctx context.Context, v storage.Values, env Env) (backup.Storage, error) {
		o, err := ftp.OptionsFrom(v, tls)
		if err != nil {
			return nil, err
		}
		o.Retry = env.Retry
		o.NoCreate = env.ReadOnly
		st, err := ftp.New(ctx, o)
		if err != nil {
			return nil, err
		}
		return retry.Wrap(st, env.Retry), nil
	}
}

// Names lists the storage names, sorted.
func Names() []string {
	var names []string
	for n := range Constructors() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New builds the storage named by v["storage"] (upstream's default,
// "swift", when unset) and applies --upload-limit / --download-limit
// (bytes per second, K/M/G suffixes; -1 or unset for none).
func New(ctx context.Context, v storage.Values, env Env) (backup.Storage, error) {
	name := strings.ToLower(v.Get("storage"))
	if name == "" {
		name = "swift"
	}
	c, ok := Constructors()[name]
	if !ok {
		return nil, fmt.Errorf("unknown storage %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	up, err := storage.ParseSize(v.Get("upload_limit"))
	if err != nil {
		return nil, fmt.Errorf("option upload-limit: %w", err)
	}
	down, err := storage.ParseSize(v.Get("download_limit"))
	if err != nil {
		return nil, fmt.Errorf("option download-limit: %w", err)
	}
	st, err := c(ctx, v, env)
	if err != nil {
		return nil, err
	}
	return ratelimit.Wrap(st, up, down), nil
}

// FromSections builds one storage per [storage:NAME] section, each
// section's keys over defaults (the job's other options, e.g.
// max_segment_size or the os_* settings), and combines them with multi
// when there is more than one. Limits given in defaults (the job-wide
// --upload-limit / --download-limit) apply once, to the combined stream;
// limits inside a section apply to that storage alone.
func FromSections(ctx context.Context, defaults storage.Values, sections map[string]storage.Values, env Env) (backup.Storage, error) {
	if len(sections) == 0 {
		return nil, fmt.Errorf("no [storage:NAME] section")
	}
	names := make([]string, 0, len(sections))
	for n := range sections {
		names = append(names, n)
	}
	slices.Sort(names)
	var built []backup.Storage
	for _, n := range names {
		sec := sections[n]
		if sec.Get("storage") == "" || sec.Get("container") == "" {
			closeAll(built)
			return nil, fmt.Errorf("section [storage:%s]: needs storage and container", n)
		}
		v := storage.Values{}
		for k, val := range defaults {
			if nk := storage.NormKey(k); nk != "upload_limit" && nk != "download_limit" {
				v[nk] = val
			}
		}
		for k, val := range sec {
			v[storage.NormKey(k)] = val
		}
		st, err := New(ctx, v, env)
		if err != nil {
			closeAll(built)
			return nil, fmt.Errorf("section [storage:%s]: %w", n, err)
		}
		built = append(built, st)
	}
	return Combine(built, defaults)
}

// Combine makes one storage of built (multi when there are several) and
// applies limits' upload_limit and download_limit once, to the combined
// stream. On error it closes every storage in built.
func Combine(built []backup.Storage, limits storage.Values) (backup.Storage, error) {
	up, err := storage.ParseSize(limits.Get("upload_limit"))
	if err != nil {
		closeAll(built)
		return nil, fmt.Errorf("option upload-limit: %w", err)
	}
	down, err := storage.ParseSize(limits.Get("download_limit"))
	if err != nil {
		closeAll(built)
		return nil, fmt.Errorf("option download-limit: %w", err)
	}
	var combined backup.Storage = built[0]
	if len(built) > 1 {
		m, err := multi.New(built...)
		if err != nil {
			closeAll(built)
			return nil, err
		}
		combined = m
	}
	return ratelimit.Wrap(combined, up, down), nil
}

func closeAll(sts []backup.Storage) {
	var errs []error
	for _, st := range sts {
		errs = append(errs, storage.Close(st))
	}
	_ = errors.Join(errs...)
}
