package apiv2

import (
	"strings"
	"testing"
)

// The render cache stays within its bound whatever texts it sees.
func TestRenderCacheStaysWithinItsBound(t *testing.T) {
	var c JobRenderer
	for i := 0; i < 3*renderCacheMaxBytes/renderCacheMaxEntry; i++ {
		text := strings.Repeat("x", renderCacheMaxEntry/4) + string(rune('a'+i%26)) + strings.Repeat("y", i)
		if _, err := c.get('s', text, func() (*renderedJSON, error) { return &renderedJSON{json: []byte(text)}, nil }); err != nil {
			t.Fatal(err)
		}
		if c.bytes > renderCacheMaxBytes {
			t.Fatalf("cache holds %d bytes, bound %d", c.bytes, renderCacheMaxBytes)
		}
	}
}
