// Package server is the freezer-api HTTP front end: the v2 routes (one
// AddTo per resource), the versions and home documents, /healthcheck and
// /metrics, and the cross-cutting middleware (request ids, structured
// logs, metrics, panic recovery, body size limit, path normalisation,
// and authentication, which comes before routing as keystonemiddleware
// does upstream: a caller without a valid token gets 401 on every path
// but /, /healthcheck and /metrics, routed or not).
//
// Handlers follow one order: authenticate, authorize (oslo.policy rule of
// upstream's name), decode and validate the body, call the store, write
// JSON. The server depends on the Store interface; freezer-api passes a
// store.Store wrapped by jobcache, whose job reads answer
// apiv2.JobViews that the job handlers append to the answer as the
// caller may see them (trust ids only to the central scheduler and the
// trustor, no other project's process ids). Every error is turned into
// a status and a JSON body in one place,
// writeError.
package server
