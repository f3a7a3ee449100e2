package agent

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"freezer.dev/freezer/freezer/backup"
	"freezer.dev/freezer/internal/version"
)

// dataResult is what writing one payload produced.
type dataResult struct {
	stats  backup.Stats
	in     int64 // bytes the engine produced (the uncompressed archive)
	stored int64 // bytes stored
	sha256 string
}

func (a *Agent) backup(ctx context.Context, o Options) (_ *Result, err error) {
	start := time.Now()
	if a.Storage == nil || a.Engine == nil || a.Codecs == nil {
		return nil, errors.New("backup: agent is missing a storage, engine or codecs")
	}
	src, err := a.backupSource(o)
	if err != nil {
		return nil, err
	}
	comp, err := a.compressor(o.Compression)
	if err != nil {
		return nil, withKind(ErrUsage, fmt.Errorf("--compression: %w", err))
	}
	var enc backup.Codec
	var pass []byte
	if o.EncryptPassFile != "" {
		if pass, err = a.readPassphrase(o.EncryptPassFile); err != nil {
			return nil, err
		}
		if enc, err = a.Codecs.Cipher(o.EncryptionFormat, pass, streamName(comp)); err != nil {
			return nil, withKind(ErrUsage, fmt.Errorf("--encryption-format: %w", err))
		}
	}
	if o.Sync && !o.resourceMode() {
		syncFilesystems(src)
	}
	read := src // what the engine reads: src, or src inside a snapshot
	var prep Prepared
	if a.Source != nil {
		defer func() {
			if rerr := a.Source.Release(context.WithoutCancel(ctx)); rerr != nil {
				// The backup (if committed) is good; what was left is
				// journaled and the next run removes it.
				a.log().WithError(rerr).Error("releasing the backup source (lock, snapshot)")
				if err == nil {
					err = fmt.Errorf("backup done, but releasing its source failed: %w", rerr)
				}
			}
		}()
		if prep, err = a.Source.Prepare(ctx, src); err != nil {
			return nil, fmt.Errorf("preparing %s for the backup: %w", src, err)
		}
		if prep.Path != "" {
			read = prep.Path
		}
	}
	checksum := ""
	if o.ConsistencyCheck {
		if checksum, err = ConsistencyChecksum(ctx, read, o.Exclude, o.DereferenceSymlink == "soft" || o.DereferenceSymlink == "all"); err != nil {
			return nil, fmt.Errorf("computing the consistency checksum: %w", err)
		}
	}

	engine := a.Engine.Name()
	name := o.HostBackupName()
	existing, err := a.listRefs(ctx, engine, name)
	if err != nil {
		return nil, err
	}
	policy := backup.LevelPolicy{
		Incremental:  o.Incremental,
		MaxLevel:     o.MaxLevel,
		AlwaysLevel:  o.AlwaysLevel,
		RestartAfter: time.Duration(o.RestartAlwaysLevel * 24 * float64(time.Hour)),
	}
	// One clock reading names the backup and stamps its metadata.
	now := a.now()
	ref, prev := backup.NextBackup(existing, engine, name, policy, now)
	log := a.log().WithField("backup", ref.String())
	log.WithField("storage", a.Storage.String()).Info("starting backup")

	var prevState io.Reader
	var prevMD backup.Metadata
	if prev != nil {
		f, err := a.spool(ctx, prev.EngineMetadataKey())
		switch {
		case errors.Is(err, backup.ErrNotFound):
			// The chain cannot be extended without its state; a new level
			// 0 is always restorable.
			log.WithField("previous", prev.String()).Warn("engine state of the previous backup is missing: starting a new level 0")
			policy.Incremental = false
			ref, _ = backup.NextBackup(existing, engine, name, policy, now)
			log = a.log().WithField("backup", ref.String())
		case err != nil:
			return nil, fmt.Errorf("fetching the engine state of %s: %w", prev, err)
		default:
			defer f.Close()
			prevState = f
			if prevMD, err = a.readMetadata(ctx, *prev); err != nil {
				return nil, err
			}
		}
	}
	encName := ""
	if enc != nil {
		encName = enc.Name()
	}
	plan, err := a.planResume(ctx, o, read, ref, prev, existing, streamOptions(o, engine, comp.Name(), encName), enc != nil)
	if err != nil {
		return nil, err
	}
	var upload *backup.UploadResume
	if plan != nil {
		j := plan.journal
		if plan.resuming {
			ref = j.Ref
			log = a.log().WithField("backup", ref.String())
		}
		if enc != nil {
			// The cipher draws its salt and nonces from the journal's
			// bytes, so a resumed run writes the same stream.
			if enc, err = a.Codecs.(RandCiphers).CipherRand(o.EncryptionFormat, pass, streamName(comp), resumeRand(j.Rand)); err != nil {
				return nil, withKind(ErrUsage, fmt.Errorf("--encryption-format: %w", err))
			}
		}
		upload = backup.NewUploadResume(j.Tokens, func(t map[string]string) error {
			j.Tokens = t
			return saveJournal(plan.path, j)
		})
	}
	state, err := os.CreateTemp(a.TempDir, "freezer-state-*")
	if err != nil {
		return nil, fmt.Errorf("creating a temp file: %w", err)
	}
	os.Remove(state.Name())
	defer state.Close()

	req := backup.BackupRequest{
		Path:         read,
		Exclude:      o.Exclude,
		Dereference:  o.DereferenceSymlink,
		PrevState:    prevState,
		PrevMetadata: prevMD,
		Compression:  comp.Name(),
		BlockSize:    o.RsyncBlockSize,
		State:        state,
	}
	var prog *progress
	if a.Progress {
		prog = startProgress(ctx, a.stderr(), "backup", read, 0)
		req.Progress = prog.engine
	}
	wctx := ctx
	if upload != nil {
		wctx = backup.WithUploadResume(ctx, upload)
	}
	res, err := a.writeData(wctx, ref.DataKey(), req, comp, enc, o.DryRun, prog)
	prog.stop()
	if err != nil && plan != nil && plan.resuming && errors.Is(err, backup.ErrResumeDiverged) {
		// The source changed in a way its identity missed, or a stage is
		// not deterministic: what is stored cannot be kept.
		log.WithError(err).Warn("the stream differs from what the interrupted backup stored: starting over")
		os.Remove(plan.path)
		a.discardPartial(ctx, ref)
		return a.backup(ctx, o)
	}
	if err != nil {
		return nil, fmt.Errorf("backing up %s to %s: %w", src, ref, err)
	}
	for _, w := range res.stats.Warnings {
		log.Warn(w)
	}
	extra := map[string]any{}
	for k, v := range prep.Stats {
		extra[k] = v
	}
	// An engine that runs a tool (mariadb-backup) may report what it
	// measured, such as how long writes were blocked.
	if rs, ok := a.Engine.(interface{ ResultStats() map[string]any }); ok {
		for k, v := range rs.ResultStats() {
			extra[k] = v
		}
	}

	md := backup.Metadata{
		EngineName:  engine,
		Compression: comp.Name(),
		Encryption:  enc != nil,
		DataSize:    res.stored,
		DataSHA256:  res.sha256,
		// upstream's rsyncv2 records its block size; 0 (tar) is omitted
		RsyncBlockSize: res.stats.BlockSize,
		Snapshot:       prep.Snapshot,
	}
	if o.Mode != "fs" {
		md.Mode = o.Mode
	}
	if enc != nil {
		md.EncryptionFormat = enc.Name()
	}
	if r, ok := a.Engine.(ResourceEngine); ok {
		md.Image = r.Image()
	}
	if !o.DryRun {
		if _, err := state.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("rewinding the engine state: %w", err)
		}
		if err := a.Storage.Put(ctx, ref.EngineMetadataKey(), state); err != nil {
			return nil, fmt.Errorf("storing the engine state of %s: %w", ref, err)
		}
		line, err := backup.EncodeMetadata(md)
		if err != nil {
			return nil, err
		}
		// Written last: from here on the backup exists.
		if err := a.Storage.Put(ctx, ref.MetadataKey(), bytes.NewReader(append(line, '\n'))); err != nil {
			return nil, fmt.Errorf("committing backup %s: %w", ref, err)
		}
		if plan != nil {
			if err := os.Remove(plan.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				log.WithError(err).Warn("removing the resume journal")
			}
		}
	}
	elapsed := time.Since(start)
	fields := map[string]any{
		"files": res.stats.Files, "bytes_in": res.in, "bytes_stored": res.stored, "seconds": elapsed.Seconds(),
	}
	for k, v := range extra {
		fields[k] = v
	}
	log.WithFields(fields).Info("backup done")
	if !a.Quiet {
		line := statsLine("backup", res.stats.Files, res.in, res.stored, elapsed)
		if lock, ok := extra["lock_seconds"].(float64); ok {
			// How long the mode kept writers waiting (a database lock).
			line += fmt.Sprintf(", writes blocked %s", time.Duration(lock*float64(time.Second)).Round(time.Millisecond))
		}
		fmt.Fprintln(a.stderr(), line)
	}
	m := backupResult(o, ref, md, res, checksum, src, elapsed)
	m["vol_snap_path"] = read
	if plan != nil {
		// What the interrupted run had stored and this one kept.
		m["resumed"] = plan.resuming
		m["bytes_resumed"] = upload.KeptBytes()
	}
	m["snapshot"] = prep.Snapshot
	for k, v := range extra {
		m[k] = v
	}
	return &Result{Metadata: m}, nil
}

