package store

import (
	"context"
	"strings"
)

// jobGetTail restricts readJobs to one job of one project: a job get.
const jobGetTail = " AND d.project_id = ? AND d.id = ?"

// jobGetBatch bounds the ids of one query of batchedJobGet; a larger
// round is read in several queries.
const jobGetBatch = 100

// batchedJobGet reads job id of projectID for a get. Concurrent gets of a
// project share their reads (rounds): one query with d.id IN (...) serves
// every get waiting, instead of a round trip and a join each. Under load
// (and on a cold job cache) that query's cost, most of it per query rather
// than per row, was most of a get's.
func (s *Store) batchedJobGet(ctx context.Context, projectID, id string) ([]JobView, error) {
	found, err := s.gets.do(ctx, projectID, id, s.readJobGets)
	if err != nil {
		return nil, err
	}
	if views, ok := found[id]; ok {
		return views, nil
	}
	// Not among the rows of a batch: read alone, so that the database's
	// own comparison decides (MariaDB's PAD SPACE collations match "x "
	// to "x"). A get of a missing job is rare.
	return s.readJobs(ctx, jobGetTail, []any{projectID, id})
}

// readJobGets is the read of a round of gets: the answer of each id it
// settles (found, or alone and missing); ids absent from the map are read
// alone by their request.
func (s *Store) readJobGets(ctx context.Context, projectID string, ids []string) (map[string][]JobView, error) {
	out := make(map[string][]JobView, len(ids))
	if len(ids) == 1 {
		views, err := s.readJobs(ctx, jobGetTail, []any{projectID, ids[0]})
		if err != nil {
			return nil, err
		}
		out[ids[0]] = views
		return out, nil
	}
	want := make([]any, 0, len(ids)+1)
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	for len(want) > 0 {
		n := min(len(want), jobGetBatch)
		args := append([]any{projectID}, want[:n]...)
		want = want[n:]
		tail := " AND d.project_id = ? AND d.id IN (?" + strings.Repeat(", ?", n-1) + ")"
		views, err := s.readJobs(ctx, tail, args)
		if err != nil {
			return nil, err
		}
		for _, v := range views {
			if seen[v.row.ID] {
				out[v.row.ID] = []JobView{v}
			}
		}
	}
	return out, nil
}
