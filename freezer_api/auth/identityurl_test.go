package auth

import "testing"

func TestIdentityV3URLAcceptsUnversionedAuthURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://ks:5000/v3":        "http://ks:5000/v3/",
		"http://ks:5000/v3/":       "http://ks:5000/v3/",
		"http://ks:5000":           "http://ks:5000/v3/",
		"http://host/identity":     "http://host/identity/v3/",
		"http://host/identity/":    "http://host/identity/v3/",
		"https://host/identity/v3": "https://host/identity/v3/",
	} {
		if got := identityV3URL(in); got != want {
			t.Errorf("identityV3URL(%q) = %q, want %q", in, got, want)
		}
	}
}
