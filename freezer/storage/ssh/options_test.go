package ssh

import (
	"context"
	"path/filepath"
	"testing"

	"freezer.dev/freezer/freezer/storage"
)

func TestOptionsFromDefaults(t *testing.T) {
	o, err := OptionsFrom(storage.Values{"container": "/b", "ssh_host": "h", "ssh_username": "u"}, "/home/u")
	if err != nil {
		t.Fatal(err)
	}
	if o.Port != 22 || o.KeyFile != filepath.Join("/home/u", ".ssh", "id_rsa") || o.KnownHostsFile != "/home/u/.ssh/known_hosts" || o.InsecureIgnoreHostKey {
		t.Fatalf("%+v", o)
	}
	// A password means the key is not used (upstream).
	o, _ = OptionsFrom(storage.Values{"ssh_password": "pw"}, "/home/u")
	if o.KeyFile != "" {
		t.Fatalf("key %q used with a password", o.KeyFile)
	}
	if _, err := OptionsFrom(storage.Values{"ssh_port": "x"}, ""); err == nil {
		t.Fatal("bad port accepted")
	}
}

func TestNewRefusesWithoutHostKeyCheck(t *testing.T) {
	_, err := New(context.Background(), Options{Container: "/x", Host: "127.0.0.1", Username: "u", Password: "p"})
	if err == nil {
		t.Fatal("New without known_hosts and without the explicit opt-out succeeded")
	}
}
