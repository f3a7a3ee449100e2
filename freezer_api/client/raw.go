package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
)

// anyStatus lets Raw hand every answer to its caller.
var anyStatus = func() []int {
	s := make([]int, 0, 900)
	for c := 100; c < 1000; c++ {
		s = append(s, c)
	}
	return s
}()

// Raw sends one request to the project's resource path (parts are
// escaped and joined: "jobs", id, "event"; slash adds the trailing slash
// old clients send) and returns the status and body of any answer. body
// is sent as is, also on GET (list searches travel that way). An error is
// a failure to get an answer at all. The command-line client uses it to
// keep the server's documents byte for byte (key order, numbers).
func (c *Client) Raw(ctx context.Context, method string, parts []string, slash bool, query string, body []byte) (int, []byte, error) {
	u := c.url(parts...)
	if slash {
		u += "/"
	}
	if query != "" {
		u += "?" + query
	}
	opts := &gophercloud.RequestOpts{OkCodes: anyStatus, KeepResponseBody: true,
		MoreHeaders: map[string]string{"Content-Type": "application/json", "Accept": "application/json"}}
	if body != nil {
		opts.RawBody = bytes.NewReader(body)
	}
	resp, err := c.sc.Request(ctx, method, u, opts)
	if err != nil {
		var ue gophercloud.ErrUnexpectedResponseCode
		if errors.As(err, &ue) {
			return ue.Actual, ue.Body, nil
		}
		return 0, nil, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(http.MaxBytesReader(nil, resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading the answer of %s %s: %w", method, u, err)
	}
	return resp.StatusCode, b, nil
}

// URL is the address Raw would use, for messages.
func (c *Client) URL(parts ...string) string { return c.url(parts...) }
