package tar

import (
	"archive/tar"
	"bufio"
	"context"
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
