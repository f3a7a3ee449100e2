// Package apiv2 holds the JSON documents of the Freezer v2 REST API as they
// travel on the wire: the resources (jobs, actions, sessions, clients,
// backups), the list envelopes, the search body, the job-event and
// session-action bodies, the create/update answers and the error body.
//
// The server, the Go client and the scheduler all build on these types, so
// field names and JSON tags follow upstream freezer-api exactly and must stay
// stable. The two open-ended objects of the contract, a job action's
// freezer_action and a backup's backup_metadata, are maps so that keys this
// package does not know survive a round trip; typed accessors read the keys
// the programs care about.
//
// Answers are rendered here too: Marshal encodes any document as the API
// does, and JobRenderer turns a job as the store keeps it (StoredJob) into
// a JobView that appends its document to an answer without reflection,
// for the job reads that schedulers poll.
package apiv2