// writeData runs engine → compress → encrypt → storage.Put as concurrent
// stages and returns once the payload is stored (or nothing is).
func (a *Agent) writeData(ctx context.Context, key string, req backup.BackupRequest, comp, enc backup.Codec, dryRun bool, prog *progress) (dataResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	stored := newMeter()
	pipe := a.newPipe()
	putDone := make(chan error, 1)
	go func() {
		var err error
		if dryRun {
			_, err = io.Copy(io.Discard, pipe)
		} else {
			err = a.Storage.Put(ctx, key, pipe)
		}
		if err == nil {
			// A Put that returns before EOF has stored a prefix only. The
			// rest may already sit in the queue, so a failing next write is
			// not enough: the stream must be drained here, or it was cut.
			err = checkDrained(pipe)
		}
		if err != nil {
			pipe.CloseRead(err)
			cancel()
		}
		putDone <- err
	}()

	res, werr := a.produce(ctx, req, comp, enc, meterWriter{m: stored, w: pipe}, prog)
	if werr != nil {
		pipe.CloseWrite(werr)
	} else if ferr := pipe.CloseWrite(nil); ferr != nil {
		werr = ferr
	}
	perr := <-putDone
	// A storage failure cancels the engine, so it is the root cause; an
	// engine or codec failure makes Put fail with that same error.
	if perr != nil && (werr == nil || !errors.Is(perr, werr)) {
		return res, fmt.Errorf("storing the payload: %w", perr)
	}
	if werr != nil {
		return res, werr
	}
	res.stored = stored.n.Load()
	res.sha256 = hex.EncodeToString(stored.h.Sum(nil))
	return res, nil
}

