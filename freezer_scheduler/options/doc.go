// Package options is freezer-scheduler's configuration: the option schema
// (upstream's names, both 13.0's flat [DEFAULT] spelling and master's
// [scheduler] / [capabilities] / [service_auth] groups), the command line
// (oslo's flag spellings: --client-id/-c, --jobs-dir/-f and the deprecated
// --conf, --concurrent_jobs, --os-username, ...), the OS_* environment
// fallbacks and the default config file search.
package options
