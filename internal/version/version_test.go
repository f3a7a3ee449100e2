package version

import "testing"

func TestStringReturnsVersion(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "9.9.9-test"
	if got := String(); got != "9.9.9-test" {
		t.Fatalf("String() = %q, want the link-time value", got)
	}
}