// errPutShort is why a backup fails when Storage.Put returned nil without
// reading its stream to the end: the stored object is a prefix.
var errPutShort = errors.New("storage accepted the payload before its end")

// checkDrained reads past the end of what Put consumed. io.EOF means Put
// read everything; any byte means it stopped early; any other error is the
// writer's own failure, which the caller reports as such. It blocks until
// the writer sends more or closes, so a slow engine is waited for.
func checkDrained(r io.Reader) error {
	n, err := r.Read(make([]byte, 1))
	switch {
	case n > 0:
		return errPutShort
	case err == io.EOF:
		return nil
	case err != nil:
		return err
	}
	// A zero-byte read with no error says nothing; the queuePipe never
	// returns one, so treat it as a cut stream rather than loop.
	return errPutShort
}

// produce runs the engine into compress → encrypt → out and closes the
// codecs, so every byte is in out when it returns nil.
func (a *Agent) produce(ctx context.Context, req backup.BackupRequest, comp, enc backup.Codec, out io.Writer, prog *progress) (dataResult, error) {
	var res dataResult
	if prog != nil {
		out = meterWriter{m: prog.stored, w: out}
	}
	w := out
	var encW io.WriteCloser
	if enc != nil {
		var err error
		if encW, err = enc.Encode(out); err != nil {
			return res, fmt.Errorf("starting encryption: %w", err)
		}
		w = encW
	}
	compW, err := comp.Encode(w)
	if err != nil {
		if encW != nil {
			encW.Close()
		}
		return res, fmt.Errorf("starting compression: %w", err)
	}
	in := &counter{}
	stats, err := a.Engine.Backup(ctx, req, io.MultiWriter(compW, in))
	res.stats = stats
	res.in = in.n.Load()
	cerr := compW.Close()
	var eerr error
	if encW != nil {
		eerr = encW.Close()
	}
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return res, fmt.Errorf("interrupted: %w", ctx.Err())
		}
		return res, err
	case cerr != nil:
		return res, fmt.Errorf("finishing compression: %w", cerr)
	case eerr != nil:
		return res, fmt.Errorf("finishing encryption: %w", eerr)
	}
	return res, ctx.Err()
}

