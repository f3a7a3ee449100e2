package agent

import (
	"errors"
	"fmt"
)

// Error kinds the command line maps to exit codes. They are matched with
// errors.Is; the message of an error of a kind is its own, not the kind's.
var (
	// ErrUsage marks a bad option, a missing required option or a
	// conflicting combination: the user must change the command.
	ErrUsage = errors.New("usage error")
	// ErrNotFound marks a missing source path or no matching backup.
	ErrNotFound = errors.New("not found")
	// ErrIntegrity marks data that fails verification: a checksum
	// mismatch, an authentication failure, truncated or corrupt data, or a
	// wrong passphrase.
	ErrIntegrity = errors.New("integrity check failed")
)

// kindError gives err a kind without changing its message.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

func withKind(kind, err error) error {
	if err == nil {
		return nil
	}
	return &kindError{kind: kind, err: err}
}

func usagef(format string, a ...any) error {
	return withKind(ErrUsage, fmt.Errorf(format, a...))
}

// ExitError carries the exit status of the command run by exec, which the
// agent exits with.
type ExitError struct {
	Code int
}

func (e *ExitError) Error() string { return fmt.Sprintf("command exited with status %d", e.Code) }

// Usage marks err as a usage error (exit status 2) without changing its
// message.
func Usage(err error) error { return withKind(ErrUsage, err) }

// NotFound marks err as a missing backup or resource (its exit status).
func NotFound(err error) error { return withKind(ErrNotFound, err) }
