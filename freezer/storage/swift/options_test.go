package swift

import (
	"testing"

	"github.com/gophercloud/gophercloud/v2"

	"freezer.dev/freezer/freezer/openstack"
	"freezer.dev/freezer/freezer/storage"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestOptionsFromEnvAndFlags(t *testing.T) {
	o, err := OptionsFrom(storage.Values{"container": "backups/sub/dir", "os_username": "flaguser", "max_segment_size": "8M"}, env(map[string]string{
		"OS_AUTH_URL": "http://ks/v3", "OS_USERNAME": "envuser", "OS_PASSWORD": "pw", "OS_PROJECT_NAME": "demo",
		"OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_ID": "default", "OS_REGION_NAME": "R1",
		"OS_ENDPOINT_TYPE": "internalURL", "OS_INSECURE": "True", "OS_CACERT": "/ca.pem",
	}))
	if err != nil {
		t.Fatal(err)
	}
	a := o.Auth
	if a.AuthURL != "http://ks/v3" || a.Username != "flaguser" || a.Password != "pw" || a.ProjectName != "demo" ||
		a.UserDomainName != "Default" || a.ProjectDomainID != "default" || a.Region != "R1" || !a.Insecure || a.CACert != "/ca.pem" {
		t.Fatalf("auth %+v", a)
	}
	if o.Container != "backups/sub/dir" || o.SegmentSize != 8<<20 {
		t.Fatalf("options %+v", o)
	}
	if openstack.Availability(a.EndpointType) != gophercloud.AvailabilityInternal {
		t.Fatalf("endpoint type %q", a.EndpointType)
	}
	if _, err := OptionsFrom(storage.Values{"insecure": "maybe"}, nil); err == nil {
		t.Fatal("bad boolean accepted")
	}
	if _, err := OptionsFrom(storage.Values{"max_segment_size": "0"}, nil); err == nil {
		t.Fatal("zero segment size accepted")
	}
	def, _ := OptionsFrom(storage.Values{}, nil)
	if def.Container != "freezer_backups" || def.SegmentSize != 32<<20 {
		t.Fatalf("defaults %+v", def)
	}
}
