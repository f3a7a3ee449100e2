package backup

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Ref identifies one backup (one level of one chain) in the on-storage
// layout shared with the Python agent:
//
//	data/<engine>/<host>_<name>/<L0>/<level>_<ts>/{data,engine_metadata}
//	metadata/<engine>/<host>_<name>/<L0>/<level>_<ts>/metadata
//
// The metadata object is written last and is the commit marker: a backup
// without it does not exist for listing, restore or retention.
type Ref struct {
	Engine string // engine name, e.g. "tar"
	Name   string // "<hostname>_<backup_name>"
	L0     int64  // the chain's level-0 timestamp, epoch seconds
	Level  int
	TS     int64 // this backup's timestamp, epoch seconds; equals L0 at level 0
}

// HostBackupName joins hostname and backup name as the layout does.
func HostBackupName(hostname, backupName string) string {
	return hostname + "_" + backupName
}

// Dir is "<level>_<ts>", the backup's own directory name.
func (r Ref) Dir() string { return strconv.Itoa(r.Level) + "_" + strconv.FormatInt(r.TS, 10) }

// DataDir is the directory holding the payload and engine metadata.
func (r Ref) DataDir() string {
	return path.Join("data", r.Engine, r.Name, strconv.FormatInt(r.L0, 10), r.Dir())
}

// MetadataDir is the directory holding the metadata object.
func (r Ref) MetadataDir() string {
	return path.Join("metadata", r.Engine, r.Name, strconv.FormatInt(r.L0, 10), r.Dir())
}

// DataKey is the payload stream's key.
func (r Ref) DataKey() string { return r.DataDir() + "/data" }

// EngineMetadataKey is the engine state's key (a GNU tar snapshot for tar).
func (r Ref) EngineMetadataKey() string { return r.DataDir() + "/engine_metadata" }

// MetadataKey is the commit marker's key.
func (r Ref) MetadataKey() string { return r.MetadataDir() + "/metadata" }

// String is a short form for logs: "tar/host_name/L0/level_ts".
func (r Ref) String() string {
	return fmt.Sprintf("%s/%s/%d/%s", r.Engine, r.Name, r.L0, r.Dir())
}

// ChainsDir is the metadata directory listing a backup name's level-0 chains.
func ChainsDir(engine, name string) string { return path.Join("metadata", engine, name) }

// ChainDir is the metadata directory listing one chain's levels.
func ChainDir(engine, name string, l0 int64) string {
	return path.Join("metadata", engine, name, strconv.FormatInt(l0, 10))
}

// ParseLevelDir parses a "<level>_<ts>" directory name.
func ParseLevelDir(s string) (level int, ts int64, err error) {
	l, t, ok := strings.Cut(s, "_")
	if !ok {
		return 0, 0, fmt.Errorf("backup directory %q: want <level>_<timestamp>", s)
	}
	level, err = strconv.Atoi(l)
	if err != nil || level < 0 {
		return 0, 0, fmt.Errorf("backup directory %q: bad level", s)
	}
	ts, err = strconv.ParseInt(t, 10, 64)
	if err != nil || ts < 0 {
		return 0, 0, fmt.Errorf("backup directory %q: bad timestamp", s)
	}
	return level, ts, nil
}

// Metadata is the single-line JSON object stored at MetadataKey. Upstream
// readers take engine_name, compression and encryption; the other fields
// are ours and ignored by them. Restore reads the codecs from here and
// never guesses from the bytes.
type Metadata struct {
	EngineName  string `json:"engine_name"`
	Compression string `json:"compression"`
	Encryption  bool   `json:"encryption"`
	// EncryptionFormat names the encryption format when Encryption is true:
	// "openssl" (upstream's AES-256-CFB, readable by the Python agent) or
	// our authenticated format. Absent means "openssl", as upstream wrote.
	EncryptionFormat string `json:"encryption_format,omitempty"`
	// RsyncBlockSize is written by upstream's rsyncv2 engine.
	RsyncBlockSize int `json:"rsync_block_size,omitempty"`
	// DataSize is the payload's stored size in bytes, when known.
	DataSize int64 `json:"data_size,omitempty"`
	// DataSHA256 is the hex SHA-256 of the stored payload, when known, so a
	// restore can verify what it read.
	DataSHA256 string `json:"data_sha256,omitempty"`
	// Snapshot is the kind of snapshot the backup was read from ("btrfs",
	// "lvm"); empty when it read the live files. Informational.
	Snapshot string `json:"snapshot,omitempty"`
	// Mode is the --mode the backup was taken with ("mysql",
	// "postgresql"; absent for fs and in older backups). A restore that
	// follows the stored backup reads it to restore a stream backup with
	// the right tool.
	Mode string `json:"mode,omitempty"`
	// Image is the Glance image record of a glance backup, as upstream
	// stores it.
	Image json.RawMessage `json:"image,omitempty"`
}

// EncodeMetadata renders m as the one-line JSON object upstream expects.
func EncodeMetadata(m Metadata) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding backup metadata: %w", err)
	}
	return b, nil
}

// DecodeMetadata parses a metadata object; like upstream it reads only the
// first line.
func DecodeMetadata(b []byte) (Metadata, error) {
	line, _, _ := strings.Cut(string(b), "\n")
	var m Metadata
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		return Metadata{}, fmt.Errorf("decoding backup metadata: %w", err)
	}
	if m.EngineName == "" {
		return Metadata{}, fmt.Errorf("decoding backup metadata: no engine_name")
	}
	return m, nil
}
