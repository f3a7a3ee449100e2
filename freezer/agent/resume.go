package agent

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"freezer.dev/freezer/freezer/backup"
)

// A backup to a storage that can resume uploads (Swift, S3) keeps a small
// journal in Agent.ResumeDir while it runs: which backup it is writing
// (the ref, so a resumed run writes the same keys), what shaped its stream
// (options, the previous level, the random bytes its cipher drew) and an
// identity of the source (every entry's path, type, size, mtime, inode
// and ctime). The next run of the same job finds the journal; when all of
// it still holds, it writes the same backup again, and the storage skips
// every segment it already holds with the same size and MD5. The stream
// is produced again from the start (compression and encryption state
// cannot be restored mid-stream), but only what is missing is uploaded.
// A segment that differs (a change the identity missed) makes the storage
// fail with backup.ErrResumeDiverged and the backup starts over.
//
// The journal is removed once the backup is committed. Nothing in it is
// secret: the cipher's random bytes are its salt and nonces, which the
// stored stream holds in clear anyway.

// journalVersion changes when the journal's meaning does; another version
// is ignored (the backup starts over).
const journalVersion = 1

// randBytes is how much randomness a journal records for the cipher: more
// than any format draws at the start of a stream.
const randBytes = 1024

type resumeJournal struct {
	Version int        `json:"version"`
	Storage string     `json:"storage"`
	Ref     backup.Ref `json:"ref"`
	Prev    string     `json:"prev"`
	Options string     `json:"options"`
	Source  string     `json:"source"`
	// Rand is what the cipher reads first: the same bytes give the same
	// salt and nonces, so the same stream.
	Rand    []byte            `json:"rand,omitempty"`
	Tokens  map[string]string `json:"tokens,omitempty"`
	Started time.Time         `json:"started"`
}

// journalPath names the journal of one job (backup name, engine) on one
// storage.
func (a *Agent) journalPath(engine, name string) string {
	h := sha256.Sum256([]byte(a.Storage.String() + "\x00" + engine + "\x00" + name))
	return filepath.Join(a.ResumeDir, hex.EncodeToString(h[:16])+".json")
}

// loadJournal reads a journal; a missing or unreadable one is nil (the
// backup starts over), the latter with a warning.
func (a *Agent) loadJournal(path string) *resumeJournal {
	b, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			a.log().WithError(err).Warn("reading the resume journal")
		}
		return nil
	}
	var j resumeJournal
	if err := json.Unmarshal(b, &j); err != nil || j.Version != journalVersion {
		a.log().WithField("journal", path).Warn("ignoring a resume journal of another version or damaged")
		return nil
	}
	return &j
}

