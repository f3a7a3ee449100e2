package storage

import "testing"

// Storage booleans use the one spelling set of config.ParseBool; empty is
// the default.
func TestBool(t *testing.T) {
	for _, c := range []struct {
		in   string
		def  bool
		want bool
		bad  bool
	}{
		{"", true, true, false},
		{" ", false, false, false},
		{"True", false, true, false},
		{"yes", false, true, false},
		{"OFF", true, false, false},
		{"0", true, false, false},
		{"none", false, false, true},
		{"maybe", false, false, true},
	} {
		got, err := Bool(c.in, c.def)
		if (err != nil) != c.bad || (err == nil && got != c.want) {
			t.Errorf("Bool(%q, %v) = %v, %v", c.in, c.def, got, err)
		}
	}
}
