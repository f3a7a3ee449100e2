package main

import (
	"context"
	"errors"
	"fmt"

	"freezer.dev/freezer/freezer/agent/cli"
	"freezer.dev/freezer/freezer/backup"
)

// deps wires the engines, codecs and storages of this build into the agent.
func deps() cli.Deps {
	return cli.Deps{
		OpenStorage: func(ctx context.Context, specs []cli.StorageSpec) (backup.Storage, error) {
			return nil, fmt.Errorf("storage %q: not available in this build yet", specs[0].Type)
		},
		NewEngine: func(name string) (backup.Engine, error) {
			return nil, errors.New("no engine in this build yet")
		},
	}
}
