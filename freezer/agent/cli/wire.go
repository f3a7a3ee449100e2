package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/codec"
	"freezer.dev/freezer/freezer/engine/rsync"
	"freezer.dev/freezer/freezer/engine/tar"
	"freezer.dev/freezer/freezer/storage"
	"freezer.dev/freezer/freezer/storage/registry"
)

// DefaultDeps wires this build's engines, codecs and storages.
func DefaultDeps() Deps {
	return Deps{
		OpenStorage: openStorage,
		NewEngine:   newEngine,
		Codecs:      codecs{},
	}
}

func newEngine(name string) (backup.Engine, error) {
	switch name {
	case "tar":
		return tar.New(tar.Options{}), nil
	case "rsync", "rsyncv2":
		// upstream's rsync (v1) never worked in Python 3 and shares the
		// storage name "rsync" with rsyncv2: both mean rsyncv2 here
		return rsync.New(rsync.Options{}), nil
	}
	return nil, fmt.Errorf("engine %q is not supported by this agent (supported: tar, rsyncv2, rsync)", name)
}

// codecs adapts package codec to agent.Codecs.
type codecs struct{}

func (codecs) Compressor(name string) (backup.Codec, error) { return codec.Compressor(name) }

func (codecs) Cipher(format string, pass []byte, compression string) (backup.Codec, error) {
	return codec.NewEncryption(format, pass, compression, codec.EncryptOptions{})
}

func (codecs) CipherRand(format string, pass []byte, compression string, rand io.Reader) (backup.Codec, error) {
	return codec.NewEncryption(format, pass, compression, codec.EncryptOptions{Rand: rand})
}

func (codecs) ReadPassFile(path string) ([]byte, error) { return codec.ReadPassFile(path) }

// openStorage opens each storage through the storage registry (which adds
// retries and the storage's own bandwidth limits), combines several into
// one that writes to all of them, and applies the job-wide limits once to
// the combined stream: a 10 MiB/s job writing to two storages moves
// 10 MiB/s of backup, not 20.
func openStorage(ctx context.Context, specs []StorageSpec) (backup.Storage, error) {
	var built []backup.Storage
	closeAll := func() {
		for _, st := range built {
			storage.Close(st)
		}
	}
	for _, s := range specs {
		v := storage.ValuesFrom(s.Options)
		v["storage"] = s.Type
		v["container"] = s.Container
		home := s.Getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		st, err := registry.New(ctx, v, registry.Env{Getenv: s.Getenv, Home: home, ReadOnly: s.ReadOnly})
		if err != nil {
			closeAll()
			// Every backend names itself in its errors ("swift storage:
			// ..."); with several storages the container tells which.
			if len(specs) > 1 {
				err = fmt.Errorf("container %q: %w", s.Container, err)
			}
			return nil, err
		}
		built = append(built, st)
	}
	return registry.Combine(built, storage.ValuesFrom(specs[0].JobLimits))
}
