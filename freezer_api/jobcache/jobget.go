package jobcache

import (
	"context"

	"freezer.dev/freezer/freezer_api/apiv2"
)

// batchedGet reads job id of projectID for a get. Concurrent gets of a
// project share their reads (rounds): one query for many ids
// (store.ReadJobsByID) serves every get waiting, instead of a round trip
// and a join each. Under load (and on a cold job cache) that query's
// cost, most of it per query rather than per row, was most of a get's.
func (c *Store) batchedGet(ctx context.Context, projectID, id string) ([]apiv2.JobView, error) {
	found, err := c.gets.do(ctx, projectID, id, c.readGets)
	if err != nil {
		return nil, err
	}
	if views, ok := found[id]; ok {
		return views, nil
	}
	// Not among the rows of a batch: read alone, so that the database's
	// own comparison decides (MariaDB's PAD SPACE collations match "x "
	// to "x"). A get of a missing job is rare.
	return c.views(c.Store.ReadJobsByID(ctx, projectID, []string{id}))
}

// readGets is the read of a round of gets: the answer of each id it
// settles (found, or alone and missing); ids absent from the map are read
// alone by their request.
func (c *Store) readGets(ctx context.Context, projectID string, ids []string) (map[string][]apiv2.JobView, error) {
	out := make(map[string][]apiv2.JobView, len(ids))
	want := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	views, err := c.views(c.Store.ReadJobsByID(ctx, projectID, want))
	if err != nil {
		return nil, err
	}
	if len(want) == 1 {
		out[want[0]] = views
		return out, nil
	}
	for _, v := range views {
		if seen[v.JobID] {
			out[v.JobID] = []apiv2.JobView{v}
		}
	}
	return out, nil
}
