package s3

import (
	"context"
	"strings"
	"testing"

	"freezer.dev/freezer/freezer/storage"
)

func TestOptionsFromEnvFallbacks(t *testing.T) {
	envs := map[string]string{"ACCESS_KEY": "ak", "SECRET_KEY": "sk", "ENDPOINT": "http://s3:9000"}
	o, err := OptionsFrom(storage.Values{"container": "bucket/p", "secret_key": "flag"}, func(k string) string { return envs[k] })
	if err != nil {
		t.Fatal(err)
	}
	if o.AccessKey != "ak" || o.SecretKey != "flag" || o.Endpoint != "http://s3:9000" || o.SegmentSize != 32<<20 {
		t.Fatalf("%+v", o)
	}
}

func TestNewValidates(t *testing.T) {
	ctx := context.Background()
	base := Options{Container: "b", Endpoint: "http://127.0.0.1:1", AccessKey: "a", SecretKey: "s"}
	for name, mod := range map[string]func(*Options){
		"no keys":        func(o *Options) { o.AccessKey = "" },
		"bad endpoint":   func(o *Options) { o.Endpoint = "127.0.0.1:8080" },
		"small parts":    func(o *Options) { o.SegmentSize = 1 << 20 },
		"empty bucket":   func(o *Options) { o.Container = "/" },
		"missing cafile": func(o *Options) { o.CACert = "/nonexistent.pem" },
	} {
		o := base
		mod(&o)
		if _, err := New(ctx, o); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
	o := base
	o.SegmentSize = 1 << 20
	_, err := New(ctx, o)
	if err == nil || !strings.Contains(err.Error(), "5 MiB") {
		t.Errorf("small part size error: %v", err)
	}
}
