package agent

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/freezer/internal/readerr"
)

func (a *Agent) restore(ctx context.Context, o Options) (*Result, error) {
	start := time.Now()
	if a.Storage == nil || a.Engine == nil || a.Codecs == nil {
		return nil, errors.New("restore: agent is missing a storage, engine or codecs")
	}
	dir, err := filepath.Abs(o.RestoreAbsPath)
	if err != nil {
		return nil, usagef("--restore-abs-path %q: %v", o.RestoreAbsPath, err)
	}
	for _, g := range o.RestorePaths {
		if _, err := path.Match(g, ""); err != nil || g == "" {
			return nil, usagef("--restore-path %q: not a shell glob of a relative path", g)
		}
	}
	if a.PickEngine != nil {
		if err := a.followStoredEngine(ctx, o); err != nil {
			return nil, err
		}
	}
	levels, err := a.planLevels(ctx, o)
	if err != nil {
		return nil, err
	}

	if !o.DryRun && !o.resourceMode() {
		if err := prepareTarget(dir, o.Overwrite); err != nil {
			return nil, err
		}
	}
	var total backup.Stats
	var stored int64
	for _, l := range levels {
		log := a.log().WithField("backup", l.ref.String())
		log.Info("restoring level")
		var prog *progress
		if a.Progress {
			prog = startProgress(ctx, a.stderr(), fmt.Sprintf("restore level %d", l.ref.Level), "", l.md.DataSize)
		}
		st, n, err := a.restoreLevelReq(ctx, l, dir, o.DryRun, a.stdout(), nil, o.RestorePaths, prog)
		prog.stop()
		if err != nil {
			return nil, fmt.Errorf("restoring %s into %s: %w", l.ref, dir, err)
		}
		for _, w := range st.Warnings {
			log.Warn(w)
		}
		total.Files += st.Files
		total.Bytes += st.Bytes
		total.Deleted += st.Deleted
		stored += n
	}
	if o.ConsistencyChecksum != "" && !o.DryRun {
		sum, err := ConsistencyChecksum(ctx, dir, nil, false)
		if err != nil {
			return nil, fmt.Errorf("computing the consistency checksum of %s: %w", dir, err)
		}
		if sum != o.ConsistencyChecksum {
			return nil, withKind(ErrIntegrity, fmt.Errorf("restored tree %s has consistency checksum %s, want %s (a checksum made by the Python agent is computed differently and never matches)", dir, sum, o.ConsistencyChecksum))
		}
	}
	elapsed := time.Since(start)
	if !a.Quiet {
		fmt.Fprintln(a.stderr(), statsLine("restore", total.Files, total.Bytes, stored, elapsed))
	}
	a.log().WithFields(map[string]any{"levels": len(levels), "files": total.Files, "seconds": elapsed.Seconds()}).Info("restore done")
	return &Result{}, nil
}

// followStoredEngine sets a.Engine to what the backup a restore at
// o.RestoreFromDate reads says it is: the newest such backup among the
// engines in a.EngineNames (each engine stores its backups under its own
// name), its metadata handed to a.PickEngine.
func (a *Agent) followStoredEngine(ctx context.Context, o Options) error {
	var best backup.Ref
	found := false
	for _, name := range a.EngineNames {
		refs, err := a.listRefs(ctx, name, o.HostBackupName())
		if err != nil {
			return err
		}
		plan, err := backup.RestorePlan(refs, o.RestoreFromDate)
		if err != nil || len(plan) == 0 {
			continue // none at that date under this engine
		}
		last := plan[len(plan)-1]
		if !found || last.TS > best.TS {
			best, found = last, true
		}
	}
	if !found {
		return nil // planLevels reports that nothing is there
	}
	md, err := a.readMetadata(ctx, best)
	if err != nil {
		return err
	}
	eng, err := a.PickEngine(md)
	if err != nil {
		return withKind(ErrUsage, fmt.Errorf("backup %s: %w", best, err))
	}
	a.Engine = eng
	return nil
}

// chainLevel is one backup of the chain a restore at a date reads, with
// the codecs its metadata names.
type chainLevel struct {
	ref  backup.Ref
	md   backup.Metadata
	comp backup.Codec
	enc  backup.Codec
}

