package backup

import "testing"

func TestRefKeysMatchUpstreamLayout(t *testing.T) {
	r := Ref{Engine: "tar", Name: HostBackupName("hostA", "bk1"), L0: 1795627945, Level: 1, TS: 1795627958}
	cases := map[string]string{
		r.DataKey():                   "data/tar/hostA_bk1/1795627945/1_1795627958/data",
		r.EngineMetadataKey():         "data/tar/hostA_bk1/1795627945/1_1795627958/engine_metadata",
		r.MetadataKey():               "metadata/tar/hostA_bk1/1795627945/1_1795627958/metadata",
		ChainsDir("tar", r.Name):      "metadata/tar/hostA_bk1",
		ChainDir("tar", r.Name, r.L0): "metadata/tar/hostA_bk1/1795627945",
	}
	for got, want := range cases {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
}

func TestParseLevelDir(t *testing.T) {
	l, ts, err := ParseLevelDir("12_1795627958")
	if err != nil || l != 12 || ts != 1795627958 {
		t.Fatalf("ParseLevelDir = %d, %d, %v", l, ts, err)
	}
	for _, bad := range []string{"", "1", "a_1", "1_b", "-1_5", "1_-5", "_"} {
		if _, _, err := ParseLevelDir(bad); err == nil {
			t.Errorf("ParseLevelDir(%q) accepted", bad)
		}
	}
}

func TestMetadataRoundTripAndUpstreamForm(t *testing.T) {
	// The exact bytes upstream writes for a gzip, unencrypted tar backup.
	up := []byte(`{"engine_name": "tar", "compression": "gzip", "encryption": false}` + "\n")
	m, err := DecodeMetadata(up)
	if err != nil {
		t.Fatal(err)
	}
	if m.EngineName != "tar" || m.Compression != "gzip" || m.Encryption {
		t.Fatalf("decoded %+v", m)
	}
	b, err := EncodeMetadata(Metadata{EngineName: "tar", Compression: "zstd", Encryption: true, EncryptionFormat: "openssl"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"engine_name":"tar","compression":"zstd","encryption":true,"encryption_format":"openssl"}`
	if string(b) != want {
		t.Fatalf("encoded %s, want %s", b, want)
	}
	if _, err := DecodeMetadata([]byte(`{"compression":"gzip"}`)); err == nil {
		t.Fatal("metadata without engine_name accepted")
	}
	if _, err := DecodeMetadata([]byte("not json")); err == nil {
		t.Fatal("garbage accepted")
	}
}
