// Package jobcache answers the job reads of freezer-api (a job list, a
// job get, the scheduler's poll) as rendered apiv2.JobViews, and keeps
// them: Store wraps a store.Store, embedding it, so that it implements
// everything the server needs while the store stays a plain SQL
// repository.
//
// Its coherence rule lives in two places: the store bumps a project's job
// generation in every transaction that writes the project's jobs, actions
// or sessions; this package answers from its cache only while that
// generation is unchanged, and reads it from the database for every
// request (shared by concurrent ones), so several API instances on one
// database never answer older than it. Concurrent gets of a project also
// share their database reads, cache or not, and stored JSON texts are
// rendered once each (apiv2.JobRenderer).
package jobcache