// planLevels lists the levels a restore at o.RestoreFromDate applies, in
// order, and reads their metadata.
func (a *Agent) planLevels(ctx context.Context, o Options) ([]chainLevel, error) {
	engine := a.Engine.Name()
	existing, err := a.listRefs(ctx, engine, o.HostBackupName())
	if err != nil {
		return nil, err
	}
	plan, err := backup.RestorePlan(existing, o.RestoreFromDate)
	if err != nil {
		if errors.Is(err, backup.ErrNoBackup) {
			err = fmt.Errorf("restoring %s from %s: %w", o.HostBackupName(), a.Storage, err)
			if others := a.enginesHolding(ctx, o, engine); len(others) > 0 {
				// The engine was given (or implied) and the stored backup
				// says otherwise: name what is there.
				err = fmt.Errorf("%w; the storage holds backups of that name made with --engine %s: give that --engine, or with --mode mysql or postgresql none", err, strings.Join(others, ", "))
			}
			return nil, withKind(ErrNotFound, err)
		}
		return nil, withKind(ErrIntegrity, fmt.Errorf("restoring %s: %w", o.HostBackupName(), err))
	}
	// Read every level's metadata first: a missing passphrase or an unknown
	// codec is found before anything is written.
	var pass []byte
	levels := make([]chainLevel, 0, len(plan))
	for _, r := range plan {
		md, err := a.readMetadata(ctx, r)
		if err != nil {
			return nil, err
		}
		if md.EngineName != engine {
			return nil, withKind(ErrIntegrity, fmt.Errorf("backup %s: metadata names engine %q, not %q", r, md.EngineName, engine))
		}
		l := chainLevel{ref: r, md: md}
		name := md.Compression
		if name == "" {
			name = o.Compression // upstream's fallback for a missing key
		}
		if l.comp, err = a.compressor(name); err != nil {
			return nil, fmt.Errorf("backup %s: %w", r, err)
		}
		if md.Encryption {
			if o.EncryptPassFile == "" {
				return nil, usagef("backup %s is encrypted: give --encrypt-pass-file", r)
			}
			if pass == nil {
				if pass, err = a.readPassphrase(o.EncryptPassFile); err != nil {
					return nil, err
				}
			}
			format := md.EncryptionFormat
			if format == "" {
				format = "openssl" // what upstream writes, unnamed
			}
			if l.enc, err = a.Codecs.Cipher(format, pass, streamName(l.comp)); err != nil {
				return nil, fmt.Errorf("backup %s: %w", r, err)
			}
		}
		levels = append(levels, l)
	}

	return levels, nil
}

// enginesHolding lists the engines other than engine under which the
// storage holds backups named like o's; errors count as none (it only
// words an error).
func (a *Agent) enginesHolding(ctx context.Context, o Options, engine string) []string {
	var found []string
	for _, e := range []string{"tar", "rsync", "stream"} {
		if e == engine {
			continue
		}
		if refs, err := a.listRefs(ctx, e, o.HostBackupName()); err == nil && len(refs) > 0 {
			found = append(found, e)
		}
	}
	return found
}

// prepareTarget creates the restore directory, or checks that an existing
// one is empty unless overwrite is set.
func prepareTarget(dir string, overwrite bool) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating --restore-abs-path: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking --restore-abs-path: %w", err)
	}
	if !fi.IsDir() {
		return usagef("--restore-abs-path %s is not a directory", dir)
	}
	if overwrite {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("checking --restore-abs-path: %w", err)
	}
	defer f.Close()
	if names, _ := f.Readdirnames(1); len(names) > 0 {
		return usagef("--restore-abs-path %s is not empty: use --overwrite to restore into it", dir)
	}
	return nil
}

// restoreLevel streams one backup: storage.Get → (read-ahead queue) →
// decrypt → decompress → engine. The stored bytes are hashed on the way and
// checked against the metadata's data_sha256 once all are read.
func (a *Agent) restoreLevel(ctx context.Context, l chainLevel, dir string, dryRun bool, list io.Writer, prog *progress) (backup.Stats, int64, error) {
	return a.restoreLevelReq(ctx, l, dir, dryRun, list, nil, nil, prog)
}

