package main

import "testing"

// The table row is the run with the median req/s (the lower middle one for
// an even count), with its own latencies, every run's errors and the first
// error any run saw.
func TestMedianRun(t *testing.T) {
	runs := []result{
		{rps: 300, p99: 3, errs: 1},
		{rps: 100, p99: 1, errs: 0, firstErr: "EOF"},
		{rps: 200, p99: 2, errs: 2},
	}
	m := medianRun(runs)
	if m.rps != 200 || m.p99 != 2 || m.errs != 3 || m.firstErr != "EOF" {
		t.Fatalf("median of three: %+v", m)
	}
	if m := medianRun(runs[:2]); m.rps != 100 || m.errs != 1 {
		t.Fatalf("median of two: %+v", m)
	}
	if m := medianRun(runs[:1]); m != runs[0] {
		t.Fatalf("one run: %+v", m)
	}
	if m := medianRun(nil); m != (result{}) {
		t.Fatalf("no run: %+v", m)
	}
	if runs[0].rps != 300 || runs[1].rps != 100 {
		t.Fatal("medianRun reordered its argument")
	}
}
