//go:build integration

package main

import (
	"context"

	"freezer.dev/freezer/freezer_api/apiconf"
	"freezer.dev/freezer/freezer_api/store"
)

// migrateForTest applies the schema of the database a config file names.
func migrateForTest(ctx context.Context, conf string) error {
	s, err := apiconf.Load(apiconf.Args{ConfigFiles: []string{conf}})
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, s.Connection.Reveal(), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = st.Migrate(ctx)
	return err
}