// restoreLevelReq is restoreLevel with a dry run's member visitor.
func (a *Agent) restoreLevelReq(ctx context.Context, l chainLevel, dir string, dryRun bool, list io.Writer, visit func(backup.Entry) error, paths []string, prog *progress) (backup.Stats, int64, error) {
	ref, md, comp, enc := l.ref, l.md, l.comp, l.enc
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if md.DataSHA256 != "" {
		ctx = backup.WithCallerChecksum(ctx) // checked below, after the last byte
	}
	rc, err := a.Storage.Get(ctx, ref.DataKey())
	if err != nil {
		if errors.Is(err, backup.ErrNotFound) {
			return backup.Stats{}, 0, withKind(ErrIntegrity, fmt.Errorf("payload missing: %w", err))
		}
		return backup.Stats{}, 0, fmt.Errorf("opening the payload: %w", err)
	}
	defer rc.Close()

	raw := newMeter()
	rawRec := readerr.New(rc)
	pipe := a.newPipe()
	copyDone := make(chan error, 1)
	go func() {
		var src io.Reader = rawRec
		if prog != nil {
			src = meterReader{m: prog.stored, r: src}
		}
		_, err := io.Copy(pipe, meterReader{m: raw, r: src})
		if err != nil {
			pipe.CloseWrite(err)
		} else if ferr := pipe.CloseWrite(nil); ferr != nil {
			err = ferr
		}
		copyDone <- err
	}()
	// finishCopy stops the read-ahead after a failure and returns the
	// storage read error that happened before, if any: errors caused by
	// the stop itself are not the storage's fault.
	waitCopy := sync.OnceValue(func() error { return <-copyDone })
	finishCopy := func() error {
		rawErr := rawRec.Err()
		pipe.CloseRead(errors.New("restore stopped reading"))
		rc.Close()
		waitCopy()
		return rawErr
	}

	var r io.Reader = pipe
	var decs []io.Closer
	defer func() {
		for i := len(decs) - 1; i >= 0; i-- {
			decs[i].Close()
		}
	}()
	if enc != nil {
		d, err := enc.Decode(r)
		if err != nil {
			finishCopy()
			return backup.Stats{}, 0, withKind(ErrIntegrity, unread(fmt.Errorf("starting decryption: %w", err), dryRun))
		}
		decs = append(decs, d)
		r = d
	}
	d, err := comp.Decode(r)
	if err != nil {
		if rerr := finishCopy(); rerr != nil {
			return backup.Stats{}, 0, fmt.Errorf("reading the payload: %w", rerr)
		}
		return backup.Stats{}, 0, withKind(ErrIntegrity, unread(fmt.Errorf("starting decompression (%s): %w", comp.Name(), decodeHint(enc, err)), dryRun))
	}
	decs = append(decs, d)
	decoded := readerr.New(d)

	// checkEnd reads the stream to its end (the authenticated format
	// checks its last chunk there, and the hash needs every stored byte),
	// then checks the payload's size and hash.
	checked := false
	checkEnd := func() error {
		checked = true
		if _, err := io.Copy(io.Discard, decoded); err != nil {
			return err
		}
		// The decoders reached their end; trailing bytes, if any, are
		// still part of the stored payload and of its hash.
		if _, err := io.Copy(io.Discard, pipe); err != nil {
			return err // rawRec holds the storage's error
		}
		if err := waitCopy(); err != nil {
			return fmt.Errorf("reading the payload: %w", err)
		}
		n := raw.n.Load()
		if md.DataSize > 0 && n != md.DataSize {
			return withKind(ErrIntegrity, fmt.Errorf("payload is %d bytes, metadata says %d", n, md.DataSize))
		}
		if md.DataSHA256 != "" {
			if got := hex.EncodeToString(raw.h.Sum(nil)); got != md.DataSHA256 {
				return withKind(ErrIntegrity, fmt.Errorf("payload sha256 %s, metadata says %s", got, md.DataSHA256))
			}
		}
		return nil
	}

	req := backup.RestoreRequest{Dir: dir, Metadata: md, DryRun: dryRun, List: list, Visit: visit, Paths: paths}
	if prog != nil {
		req.Progress = prog.engine
	}
	if !authenticated(enc) && !dryRun {
		// Checked only after the last byte: the engine keeps every name
		// staged until then.
		req.Verify = checkEnd
	}
	stats, err := a.Engine.Restore(ctx, req, decoded)
	if err == nil && !checked {
		err = checkEnd()
	}
	if err != nil {
		if rerr := finishCopy(); rerr != nil {
			return stats, raw.n.Load(), fmt.Errorf("reading the payload: %w", withNotRestored(err, rerr))
		}
		if derr := decoded.Err(); derr != nil {
			return stats, raw.n.Load(), withKind(ErrIntegrity, fmt.Errorf("the payload is corrupt, truncated or not decryptable with this passphrase: %w", withNotRestored(err, decodeHint(enc, derr))))
		}
		if ctx.Err() != nil {
			return stats, raw.n.Load(), fmt.Errorf("interrupted: %w", withNotRestored(err, ctx.Err()))
		}
		if isArchiveDamage(err) {
			return stats, raw.n.Load(), withKind(ErrIntegrity, fmt.Errorf("the archive in the payload is corrupt or tampered: %w", err))
		}
		return stats, raw.n.Load(), err
	}
	return stats, raw.n.Load(), nil
}

// authenticated reports whether a level's decrypted stream releases only
// authenticated bytes (fzae1 checks each chunk before handing it on), so
// that a restore may write files in place as it reads.
func authenticated(enc backup.Codec) bool {
	return enc != nil && enc.Name() == "fzae1"
}

// unread says of a failure before the engine read anything that nothing
// of the level was restored.
func unread(err error, dryRun bool) error {
	if dryRun {
		return err
	}
	return &backup.NotRestoredError{Unread: true, Err: err}
}

// withNotRestored returns cause, the error that explains a failure, with
// the names of what the engine did not restore, which its error (err)
// carries, if any.
func withNotRestored(err, cause error) error {
	var nr *backup.NotRestoredError
	if errors.As(err, &nr) {
		return &backup.NotRestoredError{Paths: nr.Paths, Omitted: nr.Omitted, Unread: nr.Unread, Err: cause}
	}
	return cause
}

// isArchiveDamage reports whether an engine error, with the payload read and
// decoded without error, was caused by the archive itself (a bad header, a
// member cut short, a malformed listing, a path escaping the target) rather
// than by the target file system (permission denied, disk full), which stay
// ordinary failures.
func isArchiveDamage(err error) bool {
	return errors.Is(err, backup.ErrCorrupt) || errors.Is(err, backup.ErrUnsafePath)
}

// decodeHint adds what most often explains a decoding failure of an
// unauthenticated (openssl) backup.
func decodeHint(enc backup.Codec, err error) error {
	if enc != nil && enc.Name() == "openssl" {
		return fmt.Errorf("%w (a wrong passphrase gives this error with the openssl format)", err)
	}
	return err
}
