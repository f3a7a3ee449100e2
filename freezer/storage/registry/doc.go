// Package registry builds storages by name ("local", "swift", "s3", "ssh",
// "ftp", "ftps") from upstream's option names, for the agent's command
// line and for the [storage:NAME] sections of a job INI file. The table of
// constructors lives in one function, not in init() side effects.
package registry
