package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCacheCounters(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ours/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("# HELP freezer_api_job_cache_hits_total x\n# TYPE freezer_api_job_cache_hits_total counter\n" +
			"freezer_api_job_cache_hits_total 1.5e+06\nfreezer_api_job_cache_misses_total 42\n" +
			"freezer_api_job_cache_entries 7\nfreezer_api_requests_total{route=\"x\"} 9\n"))
	})
	mux.HandleFunc("/partial/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("freezer_api_job_cache_hits_total 3\n"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ours := &target{url: srv.URL + "/ours", hc: srv.Client()}
	if h, m, ok := ours.cacheCounters(); !ok || h != 1.5e6 || m != 42 {
		t.Fatalf("ours: %v %v %v", h, m, ok)
	}
	for _, path := range []string{"/partial", "/upstream"} { // one counter only; 404
		if _, _, ok := (&target{url: srv.URL + path, hc: srv.Client()}).cacheCounters(); ok {
			t.Fatalf("%s: counters reported", path)
		}
	}
}
