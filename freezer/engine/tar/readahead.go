package tar

import (
	"archive/tar"
	"fmt"
	"io"
	"sync"
)

// entry is an archive member ready to apply.
type entry struct {
	hdr *tar.Header
	// body is the member's whole data, read ahead; when nil, apply reads
	// the data from tr.
	body []byte
	tr   *tar.Reader
	// applied, when not nil, is closed once apply is done reading tr: the
	// read-ahead waits for it before it reads the next header.
	applied chan struct{}
}

// readAheadMembers bounds the members read but not applied yet, and so
// the memory of directory listings read ahead (readAheadMembers ×
// smallFileMax; small files take finisher buffers).
const readAheadMembers = 64

// memberSource hands out the members of an archive in order. Without a
// finisher it reads each one when asked. With one, a goroutine parses
// the headers and reads the data of small files and directory listings
// ahead, so that the extraction goroutine, which a tree of many small
// files keeps busy with system calls, does not also parse the stream:
// about a quarter of its time in the last, small-file part of a Swift
// restore (perf). Members are still applied one at a time in archive order; a
// larger file is streamed by apply itself while the read-ahead waits.
type memberSource struct {
	mr *memberReader

	items chan readItem
	quit  chan struct{}
	wg    sync.WaitGroup
}

type readItem struct {
	m   entry
	err error
}

func (r *restorer) newMemberSource(mr *memberReader) *memberSource {
	s := &memberSource{mr: mr}
	if r.fin == nil {
		return s
	}
	s.items = make(chan readItem, readAheadMembers)
	s.quit = make(chan struct{})
	s.wg.Go(func() { r.readAhead(s) })
	return s
}

// next returns the next member, or io.EOF after the last.
func (s *memberSource) next() (entry, error) {
	if s.items == nil {
		hdr, err := s.mr.next()
		if err != nil {
			return entry{}, err
		}
		return entry{hdr: hdr, tr: s.mr.tr}, nil
	}
	it, ok := <-s.items
	if !ok {
		return entry{}, io.EOF
	}
	return it.m, it.err
}

// done tells the read-ahead that m's data is no longer read.
func (s *memberSource) done(m entry) {
	if m.applied != nil {
		close(m.applied)
	}
}

// stop ends the read-ahead and waits for it: once it returns, nothing
// reads the stream but the caller.
func (s *memberSource) stop() {
	if s.items == nil {
		return
	}
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	s.wg.Wait()
}

// readAhead is the read-ahead goroutine.
func (r *restorer) readAhead(s *memberSource) {
	defer close(s.items)
	send := func(it readItem) bool {
		select {
		case s.items <- it:
			return true
		case <-s.quit:
			if it.m.body != nil && finishable(it.m.hdr) {
				r.fin.giveBack(it.m.body)
			}
			return false
		}
	}
	for {
		hdr, err := s.mr.next()
		if err == io.EOF {
			return
		}
		if err != nil {
			send(readItem{err: err})
			return
		}
		m := entry{hdr: hdr, tr: s.mr.tr}
		switch {
		case finishable(hdr):
			buf, ok := r.fin.bufferOrQuit(int(hdr.Size), s.quit)
			if !ok {
				return
			}
			m.body = buf
		case hdr.Typeflag == typeDumpDir && hdr.Size >= 0 && hdr.Size <= smallFileMax:
			m.body = make([]byte, hdr.Size)
		case hasData(hdr):
			m.applied = make(chan struct{})
		}
		if m.body != nil {
			if _, err := io.ReadFull(m.tr, m.body); err != nil {
				if finishable(hdr) {
					r.fin.giveBack(m.body)
				}
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				send(readItem{err: fmt.Errorf("reading archive: %w", r.in.archiveErr(err))})
				return
			}
		}
		if !send(readItem{m: m}) {
			return
		}
		if m.applied != nil {
			select {
			case <-m.applied:
			case <-s.quit:
				return
			}
		}
	}
}

// finishable reports whether a member is a file the finisher completes:
// a plain regular file of at most smallFileMax bytes.
func finishable(hdr *tar.Header) bool {
	return hdr.Typeflag == tar.TypeReg && hdr.Size >= 0 && hdr.Size <= smallFileMax && !isSparse(hdr)
}

// hasData reports whether apply reads a member's data from the archive.
func hasData(hdr *tar.Header) bool {
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeGNUSparse, tar.TypeCont, typeDumpDir:
		return true
	}
	return false
}