// backupResult builds the result JSON: upstream's fields (where upstream
// writes falsy option values as "", so do we) plus ours.
func backupResult(o Options, ref backup.Ref, md backup.Metadata, res dataResult, checksum, src string, elapsed time.Duration) map[string]any {
	orEmpty := func(v any) any {
		switch x := v.(type) {
		case string:
			if x == "" {
				return ""
			}
		case bool:
			if !x {
				return ""
			}
		case int:
			if x == 0 {
				return ""
			}
		}
		return v
	}
	clientOS := runtime.GOOS
	if clientOS == "windows" {
		clientOS = "win32" // Python's sys.platform, as upstream reports it
	}
	m := map[string]any{}
	for k, v := range o.ResultExtras {
		m[k] = v
	}
	for k, v := range map[string]any{
		"action":               o.Action,
		"always_level":         orEmpty(o.AlwaysLevel),
		"backup_media":         backupMedia(o),
		"backup_name":          o.BackupName,
		"container":            o.Container,
		"container_segments":   "",
		"dry_run":              orEmpty(o.DryRun),
		"hostname":             o.Hostname,
		"path_to_backup":       o.PathToBackup,
		"max_level":            orEmpty(o.MaxLevel),
		"mode":                 o.Mode,
		"storage":              o.Storage,
		"compression":          md.Compression,
		"consistency_checksum": checksum,
		"fs_real_path":         src,
		"vol_snap_path":        src,
		"client_os":            clientOS,
		"client_version":       version.String(),
		"time_stamp":           ref.TS,
		// Upstream always reports 0 here; this is the level.
		"curr_backup_level":    ref.Level,
		"level":                ref.Level,
		"level_zero_timestamp": ref.L0,
		"engine_name":          md.EngineName,
		"encrypted":            md.Encryption,
		"encryption_format":    md.EncryptionFormat,
		"hostname_backup_name": ref.Name,
		"data_size":            res.stored,
		"data_sha256":          res.sha256,
		"files":                res.stats.Files,
		"bytes_in":             res.in,
		"bytes_stored":         res.stored,
		"elapsed_seconds":      elapsed.Seconds(),
	} {
		m[k] = v
	}
	return m
}
