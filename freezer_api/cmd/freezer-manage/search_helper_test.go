//go:build integration

package main

import "freezer.dev/freezer/freezer_api/apiv2"

func apiSearch(k string, v any) apiv2.Search {
	return apiv2.Search{Match: []map[string]any{{k: v}}}
}
