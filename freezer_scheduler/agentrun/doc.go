// Package agentrun runs one freezer_action through the freezer-agent binary.
//
// The action is written to a private (0600) temporary INI file in the
// agent's --config format, under an [action] section, and the agent is
// started as `freezer-agent --metadata-out - --config <file>` in a process
// group of its own. Its stdout (the backup metadata JSON) and the tail of
// its stderr are captured with fixed memory bounds. Abort stops the whole
// group: SIGTERM first so the agent can clean up, SIGKILL after a grace
// period, which is what makes a job abort actually stop the agent (upstream
// never delivered the signal).
package agentrun
