package glance

import (
	"testing"
)

// Upstream writes engine_metadata with Python's json.dumps: ", " and ": "
// separators, its key order, and the length as a string.
func TestEngineMetadataIsUpstreams(t *testing.T) {
	got := string(EngineMetadata(record{ID: "i1", Name: "cirros \"x\"", DiskFormat: "qcow2", ContainerFormat: "bare",
		Visibility: "shared", Size: 1073741824, Protected: true}))
	want := `{"image_name": "cirros \"x\"", "image_id": "i1", "disk_format": "qcow2", "container_format": "bare", "visibility": "shared", "length": "1073741824", "protected": true}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// Only the image's own properties are copied to a restored image, never
// what Glance manages (ids, checksums, status, store locations).
func TestPropertiesSkipGlancesOwn(t *testing.T) {
	p := properties(map[string]any{"hw_disk_bus": "scsi", "id": "x", "checksum": "c", "os_hash_value": "h",
		"os_glance_importing_to_stores": "", "stores": "file", "size": 3.0, "owner": "p", "description": "d"})
	if len(p) != 2 || p["hw_disk_bus"] != "scsi" || p["description"] != "d" {
		t.Fatalf("%v", p)
	}
	if RestoredName("", "id1") != "Restore: id1" || RestoredName("n", "id1") != "Restore: n" {
		t.Fatal(RestoredName("", "id1"))
	}
}
