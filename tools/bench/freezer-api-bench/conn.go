package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// workerConn is one measuring worker's keep-alive connection: the worker
// writes a request and reads its response on its own goroutine, with the
// standard library's Request.Write and ReadResponse. http.Client hands
// every request between three goroutines (the caller, the connection's
// write loop and its read loop); the load generator shares the machine's
// cores with the server under test, and that machinery alone took a third
// of the busy CPU of a job-get run, time taken from the server. Upstream's
// figures hardly move (it is far from saturating the machine), ours were
// held down by the measuring tool.
type workerConn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
}

const requestTimeout = 30 * time.Second // as the seeding http.Client's

func (w *workerConn) close() {
	if w.c != nil {
		w.c.Close()
		w.c = nil
	}
}

// do sends req and reads the whole answer; an answer with another status
// than want is an error that quotes the start of its body. A GET that
// fails on a kept-alive connection before any answer (the server closed
// it: uwsgi does now and then) is sent once more on a new one, as
// http.Transport does for idempotent requests.
func (w *workerConn) do(req *http.Request, want int) error {
	reused := w.c != nil
	res, err := w.roundTrip(req)
	if err != nil && reused && req.Method == http.MethodGet {
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return err
			}
		}
		res, err = w.roundTrip(req)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
	}
	var head [200]byte
	n, _ := io.ReadFull(res.Body, head[:])
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil || res.Close {
		w.close()
	}
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", req.Method, req.URL.Path, err)
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: status %d: %s", req.Method, req.URL.Path, res.StatusCode, head[:n])
	}
	return nil
}

// roundTrip writes req and reads the answer's status and headers; on an
// error the connection is closed.
func (w *workerConn) roundTrip(req *http.Request) (*http.Response, error) {
	if w.c == nil {
		c, err := net.DialTimeout("tcp", w.addr, requestTimeout)
		if err != nil {
			return nil, err
		}
		w.c, w.br, w.bw = c, bufio.NewReaderSize(c, 32<<10), bufio.NewWriterSize(c, 4<<10)
	}
	err := w.c.SetDeadline(time.Now().Add(requestTimeout))
	if err == nil {
		err = req.Write(w.bw)
	}
	if err == nil {
		err = w.bw.Flush()
	}
	var res *http.Response
	if err == nil {
		res, err = http.ReadResponse(w.br, req)
	}
	if err != nil {
		w.close()
		return nil, err
	}
	return res, nil
}