// saveJournal writes j durably: a journal that names an upload must exist
// before anything is stored under it.
func saveJournal(path string, j *resumeJournal) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the resume directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".journal-*")
	if err != nil {
		return fmt.Errorf("writing the resume journal: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("writing the resume journal: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// streamOptions digests what, besides the source, decides the stream's
// bytes and the backup it belongs to.
func streamOptions(o Options, engine, compression, encryption string) string {
	h := sha256.New()
	for _, s := range []string{engine, compression, encryption, o.DereferenceSymlink,
		fmt.Sprint(o.RsyncBlockSize), strings.Join(o.Exclude, "\x00")} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// sourceIdentity digests every entry below root: relative path, type and
// permission bits, size, mtime, and where the system has them inode and
// ctime. A write, a rename, a chmod or a touch changes it; reading does
// not (access times are left out).
func sourceIdentity(ctx context.Context, root string) (string, error) {
	h := sha256.New()
	var buf [8]byte
	num := func(v int64) {
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		h.Write([]byte(rel))
		h.Write([]byte{0})
		num(int64(fi.Mode()))
		num(fi.Size())
		num(fi.ModTime().UnixNano())
		ino, ctime := fileIdentity(fi)
		num(int64(ino))
		num(ctime)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("reading the identity of %s: %w", root, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// resumeRand is the randomness a cipher reads: the journal's bytes, then
// fresh ones.
func resumeRand(recorded []byte) io.Reader {
	return io.MultiReader(bytes.NewReader(recorded), crand.Reader)
}

// RandCiphers is implemented by Codecs that can take the randomness a
// cipher draws (salts, nonces): a resumed backup replays what the
// interrupted run drew, so that it produces the same stream. Without it an
// encrypted backup is never resumed.
type RandCiphers interface {
	CipherRand(format string, passphrase []byte, compression string, rand io.Reader) (backup.Codec, error)
}

// resumePlan is what the backup needs from the resume logic.
type resumePlan struct {
	path     string
	journal  *resumeJournal
	resuming bool
}

// planResume decides whether this backup continues an interrupted one.
// It returns nil when the backup is not resumable (no resume directory, a
// mode that prepares its source, a dry run, an unreadable source). ref is
// the backup NextBackup chose; on resume the plan's journal holds the ref
// to write instead.
func (a *Agent) planResume(ctx context.Context, o Options, read string, ref backup.Ref, prev *backup.Ref,
	existing []backup.Ref, opts string, encrypted bool) (*resumePlan, error) {
	if a.ResumeDir == "" || a.Source != nil || o.DryRun || !backup.ResumesUploads(a.Storage) {
		return nil, nil
	}
	if encrypted {
		if _, ok := a.Codecs.(RandCiphers); !ok {
			return nil, nil
		}
	}
	log := a.log()
	id, err := sourceIdentity(ctx, read)
	if err != nil {
		log.WithError(err).Warn("the backup cannot be resumed if interrupted")
		return nil, nil
	}
	prevName := ""
	if prev != nil {
		prevName = prev.String()
	}
	p := &resumePlan{path: a.journalPath(ref.Engine, ref.Name)}
	if old := a.loadJournal(p.path); old != nil {
		committed := false
		for _, r := range existing {
			committed = committed || r == old.Ref
		}
		switch {
		case committed:
			// Killed between its commit and the journal's removal.
		case old.Storage == a.Storage.String() && old.Options == opts && old.Source == id &&
			old.Prev == prevName && old.Ref.Level == ref.Level && old.Ref.Engine == ref.Engine && old.Ref.Name == ref.Name &&
			(ref.Level == 0 || old.Ref.L0 == ref.L0):
			log.WithFields(map[string]any{"backup": old.Ref.String(), "started": old.Started.UTC().Format(time.RFC3339)}).
				Info("resuming the interrupted backup: the source and the job are unchanged since it started")
			p.journal, p.resuming = old, true
			return p, nil
		default:
			log.WithField("backup", old.Ref.String()).
				Info("the source or the job changed since an interrupted backup started: starting over")
			a.discardPartial(ctx, old.Ref)
		}
	}
	p.journal = &resumeJournal{Version: journalVersion, Storage: a.Storage.String(), Ref: ref, Prev: prevName,
		Options: opts, Source: id, Started: a.now().UTC()}
	if encrypted {
		p.journal.Rand = make([]byte, randBytes)
		if _, err := io.ReadFull(crand.Reader, p.journal.Rand); err != nil {
			return nil, fmt.Errorf("drawing random bytes: %w", err)
		}
	}
	if err := saveJournal(p.path, p.journal); err != nil {
		return nil, err
	}
	return p, nil
}

// discardPartial deletes what an interrupted backup stored (best effort:
// admin collects what is left once it is older than the grace period).
func (a *Agent) discardPartial(ctx context.Context, ref backup.Ref) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	if names, err := a.Storage.List(dctx, ref.MetadataDir()); err != nil || len(names) > 0 {
		return // committed after all, or unknown: keep it
	}
	if err := a.Storage.Delete(dctx, ref.DataDir()); err != nil {
		a.log().WithError(err).WithField("backup", ref.String()).Warn("removing what an interrupted backup stored")
	}
}
