// Package scheduler is the heart of freezer-scheduler: it registers the
// node with freezer-api, polls the node's jobs, keeps each job's state
// machine (stop / scheduled / running / completed / removed, driven by the
// start, stop, abort and remove events), fires runs on their schedule and
// runs each action through the agent, reporting every transition back to
// the API with a PATCH of the whole job_schedule.
//
// Where upstream is broken this package does what upstream meant: abort
// kills the running agent, a session's hold-off and out-of-sync answers
// gate the run (bounded wait with backoff, a late member does not run and
// reports a failed run so the session's result covers every member), and a
// restarted scheduler re-attaches to the runs of its previous life instead
// of running a finished one-shot job again.
//
// Time comes from an injected Clock and randomness (poll jitter) from an
// injected function, so tests drive every rule deterministically.
package scheduler
