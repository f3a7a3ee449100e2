package ftp

import (
	"context"
	"testing"

	"freezer.dev/freezer/freezer/storage"
)

func TestOptionsFrom(t *testing.T) {
	o, err := OptionsFrom(storage.Values{"container": "/b", "ftp_host": "h", "ftp_username": "u", "ftp_password": "p", "ftp_port": "2121"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if o.Port != 2121 || !o.TLS || o.Host != "h" {
		t.Fatalf("%+v", o)
	}
	if _, err := OptionsFrom(storage.Values{"ftp_port": "x"}, false); err == nil {
		t.Fatal("bad port accepted")
	}
}

func TestNewNeedsPassword(t *testing.T) {
	// Upstream: the password is mandatory.
	if _, err := New(context.Background(), Options{Container: "/x", Host: "h", Username: "u"}); err == nil {
		t.Fatal("New without a password succeeded")
	}
}
