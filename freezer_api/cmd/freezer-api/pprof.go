//go:build pprof

package main

// Built with -tags pprof, freezer-api serves net/http/pprof on the address
// in FREEZER_API_PPROF (e.g. 127.0.0.1:6060), for profiling under load.
// Release builds do not contain it.

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("FREEZER_API_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
