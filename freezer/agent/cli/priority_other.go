//go:build !linux

package cli

import "errors"

func raisePriority() error { return errors.New("not supported on this system") }
