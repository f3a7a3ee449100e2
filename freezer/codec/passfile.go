package codec

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// maxPassLen is what `openssl enc -pass file:` reads of the first line:
// one BIO_gets into a 1024-byte buffer, so at most 1023 bytes.
const maxPassLen = 1023

// ReadPassFile reads an --encrypt-pass-file the way upstream's
// `openssl enc -pass file:PATH` does, so a file that worked with the Python
// agent yields the same passphrase here: the first line, without its "\n"
// (a "\r" before it is kept), cut at the first NUL byte and to at most
// 1023 bytes. An empty file is an error, as it is for OpenSSL; a file whose
// first line is empty gives an empty passphrase, which the OpenSSL format
// accepts and ours rejects.
func ReadPassFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading encryption passphrase file: %w", err)
	}
	defer f.Close()
	buf := make([]byte, maxPassLen)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, fmt.Errorf("reading encryption passphrase file %s: %w", path, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("reading encryption passphrase file %s: the file is empty", path)
	}
	p := buf[:n]
	if i := bytes.IndexByte(p, '\n'); i >= 0 {
		p = p[:i]
	}
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	return bytes.Clone(p), nil
}
