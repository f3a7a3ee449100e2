package tar

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"freezer.dev/freezer/freezer/backup"
)

func list(ctx context.Context, req backup.RestoreRequest, mr *memberReader) (backup.Stats, error) {
	var stats backup.Stats
	w := req.List
	if w == nil {
		w = io.Discard
	}
	bw := bufio.NewWriter(w)
	for {
		if err := ctx.Err(); err != nil {
			return stats, err
		}
		hdr, err := mr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return stats, err
		}
		if req.Visit != nil {
			if err := visit(req.Visit, mr, hdr); err != nil {
				return stats, err
			}
			continue
		}
		tc, perm := typeChar(hdr.Typeflag), fileMode(hdr.Mode).Perm().String()[1:]
		owner := hdr.Uname
		if owner == "" {
			owner = strconv.Itoa(hdr.Uid)
		}
		group := hdr.Gname
		if group == "" {
			group = strconv.Itoa(hdr.Gid)
		}
		fmt.Fprintf(bw, "%c%s %s/%s %d %s %s", tc, perm, owner, group, hdr.Size,
			hdr.ModTime.UTC().Format("2006-01-02 15:04"), quoteName(hdr.Name))
		switch hdr.Typeflag {
		case tar.TypeSymlink:
			fmt.Fprintf(bw, " -> %s", quoteName(hdr.Linkname))
			stats.Links++
		case tar.TypeLink:
			fmt.Fprintf(bw, " link to %s", quoteName(hdr.Linkname))
			stats.Links++
		case tar.TypeDir, typeDumpDir:
			stats.Dirs++
		case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont:
			stats.Files++
			stats.Bytes += hdr.Size
		}
		bw.WriteByte('\n')
		if req.Progress != nil {
			req.Progress(stats)
		}
	}
	if err := bw.Flush(); err != nil {
		return stats, fmt.Errorf("writing listing: %w", err)
	}
	return stats, nil
}

func typeChar(t byte) byte {
	switch t {
	case tar.TypeDir, typeDumpDir:
		return 'd'
	case tar.TypeSymlink:
		return 'l'
	case tar.TypeLink:
		return 'h'
	case tar.TypeChar:
		return 'c'
	case tar.TypeBlock:
		return 'b'
	case tar.TypeFifo:
		return 'p'
	}
	return '-'
}

// quoteName prints names as they are unless they would garble the
// listing (control characters or invalid UTF-8).
func quoteName(s string) string {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == '\uFFFD' {
			return strconv.Quote(s)
		}
	}
	return s
}

// visit hands hdr to fn as a backup.Entry, with its directory listing.
func visit(fn func(backup.Entry) error, mr *memberReader, hdr *tar.Header) error {
	rel, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	e := backup.Entry{Path: rel, Type: typeChar(hdr.Typeflag), Size: hdr.Size, Mode: hdr.Mode,
		Uid: hdr.Uid, Gid: hdr.Gid, Uname: hdr.Uname, Gname: hdr.Gname, ModTime: hdr.ModTime, Linkname: hdr.Linkname}
	var content []byte
	switch {
	case hdr.Typeflag == typeDumpDir:
		if hdr.Size > maxDumpdirSize {
			return corruptf("%s: directory listing of %d bytes is too large", hdr.Name, hdr.Size)
		}
		content = make([]byte, hdr.Size)
		if _, err := io.ReadFull(mr.tr, content); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("reading archive: %w", mr.in.archiveErr(err))
		}
		e.Size = 0
	case hdr.Typeflag == tar.TypeDir:
		if d, ok := hdr.PAXRecords["GNU.dumpdir"]; ok {
			content = []byte(d)
		}
	}
	if content != nil {
		listing, _, err := parseDumpdir(content)
		if err != nil && !errors.Is(err, errTooManyRenames) {
			return corruptf("%s: %w", hdr.Name, err)
		}
		e.Listing = []string{}
		for p := listing; len(p) > 0; {
			i := bytes.IndexByte(p, 0)
			if p[0] == 'Y' || p[0] == 'N' || p[0] == 'D' {
				e.Listing = append(e.Listing, string(p[1:i]))
			}
			p = p[i+1:]
		}
	}
	return fn(e)
}
