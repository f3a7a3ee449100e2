// Package agentrun runs one freezer_action through the freezer-agent binary.
//
// The action is written to a private (0600) INI file in the agent's
// --config format, under an [action] section, and the agent is started as
// `freezer-agent --metadata-out - --config <file>` in a process group of its
// own, under a tiny /bin/sh wrapper that records the agent's exit status in
// a file. Its stdout (the backup metadata JSON) and stderr go to files in
// the run directory, not to pipes: if the scheduler dies, the agent keeps
// running and its outcome can still be read by the next scheduler, which
// re-attaches with Adopt instead of running the action a second time.
//
// Abort stops the whole group: SIGTERM first so the agent can clean up,
// SIGKILL after a grace period. That is what makes a job abort actually stop
// the agent (upstream never delivered the signal).
package agentrun
