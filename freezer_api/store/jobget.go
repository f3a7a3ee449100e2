package store

import (
	"context"
	"strings"
)

// jobGetTail restricts readJobs to one job of one project: a job get.
const jobGetTail = " AND d.project_id = ? AND d.id = ?"

// jobGetSizes are the lengths of the IN lists of batchedJobGet's
// queries: a batch is padded (with its last id) to the next one, so that
// these few statements are all it prepares (the statement cache holds
// maxCachedStmts, first come); a larger round is read in several queries.
var jobGetSizes = [...]int{8, 32, 100}

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
	want := make([]any, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	if len(want) == 1 {
		views, err := s.readJobs(ctx, jobGetTail, []any{projectID, ids[0]})
		if err != nil {
			return nil, err
		}
		out[ids[0]] = views
		return out, nil
	}
	for len(want) > 0 {
		n := min(len(want), jobGetSizes[len(jobGetSizes)-1])
		size := jobGetSizes[0]
		for _, sz := range jobGetSizes {
			if size = sz; sz >= n {
				break
			}
		}
		args := append(append(make([]any, 0, size+1), projectID), want[:n]...)
		for len(args) < size+1 {
			args = append(args, want[n-1])
		}
		want = want[n:]
		tail := " AND d.project_id = ? AND d.id IN (?" + strings.Repeat(", ?", size-1) + ")"
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
